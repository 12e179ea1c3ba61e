"""Instance ids stay stable across segmentations (Voxblox++-style overlap voting)."""

from __future__ import annotations

import numpy as np
import pytest

import edge3d
from edge3d.runtime.instance_ids import InstanceTracker

from .scenes import BOXES, room_scene


def _ids_by_box(result, gt, pts):
    out = {}
    for k in range(1, gt.max() + 1):
        lab = result.labels[(gt == k) & (pts[:, 2] > 0.05)]
        lab = lab[lab >= 0]
        out[k] = int(np.bincount(lab).argmax()) if len(lab) else None
    return out


def test_ids_survive_resampling_shuffling_and_reordering():
    seg = edge3d.Segmenter()
    tracker = InstanceTracker()
    pts, gt = room_scene(seed=0)
    first = _ids_by_box(tracker.update(pts, seg.segment(pts)), gt, pts)
    assert sorted(first.values()) == list(range(1, len(BOXES) + 1))
    for seed in (1, 2, 3):
        # A re-extracted map: other noise, other point order, so other per-call ids.
        pts2, gt2 = room_scene(seed=seed, spacing=0.021)
        perm = np.random.default_rng(seed).permutation(len(pts2))
        pts2, gt2 = pts2[perm], gt2[perm]
        raw = seg.segment(pts2)
        tracked = tracker.update(pts2, raw)
        assert _ids_by_box(tracked, gt2, pts2) == first
        # Renaming is consistent between labels and instances, and nothing else changes.
        for a, b in zip(raw.instances, tracked.instances, strict=True):
            np.testing.assert_array_equal(a.indices, b.indices)
            assert np.all(tracked.labels[b.indices] == b.id)
            assert a.score == b.score
        np.testing.assert_array_equal(tracked.labels >= 0, raw.labels >= 0)


def test_new_object_gets_a_fresh_id_and_a_missing_one_comes_back():
    seg = edge3d.Segmenter()
    tracker = InstanceTracker(memory=3)
    pts, gt = room_scene()
    ids = _ids_by_box(tracker.update(pts, seg.segment(pts)), gt, pts)

    # Box 2 disappears (occluded) for one update, and a new box appears.
    boxes = [b for k, b in enumerate(BOXES) if k != 1] + [((2.5, 0.3, 0.0), (2.9, 0.7, 0.5))]
    pts2, gt2 = room_scene(boxes=boxes, seed=5)
    got = tracker.update(pts2, seg.segment(pts2))
    ids2 = _ids_by_box(got, gt2, pts2)
    assert [ids2[k] for k in (1, 2, 3, 4)] == [ids[1], ids[3], ids[4], ids[5]]
    assert ids2[5] == max(ids.values()) + 1  # never a reused id

    # Box 2 is back: it gets its old id from memory.
    pts3, gt3 = room_scene(seed=6)
    ids3 = _ids_by_box(tracker.update(pts3, seg.segment(pts3)), gt3, pts3)
    assert ids3 == ids


def test_memory_expires():
    seg = edge3d.Segmenter()
    tracker = InstanceTracker(memory=1)
    pts, gt = room_scene()
    ids = _ids_by_box(tracker.update(pts, seg.segment(pts)), gt, pts)
    without = [b for k, b in enumerate(BOXES) if k != 1]
    for seed in (1, 2):
        p, _ = room_scene(boxes=without, seed=seed)
        tracker.update(p, seg.segment(p))
    pts3, gt3 = room_scene(seed=3)
    ids3 = _ids_by_box(tracker.update(pts3, seg.segment(pts3)), gt3, pts3)
    assert ids3[2] not in ids.values()
    assert all(ids3[k] == ids[k] for k in (1, 3, 4, 5))


def test_a_merge_keeps_the_larger_overlap_and_a_split_gets_a_new_id():
    seg = edge3d.Segmenter()
    tracker = InstanceTracker()
    apart = (((1.0, 1.0, 0.0), (1.6, 1.6, 0.8)), ((1.7, 1.0, 0.0), (2.1, 1.6, 0.5)))
    touching = (((1.0, 1.0, 0.0), (1.6, 1.6, 0.8)), ((1.6, 1.0, 0.0), (2.0, 1.6, 0.5)))
    pts, gt = room_scene(boxes=apart)
    ids = _ids_by_box(tracker.update(pts, seg.segment(pts)), gt, pts)
    pts2, gt2 = room_scene(boxes=touching, seed=1)
    merged = _ids_by_box(tracker.update(pts2, seg.segment(pts2)), gt2, pts2)
    assert merged[1] == merged[2] == ids[1]  # the bigger box's id wins the vote
    pts3, gt3 = room_scene(boxes=apart, seed=2)
    split = _ids_by_box(tracker.update(pts3, seg.segment(pts3)), gt3, pts3)
    assert split[1] == ids[1]
    assert split[2] == ids[2]  # remembered: absent for one update only


def test_empty_results_and_reset():
    tracker = InstanceTracker()
    seg = edge3d.Segmenter()
    empty = np.zeros((0, 3), np.float32)
    assert len(tracker.update(empty, seg.segment(empty))) == 0
    pts, _ = room_scene()
    r = tracker.update(pts, seg.segment(pts))
    assert min(i.id for i in r.instances) == 1
    tracker.reset()
    r = tracker.update(pts, seg.segment(pts))
    assert sorted(i.id for i in r.instances) == list(range(1, len(BOXES) + 1))
    with pytest.raises(ValueError):
        InstanceTracker(voxel_size=0)
