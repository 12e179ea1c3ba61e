// Core distances and the mutual-reachability MST (Boruvka over a KD-tree).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>

#include "common/parallel.h"
#include "hdbscan/hdbscan.h"
#include "hdbscan/kdtree.h"

namespace edge3d::hdbscan {

namespace {

// The k nearest neighbours of every point (tree positions, the point itself first or tied
// first) and its squared core distance, the last of them.
struct Neighbours {
  int k;
  std::vector<int32_t> idx;   // n * k
  std::vector<double> dist2;  // n * k
  std::vector<double> core2;  // n
};

template <int D>
Neighbours nearest_neighbours(const KDTree<D>& tree, int k) {
  const int64_t n = tree.size();
  Neighbours nb{k, std::vector<int32_t>(n * k), std::vector<double>(n * k), std::vector<double>(n)};
  parallel_for(n, 256, [&](int64_t b, int64_t e) {
    std::vector<int32_t> stack;
    for (int64_t i = b; i < e; ++i) {
      tree.knn(static_cast<int32_t>(i), k, &nb.dist2[i * k], &nb.idx[i * k], stack);
      nb.core2[i] = nb.dist2[i * k + k - 1];
    }
  });
  return nb;
}

struct UnionFind {
  std::vector<int32_t> parent;
  explicit UnionFind(int64_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int32_t find(int32_t x) {
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  }
};

struct Candidate {
  double w = std::numeric_limits<double>::infinity();
  int32_t a = -1, b = -1;  // tree positions
};

template <int D>
bool better(const Candidate& x, const Candidate& y, const KDTree<D>& t) {
  if (x.w != y.w) return x.w < y.w;
  if (y.a < 0) return x.a >= 0;
  if (x.a < 0) return false;
  // Ties break on original indices so the tree is independent of thread count and tree order.
  auto key = [&](const Candidate& c) {
    int32_t p = t.original(c.a), q = t.original(c.b);
    return std::make_pair(std::min(p, q), std::max(p, q));
  };
  return key(x) < key(y);
}

// Non-negative doubles order like their bit patterns, so a shared bound can be an atomic
// uint64 minimum.
uint64_t bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
double from_bits(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}
void atomic_min(std::atomic<uint64_t>& slot, double v) {
  uint64_t want = bits(v), cur = slot.load(std::memory_order_relaxed);
  while (want < cur && !slot.compare_exchange_weak(cur, want, std::memory_order_relaxed)) {
  }
}

// All distances below are squared: max and < commute with squaring for non-negative values.
template <int D>
std::vector<Edge> boruvka(const KDTree<D>& tree, const Neighbours& nn) {
  const std::vector<double>& core_t = nn.core2;
  const int64_t n = tree.size();
  const auto& nodes = tree.nodes();
  const int64_t num_nodes = static_cast<int64_t>(nodes.size());
  std::vector<Edge> edges;
  if (n < 2) return edges;
  edges.reserve(n - 1);

  // The smallest core distance under each node: a lower bound on the mutual reachability
  // distance to anything in that node.
  std::vector<double> node_min_core(num_nodes);
  for (int64_t k = num_nodes - 1; k >= 0; --k) {  // children have larger ids than parents
    const KDNode& nd = nodes[k];
    if (nd.left < 0) {
      double m = std::numeric_limits<double>::infinity();
      for (int32_t i = nd.begin; i < nd.end; ++i) m = std::min(m, core_t[i]);
      node_min_core[k] = m;
    } else {
      node_min_core[k] = std::min(node_min_core[nd.left], node_min_core[nd.right]);
    }
  }

  UnionFind uf(n);
  std::vector<int32_t> comp(n);
  std::vector<int32_t> node_comp(num_nodes);
  std::vector<Candidate> best_of_point(n);
  std::vector<char> resolved(n);
  // The lightest edge found so far leaving each component: a point whose every candidate is
  // heavier cannot provide its component's edge, so its search stops there. Pruning is strict
  // (only candidates heavier than the bound are skipped), so every point that achieves the
  // component's minimum still finds it and the result does not depend on thread timing.
  std::vector<std::atomic<uint64_t>> comp_bound(n);
  int64_t components = n;
  while (components > 1) {
    for (int64_t i = 0; i < n; ++i) comp[i] = uf.find(static_cast<int32_t>(i));
    for (int64_t k = num_nodes - 1; k >= 0; --k) {
      const KDNode& nd = nodes[k];
      if (nd.left < 0) {
        int32_t c = comp[nd.begin];
        for (int32_t i = nd.begin + 1; i < nd.end && c >= 0; ++i)
          if (comp[i] != c) c = -1;
        node_comp[k] = c;
      } else {
        node_comp[k] = node_comp[nd.left] == node_comp[nd.right] ? node_comp[nd.left] : -1;
      }
    }
    for (int64_t i = 0; i < n; ++i)
      comp_bound[i].store(bits(std::numeric_limits<double>::infinity()), std::memory_order_relaxed);
    // Pass 1: a neighbour j of q within q's core distance in another component is at mutual
    // reachability max(core_q, core_j); when core_j <= core_q that is core_q, a lower bound on
    // every candidate of q, so q needs no search.
    parallel_for(n, 1024, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int32_t ci = comp[i];
        // The point's best edge of the last round still leaves its component unless that
        // merge joined the two ends: an upper bound that prunes the search from the start.
        Candidate best = best_of_point[i];
        if (best.b < 0 || comp[best.b] == ci) best = Candidate{};
        best.a = static_cast<int32_t>(i);
        resolved[i] = 0;
        for (int t = 0; t < nn.k; ++t) {
          int32_t j = nn.idx[i * nn.k + t];
          if (comp[j] == ci) continue;
          Candidate c{std::max(core_t[i], core_t[j]), static_cast<int32_t>(i), j};
          if (best.b < 0 || better(c, best, tree)) best = c;
        }
        if (best.b >= 0) {
          resolved[i] = best.w == core_t[i];
          atomic_min(comp_bound[ci], best.w);
        }
        best_of_point[i] = best;
      }
    });
    // Pass 2: a dual-tree search (query node x reference node) for the other points. A point
    // whose own candidate is worse than its component's best cannot matter, so its bound is
    // capped there; once interior points are capped, whole query nodes prune at once.
    auto eff = [&](int64_t q) {
      return std::min(best_of_point[q].w,
                      from_bits(comp_bound[comp[q]].load(std::memory_order_relaxed)));
    };
    std::vector<double> bound(num_nodes);
    std::function<void(int32_t)> refresh = [&](int32_t k) {
      const KDNode& nd = nodes[k];
      if (nd.left < 0) {
        double b = 0.0;
        for (int32_t i = nd.begin; i < nd.end; ++i) b = std::max(b, resolved[i] ? 0.0 : eff(i));
        bound[k] = b;
      } else {
        refresh(nd.left);
        refresh(nd.right);
        bound[k] = std::max(bound[nd.left], bound[nd.right]);
      }
    };
    std::function<void(int32_t, int32_t)> dual = [&](int32_t qn, int32_t rn) {
      if (node_comp[qn] >= 0 && node_comp[qn] == node_comp[rn]) return;
      double lb = std::max({tree.box_box_dist2(qn, rn), node_min_core[qn], node_min_core[rn]});
      if (lb > bound[qn]) return;
      const KDNode& q = nodes[qn];
      const KDNode& r = nodes[rn];
      if (q.left < 0 && r.left < 0) {
        double b = 0.0;
        for (int32_t i = q.begin; i < q.end; ++i) {
          if (resolved[i]) continue;
          const double cq = core_t[i];
          const int32_t ci = comp[i];
          const double* p = tree.point(i);
          // The query leaf's box is loose in high dimensions; the point's own distance to the
          // reference box skips most leaf scans in the last rounds.
          if (std::max(cq, node_min_core[rn]) <= eff(i) && node_comp[rn] != ci &&
              tree.box_dist2(p, rn) <= eff(i)) {
            Candidate best = best_of_point[i];
            for (int32_t j = r.begin; j < r.end; ++j) {
              if (comp[j] == ci) continue;
              double w = std::max({cq, core_t[j], tree.dist2(p, tree.point(j))});
              if (w > best.w) continue;
              Candidate c{w, i, j};
              if (best.b < 0 || better(c, best, tree)) best = c;
            }
            if (best.b >= 0 && best.b != best_of_point[i].b) {
              best_of_point[i] = best;
              atomic_min(comp_bound[ci], best.w);
            }
          }
          b = std::max(b, eff(i));
        }
        bound[qn] = b;
        return;
      }
      const bool split_reference =
          q.left < 0 || (r.left >= 0 && (r.end - r.begin) >= (q.end - q.begin));
      if (split_reference) {
        double dl = tree.box_box_dist2(qn, r.left), dr = tree.box_box_dist2(qn, r.right);
        dual(qn, dl <= dr ? r.left : r.right);
        dual(qn, dl <= dr ? r.right : r.left);
      } else {
        dual(q.left, rn);
        dual(q.right, rn);
        bound[qn] = std::max(bound[q.left], bound[q.right]);
      }
    };
    refresh(0);
    // Query subtrees are disjoint, so they run in parallel; only component bounds are shared.
    std::vector<int32_t> roots{0};
    while (roots.size() < 64) {
      std::vector<int32_t> next;
      for (int32_t k : roots) {
        if (nodes[k].left < 0) {
          next.push_back(k);
        } else {
          next.push_back(nodes[k].left);
          next.push_back(nodes[k].right);
        }
      }
      if (next.size() == roots.size()) break;
      roots.swap(next);
    }
    parallel_for(static_cast<int64_t>(roots.size()), 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) dual(roots[t], 0);
    });
    // The lightest edge leaving each component joins the forest.
    std::vector<Candidate> best_of_comp(n);
    for (int64_t i = 0; i < n; ++i) {
      const Candidate& c = best_of_point[i];
      if (c.b >= 0 && better(c, best_of_comp[comp[i]], tree)) best_of_comp[comp[i]] = c;
    }
    int64_t added = 0;
    for (int64_t c = 0; c < n; ++c) {
      const Candidate& cand = best_of_comp[c];
      if (cand.b < 0) continue;
      int32_t ra = uf.find(cand.a), rb = uf.find(cand.b);
      if (ra == rb) continue;  // both components picked the same edge
      uf.parent[std::max(ra, rb)] = std::min(ra, rb);
      edges.push_back({tree.original(cand.a), tree.original(cand.b), std::sqrt(cand.w)});
      --components;
      ++added;
    }
    if (added == 0) break;  // cannot happen for finite input; guards against an endless loop
  }
  return edges;
}

template <int D>
std::vector<Edge> mst_fixed(const float* points, int64_t n, int d, int k) {
  KDTree<D> tree(points, n, d);
  if (n < 2) return {};
  return boruvka(tree, nearest_neighbours(tree, k));
}

}  // namespace

std::vector<Edge> mutual_reachability_mst(const float* points, int64_t n, int d, int k) {
  switch (d) {  // the embedding sizes methods use get unrolled distance loops
    case 2: return mst_fixed<2>(points, n, d, k);
    case 3: return mst_fixed<3>(points, n, d, k);
    case 4: return mst_fixed<4>(points, n, d, k);
    case 6: return mst_fixed<6>(points, n, d, k);
    case 8: return mst_fixed<8>(points, n, d, k);
    case 16: return mst_fixed<16>(points, n, d, k);
    default: return mst_fixed<0>(points, n, d, k);
  }
}

}  // namespace edge3d::hdbscan
