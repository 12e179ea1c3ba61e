// Synthetic RGB-D rendering: ray casting of oriented boxes into a pinhole camera, then a
// D435-like sensor model (stereo depth noise, quantisation, holes, shaded colour).
#pragma once

#include <cstdint>

namespace edge3d {
namespace render {

struct Camera {
  int width, height;
  double fx, fy, cx, cy;
  double T_W_C[16];  // row-major camera-to-world pose
};

// Nearest box hit per pixel. Boxes: centers [P,3], rotations [P,3,3] (box-to-world, row-major),
// halves [P,3]. Outputs (row-major [H,W](,3)): depth = z of the hit (0 where none), prim = box
// index (-1 where none), normal = outward world normal of the hit face (0 where none).
// Rays are d = ((u - cx) / fx, (v - cy) / fy, 1), so a hit's ray parameter is its depth; hits
// closer than `near` are ignored. Each pixel visits boxes in index order and keeps the first
// strictly nearest hit, so output is identical for any thread count and matches
// edge3d.synth.raycast.raycast_numpy.
void raycast_boxes(const double* centers, const double* rotations, const double* halves,
                   int64_t num_boxes, const Camera& camera, double near, float* depth,
                   int32_t* prim, float* normal);

struct SensorParams {
  double depth_scale;          // metres per depth unit
  bool noise;                  // depth and colour noise
  bool holes;                  // grazing, stereo shadow, edge and dropout holes
  uint64_t key;                // random stream of this frame
  double min_depth, max_depth; // valid measured range, metres
  double baseline, subpixel;   // stereo baseline (m) and disparity noise (px, 1 sigma)
  double cos_max_incidence;    // smaller |cos| between normal and ray: no depth
  double edge_threshold;       // relative depth jump to a 4-neighbour that drops a pixel
  double dropout;              // fraction of pixels dropped at random
  double color_noise;          // colour noise, 8-bit levels, 1 sigma
  double light[3];             // unit direction towards the light, world
  double ambient;              // ambient share of the Lambertian shading
};

// The sensor model over ray-cast maps; see edge3d/synth/sensor.py (the numpy reference, which
// uses the same counter-based random numbers and formulas). Outputs row-major [H,W](,3).
void sensor_model(const float* depth_true, const int32_t* prim, const float* normal,
                  const uint8_t* prim_colors, const Camera& camera, const SensorParams& params,
                  uint16_t* depth, uint8_t* color);

}  // namespace render
}  // namespace edge3d
