// A bucketed 3-d tree with per-node bounding boxes.
//
// Pruning is exact in float32: the box lower bound is summed in the same order as dist2(), and
// rounding is monotone, so a pruned node never holds a point whose computed dist2 is within the
// bound. Ties in distance are resolved by original index, which makes results tree-independent.
#include <algorithm>
#include <numeric>

#include "index/index_core.h"

namespace edge3d::index {
namespace {

inline float box_dist2(const float* q, const float* lo, const float* hi) {
  float g[3];
  for (int a = 0; a < 3; ++a) {
    float d = 0.0f;
    if (q[a] < lo[a]) d = lo[a] - q[a];
    else if (q[a] > hi[a]) d = q[a] - hi[a];
    g[a] = d;
  }
  float s = g[0] * g[0] + g[1] * g[1];
  return s + g[2] * g[2];
}

inline bool closer(float da, int32_t ia, float db, int32_t ib) {
  return da < db || (da == db && ia < ib);
}

}  // namespace

KdTree::KdTree(const float* points, int64_t n) : xyz_{std::vector<float>(n), std::vector<float>(n),
                                                     std::vector<float>(n)}, ids_(n) {
  std::iota(ids_.begin(), ids_.end(), 0);
  nodes_.reserve(static_cast<size_t>(2 * (n / kLeafSize + 1)));
  if (n > 0) build(points, 0, static_cast<int32_t>(n));
  // Leaves scan their points contiguously, one array per axis so the scan vectorises.
  for (int64_t i = 0; i < n; ++i)
    for (int a = 0; a < 3; ++a) xyz_[a][i] = points[3 * int64_t{ids_[i]} + a];
}

// Squared distances (float32, summed like dist2()) from q to tree-order points [begin, end).
inline void KdTree::leaf_dist2(const float* q, int32_t begin, int32_t end, float* out) const {
  const float* x = xyz_[0].data() + begin;
  const float* y = xyz_[1].data() + begin;
  const float* z = xyz_[2].data() + begin;
  for (int32_t t = 0; t < end - begin; ++t) {
    const float dx = x[t] - q[0], dy = y[t] - q[1], dz = z[t] - q[2];
    const float s = dx * dx + dy * dy;
    out[t] = s + dz * dz;
  }
}

int32_t KdTree::build(const float* points, int32_t begin, int32_t end) {
  const int32_t id = static_cast<int32_t>(nodes_.size());
  nodes_.push_back(Node{});
  Node node{};
  node.begin = begin;
  node.end = end;
  node.left = node.right = -1;
  auto coord = [&](int32_t i, int a) { return points[3 * int64_t{i} + a]; };
  for (int a = 0; a < 3; ++a) node.lo[a] = node.hi[a] = coord(ids_[begin], a);
  for (int32_t i = begin; i < end; ++i)
    for (int a = 0; a < 3; ++a) {
      node.lo[a] = std::min(node.lo[a], coord(ids_[i], a));
      node.hi[a] = std::max(node.hi[a], coord(ids_[i], a));
    }
  if (end - begin > kLeafSize) {
    int dim = 0;
    for (int a = 1; a < 3; ++a)
      if (node.hi[a] - node.lo[a] > node.hi[dim] - node.lo[dim]) dim = a;
    const int32_t half = (end - begin) / 2;
    std::nth_element(ids_.begin() + begin, ids_.begin() + begin + half, ids_.begin() + end,
                     [&](int32_t a, int32_t b) { return coord(a, dim) < coord(b, dim); });
    node.left = build(points, begin, begin + half);
    node.right = build(points, begin + half, end);
  }
  nodes_[id] = node;
  return id;
}

void KdTree::knn(const float* q, int k, int32_t* idx, float* d2) const {
  // Sorted candidate list: (d2[j], idx[j]) ascending, `have` entries filled.
  int have = 0;
  int32_t stack[128];
  int top = 0;
  if (!nodes_.empty() && k > 0) stack[top++] = 0;
  while (top > 0) {
    const Node& node = nodes_[stack[--top]];
    if (have == k && box_dist2(q, node.lo, node.hi) > d2[k - 1]) continue;
    if (node.left < 0) {
      float dist[kLeafSize];
      leaf_dist2(q, node.begin, node.end, dist);
      for (int32_t i = node.begin; i < node.end; ++i) {
        const float d = dist[i - node.begin];
        const int32_t id = ids_[i];
        if (have == k && !closer(d, id, d2[k - 1], idx[k - 1])) continue;
        int j = have < k ? have++ : k - 1;
        while (j > 0 && closer(d, id, d2[j - 1], idx[j - 1])) {
          d2[j] = d2[j - 1];
          idx[j] = idx[j - 1];
          --j;
        }
        d2[j] = d;
        idx[j] = id;
      }
      continue;
    }
    // Push the farther child first so the nearer one is searched first.
    const Node& l = nodes_[node.left];
    const Node& r = nodes_[node.right];
    const bool left_first = box_dist2(q, l.lo, l.hi) <= box_dist2(q, r.lo, r.hi);
    stack[top++] = left_first ? node.right : node.left;
    stack[top++] = left_first ? node.left : node.right;
  }
}

void KdTree::within(const float* q, float r2, std::vector<int32_t>& out) const {
  int32_t stack[128];
  int top = 0;
  if (!nodes_.empty()) stack[top++] = 0;
  while (top > 0) {
    const Node& node = nodes_[stack[--top]];
    if (box_dist2(q, node.lo, node.hi) >= r2) continue;
    if (node.left < 0) {
      float dist[kLeafSize];
      leaf_dist2(q, node.begin, node.end, dist);
      for (int32_t i = node.begin; i < node.end; ++i)
        if (dist[i - node.begin] < r2) out.push_back(ids_[i]);
      continue;
    }
    stack[top++] = node.right;
    stack[top++] = node.left;
  }
}

}  // namespace edge3d::index
