// Geometric segmentation core: the surface graph of a point cloud (k nearest neighbours within
// a radius), PCA normals, and Felzenszwalb-Huttenlocher graph segmentation (superpoints).
// Everything here is deterministic: results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

namespace edge3d::geoseg {

// The `k` nearest other points of every point that lie within `max_distance`, nearest first
// (ties by ascending index). Rows are padded with -1 (index) and +inf (distance) where fewer
// than k points are that close. `nbr` and `dist` are [n * k].
void knn_graph(const float* points, int64_t n, int k, float max_distance, int32_t* nbr,
               float* dist);

// Each undirected edge of a knn_graph once, as (i, j) pairs with i < j, flattened: [2 * E].
// The mutual edges (each end lists the other) come first, `mutual_count` of them, then the
// one-sided ones; within each, ordered by the row that first lists the pair, then by rank.
std::vector<int32_t> unique_edges(const int32_t* nbr, int64_t n, int k, int64_t* mutual_count);

// Normal and surface variation of every point from the covariance of itself and its neighbours
// (`nbr` as knn_graph writes it). The normal is the eigenvector of the smallest eigenvalue,
// turned so that n_z >= 0 (n_x >= 0 when horizontal); variation is l0 / (l0 + l1 + l2), 0 for
// a perfect plane, 1/3 for an isotropic blob. Points with fewer than two neighbours get the
// normal (0, 0, 0) and variation 1.
void pca_normals(const float* points, int64_t n, const int32_t* nbr, int k, float* normals,
                 float* variation);

// Superpoint edge weights: 1 - |n_a . n_b| plus color_weight times the RGB distance of the two
// ends (colors may be null). `edges` is [m, 2]; writes `w` [m], each >= 0.
void edge_weights(const float* normals, const float* colors, const int32_t* edges, int64_t m,
                  float color_weight, float* w);

// Felzenszwalb-Huttenlocher segmentation (IJCV 2004) of a graph of n nodes and m weighted edges
// (a[i], b[i], w[i]), as ScanNet's mesh segmentator runs it: edges in ascending weight (ties by
// edge index), components a and b merge when w <= min(tau(a), tau(b)), tau = w + k / |C|; then
// every edge that joins a component smaller than `min_size` to another merges them, in the
// same order. Returns the component of each node, numbered 0.. in order of each component's
// smallest node.
std::vector<int32_t> felzenszwalb(int64_t n, const int32_t* a, const int32_t* b, const float* w,
                                  int64_t m, double k, int64_t min_size);

}  // namespace edge3d::geoseg
