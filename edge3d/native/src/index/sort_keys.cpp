// Lexicographic sorting of int32 voxel coordinates: a stable LSD radix sort on packed keys when
// the coordinate ranges fit in 64 bits (always, for real scenes), a comparison sort otherwise.
#include <algorithm>
#include <array>
#include <numeric>

#include "common/parallel.h"
#include "index/index_core.h"

namespace edge3d::index {
namespace {

constexpr int kDigitBits = 8;
constexpr int64_t kBuckets = int64_t{1} << kDigitBits;
constexpr int64_t kChunkGrain = 1 << 16;

int bits_for(uint64_t range) {
  int b = 0;
  while (b < 64 && (range >> b) != 0) ++b;
  return b;
}

// Stable LSD radix sort of `v` on `passes` 8-bit digits, digit(value, pass) giving each. Chunks
// are fixed by index, and a stable sort has one answer, so the thread count never matters.
template <typename T, typename Digit>
void lsd_sort(std::vector<T>& v, int passes, Digit digit) {
  const int64_t n = static_cast<int64_t>(v.size());
  const int64_t chunks =
      std::max<int64_t>(1, std::min<int64_t>(default_num_threads(), n / kChunkGrain));
  std::vector<T> tmp(n);
  std::vector<int64_t> counts(chunks * kBuckets);
  for (int pass = 0; pass < passes; ++pass) {
    std::fill(counts.begin(), counts.end(), 0);
    parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; ++c) {
        int64_t* hist = &counts[c * kBuckets];
        for (int64_t i = n * c / chunks, e = n * (c + 1) / chunks; i < e; ++i)
          ++hist[digit(v[i], pass)];
      }
    });
    // Exclusive prefix over (digit, chunk): chunk c's items of one digit follow chunk c-1's.
    int64_t running = 0;
    for (int64_t d = 0; d < kBuckets; ++d)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t count = counts[c * kBuckets + d];
        counts[c * kBuckets + d] = running;
        running += count;
      }
    parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; ++c) {
        int64_t* pos = &counts[c * kBuckets];
        for (int64_t i = n * c / chunks, e = n * (c + 1) / chunks; i < e; ++i)
          tmp[pos[digit(v[i], pass)]++] = v[i];
      }
    });
    v.swap(tmp);
  }
}

}  // namespace

void radix_sort(std::vector<uint64_t>& keys, std::vector<int32_t>& rows, int total_bits) {
  const int64_t n = static_cast<int64_t>(keys.size());
  const int passes = (total_bits + kDigitBits - 1) / kDigitBits;
  if (total_bits <= 32) {
    // Key and row share one word: a single array to move per pass.
    std::vector<uint64_t> packed(n);
    for (int64_t i = 0; i < n; ++i) packed[i] = keys[i] << 32 | static_cast<uint32_t>(rows[i]);
    lsd_sort(packed, passes, [](uint64_t v, int pass) {
      return static_cast<uint32_t>(v >> (32 + kDigitBits * pass)) & (kBuckets - 1);
    });
    for (int64_t i = 0; i < n; ++i) {
      keys[i] = packed[i] >> 32;
      rows[i] = static_cast<int32_t>(packed[i] & 0xFFFFFFFFu);
    }
    return;
  }
  struct Item {
    uint64_t key;
    int32_t row;
  };
  std::vector<Item> items(n);
  for (int64_t i = 0; i < n; ++i) items[i] = Item{keys[i], rows[i]};
  lsd_sort(items, passes, [](const Item& v, int pass) {
    return static_cast<uint32_t>(v.key >> (kDigitBits * pass)) & (kBuckets - 1);
  });
  for (int64_t i = 0; i < n; ++i) keys[i] = items[i].key, rows[i] = items[i].row;
}

SortedKeys sort_keys(const int32_t* coords, int64_t n) {
  SortedKeys out;
  out.order.resize(n);
  std::iota(out.order.begin(), out.order.end(), 0);
  out.inverse.resize(n);
  out.offsets.push_back(0);
  if (n == 0) return out;

  std::array<int32_t, 3> lo{coords[0], coords[1], coords[2]}, hi = lo;
  for (int64_t i = 0; i < n; ++i)
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], coords[3 * i + a]);
      hi[a] = std::max(hi[a], coords[3 * i + a]);
    }
  std::array<int, 3> bits;
  for (int a = 0; a < 3; ++a) bits[a] = bits_for(static_cast<uint64_t>(int64_t{hi[a]} - lo[a]));
  const int total = bits[0] + bits[1] + bits[2];

  std::vector<uint64_t> keys;
  if (total <= 64) {
    keys.resize(n);
    parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        uint64_t k = 0;
        for (int a = 0; a < 3; ++a) {
          uint64_t v = static_cast<uint64_t>(int64_t{coords[3 * i + a]} - lo[a]);
          k = (k << bits[a]) | v;  // bits[a] <= 32, total <= 64
        }
        keys[i] = k;
      }
    });
    // Coordinates from voxelize() or an earlier sort are already in order: keep them.
    if (!std::is_sorted(keys.begin(), keys.end())) radix_sort(keys, out.order, total);
  } else {
    std::sort(out.order.begin(), out.order.end(), [&](int32_t a, int32_t b) {
      const int32_t* ca = coords + 3 * int64_t{a};
      const int32_t* cb = coords + 3 * int64_t{b};
      if (ca[0] != cb[0]) return ca[0] < cb[0];
      if (ca[1] != cb[1]) return ca[1] < cb[1];
      if (ca[2] != cb[2]) return ca[2] < cb[2];
      return a < b;
    });
  }

  auto same = [&](int64_t i) {  // sorted position i holds the same coordinate as i-1
    if (!keys.empty()) return keys[i] == keys[i - 1];
    const int32_t* a = coords + 3 * int64_t{out.order[i]};
    const int32_t* b = coords + 3 * int64_t{out.order[i - 1]};
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
  };
  int32_t seg = 0;
  out.inverse[out.order[0]] = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (!same(i)) {
      out.offsets.push_back(i);
      ++seg;
    }
    out.inverse[out.order[i]] = seg;
  }
  out.offsets.push_back(n);
  const int64_t m = static_cast<int64_t>(out.offsets.size()) - 1;
  out.unique.resize(3 * m);
  parallel_for(m, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t v = b; v < e; ++v) {
      const int32_t* c = coords + 3 * int64_t{out.order[out.offsets[v]]};
      std::copy(c, c + 3, &out.unique[3 * v]);
    }
  });
  return out;
}

}  // namespace edge3d::index
