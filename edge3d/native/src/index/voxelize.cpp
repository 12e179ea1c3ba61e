// Points -> sorted unique voxels with mean features and centroids, plus the point<->voxel maps.
#include <atomic>
#include <cmath>

#include "common/parallel.h"
#include "index/index_core.h"

namespace edge3d::index {

Voxelization voxelize(const float* points, int64_t n, double voxel_size, const float* features,
                      int64_t c) {
  std::vector<int32_t> coords(3 * n);
  std::atomic<int64_t> bad{n};  // lowest offending row, n when none
  // floor(p / voxel_size) in float64: exact for float32 inputs up to the division's rounding.
  parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      for (int a = 0; a < 3; ++a) {
        double v = std::floor(static_cast<double>(points[3 * i + a]) / voxel_size);
        if (!(v >= -2147483648.0 && v <= 2147483647.0)) {
          int64_t seen = bad.load();
          while (i < seen && !bad.compare_exchange_weak(seen, i)) {
          }
          v = 0.0;
        }
        coords[3 * i + a] = static_cast<int32_t>(v);
      }
  });
  if (bad.load() < n) {
    const int64_t row = bad.load();
    const float* p = points + 3 * row;
    throw std::invalid_argument(
        "voxelize: point " + std::to_string(row) + " (" + std::to_string(p[0]) + ", " +
        std::to_string(p[1]) + ", " + std::to_string(p[2]) + ") divided by voxel_size " +
        std::to_string(voxel_size) +
        " does not fit an int32 voxel coordinate; use a larger voxel_size or recentre the points");
  }

  Voxelization out;
  out.keys = sort_keys(coords.data(), n);
  const auto& k = out.keys;
  const int64_t m = static_cast<int64_t>(k.offsets.size()) - 1;
  out.features.resize(m * c);
  out.centroids.resize(m * 3);
  // Means accumulate in float64 in ascending point order, then round once to float32.
  parallel_for(m, 1 << 12, [&](int64_t b, int64_t e) {
    std::vector<double> acc(c + 3);
    for (int64_t v = b; v < e; ++v) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t j = k.offsets[v]; j < k.offsets[v + 1]; ++j) {
        const int64_t i = k.order[j];
        for (int a = 0; a < 3; ++a) acc[a] += points[3 * i + a];
        for (int64_t f = 0; f < c; ++f) acc[3 + f] += features[i * c + f];
      }
      const double count = static_cast<double>(k.offsets[v + 1] - k.offsets[v]);
      for (int a = 0; a < 3; ++a) out.centroids[3 * v + a] = static_cast<float>(acc[a] / count);
      for (int64_t f = 0; f < c; ++f)
        out.features[v * c + f] = static_cast<float>(acc[3 + f] / count);
    }
  });
  return out;
}

}  // namespace edge3d::index
