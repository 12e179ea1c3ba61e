// SoftBoxIoU (3D-BoNet eq. 3: the soft IoU of two sets of per-point box probabilities),
// docs/ops.md: the kernels, the launcher, its workspace size and its host-memory variant.
#include "kernel_common.cuh"

namespace edge3d {
namespace {

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

int check_iou_args(int dtype, int64_t batch, int64_t a, int64_t b, int64_t n, float eps) {
  if (int st = check_dtype_and_sizes("SoftBoxIoU", dtype, {batch, a, b, n})) return st;
  if (!(eps > 0.f)) return fail(EDGE3D_INVALID_ARGUMENT, "SoftBoxIoU: eps must be > 0");
  if (batch > 65535 || (a + 15) / 16 > 65535)
    return fail(EDGE3D_INVALID_ARGUMENT, "SoftBoxIoU: batch and ceil(A / 16) must be <= 65535");
  return EDGE3D_OK;
}

}  // namespace
}  // namespace edge3d

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
  const auto rows = static_cast<unsigned>(batch * (a + b));
  if (dtype == EDGE3D_FLOAT32) {
    auto pa = static_cast<const float*>(prob_a);
    auto pb = static_cast<const float*>(prob_b);
    row_sum_kernel<<<rows, kThreads, 0, s>>>(pa, pb, batch, a, b, n, sums);
    soft_iou_kernel<<<tiles, threads, 0, s>>>(pa, pb, batch, a, b, n, eps, sums,
                                              static_cast<float*>(iou));
  } else {
    auto pa = static_cast<const __half*>(prob_a);
    auto pb = static_cast<const __half*>(prob_b);
    row_sum_kernel<<<rows, kThreads, 0, s>>>(pa, pb, batch, a, b, n, sums);
    soft_iou_kernel<<<tiles, threads, 0, s>>>(pa, pb, batch, a, b, n, eps, sums,
                                              static_cast<__half*>(iou));
  }
  return check_launch("SoftBoxIoU");
}

extern "C" int edge3d_soft_box_iou_host(const void* prob_a, const void* prob_b, int dtype,
                                        int64_t batch, int64_t a, int64_t b, int64_t n, float eps,
                                        void* iou, int32_t repeats, float* elapsed_ms) {
  using namespace edge3d;
  if (int st = check_iou_args(dtype, batch, a, b, n, eps)) return st;
  const size_t e = elem(dtype);
  return run_host(
      {{prob_a, batch * a * n * e}, {prob_b, batch * b * n * e}},
      {Output{iou, static_cast<size_t>(batch * a * b) * e}},
      edge3d_soft_box_iou_workspace(batch, a, b), repeats, elapsed_ms,
      [&](const auto& in, const auto& out, void* ws, cudaStream_t s) {
        return edge3d_soft_box_iou(in[0], in[1], dtype, batch, a, b, n, eps, out[0], ws, s);
      });
}
