"""The Euclidean baseline (plane removal + connected components), kept for comparison."""

from __future__ import annotations

import numpy as np
import pytest

import edge3d
from edge3d.runtime.methods.euclidean import EuclideanParams

from .scenes import BOXES, purity, room_scene


def test_euclidean_finds_every_box_and_removes_floor_and_walls():
    pts, gt = room_scene()
    result = edge3d.Segmenter("euclidean").segment(pts)
    assert len(result.instances) == len(BOXES)
    found = purity(result, gt, pts)
    assert sorted(found) == list(range(1, len(BOXES) + 1))
    assert len({i for i, _ in found.values()}) == len(BOXES)  # one instance per box
    assert all(share > 0.9 for _, share in found.values())
    # Floor and walls are not objects, and are classified as such.
    names = result.class_names
    assert np.mean(result.labels[gt == 0] >= 0) < 0.02
    cls = result.classes[gt == 0]
    assert np.mean(np.isin(cls, [names.index("floor"), names.index("wall")])) > 0.95
    # The documented contract: sorted by score, ids 1..K, boxes and centroids of their points.
    scores = [i.score for i in result.instances]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)
    for inst in result.instances:
        assert inst.class_name == "object"
        p = pts[inst.indices]
        np.testing.assert_allclose(inst.box_min, p.min(0))
        np.testing.assert_allclose(inst.centroid, p.mean(0), rtol=1e-5)
        assert np.all(result.labels[inst.indices] == inst.id)
    assert {"planes", "cluster", "total"} <= set(result.timings)


def test_euclidean_is_translation_invariant_and_deterministic():
    pts, _gt = room_scene()
    a = edge3d.Segmenter("euclidean").segment(pts)
    b = edge3d.Segmenter("euclidean").segment(pts)
    np.testing.assert_array_equal(a.labels, b.labels)
    moved, _ = room_scene(offset=(12.3, -7.0, 1.5))
    c = edge3d.Segmenter("euclidean").segment(moved)
    assert len(c.instances) == len(a.instances)


def test_touching_boxes_merge_and_separated_ones_do_not():
    # The documented weakness of connected components: touching objects become one.
    boxes = (((1.0, 1.0, 0.0), (1.6, 1.6, 0.8)), ((1.6, 1.0, 0.0), (2.2, 1.6, 0.5)),
             ((3.0, 2.0, 0.0), (3.5, 2.5, 0.6)))
    pts, gt = room_scene(boxes=boxes)
    result = edge3d.Segmenter("euclidean").segment(pts)
    found = purity(result, gt, pts)
    assert found[1][0] == found[2][0] != found[3][0]
    assert len(result.instances) == 2


def test_min_points_drops_small_clusters():
    pts, _gt = room_scene()
    small = np.random.default_rng(1).normal((2.5, 0.5, 1.0), 0.01, (20, 3)).astype(np.float32)
    result = edge3d.Segmenter("euclidean").segment(np.concatenate([pts, small]))
    assert np.all(result.labels[len(pts):] == -1)
    result = edge3d.Segmenter("euclidean", min_points=10, min_cells=1).segment(
        np.concatenate([pts, small]))
    assert len(np.unique(result.labels[len(pts):])) == 1
    assert result.labels[-1] >= 0


def test_colors_accepted_as_uint8_and_float_and_do_not_change_geometry():
    pts, _ = room_scene()
    rng = np.random.default_rng(0)
    c8 = rng.integers(0, 256, (len(pts), 3), dtype=np.uint8)
    seg = edge3d.Segmenter("euclidean")
    a = seg.segment(pts, c8)
    b = seg.segment(pts.astype(np.float64), c8.astype(np.float32) / 255)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_empty_and_tiny_inputs():
    seg = edge3d.Segmenter("euclidean")
    r = seg.segment(np.zeros((0, 3), np.float32))
    assert len(r) == 0 and r.labels.shape == (0,)
    r = seg.segment(np.zeros((5, 3), np.float32))
    assert len(r) == 0 and np.all(r.labels == -1)
    # A floor alone: no objects.
    g = np.stack(np.meshgrid(np.arange(0, 3, 0.02), np.arange(0, 3, 0.02)), -1).reshape(-1, 2)
    r = seg.segment(np.c_[g, np.zeros(len(g))].astype(np.float32))
    assert len(r) == 0


def test_unknown_and_bad_options_are_named():
    with pytest.raises(TypeError, match="cluster_distance"):
        edge3d.Segmenter("euclidean", cluster_dist=0.1)
    with pytest.raises(ValueError, match="must be a positive number"):
        EuclideanParams(cluster_distance=0.0)
    d = edge3d.Segmenter("euclidean", cluster_distance=0.05).describe()
    assert d["method"] == "euclidean" and d["cluster_distance"] == 0.05
