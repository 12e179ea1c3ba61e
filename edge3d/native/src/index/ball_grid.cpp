// A uniform grid of cells at least one radius wide, for fixed-radius queries: every point within
// the radius of a centre lies in the 3x3x3 cells around the centre's cell. Building it is one
// radix sort of cell keys, several times cheaper than a k-d tree.
#include <algorithm>
#include <cmath>

#include "index/index_core.h"

namespace edge3d::index {

std::unique_ptr<BallGrid> BallGrid::build(const float* points, int64_t n, float radius) {
  auto grid = std::unique_ptr<BallGrid>(new BallGrid());
  BallGrid& g = *grid;
  double max_abs = 0.0;
  for (int64_t i = 0; i < 3 * n; ++i) max_abs = std::max(max_abs, std::fabs(double{points[i]}));
  // Wider than the radius by far more than float32 rounding of the distances (a point whose
  // float32 distance is below the radius is truly within radius * (1 + 1e-6)); and coarse enough
  // that cell coordinates stay well inside int32.
  g.cell_ = std::max(double{radius} * (1.0 + 1e-5), max_abs / double{1 << 30});
  std::vector<int32_t> cells(3 * n);
  for (int64_t i = 0; i < 3 * n; ++i)
    cells[i] = static_cast<int32_t>(std::floor(double{points[i]} / g.cell_));
  SortedKeys keys = sort_keys(cells.data(), n);
  const int64_t m = static_cast<int64_t>(keys.offsets.size()) - 1;
  if (m == 0) return grid;
  int total = 0;
  for (int a = 0; a < 3; ++a) {
    g.lo_[a] = g.hi_[a] = keys.unique[a];
    for (int64_t v = 0; v < m; ++v) {
      g.lo_[a] = std::min<int64_t>(g.lo_[a], keys.unique[3 * v + a]);
      g.hi_[a] = std::max<int64_t>(g.hi_[a], keys.unique[3 * v + a]);
    }
    const auto span = static_cast<uint64_t>(g.hi_[a] - g.lo_[a]);
    g.bits_[a] = 0;
    while (g.bits_[a] < 64 && (span >> g.bits_[a]) != 0) ++g.bits_[a];
    total += g.bits_[a];
  }
  if (total > 63) return nullptr;  // cell keys do not pack: the caller uses a k-d tree
  g.keys_.resize(m);
  for (int64_t v = 0; v < m; ++v)
    g.keys_[v] = g.pack(keys.unique[3 * v], keys.unique[3 * v + 1], keys.unique[3 * v + 2]);
  g.offsets_ = std::move(keys.offsets);
  g.ids_ = std::move(keys.order);
  for (int a = 0; a < 3; ++a) g.xyz_[a].resize(n);
  for (int64_t j = 0; j < n; ++j)
    for (int a = 0; a < 3; ++a) g.xyz_[a][j] = points[3 * int64_t{g.ids_[j]} + a];
  return grid;
}

uint64_t BallGrid::pack(int64_t x, int64_t y, int64_t z) const {
  return ((static_cast<uint64_t>(x - lo_[0]) << bits_[1] | static_cast<uint64_t>(y - lo_[1]))
          << bits_[2]) |
         static_cast<uint64_t>(z - lo_[2]);
}

void BallGrid::within(const float* q, float r2, std::vector<int32_t>& out) const {
  if (keys_.empty()) return;
  int64_t c[3];
  for (int a = 0; a < 3; ++a) {
    const double v = std::floor(double{q[a]} / cell_);
    if (v < lo_[a] - 1.0 || v > hi_[a] + 1.0) return;  // no cell of any point is adjacent
    c[a] = static_cast<int64_t>(v);
  }
  const int64_t z0 = std::max(c[2] - 1, lo_[2]), z1 = std::min(c[2] + 1, hi_[2]);
  if (z0 > z1) return;
  for (int64_t x = std::max(c[0] - 1, lo_[0]); x <= std::min(c[0] + 1, hi_[0]); ++x)
    for (int64_t y = std::max(c[1] - 1, lo_[1]); y <= std::min(c[1] + 1, hi_[1]); ++y) {
      // Cells (x, y, z0..z1) are consecutive keys.
      const uint64_t last = pack(x, y, z1);
      for (auto it = std::lower_bound(keys_.begin(), keys_.end(), pack(x, y, z0));
           it != keys_.end() && *it <= last; ++it) {
        const int64_t v = it - keys_.begin();
        for (int64_t j = offsets_[v]; j < offsets_[v + 1]; ++j) {
          const float dx = xyz_[0][j] - q[0], dy = xyz_[1][j] - q[1], dz = xyz_[2][j] - q[2];
          const float s = dx * dx + dy * dy;
          if (s + dz * dz < r2) out.push_back(ids_[j]);
        }
      }
    }
}

}  // namespace edge3d::index
