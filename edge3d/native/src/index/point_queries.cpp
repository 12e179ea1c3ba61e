// PointNet++ grouping queries (Qi et al. 2017, PointNet++ sections 3.2, 3.4): ball query on a
// radius-wide grid, and k nearest neighbours and the inverse-distance weights of feature
// propagation on a k-d tree.
#include <algorithm>
#include <cmath>

#include "common/parallel.h"
#include "index/index_core.h"

namespace edge3d::index {
namespace {

// Runs fn(i, scratch) for every query, visiting queries along a Morton curve so that consecutive
// queries walk the same part of the tree (each result depends only on its own query). `scratch`
// is a buffer reused within one thread's share of the queries.
template <typename Fn>
void for_each_query(const float* queries, int64_t q, Fn&& fn) {
  const std::vector<int32_t> order = morton_order(queries, q);
  parallel_for(q, 256, [&](int64_t b, int64_t e) {
    std::vector<int32_t> scratch;
    for (int64_t i = b; i < e; ++i) fn(static_cast<int64_t>(order[i]), scratch);
  });
}

}  // namespace

std::vector<int32_t> ball_query(const float* points, int64_t n, const float* centers, int64_t c,
                                float radius, int k) {
  std::vector<int32_t> out(c * k, static_cast<int32_t>(n));
  if (k == 0 || c == 0) return out;
  const float r2 = radius * radius;
  // A grid of radius-wide cells is cheaper to build than a tree; both find the same points.
  const std::unique_ptr<BallGrid> grid = BallGrid::build(points, n, radius);
  const std::unique_ptr<KdTree> tree = grid ? nullptr : std::make_unique<KdTree>(points, n);
  for_each_query(centers, c, [&](int64_t i, std::vector<int32_t>& hits) {
    hits.clear();
    if (grid) grid->within(centers + 3 * i, r2, hits);
    else tree->within(centers + 3 * i, r2, hits);
    if (hits.empty()) return;
    const auto kept = hits.begin() + std::min<size_t>(hits.size(), k);
    std::partial_sort(hits.begin(), kept, hits.end());
    int32_t* row = &out[i * k];
    std::copy(hits.begin(), kept, row);
    std::fill(row + (kept - hits.begin()), row + k, hits[0]);
  });
  return out;
}

void knn(const float* points, int64_t n, const float* queries, int64_t q, int k, int32_t* idx,
         float* d2) {
  if (k == 0 || q == 0) return;
  const KdTree tree(points, n);
  for_each_query(queries, q, [&](int64_t i, std::vector<int32_t>&) {
    tree.knn(queries + 3 * i, k, idx + i * k, d2 + i * k);
  });
}

void three_nn_weights(const float* points, int64_t n, const float* queries, int64_t q,
                      int32_t* idx, float* weight) {
  if (q == 0) return;
  const int k = static_cast<int>(std::min<int64_t>(n, 3));
  const KdTree tree(points, n);
  for_each_query(queries, q, [&](int64_t i, std::vector<int32_t>&) {
    int32_t id[3];
    float d2[3];
    tree.knn(queries + 3 * i, k, id, d2);
    float recip[3] = {0.0f, 0.0f, 0.0f};
    for (int j = 0; j < k; ++j) recip[j] = 1.0f / (std::sqrt(d2[j]) + 1e-8f);
    // Missing neighbours (n < 3) repeat the nearest index with weight 0.
    for (int j = k; j < 3; ++j) id[j] = id[0];
    const float norm = (recip[0] + recip[1]) + recip[2];
    for (int j = 0; j < 3; ++j) {
      idx[3 * i + j] = id[j];
      weight[3 * i + j] = recip[j] / norm;
    }
  });
}

}  // namespace edge3d::index
