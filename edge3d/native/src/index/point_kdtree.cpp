// A bucketed 3-d tree with per-node bounding boxes.
//
// Pruning is exact in float32: the box lower bound is summed in the same order as the distances
// (index_core.h) and rounding is monotone, so a pruned node never holds a point whose computed
// distance is within the bound. Ties in distance are resolved by original index, which makes
// results tree-independent.
#include <algorithm>
#include <numeric>

#include "common/parallel.h"
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

// Nodes in a subtree over `count` points; fixes every node's position before building, so
// subtrees can be built concurrently into one array with a layout independent of threads.
int32_t subtree_nodes(int32_t count, int32_t leaf) {
  if (count <= leaf) return 1;
  return 1 + subtree_nodes(count / 2, leaf) + subtree_nodes(count - count / 2, leaf);
}

}  // namespace

KdTree::KdTree(const float* points, int64_t n)
    : xyz_{std::vector<float>(n), std::vector<float>(n), std::vector<float>(n)}, ids_(n) {
  if (n == 0) return;
  // Points travel with their ids, so the median splits partition contiguous memory.
  std::vector<Point> pts(n);
  float lo[3], hi[3];
  std::copy_n(points, 3, lo);
  std::copy_n(lo, 3, hi);
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(points + 3 * i, 3, pts[i].c);
    pts[i].id = static_cast<int32_t>(i);
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], pts[i].c[a]);
      hi[a] = std::max(hi[a], pts[i].c[a]);
    }
  }
  const int32_t count = static_cast<int32_t>(n);
  nodes_.resize(subtree_nodes(count, kLeafSize));
  build(pts.data(), 0, 0, count, lo, hi, 0);
  // Leaves scan their points contiguously, one array per axis so the scan vectorises.
  for (int64_t i = 0; i < n; ++i) {
    for (int a = 0; a < 3; ++a) xyz_[a][i] = pts[i].c[a];
    ids_[i] = pts[i].id;
  }
}

// Squared distances from q to tree-order points [begin, end).
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

// Builds node `id` over pts[begin, end). `lo`/`hi` bound the range (used to pick the split
// axis); the node's own box is the exact box of its points, merged up from the leaves.
void KdTree::build(Point* pts, int32_t id, int32_t begin, int32_t end, const float* lo,
                   const float* hi, int depth) {
  Node& node = nodes_[id];
  node.begin = begin;
  node.end = end;
  node.left = node.right = -1;
  if (end - begin <= kLeafSize) {
    std::copy_n(pts[begin].c, 3, node.lo);
    std::copy_n(pts[begin].c, 3, node.hi);
    for (int32_t i = begin; i < end; ++i)
      for (int a = 0; a < 3; ++a) {
        node.lo[a] = std::min(node.lo[a], pts[i].c[a]);
        node.hi[a] = std::max(node.hi[a], pts[i].c[a]);
      }
    return;
  }
  int dim = 0;
  for (int a = 1; a < 3; ++a)
    if (hi[a] - lo[a] > hi[dim] - lo[dim]) dim = a;
  const int32_t half = (end - begin) / 2;
  std::nth_element(pts + begin, pts + begin + half, pts + end,
                   [dim](const Point& a, const Point& b) { return a.c[dim] < b.c[dim]; });
  const float split = pts[begin + half].c[dim];
  float left_hi[3] = {hi[0], hi[1], hi[2]}, right_lo[3] = {lo[0], lo[1], lo[2]};
  left_hi[dim] = split;
  right_lo[dim] = split;
  node.left = id + 1;
  node.right = id + 1 + subtree_nodes(half, kLeafSize);
  const int32_t left = node.left, right = node.right;
  // The two halves are independent: split them across threads near the root.
  const bool fork = (int64_t{1} << depth) < default_num_threads() && end - begin > (1 << 16);
  parallel_for(2, fork ? 1 : 2, [&](int64_t b, int64_t e) {
    for (int64_t side = b; side < e; ++side) {
      if (side == 0) build(pts, left, begin, begin + half, lo, left_hi, depth + 1);
      else build(pts, right, begin + half, end, right_lo, hi, depth + 1);
    }
  });
  const Node& l = nodes_[left];
  const Node& r = nodes_[right];
  for (int a = 0; a < 3; ++a) {
    nodes_[id].lo[a] = std::min(l.lo[a], r.lo[a]);
    nodes_[id].hi[a] = std::max(l.hi[a], r.hi[a]);
  }
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
