// Matrix NMS (SOLOv2, Wang et al. 2020) as ISBNet / Spherical Mask call it: class-aware, Gaussian
// decay exp(-sigma * iou^2) divided by the compensation of the suppressor (research/methods.md 5.8).
//
// Masks are bit-packed once (64 voxels per word), so the K x K intersections cost K^2 N / 64
// popcounts; rows of the IoU matrix are independent and run on edge3d::parallel_for.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/tuple.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "common/numpy.h"
#include "common/parallel.h"

namespace nb = nanobind;

namespace {

using Masks = nb::ndarray<const uint8_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Labels = nb::ndarray<const int32_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Scores = nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

struct Result {
  std::vector<int32_t> order;   // candidates by descending input score (ties: lower index)
  std::vector<float> decayed;   // decayed score per candidate, input order
};

Result matrix_nms_core(const uint8_t* masks, int64_t k, int64_t n, const int32_t* labels,
                       const float* scores, double sigma) {
  Result r;
  r.order.reserve(1);  // a valid data pointer for numpy even when k = 0
  r.decayed.reserve(1);
  r.order.resize(k);
  std::iota(r.order.begin(), r.order.end(), 0);
  std::stable_sort(r.order.begin(), r.order.end(),
                   [&](int32_t a, int32_t b) { return scores[a] > scores[b]; });
  r.decayed.assign(k, 0.0f);
  if (k == 0) return r;
  const int64_t words = (n + 63) / 64;
  std::vector<uint64_t> bits(static_cast<size_t>(k * words), 0);
  std::vector<int64_t> area(k, 0);
  edge3d::parallel_for(k, 1, [&](int64_t b, int64_t e) {
    for (int64_t s = b; s < e; ++s) {
      const uint8_t* row = masks + static_cast<int64_t>(r.order[s]) * n;
      uint64_t* out = bits.data() + s * words;
      int64_t count = 0;
      for (int64_t i = 0; i < n; ++i) {
        if (row[i]) {
          out[i >> 6] |= uint64_t{1} << (i & 63);
          ++count;
        }
      }
      area[s] = count;
    }
  });
  // iou[i][j] for i < j in sorted order, zero across classes (the upper triangle of the
  // reference's decay_iou).
  std::vector<double> iou(static_cast<size_t>(k * k), 0.0);
  edge3d::parallel_for(k, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const uint64_t* a = bits.data() + i * words;
      for (int64_t j = i + 1; j < k; ++j) {
        if (labels[r.order[i]] != labels[r.order[j]]) continue;
        const uint64_t* c = bits.data() + j * words;
        int64_t inter = 0;
        for (int64_t w = 0; w < words; ++w) inter += __builtin_popcountll(a[w] & c[w]);
        const int64_t uni = area[i] + area[j] - inter;
        iou[i * k + j] = uni > 0 ? static_cast<double>(inter) / static_cast<double>(uni) : 0.0;
      }
    }
  });
  std::vector<double> compensate(k, 0.0);
  for (int64_t j = 0; j < k; ++j)
    for (int64_t i = 0; i < j; ++i) compensate[j] = std::max(compensate[j], iou[i * k + j]);
  for (int64_t j = 0; j < k; ++j) {
    // min over all suppressors i of exp(-sigma iou_ij^2) / exp(-sigma comp_i^2); i >= j has
    // iou 0 (ratio >= 1) and i = 0 gives a ratio <= 1, so the minimum is over i < j or is 1.
    double coef = 1.0;
    for (int64_t i = 0; i < k; ++i) {
      const double v = iou[i * k + j];
      coef = std::min(coef, std::exp(-sigma * (v * v - compensate[i] * compensate[i])));
    }
    r.decayed[r.order[j]] = static_cast<float>(static_cast<double>(scores[r.order[j]]) * coef);
  }
  return r;
}

auto matrix_nms(Masks masks, Labels labels, Scores scores, double sigma) {
  const int64_t k = static_cast<int64_t>(masks.shape(0));
  const int64_t n = static_cast<int64_t>(masks.shape(1));
  Result r;
  {
    nb::gil_scoped_release release;
    r = matrix_nms_core(masks.data(), k, n, labels.data(), scores.data(), sigma);
  }
  return std::make_tuple(edge3d::to_numpy(std::move(r.order)),
                         edge3d::to_numpy(std::move(r.decayed)));
}

}  // namespace

NB_MODULE(_nms, m) {
  m.doc() = "edge3d native matrix NMS (Spherical Mask / ISBNet / SOLOv2)";
  m.def("matrix_nms", &matrix_nms, nb::arg("masks"), nb::arg("labels"), nb::arg("scores"),
        nb::arg("sigma"));
}
