// Python bindings of the ICP building blocks (edge3d.native._icp); see edge3d/native/icp.py.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/tuple.h>

#include <stdexcept>
#include <vector>

#include "common/numpy.h"
#include "icp/icp_core.h"

namespace nb = nanobind;
using edge3d::to_numpy;

namespace {

using Image = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Map = nb::ndarray<const float, nb::ndim<3>, nb::c_contig, nb::device::cpu>;
using Pose = nb::ndarray<const double, nb::shape<4, 4>, nb::c_contig, nb::device::cpu>;

void check_map(const Map& m, const char* name) {
  if (m.shape(2) != 3) throw std::invalid_argument(std::string(name) + " must be [H, W, 3]");
}

}  // namespace

NB_MODULE(_icp, m) {
  m.doc() = "Point-to-plane ICP building blocks; see edge3d.native.icp.";

  m.def(
      "bilateral_depth",
      [](Image depth, int radius, float sigma_px, float range_min, float range_per_m2) {
        if (radius < 0 || radius > 8) throw std::invalid_argument("radius must be in [0, 8]");
        const size_t h = depth.shape(0), w = depth.shape(1);
        std::vector<float> out(h * w);
        {
          nb::gil_scoped_release release;
          edge3d::icp::bilateral_depth(depth.data(), static_cast<int>(w), static_cast<int>(h),
                                       radius, sigma_px, range_min, range_per_m2, out.data());
        }
        return to_numpy(std::move(out), {h, w});
      },
      nb::arg("depth"), nb::arg("radius"), nb::arg("sigma_px"), nb::arg("range_min"),
      nb::arg("range_per_m2"));

  m.def(
      "vertex_normal_map",
      [](Image depth, float fx, float fy, float cx, float cy, float max_jump) {
        const size_t h = depth.shape(0), w = depth.shape(1);
        std::vector<float> vertex(h * w * 3), normal(h * w * 3);
        {
          nb::gil_scoped_release release;
          edge3d::icp::vertex_normal_map(depth.data(), static_cast<int>(w), static_cast<int>(h),
                                         fx, fy, cx, cy, max_jump, vertex.data(), normal.data());
        }
        return std::make_tuple(to_numpy(std::move(vertex), {h, w, 3}),
                               to_numpy(std::move(normal), {h, w, 3}));
      },
      nb::arg("depth"), nb::arg("fx"), nb::arg("fy"), nb::arg("cx"), nb::arg("cy"),
      nb::arg("max_jump"));

  m.def(
      "point_to_plane",
      [](Map src_vertex, Map src_normal, Pose T_W_C, Map model_vertex, Map model_normal,
         Pose T_W_M, float fx, float fy, float cx, float cy, float max_dist, float min_normal_cos,
         float noise_floor, float noise_per_m2, float huber) {
        check_map(src_vertex, "src_vertex");
        check_map(model_vertex, "model_vertex");
        if (src_normal.shape(0) != src_vertex.shape(0) ||
            src_normal.shape(1) != src_vertex.shape(1) || src_normal.shape(2) != 3)
          throw std::invalid_argument("src_normal must have the shape of src_vertex");
        if (model_normal.shape(0) != model_vertex.shape(0) ||
            model_normal.shape(1) != model_vertex.shape(1) || model_normal.shape(2) != 3)
          throw std::invalid_argument("model_normal must have the shape of model_vertex");
        edge3d::icp::NormalEquations ne;
        {
          nb::gil_scoped_release release;
          ne = edge3d::icp::point_to_plane(
              src_vertex.data(), src_normal.data(), static_cast<int>(src_vertex.shape(1)),
              static_cast<int>(src_vertex.shape(0)), T_W_C.data(), model_vertex.data(),
              model_normal.data(), static_cast<int>(model_vertex.shape(1)),
              static_cast<int>(model_vertex.shape(0)), T_W_M.data(), fx, fy, cx, cy, max_dist,
              min_normal_cos, noise_floor, noise_per_m2, huber);
        }
        std::vector<double> A(ne.A, ne.A + 36), b(ne.b, ne.b + 6);
        return std::make_tuple(to_numpy(std::move(A), {6, 6}), to_numpy(std::move(b), {6}),
                               ne.inliers, ne.valid, ne.sum_sq);
      },
      nb::arg("src_vertex"), nb::arg("src_normal"), nb::arg("T_W_C"), nb::arg("model_vertex"),
      nb::arg("model_normal"), nb::arg("T_W_M"), nb::arg("fx"), nb::arg("fy"), nb::arg("cx"),
      nb::arg("cy"), nb::arg("max_dist"), nb::arg("min_normal_cos"), nb::arg("noise_floor"),
      nb::arg("noise_per_m2"), nb::arg("huber"));
}
