// The surface graph: k nearest neighbours within a radius.
//
// Points are sorted by the key of their grid cell, x slowest and z fastest, so the three cells
// (x, y, z-1..z+1) of a column hold one contiguous run of points. A cell's 27 neighbours are
// then nine runs. Walking the cells in key order, each of the nine column targets only moves
// forward, so a cursor per column finds its run by stepping along the sorted keys: the search
// reads memory in order, where a hash table of cells costs a cache miss per neighbour cell.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "common/parallel.h"
#include "geoseg/geoseg_core.h"

namespace edge3d::geoseg {
namespace {

constexpr int kAxisBits = 21;
constexpr int64_t kAxisCells = int64_t{1} << kAxisBits;

uint64_t pack(int64_t x, int64_t y, int64_t z) {
  return (static_cast<uint64_t>(x) << (2 * kAxisBits)) | (static_cast<uint64_t>(y) << kAxisBits) |
         static_cast<uint64_t>(z);
}

// Key offsets of the nine columns (dx, dy) around a cell, at dz = -1, in ascending order.
struct Columns {
  int64_t offset[9];
  Columns() {
    int c = 0;
    for (int dx = -1; dx <= 1; ++dx)
      for (int dy = -1; dy <= 1; ++dy)
        offset[c++] = dx * (int64_t{1} << (2 * kAxisBits)) + dy * (int64_t{1} << kAxisBits) - 1;
  }
};
const Columns kColumns;

// Points sorted by cell; cell coordinates carry a margin of one so that no neighbour wraps.
class CellIndex {
 public:
  CellIndex(const float* points, int64_t n, double cell) : cell_(cell) {
    for (int a = 0; a < 3; ++a) lo_[a] = std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < n; ++i)
      for (int a = 0; a < 3; ++a) lo_[a] = std::min(lo_[a], double{points[3 * i + a]});
    std::vector<std::pair<uint64_t, int32_t>> keyed(n);
    for (int64_t i = 0; i < n; ++i) keyed[i] = {key_of(points + 3 * i), static_cast<int32_t>(i)};
    std::sort(keyed.begin(), keyed.end());
    order_.resize(n);
    xyz_.resize(3 * n);
    for (int64_t j = 0; j < n; ++j) {
      order_[j] = keyed[j].second;
      for (int a = 0; a < 3; ++a) xyz_[3 * j + a] = points[3 * int64_t{keyed[j].second} + a];
      if (j == 0 || keyed[j].first != keyed[j - 1].first) {
        keys_.push_back(keyed[j].first);
        starts_.push_back(j);
      }
    }
    starts_.push_back(n);
  }

  uint64_t key_of(const float* p) const {
    int64_t c[3];
    for (int a = 0; a < 3; ++a) {
      c[a] = static_cast<int64_t>(std::floor((double{p[a]} - lo_[a]) / cell_)) + 1;
      if (c[a] < 1 || c[a] >= kAxisCells - 1)
        throw std::invalid_argument(
            "the cloud spans more than " + std::to_string(kAxisCells - 2) +
            " graph cells along an axis; segment it in parts or use a larger max_distance");
    }
    return pack(c[0], c[1], c[2]);
  }

  int64_t cells() const { return static_cast<int64_t>(keys_.size()); }
  uint64_t key(int64_t u) const { return keys_[u]; }
  // First cell with key >= `key`, searching forward from `from`.
  int64_t seek(int64_t from, uint64_t key) const {
    while (from < cells() && keys_[from] < key) ++from;
    return from;
  }
  int64_t lower_bound(uint64_t key) const {
    return std::lower_bound(keys_.begin(), keys_.end(), key) - keys_.begin();
  }
  // Points of cells [u, v) are sorted points [start(u), start(v)).
  int64_t start(int64_t u) const { return starts_[u]; }
  const float* xyz(int64_t j) const { return &xyz_[3 * j]; }
  int32_t id(int64_t j) const { return order_[j]; }

 private:
  double cell_;
  double lo_[3];
  std::vector<uint64_t> keys_;   // distinct cell keys, ascending
  std::vector<int64_t> starts_;  // first sorted point of each cell, then n
  std::vector<int32_t> order_;   // sorted position -> input index
  std::vector<float> xyz_;       // sorted points
};

// Keeps the k smallest (d2, id) pairs offered, sorted, ties by ascending id.
class TopK {
 public:
  explicit TopK(int k) : k_(k), d_(k), id_(k) {}
  void reset() { found_ = 0; }
  void offer(float d2, int32_t id) {
    if (found_ == k_ && (d2 > d_[k_ - 1] || (d2 == d_[k_ - 1] && id > id_[k_ - 1]))) return;
    int pos = found_ < k_ ? found_++ : k_ - 1;
    while (pos > 0 && (d_[pos - 1] > d2 || (d_[pos - 1] == d2 && id_[pos - 1] > id))) {
      d_[pos] = d_[pos - 1];
      id_[pos] = id_[pos - 1];
      --pos;
    }
    d_[pos] = d2;
    id_[pos] = id;
  }
  bool full() const { return found_ == k_; }
  void write(int32_t* nbr, float* dist) const {
    for (int s = 0; s < found_; ++s) {
      nbr[s] = id_[s];
      dist[s] = std::sqrt(d_[s]);
    }
  }

 private:
  int k_, found_ = 0;
  std::vector<float> d_;
  std::vector<int32_t> id_;
};

// The k nearest of q among sorted points [b, e) within sqrt(max_d2), q's own index excluded.
class RunScan {
 public:
  void scan(const CellIndex& index, int64_t b, int64_t e, const float* q, int32_t self,
            float max_d2, TopK& top) {
    const int64_t m = e - b;
    if (static_cast<int64_t>(near_.size()) < m) near_.resize(m);
    // Branch-free compaction of the points within the radius: on a surface about a third of
    // the candidates are, at random positions, which a branch would mispredict.
    int64_t within = 0;
    for (int64_t j = b; j < e; ++j) {
      const float* p = index.xyz(j);
      const float ex = p[0] - q[0], ey = p[1] - q[1], ez = p[2] - q[2];
      near_[within] = j;
      within += (ex * ex + ey * ey + ez * ez <= max_d2) & (index.id(j) != self);
    }
    for (int64_t s = 0; s < within; ++s) {
      const float* p = index.xyz(near_[s]);
      const float ex = p[0] - q[0], ey = p[1] - q[1], ez = p[2] - q[2];
      top.offer(ex * ex + ey * ey + ez * ez, index.id(near_[s]));
    }
  }

 private:
  std::vector<int64_t> near_;
};

// One pass: the k nearest within one cell width for the points of cells [cb, ce).
void pass_cells(const CellIndex& index, int64_t cb, int64_t ce, int k, float max_d2,
                int32_t* nbr, float* dist, uint8_t* short_of_k) {
  TopK top(k);
  RunScan scan;
  int64_t cursor[9];
  for (int c = 0; c < 9; ++c)
    cursor[c] = index.lower_bound(static_cast<uint64_t>(index.key(cb) + kColumns.offset[c]));
  for (int64_t u = cb; u < ce; ++u) {
    int64_t run_b[9], run_e[9];
    for (int c = 0; c < 9; ++c) {
      const uint64_t lo = index.key(u) + kColumns.offset[c];
      cursor[c] = index.seek(cursor[c], lo);
      const int64_t last = index.seek(cursor[c], lo + 3);
      run_b[c] = index.start(cursor[c]);
      run_e[c] = index.start(last);
    }
    for (int64_t j = index.start(u); j < index.start(u + 1); ++j) {
      const int32_t i = index.id(j);
      top.reset();
      for (int c = 0; c < 9; ++c) scan.scan(index, run_b[c], run_e[c], index.xyz(j), i, max_d2, top);
      top.write(nbr + int64_t{i} * k, dist + int64_t{i} * k);
      if (short_of_k) short_of_k[i] = !top.full();
    }
  }
}

}  // namespace

void knn_graph(const float* points, int64_t n, int k, float max_distance, int32_t* nbr,
               float* dist) {
  std::fill(nbr, nbr + n * k, -1);
  std::fill(dist, dist + n * k, std::numeric_limits<float>::infinity());
  if (n == 0 || k == 0) return;
  // Pass 1 finds each point's k nearest within half the cap, in cells that wide: on a dense
  // surface that settles almost every point from a short candidate list. Pass 2 redoes the
  // points with fewer than k that close, in cells one cap wide. Each pass is exact for its
  // radius (the 27 cells around a point hold everything within one cell width), so the result
  // is the k nearest within the cap either way.
  const float half = 0.5f * max_distance;
  std::vector<uint8_t> short_of_k(n, 0);
  {
    const CellIndex index(points, n, double{half});
    parallel_for(index.cells(), 64, [&](int64_t b, int64_t e) {
      pass_cells(index, b, e, k, half * half, nbr, dist, short_of_k.data());
    });
  }
  std::vector<int32_t> redo;
  for (int64_t i = 0; i < n; ++i)
    if (short_of_k[i]) redo.push_back(static_cast<int32_t>(i));
  if (redo.empty()) return;
  const CellIndex index(points, n, double{max_distance});
  parallel_for(static_cast<int64_t>(redo.size()), 64, [&](int64_t b, int64_t e) {
    TopK top(k);
    RunScan scan;
    for (int64_t r = b; r < e; ++r) {
      const int32_t i = redo[r];
      const float* q = points + 3 * int64_t{i};
      const uint64_t key = index.key_of(q);
      top.reset();
      for (int c = 0; c < 9; ++c) {
        const uint64_t lo = key + kColumns.offset[c];
        const int64_t first = index.lower_bound(lo), last = index.seek(first, lo + 3);
        scan.scan(index, index.start(first), index.start(last), q, i,
                  max_distance * max_distance, top);
      }
      top.write(nbr + int64_t{i} * k, dist + int64_t{i} * k);
    }
  });
}

std::vector<int32_t> unique_edges(const int32_t* nbr, int64_t n, int k, int64_t* mutual_count) {
  auto lists = [&](int64_t from, int32_t to) {
    const int32_t* row = nbr + from * k;
    for (int t = 0; t < k && row[t] >= 0; ++t)
      if (row[t] == to) return true;
    return false;
  };
  std::vector<int32_t> mutual, one_sided;
  mutual.reserve(static_cast<size_t>(n) * k);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t* row = nbr + i * k;
    for (int s = 0; s < k && row[s] >= 0; ++s) {
      const int32_t j = row[s];
      const bool both = lists(j, static_cast<int32_t>(i));
      if (j < i && both) continue;  // written from j's row
      auto& out = both ? mutual : one_sided;
      out.push_back(static_cast<int32_t>(std::min<int64_t>(i, j)));
      out.push_back(static_cast<int32_t>(std::max<int64_t>(i, j)));
    }
  }
  *mutual_count = static_cast<int64_t>(mutual.size() / 2);
  mutual.insert(mutual.end(), one_sided.begin(), one_sided.end());
  return mutual;
}

}  // namespace edge3d::geoseg
