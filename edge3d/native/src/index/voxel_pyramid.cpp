// Stride-2 voxel pyramid: each level's voxels are the unique floor(coords / 2) of the level below,
// with parent indices up and an 8-slot child table down.
#include "common/parallel.h"
#include "index/index_core.h"

namespace edge3d::index {

std::vector<PyramidLevelData> voxel_pyramid(const int32_t* coords, int64_t m, int levels) {
  std::vector<PyramidLevelData> out(levels);
  out[0].coords.assign(coords, coords + 3 * m);
  for (int l = 0; l + 1 < levels; ++l) {
    PyramidLevelData& fine = out[l];
    const int64_t mf = static_cast<int64_t>(fine.coords.size()) / 3;
    std::vector<int32_t> halved(3 * mf);
    parallel_for(3 * mf, 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) halved[i] = floor_half(fine.coords[i]);
    });
    SortedKeys keys = sort_keys(halved.data(), mf);
    const int64_t mc = static_cast<int64_t>(keys.offsets.size()) - 1;
    fine.parent = std::move(keys.inverse);
    fine.children.assign(8 * mc, static_cast<int32_t>(mf));
    // A child slot filled twice can only come from a voxel listed twice in this level.
    int64_t duplicate = -1;
    for (int64_t v = 0; v < mc; ++v) {
      for (int64_t j = keys.offsets[v]; j < keys.offsets[v + 1]; ++j) {
        const int32_t i = keys.order[j];
        const int32_t* c = &fine.coords[3 * int64_t{i}];
        const int slot = (c[0] & 1) * 4 + (c[1] & 1) * 2 + (c[2] & 1);
        int32_t& cell = fine.children[8 * v + slot];
        if (cell != mf) {
          duplicate = i;
          break;
        }
        cell = i;
      }
      if (duplicate >= 0) break;
    }
    if (duplicate >= 0) {
      const int32_t* c = &fine.coords[3 * duplicate];
      throw std::invalid_argument(
          "voxel_pyramid: level " + std::to_string(l) + " has the voxel (" +
          std::to_string(c[0]) + ", " + std::to_string(c[1]) + ", " + std::to_string(c[2]) +
          ") more than once (row " + std::to_string(duplicate) +
          "); pass unique coordinates, e.g. VoxelGrid.coords from voxelize()");
    }
    out[l + 1].coords = std::move(keys.unique);
  }
  PyramidLevelData& top = out[levels - 1];
  top.parent.assign(top.coords.size() / 3, -1);
  return out;
}

}  // namespace edge3d::index
