// Farthest point sampling (PointNet++ section 3.2): each step takes the point farthest from the
// points taken so far; ties go to the lowest index, and taken points are never taken again.
//
// Points are grouped into small spatial blocks (consecutive along a Morton curve). A block whose
// bounding box is at least as far from the new sample as its largest current distance cannot
// change, so it is skipped. The skip test is exact in float32 (the box bound is summed like the
// point distances and rounding is monotone), so the result equals the plain O(n * samples) loop;
// late in the sampling nearly every block is skipped.
#include <algorithm>
#include <limits>

#include "common/parallel.h"
#include "index/index_core.h"

namespace edge3d::index {
namespace {

constexpr int64_t kBlock = 256;
constexpr int64_t kParallelWork = 1 << 15;  // points to update before threads pay off
constexpr float kInf = std::numeric_limits<float>::infinity();

struct Block {
  float lo[3], hi[3];
  float max_dist;  // largest current distance in the block
  int64_t arg;     // its position (lowest original index among equal maxima)
};

}  // namespace

std::vector<int32_t> farthest_point_sampling(const float* points, int64_t n, int64_t samples,
                                             int64_t start) {
  std::vector<int32_t> out(samples);
  if (samples == 0) return out;
  const std::vector<int32_t> id = morton_order(points, n);
  std::vector<float> x(n), y(n), z(n);
  int64_t last = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = points[3 * int64_t{id[i]}];
    y[i] = points[3 * int64_t{id[i]} + 1];
    z[i] = points[3 * int64_t{id[i]} + 2];
    if (id[i] == start) last = i;
  }
  std::vector<float> best(n, std::numeric_limits<float>::infinity());
  const int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<Block> blocks(nb);
  for (int64_t b = 0; b < nb; ++b) {
    Block& blk = blocks[b];
    const int64_t e = std::min(n, (b + 1) * kBlock);
    blk.lo[0] = blk.hi[0] = x[b * kBlock];
    blk.lo[1] = blk.hi[1] = y[b * kBlock];
    blk.lo[2] = blk.hi[2] = z[b * kBlock];
    for (int64_t i = b * kBlock; i < e; ++i) {
      blk.lo[0] = std::min(blk.lo[0], x[i]), blk.hi[0] = std::max(blk.hi[0], x[i]);
      blk.lo[1] = std::min(blk.lo[1], y[i]), blk.hi[1] = std::max(blk.hi[1], y[i]);
      blk.lo[2] = std::min(blk.lo[2], z[i]), blk.hi[2] = std::max(blk.hi[2], z[i]);
    }
    blk.max_dist = std::numeric_limits<float>::infinity();
    blk.arg = b * kBlock;
  }

  float c[3];
  auto update = [&](int64_t b) {
    const int64_t begin = b * kBlock, end = std::min(n, begin + kBlock);
    float lane[8];
    std::fill(lane, lane + 8, -std::numeric_limits<float>::infinity());
    for (int64_t i = begin; i < end; ++i) {
      const float dx = x[i] - c[0], dy = y[i] - c[1], dz = z[i] - c[2];
      const float s = dx * dx + dy * dy;
      const float m = std::min(best[i], s + dz * dz);
      best[i] = m;
      lane[i & 7] = std::max(lane[i & 7], m);
    }
    const float top = *std::max_element(lane, lane + 8);
    int64_t arg = -1;
    for (int64_t i = begin; i < end; ++i)
      if (best[i] == top && (arg < 0 || id[i] < id[arg])) arg = i;
    blocks[b].max_dist = top;
    blocks[b].arg = arg;
  };

  std::vector<int64_t> dirty;
  dirty.reserve(nb);
  out[0] = static_cast<int32_t>(start);
  for (int64_t s = 1; s < samples; ++s) {
    best[last] = -1.0f;  // below every distance: never chosen again
    c[0] = x[last], c[1] = y[last], c[2] = z[last];
    dirty.clear();
    int64_t work = 0;
    for (int64_t b = 0; b < nb; ++b) {
      const Block& blk = blocks[b];
      float g[3];
      for (int a = 0; a < 3; ++a)
        g[a] = c[a] < blk.lo[a] ? blk.lo[a] - c[a] : c[a] > blk.hi[a] ? c[a] - blk.hi[a] : 0.0f;
      const float bound = g[0] * g[0] + g[1] * g[1];
      // An infinite maximum is the untouched start (or an overflow): always recompute it.
      if (bound + g[2] * g[2] < blk.max_dist || blk.max_dist == kInf || b == last / kBlock) {
        dirty.push_back(b);
        work += kBlock;
      }
    }
    const int64_t grain = work >= kParallelWork ? 1 : static_cast<int64_t>(dirty.size());
    parallel_for(static_cast<int64_t>(dirty.size()), std::max<int64_t>(grain, 1),
                 [&](int64_t b, int64_t e) {
                   for (int64_t i = b; i < e; ++i) update(dirty[i]);
                 });
    int64_t pick = 0;
    for (int64_t b = 1; b < nb; ++b) {
      const Block& blk = blocks[b];
      const Block& cur = blocks[pick];
      if (blk.max_dist > cur.max_dist ||
          (blk.max_dist == cur.max_dist && id[blk.arg] < id[cur.arg]))
        pick = b;
    }
    last = blocks[pick].arg;
    out[s] = id[last];
  }
  return out;
}

}  // namespace edge3d::index
