"""Superpoint alignment: a superpoint joins a mask when half of its points are in it."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.runtime.methods.spherical_mask import SphericalMaskParams, assemble_instances
from edge3d.runtime.methods.superpoints import Superpoints


def brute_force(mask: np.ndarray, labels: np.ndarray) -> np.ndarray:
    out = np.zeros(len(labels), bool)
    for s in np.unique(labels):
        members = labels == s
        if mask[members].mean() >= 0.5:
            out |= members
    return np.flatnonzero(out)


def test_align_matches_brute_force_on_random_masks() -> None:
    rng = np.random.default_rng(0)
    for trial in range(50):
        n = int(rng.integers(1, 300))
        labels = rng.choice([3, 70, 71, 5000, 12, -4], size=n)   # sparse ids, as ScanNet's
        spp = Superpoints(labels, n)
        mask = rng.random(n) < rng.random()
        got = spp.align(np.flatnonzero(mask))
        np.testing.assert_array_equal(got, brute_force(mask, labels), err_msg=f"trial {trial}")


def test_exactly_half_joins_and_less_leaves() -> None:
    spp = Superpoints(np.array([0, 0, 1, 1, 1]), 5)
    np.testing.assert_array_equal(spp.align(np.array([0, 2])), [0, 1])   # 1/2 in, 1/3 out
    np.testing.assert_array_equal(spp.align(np.array([], np.int64)), [])


@pytest.mark.parametrize(("labels", "match"), [
    (np.zeros(4, np.int64), r"one id per point, shape \(5,\)"),
    (np.zeros(5, np.float32), "integer ids"),
])
def test_bad_superpoints_are_rejected(labels, match) -> None:
    with pytest.raises(ValueError, match=match):
        Superpoints(labels, 5)


def test_assembly_aligns_masks_before_the_size_check() -> None:
    """Voxel 0 holds points 0-2, voxel 1 points 3-5. The mask covers voxel 0 only; the
    superpoint {2, 3, 4} has 1/3 inside (leaves), {0, 1, 6} has 2/3 (point 6 joins)."""
    params = SphericalMaskParams(thing_classes=(2,), top_k=1, min_mask_voxels=1,
                                 min_mask_points=3)
    out = {"cls_logits": np.log([[0.9, 0.1]]), "confidence": np.array([1.0]),
           "mask_logits": np.array([[1.0, -1.0, -1.0]])}
    p2v = np.array([0, 0, 0, 1, 1, 1, 2])
    pts = np.arange(21, dtype=np.float32).reshape(7, 3)
    names = ("floor", "wall", "chair")
    plain = assemble_instances(out, p2v, pts, names, params)
    assert plain.labels.tolist() == [1, 1, 1, -1, -1, -1, -1]
    spp = Superpoints(np.array([0, 0, 1, 1, 1, 2, 0]), 7)
    aligned = assemble_instances(out, p2v, pts, names, params, superpoints=spp)
    assert aligned.labels.tolist() == [1, 1, -1, -1, -1, -1, 1]
    # After alignment only 3 points remain: at min_mask_points 4 the mask is dropped.
    strict = SphericalMaskParams(thing_classes=(2,), top_k=1, min_mask_voxels=1,
                                 min_mask_points=4)
    assert assemble_instances(out, p2v, pts, names, strict, superpoints=spp).instances == []
