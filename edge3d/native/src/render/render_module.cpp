// Python bindings of the synthetic renderer (edge3d.native._render); see edge3d/native/render.py.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/tuple.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/numpy.h"
#include "render/render_core.h"

namespace nb = nanobind;
using edge3d::to_numpy;

namespace {

using Rows = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Mats = nb::ndarray<const double, nb::ndim<3>, nb::c_contig, nb::device::cpu>;
using Pose = nb::ndarray<const double, nb::shape<4, 4>, nb::c_contig, nb::device::cpu>;
using Colors = nb::ndarray<const uint8_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Labels = nb::ndarray<const int32_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Light = nb::ndarray<const double, nb::shape<3>, nb::c_contig, nb::device::cpu>;

size_t check_boxes(const Rows& centers, const Mats& rotations, const Rows& halves) {
  const size_t n = centers.shape(0);
  if (centers.shape(1) != 3 || halves.shape(0) != n || halves.shape(1) != 3 ||
      rotations.shape(0) != n || rotations.shape(1) != 3 || rotations.shape(2) != 3)
    throw std::invalid_argument(
        "need centers [P, 3], rotations [P, 3, 3] and halves [P, 3] with one P");
  return n;
}

edge3d::render::Camera make_camera(const Pose& T_W_C, int width, int height, double fx, double fy,
                                   double cx, double cy) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("image size must be > 0");
  edge3d::render::Camera cam{width, height, fx, fy, cx, cy, {}};
  for (int i = 0; i < 16; ++i) cam.T_W_C[i] = T_W_C.data()[i];
  return cam;
}

}  // namespace

NB_MODULE(_render, m) {
  m.doc() = "Synthetic RGB-D rendering of box worlds; see edge3d.native.render.";

  m.def(
      "raycast_boxes",
      [](Rows centers, Mats rotations, Rows halves, Pose T_W_C, int width, int height, double fx,
         double fy, double cx, double cy, double near) {
        const size_t n = check_boxes(centers, rotations, halves);
        const auto cam = make_camera(T_W_C, width, height, fx, fy, cx, cy);
        const size_t h = static_cast<size_t>(height), w = static_cast<size_t>(width);
        std::vector<float> depth(h * w), normal(h * w * 3);
        std::vector<int32_t> prim(h * w);
        {
          nb::gil_scoped_release release;
          edge3d::render::raycast_boxes(centers.data(), rotations.data(), halves.data(),
                                        static_cast<int64_t>(n), cam, near, depth.data(),
                                        prim.data(), normal.data());
        }
        return std::make_tuple(to_numpy(std::move(depth), {h, w}),
                               to_numpy(std::move(prim), {h, w}),
                               to_numpy(std::move(normal), {h, w, 3}));
      },
      nb::arg("centers"), nb::arg("rotations"), nb::arg("halves"), nb::arg("T_W_C"),
      nb::arg("width"), nb::arg("height"), nb::arg("fx"), nb::arg("fy"), nb::arg("cx"),
      nb::arg("cy"), nb::arg("near"));

  m.def(
      "render_frame",
      [](Rows centers, Mats rotations, Rows halves, Colors colors, Labels instance,
         Labels semantic, Pose T_W_C, int width, int height, double fx, double fy, double cx,
         double cy, double near, double depth_scale, bool noise, bool holes, uint64_t key,
         double min_depth, double max_depth, double baseline, double subpixel,
         double cos_max_incidence, double edge_threshold, double dropout, double color_noise,
         Light light, double ambient) {
        const size_t n = check_boxes(centers, rotations, halves);
        if (colors.shape(0) != n || colors.shape(1) != 3 || instance.shape(0) != n ||
            semantic.shape(0) != n)
          throw std::invalid_argument("need colors [P, 3], instance [P] and semantic [P]");
        const auto cam = make_camera(T_W_C, width, height, fx, fy, cx, cy);
        edge3d::render::SensorParams sp{depth_scale, noise, holes, key, min_depth, max_depth,
                                        baseline, subpixel, cos_max_incidence, edge_threshold,
                                        dropout, color_noise,
                                        {light.data()[0], light.data()[1], light.data()[2]},
                                        ambient};
        const size_t h = static_cast<size_t>(height), w = static_cast<size_t>(width);
        std::vector<float> depth_true(h * w), normal(h * w * 3);
        std::vector<int32_t> prim(h * w), inst(h * w), sem(h * w);
        std::vector<uint16_t> depth(h * w);
        std::vector<uint8_t> color(h * w * 3);
        {
          nb::gil_scoped_release release;
          edge3d::render::raycast_boxes(centers.data(), rotations.data(), halves.data(),
                                        static_cast<int64_t>(n), cam, near, depth_true.data(),
                                        prim.data(), normal.data());
          edge3d::render::sensor_model(depth_true.data(), prim.data(), normal.data(),
                                       colors.data(), cam, sp, depth.data(), color.data());
          for (size_t k = 0; k < h * w; ++k) {
            inst[k] = prim[k] >= 0 ? instance.data()[prim[k]] : 0;
            sem[k] = prim[k] >= 0 ? semantic.data()[prim[k]] : -1;
          }
        }
        return std::make_tuple(to_numpy(std::move(depth), {h, w}),
                               to_numpy(std::move(color), {h, w, 3}),
                               to_numpy(std::move(inst), {h, w}), to_numpy(std::move(sem), {h, w}),
                               to_numpy(std::move(depth_true), {h, w}));
      },
      nb::arg("centers"), nb::arg("rotations"), nb::arg("halves"), nb::arg("colors"),
      nb::arg("instance"), nb::arg("semantic"), nb::arg("T_W_C"), nb::arg("width"),
      nb::arg("height"), nb::arg("fx"), nb::arg("fy"), nb::arg("cx"), nb::arg("cy"),
      nb::arg("near"), nb::arg("depth_scale"), nb::arg("noise"), nb::arg("holes"), nb::arg("key"),
      nb::arg("min_depth"), nb::arg("max_depth"), nb::arg("baseline"), nb::arg("subpixel"),
      nb::arg("cos_max_incidence"), nb::arg("edge_threshold"), nb::arg("dropout"),
      nb::arg("color_noise"), nb::arg("light"), nb::arg("ambient"));
}
