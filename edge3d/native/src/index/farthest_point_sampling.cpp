// Farthest point sampling (PointNet++ section 3.2): each step takes the point farthest from the
// points taken so far; ties go to the lowest index, and taken points are never taken again.
#include <algorithm>
#include <limits>

#include "common/parallel.h"
#include "index/index_core.h"

namespace edge3d::index {

std::vector<int32_t> farthest_point_sampling(const float* points, int64_t n, int64_t samples,
                                             int64_t start) {
  std::vector<int32_t> out(samples);
  if (samples == 0) return out;
  // Structure of arrays so the distance update vectorises.
  std::vector<float> x(n), y(n), z(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = points[3 * i];
    y[i] = points[3 * i + 1];
    z[i] = points[3 * i + 2];
  }
  std::vector<float> best(n, std::numeric_limits<float>::infinity());
  const int64_t chunks =
      std::max<int64_t>(1, std::min<int64_t>(default_num_threads(), n / (1 << 15)));
  std::vector<float> chunk_max(chunks);
  std::vector<int64_t> chunk_arg(chunks);
  int64_t last = start;
  out[0] = static_cast<int32_t>(start);
  for (int64_t s = 1; s < samples; ++s) {
    best[last] = -1.0f;  // below every distance: never chosen again
    const float cx = x[last], cy = y[last], cz = z[last];
    parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; ++c) {
        const int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
        float lane[8];
        std::fill(lane, lane + 8, -std::numeric_limits<float>::infinity());
        int64_t i = b;
        for (; i + 8 <= e; i += 8)
          for (int j = 0; j < 8; ++j) {
            const float dx = x[i + j] - cx, dy = y[i + j] - cy, dz = z[i + j] - cz;
            float d = dx * dx + dy * dy;
            d = d + dz * dz;
            const float m = std::min(best[i + j], d);
            best[i + j] = m;
            lane[j] = std::max(lane[j], m);
          }
        for (; i < e; ++i) {
          const float dx = x[i] - cx, dy = y[i] - cy, dz = z[i] - cz;
          float d = dx * dx + dy * dy;
          d = d + dz * dz;
          best[i] = std::min(best[i], d);
          lane[0] = std::max(lane[0], best[i]);
        }
        const float top = *std::max_element(lane, lane + 8);
        int64_t arg = b;
        while (best[arg] != top) ++arg;  // first index holding the maximum
        chunk_max[c] = top;
        chunk_arg[c] = arg;
      }
    });
    int64_t pick = 0;
    for (int64_t c = 1; c < chunks; ++c)
      if (chunk_max[c] > chunk_max[pick]) pick = c;
    last = chunk_arg[pick];
    out[s] = static_cast<int32_t>(last);
  }
  return out;
}

}  // namespace edge3d::index
