// Submanifold / strided neighbour tables (the "NBR" im2col table of research/backbones.md 2.1):
// an open-addressing hash of voxel coordinates, probed at query + offset * dilation.
#include <algorithm>

#include "common/parallel.h"
#include "index/index_core.h"

namespace edge3d::index {
namespace {

struct Slot {
  int32_t x, y, z;
  int32_t row;  // -1 when empty
};

inline uint64_t mix(int64_t x, int64_t y, int64_t z) {
  uint64_t h = static_cast<uint64_t>(x) * 0x9E3779B97F4A7C15ull;
  h ^= static_cast<uint64_t>(y) * 0xC2B2AE3D27D4EB4Full;
  h ^= static_cast<uint64_t>(z) * 0x165667B19E3779F9ull;
  h ^= h >> 32;  // splitmix64 finaliser
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h;
}

class VoxelHash {
 public:
  VoxelHash(const int32_t* coords, int64_t m) {
    size_t cap = 16;
    while (cap < static_cast<size_t>(2 * m)) cap <<= 1;
    slots_.assign(cap, Slot{0, 0, 0, -1});
    mask_ = cap - 1;
    for (int64_t i = 0; i < m; ++i) {
      const int32_t* c = coords + 3 * i;
      size_t h = mix(c[0], c[1], c[2]) & mask_;
      while (slots_[h].row >= 0) {
        const Slot& s = slots_[h];
        if (s.x == c[0] && s.y == c[1] && s.z == c[2])
          throw std::invalid_argument(
              "neighbor_table: coords rows " + std::to_string(s.row) + " and " +
              std::to_string(i) + " are the same voxel (" + std::to_string(c[0]) + ", " +
              std::to_string(c[1]) + ", " + std::to_string(c[2]) +
              "); pass unique coordinates, e.g. VoxelGrid.coords from voxelize()");
        h = (h + 1) & mask_;
      }
      slots_[h] = Slot{c[0], c[1], c[2], static_cast<int32_t>(i)};
    }
  }

  // Row of the voxel at (x, y, z), or `missing`. Coordinates outside int32 are never present.
  int32_t find(int64_t x, int64_t y, int64_t z, int32_t missing) const {
    size_t h = mix(x, y, z) & mask_;
    while (true) {
      const Slot& s = slots_[h];
      if (s.row < 0) return missing;
      if (s.x == x && s.y == y && s.z == z) return s.row;
      h = (h + 1) & mask_;
    }
  }

 private:
  std::vector<Slot> slots_;
  size_t mask_;
};

}  // namespace

std::vector<int32_t> neighbor_table(const int32_t* coords, int64_t m, const int32_t* query,
                                    int64_t q, int kernel_size, int dilation, int64_t rows) {
  const int k3 = kernel_size * kernel_size * kernel_size;
  const int32_t pad = static_cast<int32_t>(m);
  std::vector<int32_t> table(rows * k3, pad);
  VoxelHash hash(coords, m);
  // Offsets run from -((k-1)//2): -1..1 for k = 3, 0..1 for k = 2; x slowest, z fastest.
  const int64_t first = -((kernel_size - 1) / 2);
  std::vector<int64_t> off(3 * k3);
  for (int j = 0; j < k3; ++j) {
    off[3 * j + 0] = (first + j / (kernel_size * kernel_size)) * dilation;
    off[3 * j + 1] = (first + (j / kernel_size) % kernel_size) * dilation;
    off[3 * j + 2] = (first + j % kernel_size) * dilation;
  }
  parallel_for(q, 1 << 10, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int32_t* c = query + 3 * i;
      int32_t* row = &table[i * k3];
      for (int j = 0; j < k3; ++j)
        row[j] = hash.find(c[0] + off[3 * j], c[1] + off[3 * j + 1], c[2] + off[3 * j + 2], pad);
    }
  });
  return table;
}

}  // namespace edge3d::index
