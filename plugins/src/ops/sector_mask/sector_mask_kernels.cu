// SectorMask (Spherical Mask's fused mask assembly rays[sector] - radius + 2 * migration),
// docs/ops.md: the kernel, its launcher and its host-memory variant.
#include "sector_geometry.cuh"

namespace edge3d {
namespace {

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
}  // namespace edge3d

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

extern "C" int edge3d_sector_mask_host(const void* points, const void* centers, const void* rays,
                                       const void* migration, int dtype, int64_t batch, int64_t n,
                                       int64_t k, int32_t n_azimuth, int32_t n_polar,
                                       void* logits, int32_t repeats, float* elapsed_ms) {
  using namespace edge3d;
  if (int st = check_sector_args("SectorMask", dtype, batch, n, k, n_azimuth, n_polar)) return st;
  const size_t e = elem(dtype), kn = static_cast<size_t>(batch * k * n);
  const size_t sectors = static_cast<size_t>(n_azimuth) * static_cast<size_t>(n_polar);
  return run_host(
      {{points, batch * n * 3 * e}, {centers, batch * k * 3 * e},
       {rays, batch * k * sectors * e}, {migration, kn * e}},
      {Output{logits, kn * e}}, 0, repeats, elapsed_ms,
      [&](const auto& in, const auto& out, void*, cudaStream_t s) {
        return edge3d_sector_mask(in[0], in[1], in[2], in[3], dtype, batch, n, k, n_azimuth,
                                  n_polar, out[0], s);
      });
}
