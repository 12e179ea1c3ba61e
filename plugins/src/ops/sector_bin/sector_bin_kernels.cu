// SectorBin (Spherical Mask sector index and radius of every point around every centre),
// docs/ops.md: the kernel, its launcher and its host-memory variant.
#include "sector_geometry.cuh"

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

}  // namespace
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

extern "C" int edge3d_sector_bin_host(const void* points, const void* centers, int dtype,
                                      int64_t batch, int64_t n, int64_t k, int32_t n_azimuth,
                                      int32_t n_polar, int32_t* sector, void* radius,
                                      int32_t repeats, float* elapsed_ms) {
  using namespace edge3d;
  if (int st = check_sector_args("SectorBin", dtype, batch, n, k, n_azimuth, n_polar)) return st;
  const size_t e = elem(dtype), kn = static_cast<size_t>(batch * k * n);
  return run_host(
      {{points, batch * n * 3 * e}, {centers, batch * k * 3 * e}},
      {Output{sector, kn * 4}, Output{radius, kn * e}}, 0, repeats, elapsed_ms,
      [&](const auto& in, const auto& out, void*, cudaStream_t s) {
        return edge3d_sector_bin(in[0], in[1], dtype, batch, n, k, n_azimuth, n_polar,
                                 static_cast<int32_t*>(out[0]), out[1], s);
      });
}
