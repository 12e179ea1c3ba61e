// PCA normals over the surface graph: the covariance of a point and its neighbours, solved by
// cyclic Jacobi rotations in double precision (exact to rounding for 3x3, no branches on
// degenerate spectra that closed-form solvers need).
#include <algorithm>
#include <cmath>
#include <utility>

#include "common/parallel.h"
#include "geoseg/geoseg_core.h"

namespace edge3d::geoseg {
namespace {

// Eigenvalues (ascending) and eigenvectors (columns of v) of the symmetric matrix a.
void jacobi3(double a[3][3], double w[3], double v[3][3]) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) v[i][j] = i == j ? 1.0 : 0.0;
  for (int sweep = 0; sweep < 32; ++sweep) {
    const double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
    const double diag = a[0][0] * a[0][0] + a[1][1] * a[1][1] + a[2][2] * a[2][2];
    if (off <= 1e-30 * diag || off == 0.0) break;
    for (int p = 0; p < 2; ++p)
      for (int q = p + 1; q < 3; ++q) {
        if (a[p][q] == 0.0) continue;
        const double theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (int r = 0; r < 3; ++r) {  // a <- a J
          const double arp = a[r][p], arq = a[r][q];
          a[r][p] = c * arp - s * arq;
          a[r][q] = s * arp + c * arq;
        }
        for (int r = 0; r < 3; ++r) {  // a <- J^T a
          const double apr = a[p][r], aqr = a[q][r];
          a[p][r] = c * apr - s * aqr;
          a[q][r] = s * apr + c * aqr;
        }
        for (int r = 0; r < 3; ++r) {
          const double vrp = v[r][p], vrq = v[r][q];
          v[r][p] = c * vrp - s * vrq;
          v[r][q] = s * vrp + c * vrq;
        }
      }
  }
  int idx[3] = {0, 1, 2};
  for (int i = 0; i < 3; ++i)
    for (int j = i + 1; j < 3; ++j)
      if (a[idx[j]][idx[j]] < a[idx[i]][idx[i]]) std::swap(idx[i], idx[j]);
  double vs[3][3];
  for (int c = 0; c < 3; ++c) {
    w[c] = a[idx[c]][idx[c]];
    for (int r = 0; r < 3; ++r) vs[r][c] = v[r][idx[c]];
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) v[r][c] = vs[r][c];
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
      double w[3], v[3][3];
      jacobi3(cov, w, v);
      double nx = v[0][0], ny = v[1][0], nz = v[2][0];
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

}  // namespace edge3d::geoseg
