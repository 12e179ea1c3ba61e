// Greedy seed grouping of Gaussian point embeddings (Probabilistic Embeddings, Zhang & Wonka,
// section 3.4; the greedy steps of Neven et al.'s spatial embeddings).
//
// Repeatedly take the unassigned candidate with the highest seed score and give it, and every
// unassigned candidate whose Bhattacharyya similarity to it is at least tau, one group. Each
// round costs two passes over what is still unassigned. The similarity test runs in log space,
// -ln k = sum_d dmu_d^2 / (4 (s_i^2 + s_j^2)) + 1/2 ln prod_d (s_i^2 + s_j^2) / (2 s_i s_j);
// both terms are >= 0, so a point whose first term already exceeds -ln tau is rejected without
// evaluating a logarithm (most points, in a room of many objects).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/tuple.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "common/numpy.h"

namespace nb = nanobind;

namespace {

using Rows3 = nb::ndarray<const float, nb::shape<-1, 3>, nb::c_contig, nb::device::cpu>;
using Vec = nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Flags = nb::ndarray<const uint8_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

struct Groups {
  std::vector<int32_t> labels;     // group of each row, -1 = none
  std::vector<int32_t> seeds;      // seed row of each group
  std::vector<float> similarity;   // mean similarity of each group's rows to its seed
  std::vector<int32_t> sizes;      // rows per group
};

// The live (unassigned) candidates as a structure of arrays in row order, so each round
// streams through contiguous memory (the distance pass vectorises), compaction keeps row order,
// and the next seed is found during compaction (the highest score; ties go to the lower row)
// instead of sorting all candidates up front.
struct Live {
  std::vector<int32_t> row;
  std::vector<float> score;            // -inf: may join, never seeds
  std::vector<float> m[3], v[3];       // mean and variance per axis
  std::vector<float> logsd;            // sum over axes of ln sigma
  void push(int32_t r, const float* mu, const float* sigma, float s) {
    row.push_back(r);
    score.push_back(s);
    float ls = 0.0f;
    for (int k = 0; k < 3; ++k) {
      const float sd = sigma[3 * r + k];
      m[k].push_back(mu[3 * r + k]);
      v[k].push_back(sd * sd);
      ls += std::log(sd);
    }
    logsd.push_back(ls);
  }
  void kill(int64_t p) {
    m[0][p] = std::numeric_limits<float>::infinity();
    score[p] = -std::numeric_limits<float>::infinity();
  }
  // The slot of `r` at or before `hint` (slots only move down, and stay in row order).
  int64_t find(int32_t r, int64_t hint) const {
    return std::lower_bound(row.begin(), row.begin() + hint + 1, r) - row.begin();
  }
  // Drops the killed slots, keeping row order; returns the new size.
  int64_t compact(int64_t size) {
    int64_t kept = 0;
    for (int64_t p = 0; p < size; ++p) {
      if (std::isinf(m[0][p])) continue;
      row[kept] = row[p];
      score[kept] = score[p];
      logsd[kept] = logsd[p];
      for (int k = 0; k < 3; ++k) {
        m[k][kept] = m[k][p];
        v[k][kept] = v[k][p];
      }
      ++kept;
    }
    return kept;
  }
};

Groups group_core(const float* mu, const float* sigma, const float* score, const uint8_t* cand,
                  int64_t n, double tau, double min_seed_score) {
  constexpr float kNoSeed = -std::numeric_limits<float>::infinity();
  Groups g;
  g.labels.assign(n, -1);
  Live c;
  int64_t best = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (!cand[i]) continue;
    const bool seeds = score[i] >= min_seed_score;
    if (seeds && (best < 0 || score[i] > c.score[best])) best = static_cast<int64_t>(c.row.size());
    c.push(static_cast<int32_t>(i), mu, sigma, seeds ? score[i] : kNoSeed);
  }
  const float limit = static_cast<float>(-std::log(tau));
  const float log8 = std::log(8.0f);
  int64_t live = static_cast<int64_t>(c.row.size()), dead = 0;
  std::vector<float> d(live);
  while (best >= 0) {
    const int32_t id = static_cast<int32_t>(g.seeds.size());
    const int32_t seed_row = c.row[best];
    const float sm[3] = {c.m[0][best], c.m[1][best], c.m[2][best]};
    const float sv[3] = {c.v[0][best], c.v[1][best], c.v[2][best]};
    const float sl = c.logsd[best];
    {
      float* __restrict out = d.data();
      const float* __restrict mx = c.m[0].data();
      const float* __restrict my = c.m[1].data();
      const float* __restrict mz = c.m[2].data();
      const float* __restrict vx = c.v[0].data();
      const float* __restrict vy = c.v[1].data();
      const float* __restrict vz = c.v[2].data();
      for (int64_t p = 0; p < live; ++p) {
        const float dx = mx[p] - sm[0], dy = my[p] - sm[1], dz = mz[p] - sm[2];
        out[p] = 0.25f * (dx * dx / (vx[p] + sv[0]) + dy * dy / (vy[p] + sv[1]) +
                          dz * dz / (vz[p] + sv[2]));
      }
    }
    double total = 0.0;
    int32_t count = 0;
    int64_t next = -1;
    float top = kNoSeed;
    const float* __restrict dist = d.data();
    const float* __restrict sc = c.score.data();
    for (int64_t p = 0; p < live; ++p) {
      float e = dist[p];
      // The distance term alone rules most points out; the uncertainty term
      // 1/2 ln prod_d (v_i + v_j) / (2 sigma_i sigma_j) >= 0 costs one logarithm.
      bool join = p == best;
      if (!join && e <= limit) {
        const float prod = (c.v[0][p] + sv[0]) * (c.v[1][p] + sv[1]) * (c.v[2][p] + sv[2]);
        e += 0.5f * (std::log(prod) - log8 - c.logsd[p] - sl);
        join = e <= limit;
      }
      if (!join) {
        if (sc[p] > top) {  // the next seed: the highest score left, ties to the lower row
          top = sc[p];
          next = p;
        }
        continue;
      }
      g.labels[c.row[p]] = id;
      total += p == best ? 1.0 : std::exp(-static_cast<double>(e));
      ++count;
      c.kill(p);
    }
    dead += count;
    g.seeds.push_back(seed_row);
    g.similarity.push_back(static_cast<float>(total / count));
    g.sizes.push_back(count);
    best = next;
    // Assigned rows stay in place, unable to join (infinite mean) or seed, until they are a
    // quarter of the list; then one compaction drops them all.
    if (4 * dead > live) {
      const int32_t best_row = best >= 0 ? c.row[best] : -1;
      live = c.compact(live);
      dead = 0;
      if (best >= 0) best = c.find(best_row, best);
    }
  }
  return g;
}

auto seed_grouping(Rows3 mu, Rows3 sigma, Vec score, Flags candidates, double tau,
                   double min_seed_score) {
  const int64_t n = static_cast<int64_t>(mu.shape(0));
  Groups g;
  {
    nb::gil_scoped_release release;
    g = group_core(mu.data(), sigma.data(), score.data(), candidates.data(), n, tau,
                   min_seed_score);
  }
  return std::make_tuple(edge3d::to_numpy(std::move(g.labels)),
                         edge3d::to_numpy(std::move(g.seeds)),
                         edge3d::to_numpy(std::move(g.similarity)),
                         edge3d::to_numpy(std::move(g.sizes)));
}

}  // namespace

NB_MODULE(_grouping, m) {
  m.doc() = "edge3d native greedy seed grouping of Gaussian embeddings (Probabilistic Embeddings)";
  m.def("seed_grouping", &seed_grouping, nb::arg("mu"), nb::arg("sigma"), nb::arg("score"),
        nb::arg("candidates"), nb::arg("tau"), nb::arg("min_seed_score"));
}
