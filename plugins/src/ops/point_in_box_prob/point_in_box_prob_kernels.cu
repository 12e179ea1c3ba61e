// PointInBoxProb (3D-BoNet Algorithm 1: the soft probability that a point lies in a box),
// docs/ops.md: the kernel, its launcher and its host-memory variant.
#include "kernel_common.cuh"

namespace edge3d {
namespace {

template <typename T>
__global__ void point_in_box_kernel(const T* __restrict__ points, const T* __restrict__ boxes,
                                    int64_t batch, int64_t n, int64_t h, float theta1,
                                    float theta2, T* __restrict__ prob) {
  const int64_t total = batch * h * n;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t pn = i % n;
    const int64_t bh = i / n;
    const int64_t b = bh / h;
    float lowest = theta2;
    for (int axis = 0; axis < 3; ++axis) {
      const float p = load(points, (b * n + pn) * 3 + axis);
      const float lo = load(boxes, bh * 6 + axis);
      const float hi = load(boxes, bh * 6 + 3 + axis);
      const float delta = fminf(fmaxf(__fmul_rn(theta1, __fmul_rn(lo - p, p - hi)), -theta2),
                                theta2);
      lowest = fminf(lowest, delta);
    }
    // sigmoid(min(delta)) == min(sigmoid(delta)): sigmoid is monotonic.
    store(prob, i, 1.f / (1.f + expf(-lowest)));
  }
}

int check_box_args(int dtype, int64_t batch, int64_t n, int64_t h, float theta2) {
  if (int st = check_dtype_and_sizes("PointInBoxProb", dtype, {batch, n, h})) return st;
  if (!(theta2 > 0.f)) return fail(EDGE3D_INVALID_ARGUMENT, "PointInBoxProb: theta2 must be > 0");
  return EDGE3D_OK;
}

}  // namespace
}  // namespace edge3d

extern "C" int edge3d_point_in_box_prob(const void* points, const void* boxes, int dtype,
                                        int64_t batch, int64_t n, int64_t h, float theta1,
                                        float theta2, void* prob, void* stream) {
  using namespace edge3d;
  if (int st = check_box_args(dtype, batch, n, h, theta2)) return st;
  const int64_t total = batch * n * h;
  if (total == 0) return EDGE3D_OK;
  auto s = static_cast<cudaStream_t>(stream);
  if (dtype == EDGE3D_FLOAT32) {
    point_in_box_kernel<<<blocks_for(total), kThreads, 0, s>>>(
        static_cast<const float*>(points), static_cast<const float*>(boxes), batch, n, h, theta1,
        theta2, static_cast<float*>(prob));
  } else {
    point_in_box_kernel<<<blocks_for(total), kThreads, 0, s>>>(
        static_cast<const __half*>(points), static_cast<const __half*>(boxes), batch, n, h,
        theta1, theta2, static_cast<__half*>(prob));
  }
  return check_launch("PointInBoxProb");
}

extern "C" int edge3d_point_in_box_prob_host(const void* points, const void* boxes, int dtype,
                                             int64_t batch, int64_t n, int64_t h, float theta1,
                                             float theta2, void* prob, int32_t repeats,
                                             float* elapsed_ms) {
  using namespace edge3d;
  if (int st = check_box_args(dtype, batch, n, h, theta2)) return st;
  const size_t e = elem(dtype);
  return run_host(
      {{points, batch * n * 3 * e}, {boxes, batch * h * 6 * e}},
      {Output{prob, static_cast<size_t>(batch * h * n) * e}}, 0, repeats, elapsed_ms,
      [&](const auto& in, const auto& out, void*, cudaStream_t s) {
        return edge3d_point_in_box_prob(in[0], in[1], dtype, batch, n, h, theta1, theta2,
                                        out[0], s);
      });
}
