// PCA normals over the surface graph: the covariance of a point and its neighbours, its
// smallest eigenvector in closed form, in double precision.
#include <algorithm>
#include <cmath>
#include <utility>

#include "common/parallel.h"
#include "geoseg/geoseg_core.h"

namespace edge3d::geoseg {
namespace {

// Unit eigenvector of the smallest eigenvalue of the symmetric matrix a, and the three
// eigenvalues ascending. The eigenvalues come in closed form (the trigonometric solution of the
// characteristic cubic); the eigenvector is the largest cross product of two rows of
// a - l0 I, which is orthogonal to both and so spans its null space. When l0 is (near) double,
// every cross product vanishes and the row space is a line: any unit vector orthogonal to it
// is an eigenvector.
void smallest_eigenvector(const double a[3][3], double w[3], double n[3]) {
  const double p1 = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
  const double q = (a[0][0] + a[1][1] + a[2][2]) / 3.0;
  const double p2 = (a[0][0] - q) * (a[0][0] - q) + (a[1][1] - q) * (a[1][1] - q) +
                    (a[2][2] - q) * (a[2][2] - q) + 2.0 * p1;
  const double p = std::sqrt(p2 / 6.0);
  if (p == 0.0) {  // a multiple of the identity: every direction is an eigenvector
    w[0] = w[1] = w[2] = q;
    n[0] = 0.0, n[1] = 0.0, n[2] = 1.0;
    return;
  }
  double b[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) b[i][j] = (a[i][j] - (i == j ? q : 0.0)) / p;
  const double det = b[0][0] * (b[1][1] * b[2][2] - b[1][2] * b[2][1]) -
                     b[0][1] * (b[1][0] * b[2][2] - b[1][2] * b[2][0]) +
                     b[0][2] * (b[1][0] * b[2][1] - b[1][1] * b[2][0]);
  const double r = std::clamp(det / 2.0, -1.0, 1.0);
  const double phi = std::acos(r) / 3.0;
  constexpr double kThird = 2.0943951023931954923;  // 2 pi / 3
  w[2] = q + 2.0 * p * std::cos(phi);
  w[0] = q + 2.0 * p * std::cos(phi + kThird);
  w[1] = 3.0 * q - w[0] - w[2];
  double m[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m[i][j] = a[i][j] - (i == j ? w[0] : 0.0);
  double best = 0.0;
  for (int i = 0; i < 3; ++i) {
    const double* u = m[i];
    const double* v = m[(i + 1) % 3];
    const double c[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2],
                         u[0] * v[1] - u[1] * v[0]};
    const double len = c[0] * c[0] + c[1] * c[1] + c[2] * c[2];
    if (len > best) best = len, n[0] = c[0], n[1] = c[1], n[2] = c[2];
  }
  if (best > 1e-24 * p2 * p2 * p * p) {
    const double len = std::sqrt(best);
    for (int k = 0; k < 3; ++k) n[k] /= len;
    return;
  }
  // Double smallest eigenvalue: the rows of m span one line; take a vector orthogonal to it.
  int row = 0;
  double row_len = 0.0;
  for (int i = 0; i < 3; ++i) {
    const double len = m[i][0] * m[i][0] + m[i][1] * m[i][1] + m[i][2] * m[i][2];
    if (len > row_len) row_len = len, row = i;
  }
  const double* u = m[row];
  const double e[3] = {std::fabs(u[0]) < std::fabs(u[1]) ? 1.0 : 0.0,
                       std::fabs(u[0]) < std::fabs(u[1]) ? 0.0 : 1.0, 0.0};
  n[0] = u[1] * e[2] - u[2] * e[1], n[1] = u[2] * e[0] - u[0] * e[2], n[2] = u[0] * e[1] - u[1] * e[0];
  const double len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  for (int k = 0; k < 3; ++k) n[k] /= len;
}

}  // namespace

void pca_normals(const float* points, int64_t n, const int32_t* nbr, int k, float* normals,
                 float* variation) {
  parallel_for(n, 512, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int32_t* row = nbr + i * k;
      int count = 1;
      double mean[3] = {points[3 * i], points[3 * i + 1], points[3 * i + 2]};
      for (int s = 0; s < k && row[s] >= 0; ++s, ++count)
        for (int a = 0; a < 3; ++a) mean[a] += points[3 * int64_t{row[s]} + a];
      float* out = normals + 3 * i;
      if (count < 3) {
        out[0] = out[1] = out[2] = 0.0f;
        variation[i] = 1.0f;
        continue;
      }
      for (double& m : mean) m /= count;
      double cov[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
      for (int s = -1; s < count - 1; ++s) {
        const float* p = points + 3 * (s < 0 ? i : int64_t{row[s]});
        const double d[3] = {p[0] - mean[0], p[1] - mean[1], p[2] - mean[2]};
        for (int r = 0; r < 3; ++r)
          for (int c = r; c < 3; ++c) cov[r][c] += d[r] * d[c];
      }
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < r; ++c) cov[r][c] = cov[c][r];
      double w[3], v[3];
      smallest_eigenvector(cov, w, v);
      double nx = v[0], ny = v[1], nz = v[2];
      if (nz < 0 || (nz == 0 && (nx < 0 || (nx == 0 && ny < 0)))) nx = -nx, ny = -ny, nz = -nz;
      const double norm = std::sqrt(nx * nx + ny * ny + nz * nz);
      out[0] = static_cast<float>(nx / norm);
      out[1] = static_cast<float>(ny / norm);
      out[2] = static_cast<float>(nz / norm);
      const double total = std::max(w[0], 0.0) + std::max(w[1], 0.0) + std::max(w[2], 0.0);
      variation[i] = total > 0 ? static_cast<float>(std::max(w[0], 0.0) / total) : 1.0f;
    }
  });
}

void edge_weights(const float* normals, const float* colors, const int32_t* edges, int64_t m,
                  float color_weight, float* w) {
  parallel_for(m, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t a = edges[2 * i], c = edges[2 * i + 1];
      const float* na = normals + 3 * a;
      const float* nc = normals + 3 * c;
      float v = 1.0f - std::fabs(na[0] * nc[0] + na[1] * nc[1] + na[2] * nc[2]);
      if (colors != nullptr) {
        const float* ca = colors + 3 * a;
        const float* cc = colors + 3 * c;
        const float dr = ca[0] - cc[0], dg = ca[1] - cc[1], db = ca[2] - cc[2];
        v += color_weight * std::sqrt(dr * dr + dg * dg + db * db);
      }
      w[i] = std::max(v, 0.0f);
    }
  });
}

}  // namespace edge3d::geoseg
