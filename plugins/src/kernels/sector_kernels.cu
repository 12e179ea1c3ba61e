// SectorBin and SectorMask (Spherical Mask sector binning and fused mask assembly), docs/ops.md.
#include "kernel_common.cuh"

namespace edge3d {
namespace {

template <typename T>
__global__ void sector_bin_kernel(const T* __restrict__ points, const T* __restrict__ centers,
                                  int64_t batch, int64_t n, int64_t k, int32_t n_azimuth,
                                  int32_t n_polar, int32_t* __restrict__ sector,
                                  T* __restrict__ radius) {
  const int64_t total = batch * k * n;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t pn = i % n;
    const int64_t bk = i / n;  // b * k + centre
    const int64_t b = bk / k;
    const int64_t p3 = (b * n + pn) * 3;
    const int64_t c3 = bk * 3;
    float r;
    sector[i] = sector_of(load(points, p3) - load(centers, c3),
                          load(points, p3 + 1) - load(centers, c3 + 1),
                          load(points, p3 + 2) - load(centers, c3 + 2), n_azimuth, n_polar, &r);
    store(radius, i, r);
  }
}

// Fused: the K x N sector and radius never leave registers.
template <typename T>
__global__ void sector_mask_kernel(const T* __restrict__ points, const T* __restrict__ centers,
                                   const T* __restrict__ rays, const T* __restrict__ migration,
                                   int64_t batch, int64_t n, int64_t k, int32_t n_azimuth,
                                   int32_t n_polar, T* __restrict__ logits) {
  const int64_t total = batch * k * n;
  const int64_t sectors = static_cast<int64_t>(n_azimuth) * n_polar;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t pn = i % n;
    const int64_t bk = i / n;
    const int64_t b = bk / k;
    const int64_t p3 = (b * n + pn) * 3;
    const int64_t c3 = bk * 3;
    float r;
    const int32_t s = sector_of(load(points, p3) - load(centers, c3),
                                load(points, p3 + 1) - load(centers, c3 + 1),
                                load(points, p3 + 2) - load(centers, c3 + 2), n_azimuth, n_polar,
                                &r);
    const float ray = load(rays, bk * sectors + s);
    store(logits, i, __fadd_rn(ray - r, __fmul_rn(2.f, load(migration, i))));
  }
}

}  // namespace

int check_sector_args(const char* op, int dtype, int64_t batch, int64_t n, int64_t k,
                      int32_t n_azimuth, int32_t n_polar) {
  if (dtype != EDGE3D_FLOAT32 && dtype != EDGE3D_FLOAT16)
    return fail(EDGE3D_INVALID_ARGUMENT, std::string(op) + ": dtype must be 0 (FP32) or 1 (FP16)");
  if (batch < 0 || n < 0 || k < 0)
    return fail(EDGE3D_INVALID_ARGUMENT, std::string(op) + ": negative size");
  if (n_azimuth < 1 || n_polar < 1 || n_azimuth > 1024 || n_polar > 1024)
    return fail(EDGE3D_INVALID_ARGUMENT,
                std::string(op) + ": n_azimuth and n_polar must be in [1, 1024]");
  return EDGE3D_OK;
}

}  // namespace edge3d

extern "C" int edge3d_sector_bin(const void* points, const void* centers, int dtype, int64_t batch,
                                 int64_t n, int64_t k, int32_t n_azimuth, int32_t n_polar,
                                 int32_t* sector, void* radius, void* stream) {
  using namespace edge3d;
  if (int st = check_sector_args("SectorBin", dtype, batch, n, k, n_azimuth, n_polar)) return st;
  const int64_t total = batch * n * k;
  if (total == 0) return EDGE3D_OK;
  auto s = static_cast<cudaStream_t>(stream);
  if (dtype == EDGE3D_FLOAT32) {
    sector_bin_kernel<<<blocks_for(total), kThreads, 0, s>>>(
        static_cast<const float*>(points), static_cast<const float*>(centers), batch, n, k,
        n_azimuth, n_polar, sector, static_cast<float*>(radius));
  } else {
    sector_bin_kernel<<<blocks_for(total), kThreads, 0, s>>>(
        static_cast<const __half*>(points), static_cast<const __half*>(centers), batch, n, k,
        n_azimuth, n_polar, sector, static_cast<__half*>(radius));
  }
  return check_launch("SectorBin");
}

extern "C" int edge3d_sector_mask(const void* points, const void* centers, const void* rays,
                                  const void* migration, int dtype, int64_t batch, int64_t n,
                                  int64_t k, int32_t n_azimuth, int32_t n_polar, void* logits,
                                  void* stream) {
  using namespace edge3d;
  if (int st = check_sector_args("SectorMask", dtype, batch, n, k, n_azimuth, n_polar)) return st;
  const int64_t total = batch * n * k;
  if (total == 0) return EDGE3D_OK;
  auto s = static_cast<cudaStream_t>(stream);
  if (dtype == EDGE3D_FLOAT32) {
    sector_mask_kernel<<<blocks_for(total), kThreads, 0, s>>>(
        static_cast<const float*>(points), static_cast<const float*>(centers),
        static_cast<const float*>(rays), static_cast<const float*>(migration), batch, n, k,
        n_azimuth, n_polar, static_cast<float*>(logits));
  } else {
    sector_mask_kernel<<<blocks_for(total), kThreads, 0, s>>>(
        static_cast<const __half*>(points), static_cast<const __half*>(centers),
        static_cast<const __half*>(rays), static_cast<const __half*>(migration), batch, n, k,
        n_azimuth, n_polar, static_cast<__half*>(logits));
  }
  return check_launch("SectorMask");
}
