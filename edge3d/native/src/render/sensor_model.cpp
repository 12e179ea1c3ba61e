// D435-like sensor model over ray-cast maps. Every random number is a hash of (frame key, pixel,
// draw), so results do not depend on the thread count or the order pixels are visited.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/parallel.h"
#include "render/render_core.h"

namespace edge3d {
namespace render {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

inline uint64_t mix64(uint64_t z) {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline uint64_t draw(uint64_t key, uint64_t pixel, uint64_t j) {
  return mix64(key ^ ((pixel * 8 + j) * kGolden));
}

inline double uniform(uint64_t x) {  // (0, 1]
  return static_cast<double>((x >> 11) + 1) * (1.0 / 9007199254740992.0);
}

// Standard normal quantile of p in (0, 1]: Acklam's rational approximation (relative error
// below 1.2e-9), one uniform per normal and no trigonometry. Same formula as sensor.py.
inline double normal_quantile(double p) {
  static constexpr double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                  -2.759285104469687e+02, 1.383577518672690e+02,
                                  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                  -1.556989798598866e+02, 6.680131188771972e+01,
                                  -1.328068155288572e+01};
  static constexpr double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                  -2.400758277161838e+00, -2.549732539343734e+00,
                                  4.374664141464968e+00, 2.938163982698783e+00};
  static constexpr double d[4] = {7.784695709041462e-03, 3.224671290700398e-01,
                                  2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double low = 0.02425;
  if (p >= 1.0) return 8.292361075813597;  // the quantile of 1 - 2^-54, beyond all p < 1
  if (p < low || p > 1.0 - low) {
    const double t = std::sqrt(-2.0 * std::log(p < low ? p : 1.0 - p));
    const double x = (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) /
                     ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1.0);
    return p < low ? x : -x;
  }
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

inline double gaussian(uint64_t key, uint64_t pixel) {  // from draw 0
  return normal_quantile(uniform(draw(key, pixel, 0)));
}

inline double approx_gaussian(uint64_t x) {  // Irwin-Hall of four 16-bit uniforms, unit variance
  double s = 0.0;
  for (int i = 0; i < 4; ++i) s += (static_cast<double>((x >> (16 * i)) & 0xFFFF) + 0.5) / 65536.0;
  return (s - 2.0) * 1.7320508075688772;
}

}  // namespace

void sensor_model(const float* depth_true, const int32_t* prim, const float* normal,
                  const uint8_t* prim_colors, const Camera& cam, const SensorParams& sp,
                  uint16_t* depth, uint8_t* color) {
  const int W = cam.width, H = cam.height;
  const double* T = cam.T_W_C;
  const double inf = std::numeric_limits<double>::infinity();
  const double fb = cam.fx * sp.baseline;
  parallel_for(H, 8, [&](int64_t row_begin, int64_t row_end) {
    std::vector<double> x_right(W), right_min(W);
    for (int64_t v = row_begin; v < row_end; ++v) {
      const double y = (v - cam.cy) / cam.fy;
      const int64_t row = v * W;
      if (sp.holes) {  // stereo shadow: smallest right-image column strictly to the right
        for (int u = 0; u < W; ++u) {
          const bool s = prim[row + u] >= 0;
          x_right[u] = u - (s ? fb / static_cast<double>(depth_true[row + u]) : 0.0);
        }
        double m = inf;
        for (int u = W - 1; u >= 0; --u) {
          right_min[u] = m;
          m = std::min(m, x_right[u]);
        }
      }
      for (int u = 0; u < W; ++u) {
        const int64_t k = row + u;
        const uint64_t pixel = static_cast<uint64_t>(k);
        const bool surface = prim[k] >= 0;
        const double z = depth_true[k];
        const float* n = normal + 3 * k;
        // Colour: Lambertian shading of the box colour, plus noise.
        const double lambert = std::max(
            0.0, static_cast<double>(n[0]) * sp.light[0] + static_cast<double>(n[1]) * sp.light[1] +
                     static_cast<double>(n[2]) * sp.light[2]);
        const double gain = surface ? sp.ambient + (1.0 - sp.ambient) * lambert : 0.0;
        for (int c = 0; c < 3; ++c) {
          double value = surface ? prim_colors[3 * prim[k] + c] * gain : 0.0;
          if (sp.noise && sp.color_noise > 0)
            value += approx_gaussian(draw(sp.key, pixel, 3 + c)) * sp.color_noise;
          color[3 * k + c] = static_cast<uint8_t>(std::min(255.0, std::max(0.0, value + 0.5)));
        }
        // Depth.
        double measured = z;
        if (sp.noise && surface)
          measured += gaussian(sp.key, pixel) * (z * z * sp.subpixel / fb);
        bool valid = surface && measured >= sp.min_depth && measured <= sp.max_depth;
        if (valid && sp.holes) {
          const double x = (u - cam.cx) / cam.fx;
          const double dx = T[0] * x + T[1] * y + T[2], dy = T[4] * x + T[5] * y + T[6],
                       dz = T[8] * x + T[9] * y + T[10];
          const double cos_inc = -(n[0] * dx + n[1] * dy + n[2] * dz) /
                                 std::sqrt(dx * dx + dy * dy + dz * dz);
          if (cos_inc < sp.cos_max_incidence) valid = false;
          if (x_right[u] > right_min[u] + 0.5) valid = false;
          const int64_t nb[4] = {u > 0 ? k - 1 : -1, u + 1 < W ? k + 1 : -1,
                                 v > 0 ? k - W : -1, v + 1 < H ? k + W : -1};
          for (int64_t q : nb) {
            if (q < 0) continue;
            const double zq = prim[q] >= 0 ? static_cast<double>(depth_true[q]) : inf;
            if (!(std::fabs(z - zq) <= sp.edge_threshold * std::min(z, zq))) valid = false;
          }
          if (sp.dropout > 0 && uniform(draw(sp.key, pixel, 2)) <= sp.dropout) valid = false;
        }
        const double units = std::nearbyint(measured / sp.depth_scale);
        depth[k] = (valid && units <= 65535.0) ? static_cast<uint16_t>(units) : 0;
      }
    }
  });
}

}  // namespace render
}  // namespace edge3d
