// Index builder for edge3d's exportable backbones: voxel keys, pyramids, neighbour tables and
// point-set queries (FPS, ball query, k-NN). Plain C++ over raw arrays; index_module.cpp binds it.
//
// Every result is a pure function of the input: loops split work by index only and every
// floating-point reduction runs in one fixed order, so outputs are bit-identical for any
// EDGE3D_NUM_THREADS. Floating-point expressions are written out in the exact order the NumPy
// references in tests/native use, and contraction into FMA is switched off so that compilers
// that default to it (GCC on aarch64) give the same bits.
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace edge3d::index {

// Squared distances are float32, d = point - centre, summed as (dx*dx + dy*dy) + dz*dz: the
// order the references use. Box lower bounds sum their per-axis gaps in the same order, so by
// monotone rounding a bound never exceeds the computed distance of a point inside the box.

// Floor division by two, correct for negative values.
inline int32_t floor_half(int32_t v) { return v >= 0 ? v / 2 : -((-(int64_t)v + 1) / 2); }

// Stable LSD radix sort of (key, row) pairs on the low `total_bits` bits of the keys.
void radix_sort(std::vector<uint64_t>& keys, std::vector<int32_t>& rows, int total_bits);

// A permutation of the points along a Morton (Z-order) curve, for cache-friendly processing
// order; it only ever changes the order of independent work, never a result.
std::vector<int32_t> morton_order(const float* points, int64_t n);

// Lexicographic (x, then y, then z) sort of integer coordinates with duplicates grouped.
struct SortedKeys {
  std::vector<int32_t> order;    // [n] input rows in sorted order; ties keep ascending row order
  std::vector<int64_t> offsets;  // [m+1] start of each distinct coordinate in `order`
  std::vector<int32_t> unique;   // [m,3] distinct coordinates, sorted
  std::vector<int32_t> inverse;  // [n] index of each input row's coordinate in `unique`
};
SortedKeys sort_keys(const int32_t* coords, int64_t n);

struct Voxelization {
  SortedKeys keys;
  std::vector<float> features;   // [m,c]
  std::vector<float> centroids;  // [m,3]
};
Voxelization voxelize(const float* points, int64_t n, double voxel_size, const float* features,
                      int64_t c);

struct PyramidLevelData {
  std::vector<int32_t> coords;    // [m_l,3]
  std::vector<int32_t> parent;    // [m_l], -1 at the top level
  std::vector<int32_t> children;  // [m_{l+1},8], padding m_l
};
std::vector<PyramidLevelData> voxel_pyramid(const int32_t* coords, int64_t m, int levels);

// Returns the [rows, k^3] table; rows = max(q, capacity).
std::vector<int32_t> neighbor_table(const int32_t* coords, int64_t m, const int32_t* query,
                                    int64_t q, int kernel_size, int dilation, int64_t rows);

std::vector<int32_t> farthest_point_sampling(const float* points, int64_t n, int64_t samples,
                                             int64_t start);

// Static 3-d tree over float32 points. Results of every query are exact (ties broken by index),
// so they do not depend on the tree's shape.
class KdTree {
 public:
  KdTree(const float* points, int64_t n);
  // The k nearest points to q sorted by (distance^2, index); writes k entries.
  void knn(const float* q, int k, int32_t* idx, float* d2) const;
  // Appends to `out` every point with distance^2 < r2 (unordered).
  void within(const float* q, float r2, std::vector<int32_t>& out) const;

 private:
  struct Node {
    float lo[3], hi[3];
    int32_t begin, end;   // range in pts_/ids_
    int32_t left, right;  // children, -1 for a leaf
  };
  struct Point {
    float c[3];
    int32_t id;
  };
  static constexpr int32_t kLeafSize = 16;
  void build(Point* pts, int32_t id, int32_t begin, int32_t end, const float* lo, const float* hi,
             int depth);
  void leaf_dist2(const float* q, int32_t begin, int32_t end, float* out) const;
  std::vector<float> xyz_[3];  // [n] per axis, in tree order
  std::vector<int32_t> ids_;  // original index of each tree-order point
  std::vector<Node> nodes_;
};

// Cells wider than a radius over a point set, for ball queries; see ball_grid.cpp.
class BallGrid {
 public:
  // nullptr when the cell coordinates span more than 63 bits (then use a KdTree).
  static std::unique_ptr<BallGrid> build(const float* points, int64_t n, float radius);
  // Appends to `out` every point with distance^2 < r2 (r2 <= radius^2; unordered).
  void within(const float* q, float r2, std::vector<int32_t>& out) const;

 private:
  BallGrid() = default;
  uint64_t pack(int64_t x, int64_t y, int64_t z) const;
  double cell_ = 1.0;
  int64_t lo_[3] = {0, 0, 0}, hi_[3] = {0, 0, 0};
  int bits_[3] = {0, 0, 0};
  std::vector<uint64_t> keys_;    // sorted packed keys of the occupied cells
  std::vector<int64_t> offsets_;  // [cells + 1] into ids_ / xyz_
  std::vector<int32_t> ids_;      // point indices grouped by cell
  std::vector<float> xyz_[3];     // their coordinates, per axis
};

std::vector<int32_t> ball_query(const float* points, int64_t n, const float* centers, int64_t c,
                                float radius, int k);
void knn(const float* points, int64_t n, const float* queries, int64_t q, int k, int32_t* idx,
         float* d2);
void three_nn_weights(const float* points, int64_t n, const float* queries, int64_t q,
                      int32_t* idx, float* weight);

}  // namespace edge3d::index
