"""The MTML toy world and its connected-components baseline (papers/mtml.md, section 4)."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.synth import TOY_CLASS_NAMES, make_world, toy
from edge3d.synth.primitives import boxes_within


def test_toy_world_classes_and_sizes() -> None:
    seen = set()
    for seed in range(10):
        w = make_world(seed, kind="toy")
        assert w.class_names == TOY_CLASS_NAMES and w.background_classes == (0,)
        assert [o.class_id for o in w.stuff] == [0]
        for o in w.objects:
            assert 1 <= o.class_id <= 5 and len(o.primitives) == 1
            # Horizontal sides may be swapped (a partner turned by a quarter turn): sort them.
            size = 2 * o.primitives[0].half
            size = np.array([*sorted(size[:2]), size[2]])
            prior = np.array(toy.TOY_SIZES[o.class_id])
            prior = np.array([*sorted(prior[:2]), prior[2]])
            np.testing.assert_array_less(prior * 0.9 - 1e-9, size)
            np.testing.assert_array_less(size, prior * 1.1 + 1e-9)
            assert abs(o.bounds()[0][2]) < 1e-9  # standing on the plane
            seen.add(o.class_id)
        yaws = [o.yaw % (np.pi / 2) for o in w.objects]
        assert len(set(np.round(yaws, 3))) > 1  # random orientations
    assert seen == {1, 2, 3, 4, 5}


def _touching_pairs(w):
    objs = w.objects
    return [(a, b) for i, a in enumerate(objs) for b in objs[i + 1:]
            if boxes_within(a.primitives[0], b.primitives[0], 1e-6)]


def test_toy_touching_is_random_and_planned() -> None:
    counts = []
    for seed in range(10):
        w = make_world(seed, kind="toy", num_objects=8, plane_size=5.0)
        touching = {o.instance_id for pair in _touching_pairs(w) for o in pair}
        assert touching == {i for g in w.params["touching_groups"] for i in g}
        counts.append(len(touching))
    assert min(counts) >= 2 and np.mean(counts) == pytest.approx(4, abs=1.0)


def test_baseline_merges_touching_same_class_objects() -> None:
    merged_any = False
    for seed in range(8):
        w = make_world(seed, kind="toy", touching_fraction=0.6, num_objects=8, plane_size=5.0)
        pts = w.surface_points(spacing=0.02)
        labels = toy.connected_components(pts.positions, pts.semantic, radius=0.06)
        assert np.all(labels[pts.semantic == 0] == 0) and np.all(labels[pts.semantic > 0] > 0)
        same_class = [(a, b) for a, b in _touching_pairs(w) if a.class_id == b.class_id]
        touching = {o.instance_id for pair in _touching_pairs(w) for o in pair}
        for a, b in same_class:
            la = np.unique(labels[pts.instance == a.instance_id])
            lb = np.unique(labels[pts.instance == b.instance_id])
            assert len(la) == 1 and np.array_equal(la, lb)  # one component for both
            merged_any = True
        for o in w.objects:  # free objects: exactly their own component
            if o.instance_id in touching:
                continue
            mine = pts.instance == o.instance_id
            (lab,) = np.unique(labels[mine])
            np.testing.assert_array_equal(labels == lab, mine)
    assert merged_any, "no touching same-class pair in 8 toy scenes"


def test_baseline_keeps_touching_different_classes_apart() -> None:
    pos = np.array([[0, 0, 0], [0.01, 0, 0], [0.02, 0, 0], [0.03, 0, 0], [1, 1, 1.0]])
    sem = np.array([1, 1, 2, 2, 0])
    labels = toy.connected_components(pos, sem, radius=0.015)
    assert labels.tolist() == [1, 1, 2, 2, 0]
    with pytest.raises(ValueError, match="radius"):
        toy.connected_components(pos, sem, radius=0)
