// A KD-tree over d-dimensional points for HDBSCAN's core distances and Boruvka MST.
//
// Points are copied in tree order (double precision, so distances match float64 references
// bit for bit in the common case) and each node keeps its bounding box. The dimension is a
// template parameter (D > 0) so distance loops unroll; D = 0 reads it at run time.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace edge3d::hdbscan {

struct KDNode {
  int32_t begin = 0, end = 0;     // range in tree order
  int32_t left = -1, right = -1;  // children, -1 for a leaf
};

template <int D>
class KDTree {
 public:
  static constexpr int kLeafSize = 32;

  KDTree(const float* data, int64_t n, int d) : n_(n), d_(D > 0 ? D : d), order_(n) {
    d = d_;
    std::iota(order_.begin(), order_.end(), 0);
    std::vector<double> src(data, data + n * d);
    nodes_.reserve(2 * (n / kLeafSize + 1));
    if (n > 0) build(src, 0, static_cast<int32_t>(n));
    pts_.resize(n * d);
    for (int64_t i = 0; i < n; ++i)
      std::copy_n(&src[static_cast<int64_t>(order_[i]) * d], d, &pts_[i * d]);
    lo_.assign(nodes_.size() * d, 0.0);
    hi_.assign(nodes_.size() * d, 0.0);
    for (size_t k = 0; k < nodes_.size(); ++k) {
      double* lo = &lo_[k * d];
      double* hi = &hi_[k * d];
      std::fill(lo, lo + d, INFINITY);
      std::fill(hi, hi + d, -INFINITY);
      for (int32_t i = nodes_[k].begin; i < nodes_[k].end; ++i)
        for (int c = 0; c < d; ++c) {
          lo[c] = std::min(lo[c], pts_[i * d + c]);
          hi[c] = std::max(hi[c], pts_[i * d + c]);
        }
    }
  }

  int64_t size() const { return n_; }
  int dim() const { return D > 0 ? D : d_; }
  const std::vector<KDNode>& nodes() const { return nodes_; }
  // Original index of the point at tree position i.
  int32_t original(int32_t i) const { return order_[i]; }
  const double* point(int32_t i) const { return &pts_[static_cast<int64_t>(i) * dim()]; }

  double dist2(const double* a, const double* b) const {
    double s = 0.0;
    for (int c = 0; c < dim(); ++c) {
      double t = a[c] - b[c];
      s += t * t;
    }
    return s;
  }

  // Squared distance between the bounding boxes of nodes a and b.
  double box_box_dist2(int32_t a, int32_t b) const {
    const double* alo = &lo_[static_cast<int64_t>(a) * dim()];
    const double* ahi = &hi_[static_cast<int64_t>(a) * dim()];
    const double* blo = &lo_[static_cast<int64_t>(b) * dim()];
    const double* bhi = &hi_[static_cast<int64_t>(b) * dim()];
    double s = 0.0;
    for (int c = 0; c < dim(); ++c) {
      double t = std::max({0.0, blo[c] - ahi[c], alo[c] - bhi[c]});
      s += t * t;
    }
    return s;
  }

  // Squared distance from q to node k's bounding box.
  double box_dist2(const double* q, int32_t k) const {
    const double* lo = &lo_[static_cast<int64_t>(k) * dim()];
    const double* hi = &hi_[static_cast<int64_t>(k) * dim()];
    double s = 0.0;
    for (int c = 0; c < dim(); ++c) {
      double t = q[c] < lo[c] ? lo[c] - q[c] : (q[c] > hi[c] ? q[c] - hi[c] : 0.0);
      s += t * t;
    }
    return s;
  }

  // The k nearest tree points to tree point qi (itself included), ascending by squared
  // distance (ties by position): squared distances to dist2_out[0..k), positions to idx_out,
  // which hold the sorted list while it grows (k is min_samples, about 10: insertion into a
  // short sorted array beats a heap). `stack` is the caller's scratch buffer.
  void knn(int32_t qi, int k, double* dist2_out, int32_t* idx_out,
           std::vector<int32_t>& stack) const {
    const double* q = point(qi);
    int count = 0;
    double bound = INFINITY;  // the k-th smallest distance once there are k
    stack.assign(1, 0);
    while (!stack.empty()) {
      int32_t node = stack.back();
      stack.pop_back();
      if (box_dist2(q, node) > bound) continue;
      const KDNode& nd = nodes_[node];
      if (nd.left < 0) {
        for (int32_t i = nd.begin; i < nd.end; ++i) {
          const double d = dist2(q, point(i));
          if (count == k && !(d < bound || (d == bound && i < idx_out[k - 1]))) continue;
          // Shift the entries after (d, i) up by one (dropping the k-th) and put it in.
          int j = count < k ? count++ : k - 1;
          for (; j > 0 && (dist2_out[j - 1] > d || (dist2_out[j - 1] == d && idx_out[j - 1] > i));
               --j) {
            dist2_out[j] = dist2_out[j - 1];
            idx_out[j] = idx_out[j - 1];
          }
          dist2_out[j] = d;
          idx_out[j] = i;
          if (count == k) bound = dist2_out[k - 1];
        }
        continue;
      }
      // Visit the nearer child first (pushed last).
      double dl = box_dist2(q, nd.left), dr = box_dist2(q, nd.right);
      if (dl < dr) {
        stack.push_back(nd.right);
        stack.push_back(nd.left);
      } else {
        stack.push_back(nd.left);
        stack.push_back(nd.right);
      }
    }
  }

 private:
  int32_t build(std::vector<double>& src, int32_t begin, int32_t end) {
    int32_t id = static_cast<int32_t>(nodes_.size());
    nodes_.push_back({begin, end, -1, -1});
    if (end - begin <= kLeafSize) return id;
    // Split the widest dimension at its median.
    int best = 0;
    double spread = -1.0;
    for (int c = 0; c < d_; ++c) {
      double lo = INFINITY, hi = -INFINITY;
      for (int32_t i = begin; i < end; ++i) {
        double v = src[static_cast<int64_t>(order_[i]) * d_ + c];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      if (hi - lo > spread) {
        spread = hi - lo;
        best = c;
      }
    }
    if (spread <= 0.0) return id;  // all points identical: keep as one leaf
    int32_t mid = begin + (end - begin) / 2;
    std::nth_element(order_.begin() + begin, order_.begin() + mid, order_.begin() + end,
                     [&](int32_t a, int32_t b) {
                       double va = src[static_cast<int64_t>(a) * d_ + best];
                       double vb = src[static_cast<int64_t>(b) * d_ + best];
                       return va < vb || (va == vb && a < b);
                     });
    int32_t l = build(src, begin, mid);
    int32_t r = build(src, mid, end);
    nodes_[id].left = l;
    nodes_[id].right = r;
    return id;
  }

  int64_t n_;
  int d_;
  std::vector<int32_t> order_;
  std::vector<double> pts_;
  std::vector<KDNode> nodes_;
  std::vector<double> lo_, hi_;
};

}  // namespace edge3d::hdbscan
