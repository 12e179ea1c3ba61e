// Python bindings of the index builder. The wrapper edge3d/native/index.py validates every input
// (dtype, shape, finiteness, ranges) before calling in; these functions only check what the
// wrapper cannot see cheaply. Work runs with the GIL released; outputs are NumPy arrays that own
// their buffers.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>

#include "common/numpy.h"
#include "index/index_core.h"

namespace nb = nanobind;
using namespace nb::literals;
using edge3d::to_numpy;

namespace {

using Points = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Coords = nb::ndarray<const int32_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

nb::tuple voxelize(Points points, double voxel_size,
                   std::optional<nb::ndarray<const float, nb::ndim<2>, nb::c_contig,
                                             nb::device::cpu>> features) {
  const int64_t n = points.shape(0);
  const int64_t c = features ? features->shape(1) : 0;
  edge3d::index::Voxelization v;
  {
    nb::gil_scoped_release release;
    v = edge3d::index::voxelize(points.data(), n, voxel_size, features ? features->data() : nullptr,
                                c);
  }
  const size_t m = v.keys.offsets.size() - 1;
  return nb::make_tuple(to_numpy(std::move(v.keys.unique), {m, 3}),
                        to_numpy(std::move(v.features), {m, static_cast<size_t>(c)}),
                        to_numpy(std::move(v.centroids), {m, 3}),
                        to_numpy(std::move(v.keys.inverse), {static_cast<size_t>(n)}),
                        to_numpy(std::move(v.keys.offsets), {m + 1}),
                        to_numpy(std::move(v.keys.order), {static_cast<size_t>(n)}));
}

nb::list voxel_pyramid(Coords coords, int levels) {
  std::vector<edge3d::index::PyramidLevelData> out;
  {
    nb::gil_scoped_release release;
    out = edge3d::index::voxel_pyramid(coords.data(), coords.shape(0), levels);
  }
  nb::list result;
  for (auto& level : out) {
    const size_t m = level.coords.size() / 3, mc = level.children.size() / 8;
    result.append(nb::make_tuple(to_numpy(std::move(level.coords), {m, 3}),
                                 to_numpy(std::move(level.parent), {m}),
                                 to_numpy(std::move(level.children), {mc, 8})));
  }
  return result;
}

nb::object neighbor_table(Coords coords, Coords query, int kernel_size, int dilation,
                          int64_t rows_out) {
  const size_t k3 = static_cast<size_t>(kernel_size) * kernel_size * kernel_size;
  std::vector<int32_t> table;
  {
    nb::gil_scoped_release release;
    table = edge3d::index::neighbor_table(coords.data(), coords.shape(0), query.data(),
                                          query.shape(0), kernel_size, dilation, rows_out);
  }
  return nb::cast(to_numpy(std::move(table), {static_cast<size_t>(rows_out), k3}));
}

nb::object fps(Points points, int64_t samples, int64_t start) {
  std::vector<int32_t> idx;
  {
    nb::gil_scoped_release release;
    idx = edge3d::index::farthest_point_sampling(points.data(), points.shape(0), samples, start);
  }
  return nb::cast(to_numpy(std::move(idx), {static_cast<size_t>(samples)}));
}

nb::object ball_query(Points points, Points centers, float radius, int k) {
  std::vector<int32_t> idx;
  {
    nb::gil_scoped_release release;
    idx = edge3d::index::ball_query(points.data(), points.shape(0), centers.data(),
                                    centers.shape(0), radius, k);
  }
  return nb::cast(to_numpy(std::move(idx), {centers.shape(0), static_cast<size_t>(k)}));
}

nb::tuple knn(Points points, Points queries, int k) {
  const size_t q = queries.shape(0);
  std::vector<int32_t> idx(q * k);
  std::vector<float> d2(q * k);
  {
    nb::gil_scoped_release release;
    edge3d::index::knn(points.data(), points.shape(0), queries.data(), q, k, idx.data(),
                       d2.data());
  }
  return nb::make_tuple(to_numpy(std::move(idx), {q, static_cast<size_t>(k)}),
                        to_numpy(std::move(d2), {q, static_cast<size_t>(k)}));
}

nb::tuple three_nn_weights(Points points, Points queries) {
  const size_t q = queries.shape(0);
  std::vector<int32_t> idx(q * 3);
  std::vector<float> w(q * 3);
  {
    nb::gil_scoped_release release;
    edge3d::index::three_nn_weights(points.data(), points.shape(0), queries.data(), q,
                                    idx.data(), w.data());
  }
  return nb::make_tuple(to_numpy(std::move(idx), {q, 3}), to_numpy(std::move(w), {q, 3}));
}

}  // namespace

NB_MODULE(_index, m) {
  m.doc() = "edge3d index builder (use edge3d.native.index, which validates inputs)";
  m.def("voxelize", &voxelize, "points"_a, "voxel_size"_a, "features"_a.none());
  m.def("voxel_pyramid", &voxel_pyramid, "coords"_a, "levels"_a);
  m.def("neighbor_table", &neighbor_table, "coords"_a, "query"_a, "kernel_size"_a,
        "dilation"_a, "rows"_a);
  m.def("fps", &fps, "points"_a, "samples"_a, "start"_a);
  m.def("ball_query", &ball_query, "points"_a, "centers"_a, "radius"_a, "k"_a);
  m.def("knn", &knn, "points"_a, "queries"_a, "k"_a);
  m.def("three_nn_weights", &three_nn_weights, "points"_a, "queries"_a);
}
