// Python bindings of the TSDF volume (edge3d.native._tsdf). Inputs are validated by the Python
// wrapper edge3d/native/tsdf.py; here only shapes that would be unsafe are checked again.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/tuple.h>

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <vector>

#include "common/numpy.h"
#include "tsdf/tsdf_volume.h"

namespace nb = nanobind;
using edge3d::to_numpy;
using namespace edge3d::tsdf;

namespace {

using Depth = nb::ndarray<const uint16_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Color = nb::ndarray<const uint8_t, nb::ndim<3>, nb::c_contig, nb::device::cpu>;
using Pose = nb::ndarray<const double, nb::shape<4, 4>, nb::c_contig, nb::device::cpu>;
using Points = nb::ndarray<const float, nb::shape<-1, 3>, nb::c_contig, nb::device::cpu>;

// Integration writes while extraction or ray casting may run from another Python thread (the
// GIL is released): readers share, writers are exclusive.
struct Volume {
  TsdfVolume vol;
  mutable std::shared_mutex mutex;
  Volume(float voxel, float trunc, int64_t max_blocks, float max_weight)
      : vol(voxel, trunc, max_blocks, max_weight) {}
};

Pinhole make_camera(int width, int height, float fx, float fy, float cx, float cy) {
  if (width <= 0 || height <= 0 || !(fx > 0.f) || !(fy > 0.f))
    throw std::invalid_argument("camera needs a positive size and focal lengths");
  return Pinhole{width, height, fx, fy, cx, cy};
}

}  // namespace

NB_MODULE(_tsdf, m) {
  m.doc() = "Block-hashed TSDF volume (8^3-voxel blocks); see edge3d.native.tsdf.";

  nb::class_<Volume>(m, "Volume")
      .def(nb::init<float, float, int64_t, float>(), nb::arg("voxel_size"), nb::arg("truncation"),
           nb::arg("max_blocks"), nb::arg("max_weight"))
      .def_prop_ro("voxel_size", [](const Volume& v) { return v.vol.voxel_size(); })
      .def_prop_ro("truncation", [](const Volume& v) { return v.vol.truncation(); })
      .def(
          "integrate",
          [](Volume& v, Depth depth, float depth_scale, std::optional<Color> color, float fx,
             float fy, float cx, float cy, Pose pose, float depth_min, float depth_max,
             int weight_power) {
            const Pinhole cam = make_camera(static_cast<int>(depth.shape(1)),
                                            static_cast<int>(depth.shape(0)), fx, fy, cx, cy);
            const uint8_t* rgb = nullptr;
            if (color) {
              if (color->shape(0) != depth.shape(0) || color->shape(1) != depth.shape(1) ||
                  color->shape(2) != 3)
                throw std::invalid_argument("color must be uint8 [H, W, 3] like depth");
              rgb = color->data();
            }
            nb::gil_scoped_release release;
            std::unique_lock lock(v.mutex);
            return v.vol.integrate(depth.data(), depth_scale, rgb, cam, pose.data(), depth_min,
                                   depth_max, weight_power);
          },
          nb::arg("depth"), nb::arg("depth_scale"), nb::arg("color").none(), nb::arg("fx"),
          nb::arg("fy"), nb::arg("cx"), nb::arg("cy"), nb::arg("pose"), nb::arg("depth_min"),
          nb::arg("depth_max"), nb::arg("weight_power"))
      .def(
          "extract_points",
          [](const Volume& v, float min_weight) {
            SurfacePoints s;
            {
              nb::gil_scoped_release release;
              std::shared_lock lock(v.mutex);
              s = v.vol.extract_points(min_weight);
            }
            const size_t n = s.points.size() / 3;
            return std::make_tuple(to_numpy(std::move(s.points), {n, 3}),
                                   to_numpy(std::move(s.colors), {n, 3}),
                                   to_numpy(std::move(s.normals), {n, 3}));
          },
          nb::arg("min_weight"))
      .def(
          "extract_mesh",
          [](const Volume& v, float min_weight) {
            SurfaceMesh s;
            {
              nb::gil_scoped_release release;
              std::shared_lock lock(v.mutex);
              s = v.vol.extract_mesh(min_weight);
            }
            const size_t n = s.vertices.size() / 3, f = s.faces.size() / 3;
            return std::make_tuple(to_numpy(std::move(s.vertices), {n, 3}),
                                   to_numpy(std::move(s.faces), {f, 3}),
                                   to_numpy(std::move(s.colors), {n, 3}));
          },
          nb::arg("min_weight"))
      .def(
          "raycast",
          [](const Volume& v, int width, int height, float fx, float fy, float cx, float cy,
             Pose pose, float depth_min, float depth_max, float min_weight) {
            const Pinhole cam = make_camera(width, height, fx, fy, cx, cy);
            RaycastResult r;
            {
              nb::gil_scoped_release release;
              std::shared_lock lock(v.mutex);
              r = v.vol.raycast(cam, pose.data(), depth_min, depth_max, min_weight);
            }
            const size_t h = height, w = width;
            return std::make_tuple(to_numpy(std::move(r.depth), {h, w}),
                                   to_numpy(std::move(r.vertex), {h, w, 3}),
                                   to_numpy(std::move(r.normal), {h, w, 3}),
                                   to_numpy(std::move(r.color), {h, w, 3}));
          },
          nb::arg("width"), nb::arg("height"), nb::arg("fx"), nb::arg("fy"), nb::arg("cx"),
          nb::arg("cy"), nb::arg("pose"), nb::arg("depth_min"), nb::arg("depth_max"),
          nb::arg("min_weight"))
      .def(
          "query",
          [](const Volume& v, Points points) {
            const size_t n = points.shape(0);
            std::vector<float> sdf(n), weight(n);
            {
              nb::gil_scoped_release release;
              std::shared_lock lock(v.mutex);
              v.vol.query(points.data(), static_cast<int64_t>(n), sdf.data(), weight.data());
            }
            return std::make_tuple(to_numpy(std::move(sdf), {n}),
                                   to_numpy(std::move(weight), {n}));
          },
          nb::arg("points"))
      .def("block_coords",
           [](const Volume& v) {
             std::vector<int32_t> c;
             {
               std::shared_lock lock(v.mutex);
               c = v.vol.block_coords();
             }
             const size_t n = c.size() / 3;
             return to_numpy(std::move(c), {n, 3});
           })
      .def("clear",
           [](Volume& v) {
             std::unique_lock lock(v.mutex);
             v.vol.clear();
           })
      .def("stats", [](const Volume& v) {
        VolumeStats s;
        {
          std::shared_lock lock(v.mutex);
          s = v.vol.stats();
        }
        nb::dict d;
        d["blocks"] = s.blocks;
        d["capacity"] = s.capacity;
        d["max_blocks"] = s.max_blocks;
        d["evicted"] = s.evicted;
        d["dropped"] = s.dropped;
        d["frames"] = s.frames;
        d["memory_bytes"] = s.memory_bytes;
        return d;
      });
}
