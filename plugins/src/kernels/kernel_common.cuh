// Device helpers shared by the edge3d kernels: dtype-generic loads/stores (FP32 compute), the
// atan2 with the ONNX body's branches, and the launch/error plumbing of the C ABI.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "edge3d_ops.h"

namespace edge3d {

constexpr float kPi = 3.14159265358979323846f;
constexpr float kHalfPi = 1.57079632679489661923f;
constexpr float kTwoPi = 6.28318530717958647692f;
constexpr int kThreads = 256;

__device__ __forceinline__ float load(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load(const __half* p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ void store(float* p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store(__half* p, int64_t i, float v) { p[i] = __float2half_rn(v); }

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

inline int64_t blocks_for(int64_t total) {
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  return blocks < 65535 * 16 ? blocks : 65535 * 16;  // grid-stride loops cover the rest
}

// Argument checks of each launcher (also run first by the host variants, before any CUDA call).
int check_sector_args(const char* op, int dtype, int64_t batch, int64_t n, int64_t k,
                      int32_t n_azimuth, int32_t n_polar);
int check_box_args(int dtype, int64_t batch, int64_t n, int64_t h, float theta2);
int check_iou_args(int dtype, int64_t batch, int64_t a, int64_t b, int64_t n, float eps);

void set_error(const std::string& message);
int fail(int status, const std::string& message);
int check_launch(const char* op);

}  // namespace edge3d
