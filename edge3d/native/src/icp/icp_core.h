// Point-to-plane ICP building blocks; see icp_core.cpp.
#pragma once

#include <cstdint>
#include <vector>

namespace edge3d::icp {

struct NormalEquations {
  double A[36] = {};  // J^T W J, row-major 6x6, twist order (omega, t)
  double b[6] = {};   // J^T W r
  double sum_sq = 0;  // sum of squared (unweighted) residuals of the inliers, m^2
  int64_t inliers = 0, valid = 0;
};

// Edge-preserving smoothing of a depth image (metres, 0 = invalid) before normals are taken
// (KinectFusion section 3.2): a bilateral filter, applied separably (a horizontal then a
// vertical pass of 2 radius + 1 taps), with spatial sigma
// sigma_px and a range sigma that grows with depth like stereo noise,
// max(range_min, range_per_m2 * z^2). Invalid pixels stay invalid and are never used.
void bilateral_depth(const float* depth, int width, int height, int radius, float sigma_px,
                     float range_min, float range_per_m2, float* out);

// Camera-frame vertex map [H, W, 3] from depth in metres and normals facing the camera from
// central differences; pixels with no depth, or with a neighbour farther than max_jump * z in
// depth, get zero vectors.
void vertex_normal_map(const float* depth, int width, int height, float fx, float fy, float cx,
                       float cy, float max_jump, float* vertex, float* normal);

// Normal equations of one Gauss-Newton step of point-to-plane ICP: source points (camera frame,
// moved by the guess T_W_C) are associated projectively with a model vertex/normal map rendered
// from pose T_W_M with intrinsics (fx, fy, cx, cy); pairs farther than max_dist or with normals
// less aligned than min_normal_cos are rejected. Residuals are weighted by 1 / sigma^2 with
// sigma = noise_floor + noise_per_m2 * z^2 (z: source depth) times Huber's weight with
// threshold `huber` sigmas. A is J^T W J in units of 1 / sigma^2.
NormalEquations point_to_plane(const float* src_vertex, const float* src_normal, int src_width,
                               int src_height, const double* T_W_C, const float* model_vertex,
                               const float* model_normal, int model_width, int model_height,
                               const double* T_W_M, float fx, float fy, float cx, float cy,
                               float max_dist, float min_normal_cos, float noise_floor,
                               float noise_per_m2, float huber);

}  // namespace edge3d::icp
