// Morton (Z-order) permutation of a point set: nearby points end up nearby in the order.
#include <algorithm>
#include <numeric>

#include "common/parallel.h"
#include "index/index_core.h"

namespace edge3d::index {
namespace {

constexpr int kBitsPerAxis = 10;

inline uint64_t spread(uint64_t v) {  // 10 bits -> every third bit of 30
  v = (v | (v << 16)) & 0x030000FFull;
  v = (v | (v << 8)) & 0x0300F00Full;
  v = (v | (v << 4)) & 0x030C30C3ull;
  v = (v | (v << 2)) & 0x09249249ull;
  return v;
}

}  // namespace

std::vector<int32_t> morton_order(const float* points, int64_t n) {
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (n < 2) return order;
  float lo[3] = {points[0], points[1], points[2]}, hi[3] = {points[0], points[1], points[2]};
  for (int64_t i = 0; i < n; ++i)
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], points[3 * i + a]);
      hi[a] = std::max(hi[a], points[3 * i + a]);
    }
  double extent = 0.0;
  for (int a = 0; a < 3; ++a) extent = std::max(extent, double{hi[a]} - double{lo[a]});
  const double scale = extent > 0.0 ? ((1 << kBitsPerAxis) - 1) / extent : 0.0;
  std::vector<uint64_t> keys(n);
  parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      uint64_t k = 0;
      for (int a = 0; a < 3; ++a) {
        const auto cell = static_cast<uint64_t>((double{points[3 * i + a]} - lo[a]) * scale);
        k |= spread(std::min<uint64_t>(cell, (1 << kBitsPerAxis) - 1)) << (2 - a);
      }
      keys[i] = k;
    }
  });
  radix_sort(keys, order, 3 * kBitsPerAxis);
  return order;
}

}  // namespace edge3d::index
