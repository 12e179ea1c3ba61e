// Box ray casting: per box, a conservative pixel rectangle from its near-clipped corners, then a
// slab test per pixel in the box frame. See render_core.h.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/parallel.h"
#include "render/render_core.h"

namespace edge3d {
namespace render {
namespace {

struct Prepared {
  double M[9];  // camera direction -> box frame: Rb^T * R_wc (row-major)
  double o[3];  // camera centre in the box frame
  double h[3];
  double corners[8][3];  // camera frame; corner k has sign + on axis a where bit (2 - a) is set
  int u0, u1, v0, v1;    // pixel rectangle, end-exclusive
};

// Columns [u0, u1) of row `y` (= (v - cy) / fy) whose rays can hit the box: the rays of one row
// span a plane through the camera centre, which cuts the box in a convex polygon; its vertices
// (edge crossings, clipped at z = near) bound the columns. False when the row misses the box.
bool row_span(const Prepared& p, const Camera& cam, double y, double near, int& u0, int& u1) {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin;
  double s[8];
  for (int k = 0; k < 8; ++k) s[k] = p.corners[k][1] - y * p.corners[k][2];
  auto add = [&](double x, double z) {
    if (z <= near) return;
    xmin = std::min(xmin, x / z);
    xmax = std::max(xmax, x / z);
  };
  for (int k = 0; k < 8; ++k)
    if (s[k] == 0.0) add(p.corners[k][0], p.corners[k][2]);
  for (int a = 0; a < 8; ++a) {
    for (int bit = 0; bit < 3; ++bit) {
      const int b = a | (1 << bit);
      if (b == a || !((s[a] < 0 && s[b] > 0) || (s[a] > 0 && s[b] < 0))) continue;
      const double f = s[a] / (s[a] - s[b]);
      add(p.corners[a][0] + f * (p.corners[b][0] - p.corners[a][0]),
          p.corners[a][2] + f * (p.corners[b][2] - p.corners[a][2]));
    }
  }
  // Where the polygon crosses z = near: the box along the camera-frame line (x, y near, near).
  double lo = -std::numeric_limits<double>::infinity(), hi = -lo;
  for (int a = 0; a < 3 && lo <= hi; ++a) {
    const double base = p.M[3 * a + 1] * y * near + p.M[3 * a + 2] * near + p.o[a];
    const double slope = p.M[3 * a];
    if (slope == 0.0) {
      if (base < -p.h[a] || base > p.h[a]) lo = hi + 1;
      continue;
    }
    const double t1 = (-p.h[a] - base) / slope, t2 = (p.h[a] - base) / slope;
    lo = std::max(lo, std::min(t1, t2));
    hi = std::min(hi, std::max(t1, t2));
  }
  if (lo <= hi) {
    xmin = std::min(xmin, lo / near);
    xmax = std::max(xmax, hi / near);
  }
  if (!(xmin <= xmax)) return false;
  const double umin = cam.fx * xmin + cam.cx, umax = cam.fx * xmax + cam.cx;
  u0 = std::max(p.u0, static_cast<int>(std::max(std::floor(umin), -1.0)));
  u1 = std::min(p.u1, static_cast<int>(std::min(std::ceil(umax) + 1, 1e9)));
  return u0 < u1;
}

// Pixel rectangle a box can cover, or false when it is behind the camera or off-screen.
bool pixel_rect(const double corners[8][3], const Camera& cam, double near, Prepared& p) {
  double umin = std::numeric_limits<double>::infinity(), umax = -umin, vmin = umin, vmax = -umin;
  int count = 0;
  auto add = [&](const double* q) {
    const double u = cam.fx * q[0] / q[2] + cam.cx, v = cam.fy * q[1] / q[2] + cam.cy;
    umin = std::min(umin, u);
    umax = std::max(umax, u);
    vmin = std::min(vmin, v);
    vmax = std::max(vmax, v);
    ++count;
  };
  for (int i = 0; i < 8; ++i)
    if (corners[i][2] > near) add(corners[i]);
  for (int a = 0; a < 8; ++a) {
    for (int bit = 0; bit < 3; ++bit) {
      const int b = a | (1 << bit);
      if (b == a) continue;
      const double za = corners[a][2], zb = corners[b][2];
      if ((za > near) != (zb > near)) {  // the edge crosses the near plane
        const double s = (near - za) / (zb - za);
        double q[3];
        for (int k = 0; k < 3; ++k) q[k] = corners[a][k] + s * (corners[b][k] - corners[a][k]);
        add(q);
      }
    }
  }
  if (count == 0) return false;
  p.u0 = std::max(static_cast<int>(std::floor(umin)), 0);
  p.u1 = std::min(static_cast<int>(std::ceil(umax)) + 1, cam.width);
  p.v0 = std::max(static_cast<int>(std::floor(vmin)), 0);
  p.v1 = std::min(static_cast<int>(std::ceil(vmax)) + 1, cam.height);
  return p.u0 < p.u1 && p.v0 < p.v1;
}

}  // namespace

void raycast_boxes(const double* centers, const double* rotations, const double* halves,
                   int64_t num_boxes, const Camera& cam, double near, float* depth,
                   int32_t* prim, float* normal) {
  const double* T = cam.T_W_C;
  const double R[9] = {T[0], T[1], T[2], T[4], T[5], T[6], T[8], T[9], T[10]};
  const double t[3] = {T[3], T[7], T[11]};
  std::vector<Prepared> boxes;
  std::vector<int64_t> index;
  boxes.reserve(num_boxes);
  for (int64_t i = 0; i < num_boxes; ++i) {
    const double* c = centers + 3 * i;
    const double* Rb = rotations + 9 * i;
    const double* h = halves + 3 * i;
    Prepared p;
    auto& corners = p.corners;
    for (int k = 0; k < 8; ++k) {  // corner k: sign + on axis a where bit (2 - a) is set
      double w[3];
      for (int r = 0; r < 3; ++r) {
        w[r] = c[r] - t[r];
        for (int a = 0; a < 3; ++a) {
          const double s = ((k >> (2 - a)) & 1) ? 1.0 : -1.0;
          w[r] += Rb[3 * r + a] * s * h[a];
        }
      }
      for (int r = 0; r < 3; ++r)  // camera frame: R^T w
        corners[k][r] = R[r] * w[0] + R[3 + r] * w[1] + R[6 + r] * w[2];
    }
    if (!pixel_rect(corners, cam, near, p)) continue;
    for (int a = 0; a < 3; ++a) {
      for (int j = 0; j < 3; ++j)
        p.M[3 * a + j] = Rb[a] * R[j] + Rb[3 + a] * R[3 + j] + Rb[6 + a] * R[6 + j];
      p.o[a] = Rb[a] * (t[0] - c[0]) + Rb[3 + a] * (t[1] - c[1]) + Rb[6 + a] * (t[2] - c[2]);
      p.h[a] = h[a];
    }
    boxes.push_back(p);
    index.push_back(i);
  }

  const int W = cam.width, H = cam.height;
  const double inf = std::numeric_limits<double>::infinity();
  parallel_for(H, 8, [&](int64_t row_begin, int64_t row_end) {
    std::vector<double> zbuf(static_cast<size_t>((row_end - row_begin) * W), inf);
    std::vector<int32_t> axis_buf(zbuf.size(), 0);
    std::vector<double> dsign(zbuf.size(), 0.0);
    std::vector<int64_t> hit(zbuf.size(), -1);
    for (size_t b = 0; b < boxes.size(); ++b) {
      const Prepared& p = boxes[b];
      const int v0 = std::max<int64_t>(p.v0, row_begin), v1 = std::min<int64_t>(p.v1, row_end);
      for (int v = v0; v < v1; ++v) {
        const double y = (v - cam.cy) / cam.fy;
        int u_begin, u_end;
        if (!row_span(p, cam, y, near, u_begin, u_end)) continue;
        for (int u = u_begin; u < u_end; ++u) {
          const double x = (u - cam.cx) / cam.fx;
          double tnear = -inf, tfar = inf, dnear = 0.0;
          int axis = 0;
          bool miss = false;
          for (int a = 0; a < 3; ++a) {
            const double d = p.M[3 * a] * x + p.M[3 * a + 1] * y + p.M[3 * a + 2];
            if (d == 0.0) {
              if (p.o[a] < -p.h[a] || p.o[a] > p.h[a]) miss = true;
              continue;
            }
            const double inv = 1.0 / d;
            const double t1 = (-p.h[a] - p.o[a]) * inv, t2 = (p.h[a] - p.o[a]) * inv;
            const double lo = std::min(t1, t2), hi = std::max(t1, t2);
            if (lo > tnear) {
              tnear = lo;
              axis = a;
              dnear = d;
            }
            tfar = std::min(tfar, hi);
          }
          if (miss || !(tnear <= tfar) || !(tnear > near)) continue;
          const size_t k = static_cast<size_t>((v - row_begin) * W + u);
          if (tnear < zbuf[k]) {
            zbuf[k] = tnear;
            hit[k] = static_cast<int64_t>(b);
            axis_buf[k] = axis;
            dsign[k] = dnear;
          }
        }
      }
    }
    for (int64_t v = row_begin; v < row_end; ++v) {
      for (int u = 0; u < W; ++u) {
        const size_t k = static_cast<size_t>((v - row_begin) * W + u);
        const size_t out = static_cast<size_t>(v * W + u);
        if (hit[k] < 0) {
          depth[out] = 0.0f;
          prim[out] = -1;
          normal[3 * out] = normal[3 * out + 1] = normal[3 * out + 2] = 0.0f;
          continue;
        }
        const int64_t i = index[hit[k]];
        const double* Rb = rotations + 9 * i;
        const double s = dsign[k] > 0 ? -1.0 : 1.0;  // the face the ray enters faces the camera
        depth[out] = static_cast<float>(zbuf[k]);
        prim[out] = static_cast<int32_t>(i);
        for (int r = 0; r < 3; ++r)
          normal[3 * out + r] = static_cast<float>(s * Rb[3 * r + axis_buf[k]]);
      }
    }
  });
}

}  // namespace render
}  // namespace edge3d
