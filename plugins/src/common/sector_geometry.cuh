// The sector geometry of Spherical Mask shared by SectorBin and SectorMask: atan2 with the ONNX
// body's branches, angle bins, the sector of an offset, and the checks of both launchers.
#pragma once

#include "kernel_common.cuh"

namespace edge3d {

constexpr float kPi = 3.14159265358979323846f;
constexpr float kHalfPi = 1.57079632679489661923f;
constexpr float kTwoPi = 6.28318530717958647692f;
constexpr int32_t kMaxSectorsPerAxis = 1024;

// atan2(y, x) as atan(y / x) plus a quadrant shift, exactly the branches of the ONNX body and the
// PyTorch reference (docs/ops.md): atan2(0, 0) = 0, signed zeros read as +0, never NaN.
__device__ __forceinline__ float atan2_branch(float y, float x) {
  if (x > 0.f) return atanf(y / x);
  if (x < 0.f) return atanf(y / x) + (y >= 0.f ? kPi : -kPi);
  return y > 0.f ? kHalfPi : (y < 0.f ? -kHalfPi : 0.f);
}

__device__ __forceinline__ int32_t angle_bin(float angle, float span, int32_t count) {
  // unit is rounded to FP32 exactly as the reference computes it (span_f32 / count_f32).
  const float unit = span / static_cast<float>(count);
  const float raw = floorf(angle / unit);
  return static_cast<int32_t>(fminf(fmaxf(raw, 0.f), static_cast<float>(count - 1)));
}

// Sector index and radius of offset d (products and sums rounded separately, as the reference:
// no fused multiply-add, so the bins agree bit for bit wherever atanf agrees).
__device__ __forceinline__ int32_t sector_of(float dx, float dy, float dz, int32_t n_azimuth,
                                             int32_t n_polar, float* radius) {
  const float rho_sq = __fadd_rn(__fmul_rn(dx, dx), __fmul_rn(dy, dy));
  *radius = sqrtf(__fadd_rn(rho_sq, __fmul_rn(dz, dz)));
  const float theta = atan2_branch(sqrtf(rho_sq), dz);
  const float phi = __fadd_rn(atan2_branch(dy, dx), kPi);
  return angle_bin(theta, kPi, n_polar) * n_azimuth + angle_bin(phi, kTwoPi, n_azimuth);
}

inline int check_sector_args(const char* op, int dtype, int64_t batch, int64_t n, int64_t k,
                             int32_t n_azimuth, int32_t n_polar) {
  if (int st = check_dtype_and_sizes(op, dtype, {batch, n, k})) return st;
  if (n_azimuth < 1 || n_polar < 1 || n_azimuth > kMaxSectorsPerAxis ||
      n_polar > kMaxSectorsPerAxis)
    return fail(EDGE3D_INVALID_ARGUMENT,
                std::string(op) + ": n_azimuth and n_polar must be in [1, 1024]");
  return EDGE3D_OK;
}

}  // namespace edge3d
