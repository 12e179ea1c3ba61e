"""Stable instance ids across segmentations of a growing map.

Each segmentation of the fused map numbers its instances afresh. :class:`InstanceTracker`
renames them so that an object keeps its id from one update to the next, the way Voxblox++
(Grinvald et al., RA-L 2019; ``research/runtime-anchors.md`` §4) fuses frame segments into its
map: each new segment votes, with its voxels, for the map labels it overlaps; the (segment,
label) pair with the most votes is assigned first, greedily, one label per segment and one
segment per label, if it has at least ``min_votes`` votes; a segment left without a label gets a
fresh id. Ids are never reused.

The tracker remembers labelled voxels, not points, because the map is re-extracted every update
(point sets differ, voxels stay put). An object missing from one update (occluded, merged,
dropped below the size threshold) keeps its voxels for ``memory`` updates, so it gets its old id
back when it reappears.
"""

from __future__ import annotations

import numpy as np

from edge3d.types import Instance, SegmentationResult

_BITS = 21
_OFF = 1 << (_BITS - 1)  # voxel indices in [-2^20, 2^20): ±52 km at 5 cm


class InstanceTracker:
    """Renames instance ids of successive :class:`SegmentationResult` s so they stay stable.

    Args:
        voxel_size: voxel edge (m) at which overlap is counted; about twice the map's voxel size
            tolerates re-extraction jitter.
        min_votes: fewest shared voxels for a segment to inherit an id (Voxblox++:
            ``min_label_voxel_count`` = 20 at its resolution); a segment of fewer than
            ``2 * min_votes`` voxels needs half of its voxels.
        min_overlap: fewest shared voxels as a fraction of the new segment's voxels.
        memory: updates an absent instance's voxels are kept.
    """

    def __init__(self, voxel_size: float = 0.05, min_votes: int = 10, min_overlap: float = 0.2,
                 memory: int = 5) -> None:
        if voxel_size <= 0 or min_votes < 1 or not 0 <= min_overlap <= 1 or memory < 0:
            raise ValueError("InstanceTracker needs voxel_size > 0, min_votes >= 1, "
                             "0 <= min_overlap <= 1 and memory >= 0")
        self.voxel_size = voxel_size
        self.min_votes = min_votes
        self.min_overlap = min_overlap
        self.memory = memory
        self._keys = np.zeros(0, np.int64)  # sorted voxel keys
        self._ids = np.zeros(0, np.int64)  # id per key
        self._age = np.zeros(0, np.int32)  # updates since the key's id was last seen
        self.next_id = 1

    def reset(self) -> None:
        """Forget everything (ids restart at 1)."""
        self.__init__(self.voxel_size, self.min_votes, self.min_overlap, self.memory)

    def update(self, points: np.ndarray, result: SegmentationResult) -> SegmentationResult:
        """Assign stable ids to ``result`` (a segmentation of ``points`` [N, 3]).

        Returns a new result with renamed ``labels`` and ``instances`` (same order, same
        points); the input is not modified.
        """
        inst_keys = [np.unique(self._voxel_keys(points[inst.indices]))
                     for inst in result.instances]
        mapping = self._match(inst_keys)
        self._remember(inst_keys, mapping)

        lut_src = np.array([inst.id for inst in result.instances], np.int64)
        lut_dst = np.array([mapping[k] for k in range(len(result.instances))], np.int64)
        labels = result.labels.copy()
        has = labels >= 0
        if len(lut_src):
            order = np.argsort(lut_src)
            pos = np.searchsorted(lut_src[order], labels[has])
            labels[has] = lut_dst[order][pos]
        instances = [
            Instance(id=int(lut_dst[k]), class_id=i.class_id, class_name=i.class_name,
                     score=i.score, indices=i.indices, box_min=i.box_min, box_max=i.box_max,
                     centroid=i.centroid)
            for k, i in enumerate(result.instances)
        ]
        return SegmentationResult(labels=labels, classes=result.classes, instances=instances,
                                  class_names=result.class_names, timings=dict(result.timings))

    def _voxel_keys(self, p: np.ndarray) -> np.ndarray:
        v = np.floor(p / self.voxel_size).astype(np.int64) + _OFF
        np.clip(v, 0, (1 << _BITS) - 1, out=v)
        return (v[:, 0] << (2 * _BITS)) | (v[:, 1] << _BITS) | v[:, 2]

    def _match(self, inst_keys: list[np.ndarray]) -> dict[int, int]:
        """Greedy assignment of new segments to remembered ids by descending vote count."""
        mapping: dict[int, int] = {}
        if len(self._keys) and inst_keys:
            seg = np.concatenate([np.full(len(k), s, np.int64) for s, k in enumerate(inst_keys)])
            keys = np.concatenate(inst_keys)
            j = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
            hit = self._keys[j] == keys
            pair, votes = np.unique(seg[hit] * (self.next_id + 1) + self._ids[j[hit]],
                                    return_counts=True)
            taken: set[int] = set()
            for i in np.argsort(-votes, kind="stable"):
                s, old = divmod(int(pair[i]), self.next_id + 1)
                if s in mapping or old in taken:
                    continue
                # A segment smaller than 2 * min_votes voxels needs half of them to match.
                size = len(inst_keys[s])
                if votes[i] < min(self.min_votes, (size + 1) // 2) or \
                        votes[i] < self.min_overlap * size:
                    continue
                mapping[s] = old
                taken.add(old)
        for s in range(len(inst_keys)):
            if s not in mapping:
                mapping[s] = self.next_id
                self.next_id += 1
        return mapping

    def _remember(self, inst_keys: list[np.ndarray], mapping: dict[int, int]) -> None:
        """New voxels replace old ones; voxels of ids absent from this update age out."""
        present = np.array(sorted(mapping.values()), np.int64)
        age = self._age + 1
        keep = (age <= self.memory) & ~np.isin(self._ids, present)
        new_keys = (np.concatenate(inst_keys) if inst_keys else np.zeros(0, np.int64))
        new_ids = (np.concatenate([np.full(len(k), mapping[s], np.int64)
                                   for s, k in enumerate(inst_keys)])
                   if inst_keys else np.zeros(0, np.int64))
        keys = np.concatenate([new_keys, self._keys[keep]])
        ids = np.concatenate([new_ids, self._ids[keep]])
        ages = np.concatenate([np.zeros(len(new_keys), np.int32), age[keep]])
        # np.unique keeps the first occurrence: a voxel labelled now wins over a remembered one.
        self._keys, first = np.unique(keys, return_index=True)
        self._ids, self._age = ids[first], ages[first]
