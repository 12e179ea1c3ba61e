// Surface extraction from the TSDF: zero-crossing points, a surface-nets mesh and ray casting.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "common/parallel.h"
#include "tsdf/tsdf_volume.h"

namespace edge3d::tsdf {
namespace {

// A voxel edge carries the surface when the SDF changes sign between two observed, untruncated
// voxels. Truncated (|t| = 1) ends mark occlusion boundaries, not surfaces.
inline bool crossing(float t0, float t1) {
  return ((t0 > 0.f) != (t1 > 0.f)) && std::fabs(t0) < 1.f && std::fabs(t1) < 1.f;
}

template <typename Fn>
void for_chunks(int64_t n, int64_t chunks, Fn&& fn) {
  chunks = std::max<int64_t>(1, std::min(chunks, n));
  edge3d::parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) fn(c, n * c / chunks, n * (c + 1) / chunks);
  });
}

// SDF gradient (per voxel) at voxel g from its neighbours; one-sided where one is missing.
bool voxel_gradient(Accessor& acc, const int32_t g[3], float min_weight, float out[3]) {
  const int64_t centre = acc.voxel(g[0], g[1], g[2], min_weight);
  if (centre < 0) return false;
  const float tc = acc.tsdf(centre);
  for (int k = 0; k < 3; ++k) {
    int32_t gp[3] = {g[0], g[1], g[2]}, gm[3] = {g[0], g[1], g[2]};
    ++gp[k];
    --gm[k];
    const int64_t p = acc.voxel(gp[0], gp[1], gp[2], min_weight);
    const int64_t m = acc.voxel(gm[0], gm[1], gm[2], min_weight);
    if (p >= 0 && m >= 0) {
      out[k] = 0.5f * (acc.tsdf(p) - acc.tsdf(m));
    } else if (p >= 0) {
      out[k] = acc.tsdf(p) - tc;
    } else if (m >= 0) {
      out[k] = tc - acc.tsdf(m);
    } else {
      return false;
    }
  }
  return true;
}

inline void normalize_or_zero(float v[3]) {
  const float n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  const float inv = n > 1e-12f ? 1.f / n : 0.f;
  for (int k = 0; k < 3; ++k) v[k] *= inv;
}

}  // namespace

SurfacePoints TsdfVolume::extract_points(float min_weight) const {
  std::vector<int32_t> slots;
  for (size_t s = 0; s < used_.size(); ++s)
    if (used_[s]) slots.push_back(static_cast<int32_t>(s));
  const int64_t chunks = 4 * edge3d::default_num_threads();
  std::vector<SurfacePoints> parts(chunks);
  for_chunks(static_cast<int64_t>(slots.size()), chunks, [&](int64_t c, int64_t b, int64_t e) {
    Accessor acc(*this);
    SurfacePoints& out = parts[c];
    for (int64_t i = b; i < e; ++i) {
      const int32_t s = slots[i];
      for (int v = 0; v < kBlockVoxels; ++v) {
        const int32_t g0[3] = {coords_[s * 3] * kBlockSide + (v & 7),
                               coords_[s * 3 + 1] * kBlockSide + ((v >> 3) & 7),
                               coords_[s * 3 + 2] * kBlockSide + (v >> 6)};
        const int64_t off0 = int64_t{s} * kBlockVoxels + v;
        const float w0 = vox_[off0].weight;
        if (!(w0 >= min_weight && w0 > 0.f)) continue;
        const float t0 = vox_[off0].tsdf;
        if (std::fabs(t0) >= 1.f) continue;
        for (int a = 0; a < 3; ++a) {
          int32_t g1[3] = {g0[0], g0[1], g0[2]};
          ++g1[a];
          const int64_t off1 = acc.voxel(g1[0], g1[1], g1[2], min_weight);
          if (off1 < 0) continue;
          const float t1 = acc.tsdf(off1);
          if (!crossing(t0, t1)) continue;
          const float f = t0 / (t0 - t1);
          float n0[3], n1[3], n[3];
          const bool ok0 = voxel_gradient(acc, g0, min_weight, n0);
          const bool ok1 = voxel_gradient(acc, g1, min_weight, n1);
          for (int k = 0; k < 3; ++k)
            n[k] = ok0 && ok1 ? (1.f - f) * n0[k] + f * n1[k] : (ok0 ? n0[k] : (ok1 ? n1[k] : 0.f));
          normalize_or_zero(n);
          const uint8_t* c0 = acc.rgb(off0);
          const uint8_t* c1 = acc.rgb(off1);
          for (int k = 0; k < 3; ++k) {
            out.points.push_back((g0[k] + (k == a ? f : 0.f)) * voxel_);
            out.normals.push_back(n[k]);
            out.colors.push_back(static_cast<uint8_t>((1.f - f) * c0[k] + f * c1[k] + 0.5f));
          }
        }
      }
    }
  });
  SurfacePoints all;
  for (auto& p : parts) {
    all.points.insert(all.points.end(), p.points.begin(), p.points.end());
    all.normals.insert(all.normals.end(), p.normals.begin(), p.normals.end());
    all.colors.insert(all.colors.end(), p.colors.begin(), p.colors.end());
  }
  return all;
}

// Naive surface nets (a dual form of marching cubes): one vertex per cell whose edges carry the
// surface, at the mean of the edge crossings; one quad per surface-carrying voxel edge, joining
// the four cells around it. Watertight where all cells are observed, no case tables needed.
struct MeshBuilder {
  const TsdfVolume& vol;
  float min_weight;
  std::vector<int32_t> slots;         // used slots in order
  std::vector<int32_t> compact;       // slot -> index into `slots`, -1 if unused
  std::vector<int32_t> cell_vertex;   // [slots.size() * 512] local vertex id or -1
  std::vector<int64_t> vertex_base;   // per compact block: first global vertex id

  explicit MeshBuilder(const TsdfVolume& v, float mw) : vol(v), min_weight(mw) {
    compact.assign(v.used_.size(), -1);
    for (size_t s = 0; s < v.used_.size(); ++s) {
      if (!v.used_[s]) continue;
      compact[s] = static_cast<int32_t>(slots.size());
      slots.push_back(static_cast<int32_t>(s));
    }
    cell_vertex.assign(slots.size() * kBlockVoxels, -1);
    vertex_base.assign(slots.size() + 1, 0);
  }

  int32_t block_origin(int32_t s, int k) const { return vol.coords_[s * 3 + k] * kBlockSide; }

  SurfaceMesh build() {
    const int64_t nb = static_cast<int64_t>(slots.size());
    std::vector<std::vector<float>> verts(nb);
    std::vector<std::vector<uint8_t>> cols(nb);
    // Pass 1: cell vertices. Each block writes only its own cells.
    edge3d::parallel_for(nb, 16, [&](int64_t b, int64_t e) {
      Accessor acc(vol);
      for (int64_t i = b; i < e; ++i) cell_vertices(acc, i, verts[i], cols[i]);
    });
    for (int64_t i = 0; i < nb; ++i)
      vertex_base[i + 1] = vertex_base[i] + static_cast<int64_t>(verts[i].size() / 3);
    // Pass 2: quads, collected per chunk and concatenated in order.
    const int64_t chunks = 4 * edge3d::default_num_threads();
    std::vector<std::vector<int32_t>> faces(chunks);
    for_chunks(nb, chunks, [&](int64_t c, int64_t b, int64_t e) {
      Accessor acc(vol);
      for (int64_t i = b; i < e; ++i) quads(acc, i, faces[c]);
    });
    SurfaceMesh mesh;
    mesh.vertices.reserve(vertex_base[nb] * 3);
    mesh.colors.reserve(vertex_base[nb] * 3);
    for (int64_t i = 0; i < nb; ++i) {
      mesh.vertices.insert(mesh.vertices.end(), verts[i].begin(), verts[i].end());
      mesh.colors.insert(mesh.colors.end(), cols[i].begin(), cols[i].end());
    }
    for (auto& f : faces) mesh.faces.insert(mesh.faces.end(), f.begin(), f.end());
    return mesh;
  }

  void cell_vertices(Accessor& acc, int64_t ci, std::vector<float>& verts,
                     std::vector<uint8_t>& cols) {
    const int32_t s = slots[ci];
    int32_t local = 0;
    for (int v = 0; v < kBlockVoxels; ++v) {
      const int32_t g[3] = {block_origin(s, 0) + (v & 7), block_origin(s, 1) + ((v >> 3) & 7),
                            block_origin(s, 2) + (v >> 6)};
      std::array<int64_t, 8> off;
      bool complete = true;
      for (int corner = 0; corner < 8 && complete; ++corner) {
        off[corner] = acc.voxel(g[0] + (corner & 1), g[1] + ((corner >> 1) & 1),
                                g[2] + (corner >> 2), min_weight);
        complete = off[corner] >= 0;
      }
      if (!complete) continue;
      float sum[3] = {0.f, 0.f, 0.f}, rgb[3] = {0.f, 0.f, 0.f};
      int hits = 0;
      for (int corner = 0; corner < 8; ++corner) {
        for (int a = 0; a < 3; ++a) {
          if (corner & (1 << a)) continue;  // each edge once, from its lower corner
          const int other = corner | (1 << a);
          const float t0 = acc.tsdf(off[corner]), t1 = acc.tsdf(off[other]);
          if (!crossing(t0, t1)) continue;
          const float f = t0 / (t0 - t1);
          const uint8_t* c0 = acc.rgb(off[corner]);
          const uint8_t* c1 = acc.rgb(off[other]);
          for (int k = 0; k < 3; ++k) {
            sum[k] += ((corner >> k) & 1) + (k == a ? f : 0.f);
            rgb[k] += (1.f - f) * c0[k] + f * c1[k];
          }
          ++hits;
        }
      }
      if (hits == 0) continue;
      for (int k = 0; k < 3; ++k) {
        verts.push_back((g[k] + sum[k] / hits) * vol.voxel_);
        cols.push_back(static_cast<uint8_t>(rgb[k] / hits + 0.5f));
      }
      cell_vertex[ci * kBlockVoxels + v] = local++;
    }
  }

  int64_t vertex_at(Accessor& acc, const int32_t g[3]) {
    const int32_t s = acc.slot(g[0] >> 3, g[1] >> 3, g[2] >> 3);
    if (s < 0) return -1;
    const int32_t ci = compact[s];
    const int32_t local = cell_vertex[int64_t{ci} * kBlockVoxels +
                                      (((g[2] & 7) * kBlockSide + (g[1] & 7)) * kBlockSide +
                                       (g[0] & 7))];
    return local < 0 ? -1 : vertex_base[ci] + local;
  }

  void quads(Accessor& acc, int64_t ci, std::vector<int32_t>& faces) {
    const int32_t s = slots[ci];
    for (int v = 0; v < kBlockVoxels; ++v) {
      const int32_t g[3] = {block_origin(s, 0) + (v & 7), block_origin(s, 1) + ((v >> 3) & 7),
                            block_origin(s, 2) + (v >> 6)};
      const int64_t off0 = acc.voxel(g[0], g[1], g[2], min_weight);
      if (off0 < 0) continue;
      const float t0 = acc.tsdf(off0);
      for (int a = 0; a < 3; ++a) {
        int32_t g1[3] = {g[0], g[1], g[2]};
        ++g1[a];
        const int64_t off1 = acc.voxel(g1[0], g1[1], g1[2], min_weight);
        if (off1 < 0 || !crossing(t0, acc.tsdf(off1))) continue;
        const int b = (a + 1) % 3, c = (a + 2) % 3;
        int32_t cells[4][3];
        for (int q = 0; q < 4; ++q) std::copy(g, g + 3, cells[q]);
        --cells[1][b];
        --cells[2][b];
        --cells[2][c];
        --cells[3][c];
        int64_t id[4];
        bool all = true;
        for (int q = 0; q < 4 && all; ++q) {
          id[q] = vertex_at(acc, cells[q]);
          all = id[q] >= 0;
        }
        if (!all) continue;
        // This cycle winds counter-clockwise about +a; flip it when the outside is at -a.
        if (t0 < 0.f) {
          faces.insert(faces.end(), {int32_t(id[0]), int32_t(id[1]), int32_t(id[2]),
                                     int32_t(id[0]), int32_t(id[2]), int32_t(id[3])});
        } else {
          faces.insert(faces.end(), {int32_t(id[0]), int32_t(id[2]), int32_t(id[1]),
                                     int32_t(id[0]), int32_t(id[3]), int32_t(id[2])});
        }
      }
    }
  }
};

SurfaceMesh TsdfVolume::extract_mesh(float min_weight) const {
  return MeshBuilder(*this, min_weight).build();
}

RaycastResult TsdfVolume::raycast(const Pinhole& cam, const double* T_V_C, float depth_min,
                                  float depth_max, float min_weight) const {
  const Rigid T = Rigid::from_matrix(T_V_C);
  const int64_t npix = int64_t{cam.width} * cam.height;
  RaycastResult out;
  out.depth.assign(npix, 0.f);
  out.vertex.assign(npix * 3, 0.f);
  out.normal.assign(npix * 3, 0.f);
  out.color.assign(npix * 3, 0);
  const float vs = voxel_, inv_vs = 1.f / voxel_;
  // Rows are dealt out interleaved: ray cost varies a lot between the top and the bottom of an
  // image (walls far away, floor near), so contiguous halves would leave one thread idle.
  const int64_t lanes = std::max(1, std::min(edge3d::default_num_threads(), cam.height));
  edge3d::parallel_for(lanes, 1, [&](int64_t lane_begin, int64_t lane_end) {
    Accessor acc(*this);
    for (int64_t lane = lane_begin; lane < lane_end; ++lane) {
      for (int64_t v = lane; v < cam.height; v += lanes) {
        for (int u = 0; u < cam.width; ++u) {
          const float xn = (u - cam.cx) / cam.fx, yn = (v - cam.cy) / cam.fy;
          const float dir[3] = {T.r[0] * xn + T.r[1] * yn + T.r[2],
                                T.r[3] * xn + T.r[4] * yn + T.r[5],
                                T.r[6] * xn + T.r[7] * yn + T.r[8]};
          const float norm = std::sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
          // Ray parameter is the camera z, so a ray step of length L is a z step of L / norm.
          const float voxel_step = vs / norm;
          float z = depth_min, prev_z = 0.f, prev_t = 0.f;
          bool prev_valid = false;
          float hit_z = -1.f;
          while (z < depth_max) {
            const float p[3] = {T.t[0] + z * dir[0], T.t[1] + z * dir[1], T.t[2] + z * dir[2]};
            const int32_t g[3] = {fast_round(p[0] * inv_vs), fast_round(p[1] * inv_vs),
                                  fast_round(p[2] * inv_vs)};
            if (acc.slot(g[0] >> 3, g[1] >> 3, g[2] >> 3) < 0) {
              // Unmapped block: jump to where the ray leaves it, or its whole superblock when
              // that is empty too. Block b owns the points that round to its voxels, i.e.
              // [(8 b - 0.5) vs, (8 b + 7.5) vs) per axis; superblocks likewise.
              const int shift = acc.super_occupied(g[0] >> 3, g[1] >> 3, g[2] >> 3)
                                    ? 3 : 3 + kSuperShift;
              const float len = static_cast<float>(1 << shift) * vs;
              float exit = std::numeric_limits<float>::infinity();
              for (int k = 0; k < 3; ++k) {
                if (dir[k] == 0.f) continue;
                const float lo = (static_cast<float>((g[k] >> shift) << shift) - 0.5f) * vs;
                const float bound = dir[k] > 0.f ? lo + len : lo;
                exit = std::min(exit, (bound - p[k]) / dir[k]);
              }
              prev_valid = false;
              z += std::max(exit, 0.f) + 0.01f * voxel_step;
              continue;
            }
            const int64_t off = acc.voxel(g[0], g[1], g[2], min_weight);
            if (off < 0) {
              prev_valid = false;
              z += voxel_step;
              continue;
            }
            const float t = acc.tsdf(off);
            if (t <= 0.f) {
              if (prev_valid && prev_t > 0.f) {
                // The nearest-voxel values bracket the crossing only roughly; find the zero of the
                // trilinear SDF along the ray (a secant step), widening the bracket by a voxel on
                // either side when the trilinear values do not bracket it.
                auto sdf_at = [&](float zz, float& out) {
                  const float q[3] = {(T.t[0] + zz * dir[0]) * inv_vs,
                                      (T.t[1] + zz * dir[1]) * inv_vs,
                                      (T.t[2] + zz * dir[2]) * inv_vs};
                  return acc.trilinear(q, min_weight, out);
                };
                float za = prev_z, zb = z, fa, fb;
                bool ok = sdf_at(za, fa) && sdf_at(zb, fb);
                if (ok && fa <= 0.f) {
                  za = prev_z - voxel_step;
                  ok = sdf_at(za, fa) && fa > 0.f;
                }
                if (ok && fb > 0.f) {
                  zb = z + voxel_step;
                  ok = sdf_at(zb, fb) && fb <= 0.f;
                }
                if (ok) {
                  // One secant step: the SDF is close to linear across a voxel or two.
                  hit_z = za + (zb - za) * fa / (fa - fb);
                } else {
                  hit_z = prev_z + (z - prev_z) * prev_t / (prev_t - t);
                }
              }
              break;  // a crossing, or the ray started behind a surface
            }
            prev_valid = true;
            prev_t = t;
            prev_z = z;
            z += std::max(voxel_step, 0.7f * t * trunc_ / norm);
          }
          if (hit_z <= 0.f) continue;
          const int64_t pix = v * cam.width + u;
          const float p[3] = {T.t[0] + hit_z * dir[0], T.t[1] + hit_z * dir[1],
                              T.t[2] + hit_z * dir[2]};
          const float q[3] = {p[0] * inv_vs, p[1] * inv_vs, p[2] * inv_vs};
          out.depth[pix] = hit_z;
          for (int k = 0; k < 3; ++k) out.vertex[pix * 3 + k] = p[k];
          float grad[3], rgb[3], t_hit;
          if (acc.trilinear(q, min_weight, t_hit, rgb, grad)) {
            normalize_or_zero(grad);
            for (int k = 0; k < 3; ++k) {
              out.normal[pix * 3 + k] = grad[k];
              out.color[pix * 3 + k] = static_cast<uint8_t>(std::clamp(rgb[k] + 0.5f, 0.f, 255.f));
            }
          }
        }
      }
    }
  });
  return out;
}

}  // namespace edge3d::tsdf
