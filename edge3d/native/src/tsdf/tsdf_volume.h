// Block-hashed truncated signed distance volume (KinectFusion's TSDF on Niessner et al.'s voxel
// hashing, as in voxblox / nvblox / Open3D's VoxelBlockGrid): 8^3-voxel blocks allocated where
// depth is observed, each voxel holding a truncated SDF, a weight and an RGB colour.
//
// Conventions: voxel (i, j, k) has its centre at (i, j, k) * voxel_size in the volume frame;
// block b holds voxels 8 b .. 8 b + 7 per axis, stored x fastest. Camera frame is OpenCV's;
// poses are camera-to-volume, row-major 4x4.
#pragma once

#include <cstdint>
#include <vector>

#include "tsdf/block_hash.h"

namespace edge3d::tsdf {

constexpr int kBlockSide = 8;
constexpr int kBlockVoxels = kBlockSide * kBlockSide * kBlockSide;
// Ray casting skips empty space in steps of 4^3-block superblocks where none is allocated.
constexpr int kSuperShift = 2;

// floor() and round-half-up as int without a libm call (std::floor is not inlined unless the
// target has SSE4.1, and these run per voxel and per ray step).
inline int32_t fast_floor(float x) {
  const int32_t i = static_cast<int32_t>(x);
  return i - (x < static_cast<float>(i));
}
inline int32_t fast_round(float x) { return fast_floor(x + 0.5f); }

struct Pinhole {
  int width, height;
  float fx, fy, cx, cy;
};

// Row-major rigid transform in float (poses arrive as float64 and are rounded once).
struct Rigid {
  float r[9];
  float t[3];
  static Rigid from_matrix(const double* m);  // m: row-major 4x4
  Rigid inverse() const;
};

struct VolumeStats {
  int64_t blocks, capacity, max_blocks, evicted, dropped, frames;
  int64_t memory_bytes;
};

struct RaycastResult {
  std::vector<float> depth;    // [H, W] camera z in metres, 0 = no surface
  std::vector<float> vertex;   // [H, W, 3] volume frame, 0 where no surface
  std::vector<float> normal;   // [H, W, 3] volume frame unit, 0 where no surface
  std::vector<uint8_t> color;  // [H, W, 3]
};

struct SurfacePoints {
  std::vector<float> points, normals;  // [N, 3]
  std::vector<uint8_t> colors;         // [N, 3]
};

struct SurfaceMesh {
  std::vector<float> vertices;  // [V, 3]
  std::vector<int32_t> faces;   // [F, 3] counter-clockwise seen from outside (positive SDF)
  std::vector<uint8_t> colors;  // [V, 3]
};

class TsdfVolume {
 public:
  // max_blocks <= 0: unbounded. max_weight caps the running average so the map can change.
  TsdfVolume(float voxel_size, float truncation, int64_t max_blocks, float max_weight);

  // Fuses one depth image (uint16 * depth_scale metres, 0 = invalid) with optional RGB colour
  // (aligned to depth, nullptr for none) seen from pose T_V_C. Each measurement of depth d
  // counts with weight 1 / max(d / 1 m, 1)^weight_power (0: all equal; 2: voxblox's quadratic
  // weight; 4: the inverse variance of stereo depth noise, which grows with d^2). Returns the
  // blocks it touched.
  int64_t integrate(const uint16_t* depth, float depth_scale, const uint8_t* color,
                    const Pinhole& cam, const double* T_V_C, float depth_min, float depth_max,
                    int weight_power);

  SurfacePoints extract_points(float min_weight) const;
  SurfaceMesh extract_mesh(float min_weight) const;
  RaycastResult raycast(const Pinhole& cam, const double* T_V_C, float depth_min,
                        float depth_max, float min_weight) const;
  // Trilinear SDF (metres) and weight at n query points [n, 3]; weight 0 where unobserved.
  void query(const float* points, int64_t n, float* sdf, float* weight) const;

  std::vector<int32_t> block_coords() const;  // [blocks, 3], in slot order
  void clear();
  VolumeStats stats() const;

  float voxel_size() const { return voxel_; }
  float truncation() const { return trunc_; }

 private:
  friend class Accessor;
  friend struct MeshBuilder;

  std::vector<int64_t> touched_blocks(const uint16_t* depth, float depth_scale,
                                      const Pinhole& cam, const Rigid& T, float depth_min,
                                      float depth_max) const;
  // Makes room for and allocates the absent keys; returns the slots to integrate.
  std::vector<int32_t> allocate(const std::vector<int64_t>& keys, const Rigid& T_V_C);
  void evict(int64_t count, const float cam_pos[3]);
  int32_t new_slot();
  void count_super(int32_t bx, int32_t by, int32_t bz, int32_t delta);

  float voxel_, trunc_, max_weight_;
  int64_t max_blocks_;
  BlockHash hash_;
  BlockHash super_;  // superblock -> number of allocated blocks in it
  // tsdf and weight side by side: ray casting and integration touch both, one cache line.
  struct Voxel {
    float tsdf, weight;
  };
  std::vector<Voxel> vox_;
  std::vector<uint8_t> color_;
  std::vector<int32_t> coords_;     // [slots, 3]
  std::vector<int64_t> last_seen_;  // frame number that last touched the slot
  std::vector<uint8_t> used_;
  std::vector<int32_t> free_;
  int64_t frame_ = 0, evicted_ = 0, dropped_ = 0, blocks_ = 0;
};

// Read-only voxel lookups with a one-block cache (most neighbours share a block).
class Accessor {
 public:
  explicit Accessor(const TsdfVolume& v) : v_(v) {}

  // Whether any block of the superblock holding block (bx, by, bz) is allocated.
  bool super_occupied(int32_t bx, int32_t by, int32_t bz) const {
    return v_.super_.find(pack_block(bx >> kSuperShift, by >> kSuperShift, bz >> kSuperShift)) >=
           0;
  }

  inline int32_t slot(int32_t bx, int32_t by, int32_t bz) {
    if (!block_in_range(bx, by, bz)) return -1;
    const int64_t key = pack_block(bx, by, bz);
    if (key != key_) {
      key_ = key;
      slot_ = v_.hash_.find(key);
    }
    return slot_;
  }

  // Voxel at global index (gx, gy, gz); returns the flat voxel offset or -1 if absent/unobserved.
  inline int64_t voxel(int32_t gx, int32_t gy, int32_t gz, float min_weight) {
    const int32_t s = slot(gx >> 3, gy >> 3, gz >> 3);
    if (s < 0) return -1;
    const int64_t off = static_cast<int64_t>(s) * kBlockVoxels +
                        (((gz & 7) * kBlockSide + (gy & 7)) * kBlockSide + (gx & 7));
    const float w = v_.vox_[off].weight;
    return w >= min_weight && w > 0.f ? off : -1;
  }

  float tsdf(int64_t off) const { return v_.vox_[off].tsdf; }
  float weight(int64_t off) const { return v_.vox_[off].weight; }
  const uint8_t* rgb(int64_t off) const { return &v_.color_[off * 3]; }

  // Trilinear interpolation at continuous voxel coordinates q (optionally its colour and its
  // gradient per voxel); false unless all 8 corners are observed.
  bool trilinear(const float q[3], float min_weight, float& t, float rgb_out[3] = nullptr,
                 float grad_out[3] = nullptr);

 private:
  const TsdfVolume& v_;
  int64_t key_ = kEmptyKey;
  int32_t slot_ = -1;
};

}  // namespace edge3d::tsdf
