// Python bindings of the native HDBSCAN (edge3d.native._hdbscan).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/tuple.h>

#include "common/numpy.h"
#include "hdbscan/hdbscan.h"

namespace nb = nanobind;
using namespace edge3d::hdbscan;
using edge3d::to_numpy;

namespace {

using Points = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

auto hdbscan(Points x, int min_cluster_size, int min_samples, bool allow_single_cluster) {
  const int64_t n = static_cast<int64_t>(x.shape(0));
  const int d = static_cast<int>(x.shape(1));
  Clustering c;
  {
    nb::gil_scoped_release release;
    if (n >= 2) {
      int k = static_cast<int>(std::min<int64_t>(min_samples, n));
      c = extract_clusters(n, mutual_reachability_mst(x.data(), n, d, k), min_cluster_size,
                           allow_single_cluster);
    } else {
      c.labels.assign(n, -1);
      c.probabilities.assign(n, 0.0);
    }
  }
  return std::make_tuple(to_numpy(std::move(c.labels)), to_numpy(std::move(c.probabilities)),
                         to_numpy(std::move(c.persistence)), to_numpy(std::move(c.lambda_birth)));
}

auto mst(Points x, int min_samples) {
  const int64_t n = static_cast<int64_t>(x.shape(0));
  std::vector<int32_t> a, b;
  std::vector<double> w;
  {
    nb::gil_scoped_release release;
    if (n >= 2) {
      int k = static_cast<int>(std::min<int64_t>(min_samples, n));
      for (const Edge& e : mutual_reachability_mst(x.data(), n, static_cast<int>(x.shape(1)), k)) {
        a.push_back(e.a);
        b.push_back(e.b);
        w.push_back(e.w);
      }
    }
  }
  return std::make_tuple(to_numpy(std::move(a)), to_numpy(std::move(b)), to_numpy(std::move(w)));
}

}  // namespace

NB_MODULE(_hdbscan, m) {
  m.doc() = "HDBSCAN* clustering for low-dimensional embeddings (see edge3d.native.hdbscan).";
  m.def("hdbscan", &hdbscan, nb::arg("x"), nb::arg("min_cluster_size"), nb::arg("min_samples"),
        nb::arg("allow_single_cluster"));
  m.def("mutual_reachability_mst", &mst, nb::arg("x"), nb::arg("min_samples"));
}
