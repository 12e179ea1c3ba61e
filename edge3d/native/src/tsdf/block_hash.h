// Open-addressing hash map from packed block coordinates to pool slots.
//
// Linear probing with backward-shift deletion (no tombstones), so lookups stay short after many
// evictions. Not thread-safe for writes: the volume inserts and erases on one thread, between the
// parallel passes that only read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edge3d::tsdf {

// Block coordinates are packed into 21 bits each (range [-2^20, 2^20) blocks, i.e. +-84 km at
// 1 cm voxels), which makes a key one int64.
constexpr int32_t kCoordOffset = 1 << 20;
constexpr int64_t kEmptyKey = INT64_MIN;

inline bool block_in_range(int32_t x, int32_t y, int32_t z) {
  return x >= -kCoordOffset && x < kCoordOffset && y >= -kCoordOffset && y < kCoordOffset &&
         z >= -kCoordOffset && z < kCoordOffset;
}

inline int64_t pack_block(int32_t x, int32_t y, int32_t z) {
  return (static_cast<int64_t>(x + kCoordOffset) << 42) |
         (static_cast<int64_t>(y + kCoordOffset) << 21) | static_cast<int64_t>(z + kCoordOffset);
}

inline void unpack_block(int64_t key, int32_t& x, int32_t& y, int32_t& z) {
  constexpr int64_t mask = (int64_t{1} << 21) - 1;
  x = static_cast<int32_t>((key >> 42) & mask) - kCoordOffset;
  y = static_cast<int32_t>((key >> 21) & mask) - kCoordOffset;
  z = static_cast<int32_t>(key & mask) - kCoordOffset;
}

inline uint64_t mix_key(int64_t key) {
  // splitmix64 finaliser: neighbouring blocks land far apart in the table.
  uint64_t x = static_cast<uint64_t>(key);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

class BlockHash {
 public:
  BlockHash() { clear(); }

  int32_t find(int64_t key) const {
    std::size_t i = mix_key(key) & mask_;
    while (true) {
      const int64_t k = keys_[i];
      if (k == key) return vals_[i];
      if (k == kEmptyKey) return -1;
      i = (i + 1) & mask_;
    }
  }

  // Inserts or overwrites.
  void insert(int64_t key, int32_t value) {
    if ((size_ + 1) * 2 > keys_.size()) rebuild(keys_.size() * 2);
    std::size_t i = mix_key(key) & mask_;
    while (keys_[i] != kEmptyKey && keys_[i] != key) i = (i + 1) & mask_;
    if (keys_[i] == kEmptyKey) ++size_;
    keys_[i] = key;
    vals_[i] = value;
  }

  void erase(int64_t key) {
    std::size_t i = mix_key(key) & mask_;
    while (keys_[i] != key) {
      if (keys_[i] == kEmptyKey) return;
      i = (i + 1) & mask_;
    }
    // Backward shift: move later entries of the probe run into the hole when their home slot
    // does not lie cyclically in (hole, current].
    std::size_t j = i;
    while (true) {
      j = (j + 1) & mask_;
      if (keys_[j] == kEmptyKey) break;
      const std::size_t home = mix_key(keys_[j]) & mask_;
      const bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) {
        keys_[i] = keys_[j];
        vals_[i] = vals_[j];
        i = j;
      }
    }
    keys_[i] = kEmptyKey;
    --size_;
  }

  void clear() {
    keys_.assign(64, kEmptyKey);
    vals_.assign(64, -1);
    mask_ = 63;
    size_ = 0;
  }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return keys_.size() * (sizeof(int64_t) + sizeof(int32_t)); }

 private:
  void rebuild(std::size_t capacity) {
    std::vector<int64_t> old_keys = std::move(keys_);
    std::vector<int32_t> old_vals = std::move(vals_);
    keys_.assign(capacity, kEmptyKey);
    vals_.assign(capacity, -1);
    mask_ = capacity - 1;
    size_ = 0;
    for (std::size_t i = 0; i < old_keys.size(); ++i)
      if (old_keys[i] != kEmptyKey) insert(old_keys[i], old_vals[i]);
  }

  std::vector<int64_t> keys_;
  std::vector<int32_t> vals_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace edge3d::tsdf
