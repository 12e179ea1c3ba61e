// TSDF integration, block allocation and the bounded block budget.
#include "tsdf/tsdf_volume.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "common/parallel.h"
#include "common/simd.h"

namespace edge3d::tsdf {

Rigid Rigid::from_matrix(const double* m) {
  Rigid T{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) T.r[i * 3 + j] = static_cast<float>(m[i * 4 + j]);
    T.t[i] = static_cast<float>(m[i * 4 + 3]);
  }
  return T;
}

Rigid Rigid::inverse() const {
  Rigid T{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) T.r[i * 3 + j] = r[j * 3 + i];
  for (int i = 0; i < 3; ++i)
    T.t[i] = -(T.r[i * 3 + 0] * t[0] + T.r[i * 3 + 1] * t[1] + T.r[i * 3 + 2] * t[2]);
  return T;
}

TsdfVolume::TsdfVolume(float voxel_size, float truncation, int64_t max_blocks, float max_weight)
    : voxel_(voxel_size), trunc_(truncation), max_weight_(max_weight), max_blocks_(max_blocks) {
  if (!(voxel_size > 0.f) || !(truncation >= voxel_size) || !(max_weight >= 1.f))
    throw std::invalid_argument(
        "TsdfVolume needs voxel_size > 0, truncation >= voxel_size and max_weight >= 1");
}

namespace {

// Visits the blocks a segment crosses (Amanatides & Woo traversal in block units).
template <typename Visit>
void traverse_blocks(const float a[3], const float b[3], Visit&& visit) {
  int32_t cell[3], last[3], step[3];
  float tmax[3], tdelta[3];
  for (int k = 0; k < 3; ++k) {
    cell[k] = fast_floor(a[k]);
    last[k] = fast_floor(b[k]);
    const float d = b[k] - a[k];
    if (d > 0.f) {
      step[k] = 1;
      tdelta[k] = 1.f / d;
      tmax[k] = (static_cast<float>(cell[k]) + 1.f - a[k]) * tdelta[k];
    } else if (d < 0.f) {
      step[k] = -1;
      tdelta[k] = -1.f / d;
      tmax[k] = (a[k] - static_cast<float>(cell[k])) * tdelta[k];
    } else {
      step[k] = 0;
      tdelta[k] = tmax[k] = std::numeric_limits<float>::infinity();
    }
  }
  visit(cell[0], cell[1], cell[2]);
  if (cell[0] == last[0] && cell[1] == last[1] && cell[2] == last[2]) return;
  for (int guard = 0; guard < 64; ++guard) {
    if (cell[0] == last[0] && cell[1] == last[1] && cell[2] == last[2]) break;
    const int k = tmax[0] < tmax[1] ? (tmax[0] < tmax[2] ? 0 : 2) : (tmax[1] < tmax[2] ? 1 : 2);
    if (tmax[k] > 1.f) break;
    cell[k] += step[k];
    tmax[k] += tdelta[k];
    visit(cell[0], cell[1], cell[2]);
  }
}

// Splits [0, n) into `chunks` index ranges run in parallel; fn(chunk, begin, end). Outputs kept
// per chunk and concatenated in chunk order are identical for every thread count.
template <typename Fn>
void for_chunks(int64_t n, int64_t chunks, Fn&& fn) {
  chunks = std::max<int64_t>(1, std::min(chunks, n));
  edge3d::parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) fn(c, n * c / chunks, n * (c + 1) / chunks);
  });
}

}  // namespace

std::vector<int64_t> TsdfVolume::touched_blocks(const uint16_t* depth, float depth_scale,
                                                const Pinhole& cam, const Rigid& T,
                                                float depth_min, float depth_max) const {
  const int64_t chunks = 4 * edge3d::default_num_threads();
  std::vector<std::vector<int64_t>> found(chunks);
  const float inv_block = 1.f / (voxel_ * kBlockSide);
  // Rays sample the image every `stride` pixels (Open3D's block touching subsamples too): the
  // stride is chosen so that neighbouring samples at depth_max are at most half a block apart,
  // and at most 8 pixels. At 5 cm voxels that is a quarter of the rays of stride 4 for 2 %
  // fewer blocks, 0.2 to 0.45 m from the surface (docs/benchmarks/fusion.md).
  const int stride = std::clamp(
      static_cast<int>(0.5f * kBlockSide * voxel_ * std::min(cam.fx, cam.fy) / depth_max), 1, 8);
  const int64_t rows = (cam.height + stride - 1) / stride;
  for_chunks(rows, chunks, [&](int64_t c, int64_t row_begin, int64_t row_end) {
    // Neighbouring pixels hit the same blocks; a small direct-mapped cache removes most repeats
    // before the global sort.
    constexpr int kCache = 1024;
    std::vector<int64_t> cache(kCache, kEmptyKey);
    auto& out = found[c];
    for (int64_t v = row_begin * stride; v < row_end * stride; v += stride) {
      const float yn = (static_cast<float>(v) - cam.cy) / cam.fy;
      for (int u = 0; u < cam.width; u += stride) {
        const float d = depth[v * cam.width + u] * depth_scale;
        if (!(d > depth_min && d <= depth_max)) continue;
        const float xn = (static_cast<float>(u) - cam.cx) / cam.fx;
        const float dir[3] = {T.r[0] * xn + T.r[1] * yn + T.r[2],
                              T.r[3] * xn + T.r[4] * yn + T.r[5],
                              T.r[6] * xn + T.r[7] * yn + T.r[8]};
        const float z0 = std::max(d - trunc_, depth_min), z1 = d + trunc_;
        float a[3], b[3];
        for (int k = 0; k < 3; ++k) {
          a[k] = (T.t[k] + z0 * dir[k]) * inv_block;
          b[k] = (T.t[k] + z1 * dir[k]) * inv_block;
        }
        traverse_blocks(a, b, [&](int32_t x, int32_t y, int32_t z) {
          if (!block_in_range(x, y, z)) return;
          const int64_t key = pack_block(x, y, z);
          int64_t& slot = cache[mix_key(key) & (kCache - 1)];
          if (slot == key) return;
          slot = key;
          out.push_back(key);
        });
      }
    }
  });
  size_t total = 0;
  for (auto& f : found) total += f.size();
  std::vector<int64_t> keys;
  keys.reserve(total);
  for (auto& f : found) keys.insert(keys.end(), f.begin(), f.end());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

int32_t TsdfVolume::new_slot() {
  if (free_.empty()) {
    const int64_t cap = static_cast<int64_t>(used_.size());
    int64_t grown = std::max<int64_t>(256, cap * 2);
    if (max_blocks_ > 0) grown = std::min(grown, max_blocks_);
    vox_.resize(grown * kBlockVoxels);
    color_.resize(grown * kBlockVoxels * 3);
    coords_.resize(grown * 3);
    last_seen_.resize(grown);
    used_.resize(grown, 0);
    for (int64_t s = grown - 1; s >= cap; --s) free_.push_back(static_cast<int32_t>(s));
  }
  const int32_t s = free_.back();
  free_.pop_back();
  return s;
}

void TsdfVolume::count_super(int32_t bx, int32_t by, int32_t bz, int32_t delta) {
  const int64_t key = pack_block(bx >> kSuperShift, by >> kSuperShift, bz >> kSuperShift);
  const int32_t n = std::max(0, super_.find(key)) + delta;
  if (n > 0) {
    super_.insert(key, n);
  } else {
    super_.erase(key);
  }
}

void TsdfVolume::evict(int64_t count, const float cam_pos[3]) {
  // Stale blocks (unseen for kStaleFrames frames) go first, then far ones: what the camera is
  // near, and has seen lately, stays mapped.
  constexpr int64_t kStaleFrames = 300;
  constexpr float kStaleBonus = 1e12f;  // larger than any squared distance in metres
  std::vector<std::pair<float, int32_t>> candidates;
  const float half = 0.5f * kBlockSide * voxel_;
  for (size_t s = 0; s < used_.size(); ++s) {
    if (!used_[s] || last_seen_[s] == frame_) continue;
    float d2 = 0.f;
    for (int k = 0; k < 3; ++k) {
      const float c = coords_[s * 3 + k] * kBlockSide * voxel_ + half - cam_pos[k];
      d2 += c * c;
    }
    const bool stale = frame_ - last_seen_[s] > kStaleFrames;
    candidates.emplace_back(-(d2 + (stale ? kStaleBonus : 0.f)), static_cast<int32_t>(s));
  }
  count = std::min<int64_t>(count, static_cast<int64_t>(candidates.size()));
  if (count <= 0) return;
  std::nth_element(candidates.begin(), candidates.begin() + (count - 1), candidates.end());
  for (int64_t i = 0; i < count; ++i) {
    const int32_t s = candidates[i].second;
    hash_.erase(pack_block(coords_[s * 3], coords_[s * 3 + 1], coords_[s * 3 + 2]));
    count_super(coords_[s * 3], coords_[s * 3 + 1], coords_[s * 3 + 2], -1);
    used_[s] = 0;
    free_.push_back(s);
  }
  blocks_ -= count;
  evicted_ += count;
}

std::vector<int32_t> TsdfVolume::allocate(const std::vector<int64_t>& keys, const Rigid& T) {
  std::vector<int32_t> slots;
  slots.reserve(keys.size());
  std::vector<int64_t> missing;
  for (int64_t key : keys) {
    const int32_t s = hash_.find(key);
    if (s >= 0) {
      last_seen_[s] = frame_;
      slots.push_back(s);
    } else {
      missing.push_back(key);
    }
  }
  if (max_blocks_ > 0 && blocks_ + static_cast<int64_t>(missing.size()) > max_blocks_) {
    const int64_t need = blocks_ + static_cast<int64_t>(missing.size()) - max_blocks_;
    evict(need + max_blocks_ / 16, T.t);  // evicting a little extra amortises the scan
    const int64_t room = max_blocks_ - blocks_;
    if (static_cast<int64_t>(missing.size()) > room) {
      // The frame alone needs more than the budget: keep its nearest new blocks.
      const float half = 0.5f;
      std::vector<std::pair<float, int64_t>> by_dist;
      for (int64_t key : missing) {
        int32_t x, y, z;
        unpack_block(key, x, y, z);
        const float c[3] = {(x + half) * kBlockSide * voxel_ - T.t[0],
                            (y + half) * kBlockSide * voxel_ - T.t[1],
                            (z + half) * kBlockSide * voxel_ - T.t[2]};
        by_dist.emplace_back(c[0] * c[0] + c[1] * c[1] + c[2] * c[2], key);
      }
      std::sort(by_dist.begin(), by_dist.end());
      dropped_ += static_cast<int64_t>(missing.size()) - room;
      missing.clear();
      for (int64_t i = 0; i < room; ++i) missing.push_back(by_dist[i].second);
      std::sort(missing.begin(), missing.end());
    }
  }
  for (int64_t key : missing) {
    const int32_t s = new_slot();
    int32_t x, y, z;
    unpack_block(key, x, y, z);
    coords_[s * 3] = x;
    coords_[s * 3 + 1] = y;
    coords_[s * 3 + 2] = z;
    std::fill_n(&vox_[int64_t{s} * kBlockVoxels], kBlockVoxels, Voxel{1.f, 0.f});
    std::fill_n(&color_[int64_t{s} * kBlockVoxels * 3], kBlockVoxels * 3, uint8_t{0});
    last_seen_[s] = frame_;
    used_[s] = 1;
    hash_.insert(key, s);
    count_super(x, y, z, +1);
    slots.push_back(s);
    ++blocks_;
  }
  return slots;
}

namespace {

// One block's update runs in passes over its 512 voxels. The passes have no branches and
// their pointers do not alias, so the compiler vectorises the projection and the running
// average; only the depth and colour reads are scalar gathers.
struct BlockScratch {
  alignas(64) int32_t pix[kBlockVoxels];      // pixel each voxel projects to, -1 if none
  alignas(64) float z[kBlockVoxels];          // camera-frame depth of the voxel
  alignas(64) float d[kBlockVoxels];          // measured depth at pix
  alignas(64) float w_new[kBlockVoxels];      // measurement weight, then its share of the update
  alignas(64) float w_old[kBlockVoxels];      // the running average's share of the update
  alignas(64) int32_t ok[kBlockVoxels];       // 1 where the voxel was updated
  alignas(64) int32_t updated[kBlockVoxels];  // their indices, ok ones first
  alignas(64) uint8_t rgb[kBlockVoxels][4];   // measured colour of the updated voxels
};

// The two per-voxel passes have AVX2 clones: 15 to 20 % faster integration.
// Voxel v = x + 8 y + 64 z sits at p0 + x dx + y dy + z dz in the camera frame.
EDGE3D_VECTOR_CLONES
void project_block(const float p0[3], const float dx[3], const float dy[3], const float dz[3],
                   const Pinhole& cam, float depth_min, int32_t* __restrict pix,
                   float* __restrict z) {
  const float width = static_cast<float>(cam.width), height = static_cast<float>(cam.height);
  for (int v = 0; v < kBlockVoxels; ++v) {
    const float fx = static_cast<float>(v & 7), fy = static_cast<float>((v >> 3) & 7),
                fz = static_cast<float>(v >> 6);
    const float px = p0[0] + fx * dx[0] + fy * dy[0] + fz * dz[0];
    const float py = p0[1] + fx * dx[1] + fy * dy[1] + fz * dz[1];
    const float pz = p0[2] + fx * dx[2] + fy * dy[2] + fz * dz[2];
    const bool front = pz > depth_min;
    const float inv_z = 1.f / edge3d::select(front, pz, 1.f);
    const float uf = cam.fx * px * inv_z + cam.cx + 0.5f;
    const float vf = cam.fy * py * inv_z + cam.cy + 0.5f;
    const bool in = front & (uf >= 0.f) & (vf >= 0.f) & (uf < width) & (vf < height);
    // Truncation towards zero is floor here: both are >= 0 where in.
    const int32_t p = static_cast<int32_t>(edge3d::select(in, vf, 0.f)) * cam.width +
                      static_cast<int32_t>(edge3d::select(in, uf, 0.f));
    pix[v] = p | ~static_cast<int32_t>(0u - static_cast<uint32_t>(in));  // -1 where not in
    z[v] = pz;
  }
}

struct AverageParams {
  float depth_min, depth_max, trunc, inv_trunc, max_weight;
};

// The weighted running average of the truncated SDF where the depth is valid and the voxel is
// at most the truncation behind it. w_new holds the measurement weights on entry; on return it
// and w_old hold the shares of the measurement and of the old value in the new one, which the
// colour average reuses, and ok says which voxels were updated.
EDGE3D_VECTOR_CLONES
void average_block(const AverageParams& a, const int32_t* __restrict pix,
                   const float* __restrict z, const float* __restrict d,
                   float* __restrict tsdf_weight, float* __restrict w_old,
                   float* __restrict w_new, int32_t* __restrict ok_out) {
  for (int v = 0; v < kBlockVoxels; ++v) {
    const float sdf = d[v] - z[v];
    const bool ok =
        (pix[v] >= 0) & (d[v] > a.depth_min) & (d[v] <= a.depth_max) & (sdf >= -a.trunc);
    const float t_new = std::min(1.f, sdf * a.inv_trunc);
    const float w_obs = w_new[v];
    const float t_old = tsdf_weight[2 * v], w = tsdf_weight[2 * v + 1];
    const float w1 = w + w_obs;
    const float inv_w1 = 1.f / w1;
    const float t = (t_old * w + t_new * w_obs) * inv_w1;
    tsdf_weight[2 * v] = edge3d::select(ok, t, t_old);
    tsdf_weight[2 * v + 1] = edge3d::select(ok, std::min(w1, a.max_weight), w);
    w_old[v] = w * inv_w1;
    w_new[v] = w_obs * inv_w1;
    ok_out[v] = ok;
  }
}

}  // namespace

int64_t TsdfVolume::integrate(const uint16_t* depth, float depth_scale, const uint8_t* color,
                              const Pinhole& cam, const double* T_V_C, float depth_min,
                              float depth_max, int weight_power) {
  if (weight_power < 0 || weight_power > 8)
    throw std::invalid_argument("weight_power must be in [0, 8]");
  ++frame_;
  const Rigid T = Rigid::from_matrix(T_V_C);
  const Rigid Tcv = T.inverse();
  const std::vector<int32_t> slots =
      allocate(touched_blocks(depth, depth_scale, cam, T, depth_min, depth_max), T);

  const AverageParams avg{depth_min, depth_max, trunc_, 1.f / trunc_, max_weight_};
  const float vs = voxel_;
  static_assert(sizeof(Voxel) == 2 * sizeof(float), "tsdf and weight interleaved");
  // Each block is updated by exactly one thread, so the result does not depend on threading.
  edge3d::parallel_for(static_cast<int64_t>(slots.size()), 8, [&](int64_t b, int64_t e) {
    BlockScratch k;
    for (int64_t i = b; i < e; ++i) {
      const int32_t s = slots[i];
      const int64_t base = int64_t{s} * kBlockVoxels;
      const float origin[3] = {coords_[s * 3] * kBlockSide * vs,
                               coords_[s * 3 + 1] * kBlockSide * vs,
                               coords_[s * 3 + 2] * kBlockSide * vs};
      float p0[3], dx[3], dy[3], dz[3];
      for (int a = 0; a < 3; ++a) {
        p0[a] = Tcv.r[a * 3] * origin[0] + Tcv.r[a * 3 + 1] * origin[1] +
                Tcv.r[a * 3 + 2] * origin[2] + Tcv.t[a];
        dx[a] = Tcv.r[a * 3] * vs;
        dy[a] = Tcv.r[a * 3 + 1] * vs;
        dz[a] = Tcv.r[a * 3 + 2] * vs;
      }
      project_block(p0, dx, dy, dz, cam, depth_min, k.pix, k.z);
      // Pixel -1 reads pixel 0; average_block masks it out. The reads miss the cache more often
      // than not; a short loop with nothing else in it keeps many misses in flight.
      for (int v = 0; v < kBlockVoxels; ++v)
        k.d[v] = depth[std::max(k.pix[v], 0)] * depth_scale;
      if (weight_power == 0) {
        std::fill_n(k.w_new, kBlockVoxels, 1.f);
      } else {
        for (int v = 0; v < kBlockVoxels; ++v) {
          const float inv_d = 1.f / std::max(k.d[v], 1.f);
          float w_obs = 1.f;
          for (int p = 0; p < weight_power; ++p) w_obs *= inv_d;
          k.w_new[v] = w_obs;
        }
      }
      average_block(avg, k.pix, k.z, k.d, &vox_[base].tsdf, k.w_old, k.w_new, k.ok);
      if (color == nullptr) continue;
      // Colour is averaged where the SDF was, about half of the block's voxels.
      int n = 0;
      for (int v = 0; v < kBlockVoxels; ++v) {
        k.updated[n] = v;
        n += k.ok[v];
      }
      for (int j = 0; j < n; ++j) {
        const uint8_t* c = &color[int64_t{k.pix[k.updated[j]]} * 3];
        k.rgb[j][0] = c[0];
        k.rgb[j][1] = c[1];
        k.rgb[j][2] = c[2];
      }
      uint8_t* rgb = &color_[base * 3];
      for (int j = 0; j < n; ++j) {
        const int v = k.updated[j];
        for (int a = 0; a < 3; ++a)
          rgb[v * 3 + a] =
              static_cast<uint8_t>(rgb[v * 3 + a] * k.w_old[v] + k.rgb[j][a] * k.w_new[v] + 0.5f);
      }
    }
  });
  return static_cast<int64_t>(slots.size());
}

bool Accessor::trilinear(const float q[3], float min_weight, float& t, float rgb_out[3],
                         float grad_out[3]) {
  const int32_t g[3] = {fast_floor(q[0]), fast_floor(q[1]), fast_floor(q[2])};
  const float f[3] = {q[0] - g[0], q[1] - g[1], q[2] - g[2]};
  float acc = 0.f, c[3] = {0.f, 0.f, 0.f}, grad[3] = {0.f, 0.f, 0.f};
  for (int corner = 0; corner < 8; ++corner) {
    const int o[3] = {corner & 1, (corner >> 1) & 1, corner >> 2};
    const int64_t off = voxel(g[0] + o[0], g[1] + o[1], g[2] + o[2], min_weight);
    if (off < 0) return false;
    float w1[3], dw[3];  // per-axis weights and their derivatives
    for (int k = 0; k < 3; ++k) {
      w1[k] = o[k] ? f[k] : 1.f - f[k];
      dw[k] = o[k] ? 1.f : -1.f;
    }
    const float ti = tsdf(off);
    acc += w1[0] * w1[1] * w1[2] * ti;
    grad[0] += dw[0] * w1[1] * w1[2] * ti;
    grad[1] += w1[0] * dw[1] * w1[2] * ti;
    grad[2] += w1[0] * w1[1] * dw[2] * ti;
    if (rgb_out != nullptr) {
      const uint8_t* r = rgb(off);
      for (int k = 0; k < 3; ++k) c[k] += w1[0] * w1[1] * w1[2] * r[k];
    }
  }
  t = acc;
  if (rgb_out != nullptr)
    for (int k = 0; k < 3; ++k) rgb_out[k] = c[k];
  if (grad_out != nullptr)
    for (int k = 0; k < 3; ++k) grad_out[k] = grad[k];
  return true;
}

void TsdfVolume::query(const float* points, int64_t n, float* sdf, float* weight) const {
  const float inv_vs = 1.f / voxel_;
  edge3d::parallel_for(n, 1024, [&](int64_t b, int64_t e) {
    Accessor acc(*this);
    for (int64_t i = b; i < e; ++i) {
      const float q[3] = {points[i * 3] * inv_vs, points[i * 3 + 1] * inv_vs,
                          points[i * 3 + 2] * inv_vs};
      float t;
      if (acc.trilinear(q, 0.f, t, nullptr)) {
        sdf[i] = t * trunc_;
        const int64_t off = acc.voxel(fast_round(q[0]), fast_round(q[1]), fast_round(q[2]), 0.f);
        weight[i] = off >= 0 ? acc.weight(off) : 0.f;
      } else {
        sdf[i] = std::numeric_limits<float>::quiet_NaN();
        weight[i] = 0.f;
      }
    }
  });
}

std::vector<int32_t> TsdfVolume::block_coords() const {
  std::vector<int32_t> out;
  out.reserve(blocks_ * 3);
  for (size_t s = 0; s < used_.size(); ++s)
    if (used_[s]) out.insert(out.end(), &coords_[s * 3], &coords_[s * 3] + 3);
  return out;
}

void TsdfVolume::clear() {
  hash_.clear();
  super_.clear();
  vox_.clear();
  color_.clear();
  coords_.clear();
  last_seen_.clear();
  used_.clear();
  free_.clear();
  vox_.shrink_to_fit();
  color_.shrink_to_fit();
  blocks_ = 0;
}

VolumeStats TsdfVolume::stats() const {
  const int64_t cap = static_cast<int64_t>(used_.size());
  const int64_t per_block = kBlockVoxels * (sizeof(float) * 2 + 3) + 3 * sizeof(int32_t) +
                            sizeof(int64_t) + 1;
  return VolumeStats{blocks_,  cap,    max_blocks_, evicted_, dropped_, frame_,
                     cap * per_block + static_cast<int64_t>(hash_.bytes())};
}

}  // namespace edge3d::tsdf
