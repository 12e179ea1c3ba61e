// Python bindings of the geometric segmentation core. The wrapper edge3d/native/geoseg.py
// validates dtypes, shapes and ranges; these functions run with the GIL released.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>

#include "common/numpy.h"
#include "geoseg/geoseg_core.h"

namespace nb = nanobind;
using namespace nb::literals;
using edge3d::to_numpy;

namespace {

using Points = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Index2 = nb::ndarray<const int32_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Index1 = nb::ndarray<const int32_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Weights = nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

nb::tuple knn_graph(Points points, int k, float max_distance) {
  const size_t n = points.shape(0);
  std::vector<int32_t> nbr(n * k);
  std::vector<float> dist(n * k);
  {
    nb::gil_scoped_release release;
    edge3d::geoseg::knn_graph(points.data(), static_cast<int64_t>(n), k, max_distance,
                              nbr.data(), dist.data());
  }
  return nb::make_tuple(to_numpy(std::move(nbr), {n, static_cast<size_t>(k)}),
                        to_numpy(std::move(dist), {n, static_cast<size_t>(k)}));
}

nb::tuple unique_edges(Index2 nbr) {
  std::vector<int32_t> edges;
  int64_t mutual = 0;
  {
    nb::gil_scoped_release release;
    edges = edge3d::geoseg::unique_edges(nbr.data(), static_cast<int64_t>(nbr.shape(0)),
                                         static_cast<int>(nbr.shape(1)), &mutual);
  }
  const size_t e = edges.size() / 2;
  return nb::make_tuple(to_numpy(std::move(edges), {e, 2}), mutual);
}

nb::tuple pca_normals(Points points, Index2 nbr) {
  const size_t n = points.shape(0);
  std::vector<float> normals(n * 3), variation(n);
  {
    nb::gil_scoped_release release;
    edge3d::geoseg::pca_normals(points.data(), static_cast<int64_t>(n), nbr.data(),
                                static_cast<int>(nbr.shape(1)), normals.data(), variation.data());
  }
  return nb::make_tuple(to_numpy(std::move(normals), {n, 3}), to_numpy(std::move(variation)));
}

nb::object edge_weights(Points normals, std::optional<Points> colors, Index2 edges,
                        float color_weight) {
  const size_t m = edges.shape(0);
  std::vector<float> w(m);
  {
    nb::gil_scoped_release release;
    edge3d::geoseg::edge_weights(normals.data(), colors ? colors->data() : nullptr, edges.data(),
                                 static_cast<int64_t>(m), color_weight, w.data());
  }
  return nb::cast(to_numpy(std::move(w)));
}

nb::object felzenszwalb(int64_t n, Index1 a, Index1 b, Weights w, double k, int64_t min_size) {
  std::vector<int32_t> labels;
  {
    nb::gil_scoped_release release;
    labels = edge3d::geoseg::felzenszwalb(n, a.data(), b.data(), w.data(),
                                          static_cast<int64_t>(w.shape(0)), k, min_size);
  }
  return nb::cast(to_numpy(std::move(labels)));
}

}  // namespace

NB_MODULE(_geoseg, m) {
  m.doc() = "edge3d zero-shot segmentation core (use edge3d.native.geoseg, which validates)";
  m.def("knn_graph", &knn_graph, "points"_a, "k"_a, "max_distance"_a);
  m.def("unique_edges", &unique_edges, "nbr"_a);
  m.def("pca_normals", &pca_normals, "points"_a, "nbr"_a);
  m.def("edge_weights", &edge_weights, "normals"_a, "colors"_a.none(), "edges"_a,
        "color_weight"_a);
  m.def("felzenszwalb", &felzenszwalb, "n"_a, "a"_a, "b"_a, "w"_a, "k"_a, "min_size"_a);
}
