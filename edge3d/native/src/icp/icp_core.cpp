// Point-to-plane ICP building blocks (KinectFusion, Newcombe et al. 2011, section 3.5): vertex and
// normal maps from depth, and the projective-association normal equations of one Gauss-Newton
// step. The solve and the pose update happen in Python (a 6x6 system).
#include "icp/icp_core.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/parallel.h"
#include "common/simd.h"

namespace edge3d::icp {

namespace {

// exp(-x) for x in [0, 8], to about 1e-5 relative (a range weight needs no more):
// 2^(-x log2 e) split into an integer power, built in the exponent bits, and a degree-4
// polynomial of the fraction (a Chebyshev fit of 2^f on [0, 1]). Branch-free, so the pixel
// loops below vectorise; std::exp and a look-up table do not.
inline float exp_neg(float x) {
  const float t = -x * 1.44269504f;  // log2(e), <= 0
  // floor(t) from truncation (std::floor is a library call without SSE4.1, which blocks
  // vectorisation): truncation rounds a negative t up, so step down where it did.
  int32_t i = static_cast<int32_t>(t);
  i -= static_cast<int32_t>(static_cast<float>(i) > t);
  const float f = t - static_cast<float>(i);  // [0, 1)
  float p = 1.36765311e-2f;
  p = p * f + 5.16668774e-2f;
  p = p * f + 2.41710262e-1f;
  p = p * f + 6.92931289e-1f;
  p = p * f + 1.00000728f;
  const int32_t e = (i + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  return p * scale;
}

// Range weight exp(-x) beyond exp(-8) is dropped: a neighbour four range sigmas away is another
// surface, not noise.
constexpr float kMaxRangeX = 8.f;

// One tap of the bilateral filter over a row: neighbour row nb against centre row c.
EDGE3D_VECTOR_CLONES
void accumulate_tap(const float* __restrict nb, const float* __restrict c,
                    const float* __restrict inv2s, float ws, int64_t n, float* __restrict sum,
                    float* __restrict wsum) {
  for (int64_t u = 0; u < n; ++u) {
    const float zn = nb[u];
    const float dz = zn - c[u];
    const float x = dz * dz * inv2s[u];
    // Masks, not branches, keep the loop vectorisable (std::min lets GCC branch to a folded
    // exp_neg(8)).
    const bool near = x < kMaxRangeX;
    const float keep = static_cast<float>((zn > 0.f) & near);
    const float wt = keep * ws * exp_neg(edge3d::select(near, x, kMaxRangeX));
    sum[u] += wt * zn;
    wsum[u] += wt;
  }
}

}  // namespace

void bilateral_depth(const float* depth, int width, int height, int radius, float sigma_px,
                     float range_min, float range_per_m2, float* out) {
  std::vector<float> spatial(2 * radius + 1);
  for (int d = -radius; d <= radius; ++d)
    spatial[d + radius] = std::exp(-(d * d) / (2.f * sigma_px * sigma_px));
  const int64_t w = width;
  // Invalid pixels (<= 0 or not finite) become 0 once, so the tap loops test one thing.
  std::vector<float> clean(static_cast<size_t>(w) * height);
  for (int64_t i = 0; i < w * height; ++i) {
    const float z = depth[i];
    clean[i] = (z > 0.f && std::isfinite(z)) ? z : 0.f;
  }
  // Separable approximation: a horizontal pass, then a vertical pass over its result (2 (2r+1)
  // taps per pixel instead of (2r+1)^2). Each output row accumulates tap by tap over the whole
  // row (taps outer, pixels inner), which the compiler vectorises.
  auto pass = [&](const float* in, float* dst, bool horizontal) {
    edge3d::parallel_for(height, 4, [&](int64_t b, int64_t e) {
      // Horizontal taps read a zero-padded copy of the row, so every tap is in range and the
      // padding, like any invalid pixel, has weight 0.
      std::vector<float> padded(horizontal ? w + 2 * radius : 0, 0.f), inv2s(w), sum(w), wsum(w);
      for (int64_t v = b; v < e; ++v) {
        const float* centre = in + v * w;
        for (int64_t u = 0; u < w; ++u) {
          const float z = centre[u];
          const float sr = std::max(range_min, range_per_m2 * z * z);
          inv2s[u] = 1.f / (2.f * sr * sr);
          sum[u] = 0.f;
          wsum[u] = 0.f;
        }
        if (horizontal) std::copy_n(centre, w, padded.data() + radius);
        for (int d = -radius; d <= radius; ++d) {
          const float* nb;
          if (horizontal) {
            nb = padded.data() + radius + d;
          } else {
            if (v + d < 0 || v + d >= height) continue;
            nb = in + (v + d) * w;
          }
          accumulate_tap(nb, centre, inv2s.data(), spatial[d + radius], w, sum.data(),
                         wsum.data());
        }
        float* o = dst + v * w;
        // A valid centre has its own tap at weight spatial[radius] > 0.
        for (int64_t u = 0; u < w; ++u) o[u] = centre[u] > 0.f ? sum[u] / wsum[u] : 0.f;
      }
    });
  };
  std::vector<float> tmp(static_cast<size_t>(w) * height);
  pass(clean.data(), tmp.data(), true);
  pass(tmp.data(), out, false);
}

void vertex_normal_map(const float* depth, int width, int height, float fx, float fy, float cx,
                       float cy, float max_jump, float* vertex, float* normal) {
  const int64_t npix = int64_t{width} * height;
  std::fill(vertex, vertex + npix * 3, 0.f);
  std::fill(normal, normal + npix * 3, 0.f);
  edge3d::parallel_for(height, 8, [&](int64_t b, int64_t e) {
    for (int64_t v = b; v < e; ++v) {
      for (int u = 0; u < width; ++u) {
        const float z = depth[v * width + u];
        if (!(z > 0.f) || !std::isfinite(z)) continue;
        float* p = &vertex[(v * width + u) * 3];
        p[0] = (u - cx) / fx * z;
        p[1] = (v - cy) / fy * z;
        p[2] = z;
      }
    }
  });
  auto valid_neighbour = [&](int64_t pix, float z) {
    const float zn = vertex[pix * 3 + 2];
    return zn > 0.f && std::fabs(zn - z) <= max_jump * z;
  };
  edge3d::parallel_for(height, 8, [&](int64_t b, int64_t e) {
    for (int64_t v = std::max<int64_t>(b, 1); v < std::min<int64_t>(e, height - 1); ++v) {
      for (int u = 1; u < width - 1; ++u) {
        const int64_t pix = v * width + u;
        const float z = vertex[pix * 3 + 2];
        if (!(z > 0.f)) continue;
        const int64_t l = pix - 1, r = pix + 1, t = pix - width, d = pix + width;
        if (!valid_neighbour(l, z) || !valid_neighbour(r, z) || !valid_neighbour(t, z) ||
            !valid_neighbour(d, z))
          continue;
        float du[3], dv[3];
        for (int k = 0; k < 3; ++k) {
          du[k] = vertex[r * 3 + k] - vertex[l * 3 + k];
          dv[k] = vertex[d * 3 + k] - vertex[t * 3 + k];
        }
        float n[3] = {du[1] * dv[2] - du[2] * dv[1], du[2] * dv[0] - du[0] * dv[2],
                      du[0] * dv[1] - du[1] * dv[0]};
        const float len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (!(len > 0.f)) continue;
        // Face the camera, as the model normals (the SDF gradient) do.
        const float* p = &vertex[pix * 3];
        const float sign = (n[0] * p[0] + n[1] * p[1] + n[2] * p[2]) > 0.f ? -1.f : 1.f;
        for (int k = 0; k < 3; ++k) normal[pix * 3 + k] = sign * n[k] / len;
      }
    }
  });
}

NormalEquations point_to_plane(const float* src_vertex, const float* src_normal, int src_width,
                               int src_height, const double* T_W_C, const float* model_vertex,
                               const float* model_normal, int model_width, int model_height,
                               const double* T_W_M, float fx, float fy, float cx, float cy,
                               float max_dist, float min_normal_cos, float noise_floor,
                               float noise_per_m2, float huber) {
  // Model camera from world: the inverse of T_W_M.
  double Rmw[9], tmw[3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) Rmw[i * 3 + j] = T_W_M[j * 4 + i];
  for (int i = 0; i < 3; ++i)
    tmw[i] = -(Rmw[i * 3] * T_W_M[3] + Rmw[i * 3 + 1] * T_W_M[7] + Rmw[i * 3 + 2] * T_W_M[11]);

  // A fixed chunk count (not the thread count) keeps the summation order, hence the result,
  // identical on every machine.
  constexpr int64_t kChunks = 32;
  std::vector<NormalEquations> parts(kChunks);
  const int64_t rows = src_height;
  edge3d::parallel_for(kChunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      NormalEquations& acc = parts[c];
      for (int64_t v = rows * c / kChunks; v < rows * (c + 1) / kChunks; ++v) {
        for (int u = 0; u < src_width; ++u) {
          const int64_t pix = v * src_width + u;
          const float* pc = &src_vertex[pix * 3];
          if (!(pc[2] > 0.f)) continue;
          const float* nc = &src_normal[pix * 3];
          if (nc[0] == 0.f && nc[1] == 0.f && nc[2] == 0.f) continue;
          ++acc.valid;
          double pw[3], nw[3];
          for (int i = 0; i < 3; ++i) {
            pw[i] = T_W_C[i * 4] * pc[0] + T_W_C[i * 4 + 1] * pc[1] + T_W_C[i * 4 + 2] * pc[2] +
                    T_W_C[i * 4 + 3];
            nw[i] = T_W_C[i * 4] * nc[0] + T_W_C[i * 4 + 1] * nc[1] + T_W_C[i * 4 + 2] * nc[2];
          }
          double pm[3];
          for (int i = 0; i < 3; ++i)
            pm[i] = Rmw[i * 3] * pw[0] + Rmw[i * 3 + 1] * pw[1] + Rmw[i * 3 + 2] * pw[2] + tmw[i];
          if (pm[2] <= 0.0) continue;
          const int mu = static_cast<int>(std::lround(fx * pm[0] / pm[2] + cx));
          const int mv = static_cast<int>(std::lround(fy * pm[1] / pm[2] + cy));
          if (mu < 0 || mv < 0 || mu >= model_width || mv >= model_height) continue;
          const int64_t mpix = int64_t{mv} * model_width + mu;
          const float* q = &model_vertex[mpix * 3];
          const float* n = &model_normal[mpix * 3];
          if (n[0] == 0.f && n[1] == 0.f && n[2] == 0.f) continue;
          const double d[3] = {pw[0] - q[0], pw[1] - q[1], pw[2] - q[2]};
          if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] > double(max_dist) * max_dist) continue;
          if (nw[0] * n[0] + nw[1] * n[1] + nw[2] * n[2] < min_normal_cos) continue;
          const double r = n[0] * d[0] + n[1] * d[1] + n[2] * d[2];
          // Left-perturbed pose exp(xi) T: d r / d(omega, t) = (p x n, n).
          const double J[6] = {pw[1] * n[2] - pw[2] * n[1], pw[2] * n[0] - pw[0] * n[2],
                               pw[0] * n[1] - pw[1] * n[0], n[0], n[1], n[2]};
          // Stereo depth noise grows with z^2: weight each residual by its inverse variance,
          // with Huber's weight on the residual in units of that sigma.
          const double sigma = noise_floor + noise_per_m2 * double(pc[2]) * pc[2];
          const double rn = std::fabs(r) / sigma;
          const double w = (rn <= huber ? 1.0 : huber / rn) / (sigma * sigma);
          for (int i = 0; i < 6; ++i) {
            for (int j = i; j < 6; ++j) acc.A[i * 6 + j] += w * J[i] * J[j];
            acc.b[i] += w * J[i] * r;
          }
          acc.sum_sq += r * r;
          ++acc.inliers;
        }
      }
    }
  });
  NormalEquations total;
  for (const auto& p : parts) {
    for (int i = 0; i < 36; ++i) total.A[i] += p.A[i];
    for (int i = 0; i < 6; ++i) total.b[i] += p.b[i];
    total.sum_sq += p.sum_sq;
    total.inliers += p.inliers;
    total.valid += p.valid;
  }
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < i; ++j) total.A[i * 6 + j] = total.A[j * 6 + i];
  return total;
}

}  // namespace edge3d::icp
