// Felzenszwalb-Huttenlocher graph segmentation over a union-find. Edges are ordered by a stable
// LSD radix sort of their weights' bit patterns (non-negative floats order like their bits), so
// ties keep the edge order and the sort costs four linear passes instead of E log E compares.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "geoseg/geoseg_core.h"

namespace edge3d::geoseg {
namespace {

std::vector<int64_t> order_by_weight(const float* w, int64_t m) {
  std::vector<uint32_t> keys(m);
  for (int64_t i = 0; i < m; ++i) {
    if (!(w[i] >= 0.0f)) throw std::invalid_argument("edge weights must be >= 0 and not NaN");
    const float v = w[i] == 0.0f ? 0.0f : w[i];  // -0 and +0 sort together
    std::memcpy(&keys[i], &v, sizeof v);
  }
  std::vector<int64_t> order(m), tmp(m);
  std::iota(order.begin(), order.end(), int64_t{0});
  for (int shift = 0; shift < 32; shift += 8) {
    int64_t counts[257] = {0};
    for (int64_t i = 0; i < m; ++i) ++counts[((keys[order[i]] >> shift) & 255) + 1];
    for (int d = 0; d < 256; ++d) counts[d + 1] += counts[d];
    for (int64_t i = 0; i < m; ++i) tmp[counts[(keys[order[i]] >> shift) & 255]++] = order[i];
    order.swap(tmp);
  }
  return order;
}

class DisjointSets {
 public:
  explicit DisjointSets(int64_t n) : parent_(n), rank_(n, 0), size_(n, 1) {
    std::iota(parent_.begin(), parent_.end(), int32_t{0});
  }
  int32_t find(int32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  int32_t join(int32_t x, int32_t y) {  // roots in, new root out
    if (rank_[x] < rank_[y]) std::swap(x, y);
    parent_[y] = x;
    size_[x] += size_[y];
    if (rank_[x] == rank_[y]) ++rank_[x];
    return x;
  }
  int64_t size(int32_t root) const { return size_[root]; }

 private:
  std::vector<int32_t> parent_;
  std::vector<uint8_t> rank_;
  std::vector<int64_t> size_;
};

}  // namespace

std::vector<int32_t> felzenszwalb(int64_t n, const int32_t* a, const int32_t* b, const float* w,
                                  int64_t m, double k, int64_t min_size) {
  for (int64_t i = 0; i < m; ++i)
    if (a[i] < 0 || a[i] >= n || b[i] < 0 || b[i] >= n)
      throw std::invalid_argument("edge endpoints must be node indices in [0, n)");
  const std::vector<int64_t> order = order_by_weight(w, m);
  DisjointSets sets(n);
  std::vector<double> tau(n, k);
  for (const int64_t e : order) {
    int32_t x = sets.find(a[e]), y = sets.find(b[e]);
    if (x == y || w[e] > tau[x] || w[e] > tau[y]) continue;
    const int32_t root = sets.join(x, y);
    tau[root] = w[e] + k / static_cast<double>(sets.size(root));
  }
  for (const int64_t e : order) {
    int32_t x = sets.find(a[e]), y = sets.find(b[e]);
    if (x != y && (sets.size(x) < min_size || sets.size(y) < min_size)) sets.join(x, y);
  }
  std::vector<int32_t> label(n, -1), of_root(n, -1);
  int32_t next = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t r = sets.find(static_cast<int32_t>(i));
    if (of_root[r] < 0) of_root[r] = next++;
    label[i] = of_root[r];
  }
  return label;
}

}  // namespace edge3d::geoseg
