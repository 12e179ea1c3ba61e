// Submanifold / strided neighbour tables (the "NBR" im2col table of research/backbones.md 2.1)
// by merge-join on sorted keys (backbones.md 2.2): adding one kernel offset to every query keeps
// the sorted query list sorted, so each offset is a linear walk over both sorted lists instead
// of a random probe per (query, offset) pair.
#include <algorithm>
#include <array>

#include "common/parallel.h"
#include "index/index_core.h"

namespace edge3d::index {
namespace {

constexpr int64_t kBlock = 2048;  // queries per block: their table rows stay in cache

// Coordinates packed into one integer that orders like (x, y, z); used when the box of all
// coordinates and all probed positions fits in 63 bits (always for real scenes).
struct Packing {
  std::array<int64_t, 3> lo;
  std::array<int, 3> bits;
  uint64_t operator()(int64_t x, int64_t y, int64_t z) const {
    return ((static_cast<uint64_t>(x - lo[0]) << bits[1] | static_cast<uint64_t>(y - lo[1]))
            << bits[2]) |
           static_cast<uint64_t>(z - lo[2]);
  }
};

// Fallback key for coordinate spans beyond 63 bits: compared field by field.
struct Triple {
  int64_t x, y, z;
  bool operator<(const Triple& o) const {
    return x != o.x ? x < o.x : y != o.y ? y < o.y : z < o.z;
  }
  bool operator==(const Triple& o) const { return x == o.x && y == o.y && z == o.z; }
  Triple operator+(const Triple& o) const { return {x + o.x, y + o.y, z + o.z}; }
};

// table[qrow[i], j] = crow[p] where ckeys[p] == qkeys[i] + delta[j], else pad. The k taps that
// differ only in z are adjacent keys, so one walking pointer per (x, y) column serves all k.
template <typename Key, typename Add>
void merge_join(const std::vector<Key>& ckeys, const std::vector<int32_t>& crow,
                const std::vector<Key>& qkeys, const std::vector<int32_t>& qrow,
                const std::vector<Key>& delta, Add add, int32_t pad, int k, int32_t* table) {
  const int64_t m = static_cast<int64_t>(ckeys.size());
  const int64_t q = static_cast<int64_t>(qkeys.size());
  const int k3 = k * k * k;
  const int64_t blocks = (q + kBlock - 1) / kBlock;
  parallel_for(blocks, 1, [&](int64_t bb, int64_t be) {
    for (int64_t blk = bb; blk < be; ++blk) {
      const int64_t b = blk * kBlock, e = std::min(q, b + kBlock);
      for (int column = 0; column < k * k; ++column) {
        const int j0 = column * k;
        int64_t p = std::lower_bound(ckeys.begin(), ckeys.end(), add(qkeys[b], delta[j0])) -
                    ckeys.begin();
        for (int64_t i = b; i < e; ++i) {
          const Key first = add(qkeys[i], delta[j0]);
          while (p < m && ckeys[p] < first) ++p;
          int32_t* row = table + int64_t{qrow[i]} * k3 + j0;
          int64_t pz = p;
          for (int t = 0; t < k; ++t) {
            const Key target = add(qkeys[i], delta[j0 + t]);
            while (pz < m && ckeys[pz] < target) ++pz;
            row[t] = (pz < m && ckeys[pz] == target) ? crow[pz] : pad;
          }
        }
      }
    }
  });
}

}  // namespace

std::vector<int32_t> neighbor_table(const int32_t* coords, int64_t m, const int32_t* query,
                                    int64_t q, int kernel_size, int dilation, int64_t rows) {
  const int k3 = kernel_size * kernel_size * kernel_size;
  const int32_t pad = static_cast<int32_t>(m);
  std::vector<int32_t> table(rows * k3, pad);
  if (q == 0) return table;

  SortedKeys cs = sort_keys(coords, m);
  if (static_cast<int64_t>(cs.offsets.size()) - 1 != m) {
    for (size_t v = 0; v + 1 < cs.offsets.size(); ++v)
      if (cs.offsets[v + 1] - cs.offsets[v] > 1) {
        const int32_t a = cs.order[cs.offsets[v]], b = cs.order[cs.offsets[v] + 1];
        const int32_t* c = coords + 3 * int64_t{a};
        throw std::invalid_argument(
            "neighbor_table: coords rows " + std::to_string(a) + " and " + std::to_string(b) +
            " are the same voxel (" + std::to_string(c[0]) + ", " + std::to_string(c[1]) + ", " +
            std::to_string(c[2]) + "); pass unique coordinates, e.g. VoxelGrid.coords");
      }
  }
  // Submanifold tables query the coordinates themselves: reuse their sort.
  SortedKeys qs_own;
  if (query != coords) qs_own = sort_keys(query, q);
  const std::vector<int32_t>& qorder = query != coords ? qs_own.order : cs.order;

  // Offsets run from -((k-1)//2): -1..1 for k = 3, 0..1 for k = 2; x slowest, z fastest.
  const int64_t first = -((kernel_size - 1) / 2);
  std::vector<Triple> off(k3);
  for (int j = 0; j < k3; ++j)
    off[j] = Triple{(first + j / (kernel_size * kernel_size)) * dilation,
                    (first + (j / kernel_size) % kernel_size) * dilation,
                    (first + j % kernel_size) * dilation};

  // The box holding every coordinate and every probed position.
  std::array<int64_t, 3> lo, hi;
  for (int a = 0; a < 3; ++a) lo[a] = hi[a] = m > 0 ? coords[a] : query[a];
  auto grow = [&](const int32_t* c, int64_t n) {
    for (int64_t i = 0; i < 3 * n; ++i) {
      lo[i % 3] = std::min<int64_t>(lo[i % 3], c[i]);
      hi[i % 3] = std::max<int64_t>(hi[i % 3], c[i]);
    }
  };
  grow(coords, m);
  grow(query, q);
  const int64_t reach = (kernel_size - 1 - (kernel_size - 1) / 2) * int64_t{dilation};
  const int64_t back = -first * int64_t{dilation};
  Packing pack;
  int total = 0;
  for (int a = 0; a < 3; ++a) {
    pack.lo[a] = lo[a] - back;
    const uint64_t span = static_cast<uint64_t>(hi[a] + reach - pack.lo[a]);
    int b = 0;
    while (b < 64 && (span >> b) != 0) ++b;
    pack.bits[a] = b;
    total += b;
  }

  if (total <= 63) {
    std::vector<uint64_t> ck(m), qk(q), dk(k3);
    for (int64_t v = 0; v < m; ++v) {
      const int32_t* c = coords + 3 * int64_t{cs.order[v]};
      ck[v] = pack(c[0], c[1], c[2]);
    }
    for (int64_t i = 0; i < q; ++i) {
      const int32_t* c = query + 3 * int64_t{qorder[i]};
      qk[i] = pack(c[0], c[1], c[2]);
    }
    // Within the box the fields never carry, so an offset is one signed constant.
    const uint64_t origin = pack(pack.lo[0] + back, pack.lo[1] + back, pack.lo[2] + back);
    for (int j = 0; j < k3; ++j)
      dk[j] = pack(pack.lo[0] + back + off[j].x, pack.lo[1] + back + off[j].y,
                   pack.lo[2] + back + off[j].z) - origin;
    merge_join(ck, cs.order, qk, qorder, dk, [](uint64_t a, uint64_t d) { return a + d; }, pad,
               kernel_size, table.data());
  } else {
    std::vector<Triple> ck(m), qk(q);
    for (int64_t v = 0; v < m; ++v) {
      const int32_t* c = coords + 3 * int64_t{cs.order[v]};
      ck[v] = Triple{c[0], c[1], c[2]};
    }
    for (int64_t i = 0; i < q; ++i) {
      const int32_t* c = query + 3 * int64_t{qorder[i]};
      qk[i] = Triple{c[0], c[1], c[2]};
    }
    merge_join(ck, cs.order, qk, qorder, off,
               [](const Triple& a, const Triple& d) { return a + d; }, pad, kernel_size,
               table.data());
  }
  return table;
}

}  // namespace edge3d::index
