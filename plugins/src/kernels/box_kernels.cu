// PointInBoxProb (3D-BoNet Algorithm 1) and SoftBoxIoU (3D-BoNet eq. 3), docs/ops.md.
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

// One block per row of prob_a and prob_b: FP32 sum over the N points.
template <typename T>
__global__ void row_sum_kernel(const T* __restrict__ prob_a, const T* __restrict__ prob_b,
                               int64_t batch, int64_t a, int64_t b, int64_t n,
                               float* __restrict__ sums) {
  __shared__ float partial[kThreads];
  const int64_t row = blockIdx.x;  // [0, batch * (a + b)): all rows of a, then all of b
  const T* src = row < batch * a ? prob_a + row * n : prob_b + (row - batch * a) * n;
  float acc = 0.f;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) acc += load(src, j);
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) sums[row] = partial[0];
}

constexpr int kTile = 16;

// iou[b, i, j] = TP / (sum_a[i] + sum_b[j] - TP + eps), TP = sum_n a[i, n] * b[j, n], by 16x16
// output tiles with the shared N chunk staged in shared memory (FP32 accumulation).
template <typename T>
__global__ void soft_iou_kernel(const T* __restrict__ prob_a, const T* __restrict__ prob_b,
                                int64_t batch, int64_t a, int64_t b, int64_t n, float eps,
                                const float* __restrict__ sums, T* __restrict__ iou) {
  __shared__ float tile_a[kTile][kTile + 1];
  __shared__ float tile_b[kTile][kTile + 1];
  const int64_t bt = blockIdx.z;
  const int64_t i = blockIdx.y * kTile + threadIdx.y;
  const int64_t j = blockIdx.x * kTile + threadIdx.x;
  const int64_t i_load = blockIdx.y * kTile + threadIdx.y;  // row of a this thread stages
  const int64_t j_load = blockIdx.x * kTile + threadIdx.y;  // row of b this thread stages
  float tp = 0.f;
  for (int64_t start = 0; start < n; start += kTile) {
    const int64_t col = start + threadIdx.x;
    tile_a[threadIdx.y][threadIdx.x] =
        (i_load < a && col < n) ? load(prob_a, (bt * a + i_load) * n + col) : 0.f;
    tile_b[threadIdx.y][threadIdx.x] =
        (j_load < b && col < n) ? load(prob_b, (bt * b + j_load) * n + col) : 0.f;
    __syncthreads();
#pragma unroll
    for (int t = 0; t < kTile; ++t) tp += tile_a[threadIdx.y][t] * tile_b[threadIdx.x][t];
    __syncthreads();
  }
  if (i < a && j < b) {
    const float union_ = sums[bt * a + i] + sums[batch * a + bt * b + j] - tp + eps;
    store(iou, (bt * a + i) * b + j, tp / union_);
  }
}

}  // namespace

int check_box_args(int dtype, int64_t batch, int64_t n, int64_t h, float theta2) {
  if (dtype != EDGE3D_FLOAT32 && dtype != EDGE3D_FLOAT16)
    return fail(EDGE3D_INVALID_ARGUMENT, "PointInBoxProb: dtype must be 0 (FP32) or 1 (FP16)");
  if (batch < 0 || n < 0 || h < 0)
    return fail(EDGE3D_INVALID_ARGUMENT, "PointInBoxProb: negative size");
  if (!(theta2 > 0.f)) return fail(EDGE3D_INVALID_ARGUMENT, "PointInBoxProb: theta2 must be > 0");
  return EDGE3D_OK;
}

int check_iou_args(int dtype, int64_t batch, int64_t a, int64_t b, int64_t n, float eps) {
  if (dtype != EDGE3D_FLOAT32 && dtype != EDGE3D_FLOAT16)
    return fail(EDGE3D_INVALID_ARGUMENT, "SoftBoxIoU: dtype must be 0 (FP32) or 1 (FP16)");
  if (batch < 0 || a < 0 || b < 0 || n < 0)
    return fail(EDGE3D_INVALID_ARGUMENT, "SoftBoxIoU: negative size");
  if (!(eps > 0.f)) return fail(EDGE3D_INVALID_ARGUMENT, "SoftBoxIoU: eps must be > 0");
  if (batch > 65535 || (a + 15) / 16 > 65535)
    return fail(EDGE3D_INVALID_ARGUMENT, "SoftBoxIoU: batch and ceil(A / 16) must be <= 65535");
  return EDGE3D_OK;
}

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

extern "C" size_t edge3d_soft_box_iou_workspace(int64_t batch, int64_t a, int64_t b) {
  return static_cast<size_t>(batch * (a + b)) * sizeof(float);
}

extern "C" int edge3d_soft_box_iou(const void* prob_a, const void* prob_b, int dtype,
                                   int64_t batch, int64_t a, int64_t b, int64_t n, float eps,
                                   void* iou, void* workspace, void* stream) {
  using namespace edge3d;
  if (int st = check_iou_args(dtype, batch, a, b, n, eps)) return st;
  if (batch * a * b == 0) return EDGE3D_OK;
  if (workspace == nullptr) return fail(EDGE3D_INVALID_ARGUMENT, "SoftBoxIoU: workspace is null");
  auto s = static_cast<cudaStream_t>(stream);
  auto* sums = static_cast<float*>(workspace);
  const dim3 tiles(static_cast<unsigned>((b + kTile - 1) / kTile),
                   static_cast<unsigned>((a + kTile - 1) / kTile), static_cast<unsigned>(batch));
  const dim3 threads(kTile, kTile);
  if (dtype == EDGE3D_FLOAT32) {
    auto pa = static_cast<const float*>(prob_a);
    auto pb = static_cast<const float*>(prob_b);
    row_sum_kernel<<<static_cast<unsigned>(batch * (a + b)), kThreads, 0, s>>>(pa, pb, batch, a, b, n, sums);
    soft_iou_kernel<<<tiles, threads, 0, s>>>(pa, pb, batch, a, b, n, eps, sums,
                                              static_cast<float*>(iou));
  } else {
    auto pa = static_cast<const __half*>(prob_a);
    auto pb = static_cast<const __half*>(prob_b);
    row_sum_kernel<<<static_cast<unsigned>(batch * (a + b)), kThreads, 0, s>>>(pa, pb, batch, a, b, n, sums);
    soft_iou_kernel<<<tiles, threads, 0, s>>>(pa, pb, batch, a, b, n, eps, sums,
                                              static_cast<__half*>(iou));
  }
  return check_launch("SoftBoxIoU");
}
