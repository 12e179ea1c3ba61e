// Single-linkage hierarchy, condensed tree, excess-of-mass selection and labelling.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "hdbscan/hdbscan.h"

namespace edge3d::hdbscan {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Merge {
  int64_t left, right;  // node ids: points 0..n-1, merges n..2n-2
  double dist;
  int64_t size;
};

struct CondensedRow {
  int64_t parent, child;  // clusters are numbered from n (the root) upwards
  double lambda;
  int64_t child_size;
};

std::vector<Merge> single_linkage(int64_t n, std::vector<Edge>& mst) {
  std::stable_sort(mst.begin(), mst.end(), [](const Edge& x, const Edge& y) {
    if (x.w != y.w) return x.w < y.w;
    auto kx = std::minmax(x.a, x.b), ky = std::minmax(y.a, y.b);
    return kx < ky;
  });
  std::vector<int64_t> parent(2 * n - 1), size(2 * n - 1, 1);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int64_t x) {
    int64_t r = x;
    while (parent[r] != r) r = parent[r];
    while (parent[x] != r) {
      int64_t next = parent[x];
      parent[x] = r;
      x = next;
    }
    return r;
  };
  std::vector<Merge> merges;
  merges.reserve(n - 1);
  int64_t next = n;
  for (const Edge& e : mst) {
    int64_t a = find(e.a), b = find(e.b);
    if (a == b) throw std::logic_error("hdbscan: the spanning tree has a cycle");
    parent[a] = parent[b] = next;
    size[next] = size[a] + size[b];
    merges.push_back({a, b, e.w, size[next]});
    ++next;
  }
  return merges;
}

std::vector<CondensedRow> condense(int64_t n, const std::vector<Merge>& merges, int64_t mcs) {
  const int64_t root = 2 * n - 2;
  auto size_of = [&](int64_t node) { return node < n ? int64_t{1} : merges[node - n].size; };
  std::vector<int64_t> relabel(2 * n - 1, -1);
  std::vector<char> ignore(2 * n - 1, 0);
  std::vector<CondensedRow> rows;
  rows.reserve(2 * n);
  relabel[root] = n;
  int64_t next_label = n + 1;

  std::vector<int64_t> order{root};  // breadth-first over the hierarchy
  for (size_t i = 0; i < order.size(); ++i)
    if (order[i] >= n) {
      order.push_back(merges[order[i] - n].left);
      order.push_back(merges[order[i] - n].right);
    }
  std::vector<int64_t> sub;
  auto fall_out = [&](int64_t node, int64_t parent_label, double lambda) {
    sub.assign(1, node);
    for (size_t i = 0; i < sub.size(); ++i) {
      int64_t s = sub[i];
      ignore[s] = 1;
      if (s < n) {
        rows.push_back({parent_label, s, lambda, 1});
      } else {
        sub.push_back(merges[s - n].left);
        sub.push_back(merges[s - n].right);
      }
    }
  };
  for (int64_t node : order) {
    if (node < n || ignore[node]) continue;
    const Merge& m = merges[node - n];
    const double lambda = m.dist > 0.0 ? 1.0 / m.dist : kInf;
    const int64_t lc = size_of(m.left), rc = size_of(m.right);
    const int64_t label = relabel[node];
    if (lc >= mcs && rc >= mcs) {
      relabel[m.left] = next_label++;
      rows.push_back({label, relabel[m.left], lambda, lc});
      relabel[m.right] = next_label++;
      rows.push_back({label, relabel[m.right], lambda, rc});
    } else if (lc < mcs && rc < mcs) {
      fall_out(m.left, label, lambda);
      fall_out(m.right, label, lambda);
    } else if (lc < mcs) {
      relabel[m.right] = label;
      fall_out(m.left, label, lambda);
    } else {
      relabel[m.left] = label;
      fall_out(m.right, label, lambda);
    }
  }
  return rows;
}

}  // namespace

Clustering extract_clusters(int64_t n, std::vector<Edge> mst, int min_cluster_size,
                            bool allow_single_cluster) {
  Clustering out;
  out.labels.assign(n, -1);
  out.probabilities.assign(n, 0.0);
  if (n < 2 || static_cast<int64_t>(mst.size()) != n - 1) return out;
  const std::vector<Merge> merges = single_linkage(n, mst);
  const std::vector<CondensedRow> rows = condense(n, merges, min_cluster_size);

  int64_t num_clusters = 1;  // clusters are n .. n + num_clusters - 1; the root is n
  for (const auto& r : rows) num_clusters = std::max(num_clusters, r.parent - n + 1);
  for (const auto& r : rows)
    if (r.child >= n) num_clusters = std::max(num_clusters, r.child - n + 1);

  std::vector<double> birth(num_clusters, 0.0), stability(num_clusters, 0.0);
  std::vector<double> death(num_clusters, 0.0);  // largest lambda of any row under the cluster
  std::vector<int64_t> parent_of(num_clusters, -1);
  std::vector<std::vector<int64_t>> children(num_clusters);
  for (const auto& r : rows)
    if (r.child >= n) {
      birth[r.child - n] = r.lambda;
      parent_of[r.child - n] = r.parent - n;
      children[r.parent - n].push_back(r.child - n);
    }
  for (const auto& r : rows) {
    int64_t p = r.parent - n;
    stability[p] += (r.lambda - birth[p]) * static_cast<double>(r.child_size);
    death[p] = std::max(death[p], r.lambda);
  }

  // Excess of mass, bottom-up: child clusters have larger ids than their parents.
  std::vector<char> selected(num_clusters, 1);
  if (!allow_single_cluster) selected[0] = 0;
  const int64_t last = allow_single_cluster ? 0 : 1;
  std::vector<int64_t> stack;
  for (int64_t c = num_clusters - 1; c >= last; --c) {
    double subtree = 0.0;
    for (int64_t ch : children[c]) subtree += stability[ch];
    if (subtree > stability[c]) {
      selected[c] = 0;
      stability[c] = subtree;
    } else {
      stack.assign(children[c].begin(), children[c].end());
      while (!stack.empty()) {
        int64_t s = stack.back();
        stack.pop_back();
        selected[s] = 0;
        stack.insert(stack.end(), children[s].begin(), children[s].end());
      }
    }
  }

  // A point belongs to the nearest selected ancestor of the cluster it fell out of.
  std::vector<int32_t> label_of(num_clusters, -1);
  int32_t next = 0;
  for (int64_t c = 0; c < num_clusters; ++c)
    if (selected[c]) label_of[c] = next++;
  std::vector<int64_t> owner(num_clusters, -1);  // selected ancestor-or-self, -1 for none
  for (int64_t c = 0; c < num_clusters; ++c)  // parents come before children
    owner[c] = selected[c] ? c : (parent_of[c] >= 0 ? owner[parent_of[c]] : -1);

  double max_lambda = 0.0;
  for (const auto& r : rows) max_lambda = std::max(max_lambda, r.lambda);
  std::vector<int64_t> cluster_size(next, 0);
  // When the whole data set is the one selected cluster, the hdbscan package keeps only the
  // points that stay until the root's last split; the rest are noise.
  const bool root_only = allow_single_cluster && next == 1 && selected[0];
  for (const auto& r : rows) {
    if (r.child >= n) continue;
    int64_t c = owner[r.parent - n];
    if (c < 0 || (c == 0 && !allow_single_cluster)) continue;
    if (root_only && r.lambda < death[0]) continue;
    int32_t label = label_of[c];
    out.labels[r.child] = label;
    ++cluster_size[label];
    double d = death[c];
    out.probabilities[r.child] =
        (d == 0.0 || !std::isfinite(r.lambda)) ? 1.0 : std::min(r.lambda, d) / d;
  }
  out.persistence.resize(next);
  out.lambda_birth.resize(next);
  for (int64_t c = 0; c < num_clusters; ++c) {
    if (!selected[c]) continue;
    int32_t label = label_of[c];
    int64_t size = cluster_size[label];
    out.persistence[label] = (!std::isfinite(max_lambda) || max_lambda == 0.0 || size == 0)
                                 ? 1.0
                                 : stability[c] / (static_cast<double>(size) * max_lambda);
    out.lambda_birth[label] = birth[c];
  }
  return out;
}

}  // namespace edge3d::hdbscan
