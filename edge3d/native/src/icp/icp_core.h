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

// Camera-frame vertex map [H, W, 3] from depth in metres and normals facing the camera from
// central differences; pixels with no depth, or with a neighbour farther than max_jump * z in
// depth, get zero vectors.
void vertex_normal_map(const float* depth, int width, int height, float fx, float fy, float cx,
                       float cy, float max_jump, float* vertex, float* normal);

// Normal equations of one Gauss-Newton step of point-to-plane ICP: source points (camera frame,
// moved by the guess T_W_C) are associated projectively with a model vertex/normal map rendered
// from pose T_W_M with intrinsics (fx, fy, cx, cy); pairs farther than max_dist or with normals
// less aligned than min_normal_cos are rejected; Huber weights with threshold `huber` (metres).
NormalEquations point_to_plane(const float* src_vertex, const float* src_normal, int src_width,
                               int src_height, const double* T_W_C, const float* model_vertex,
                               const float* model_normal, int model_width, int model_height,
                               const double* T_W_M, float fx, float fy, float cx, float cy,
                               float max_dist, float min_normal_cos, float huber);

}  // namespace edge3d::icp
