"""Memory budgets: a cloud that cannot fit is refused before anything is allocated, and
Spherical Mask's query stage runs in voxel chunks within the budget with the same result."""

from __future__ import annotations

import numpy as np
import pytest

import edge3d
from edge3d.errors import CapacityError
from edge3d.runtime.memory import resolve_budget
from tests.runtime.scenes import room_scene


@pytest.fixture(scope="module")
def room():
    pts, _ = room_scene(spacing=0.03)
    return pts, np.full(pts.shape, 128, np.uint8)


@pytest.mark.parametrize("method", ["geometric", "euclidean", "ssen", "spherical_mask"])
def test_a_cloud_over_the_budget_is_refused_by_name(method, room):
    pts, cols = room
    seg = edge3d.Segmenter(method, max_memory_mb=4)
    with pytest.raises(CapacityError, match=r"GiB, over the memory budget.*max_memory_mb"):
        seg.segment(pts, cols)
    # CapacityError is a MemoryError, so code that guards against running out catches it too.
    assert issubclass(CapacityError, MemoryError)
    assert len(edge3d.Segmenter(method).segment(pts, cols).labels) == len(pts)


def test_spherical_mask_in_voxel_chunks_gives_the_same_queries(room):
    from edge3d.runtime.postprocess import spherical_mask as smm
    from edge3d.runtime.segmenter import validate_points

    seg = edge3d.Segmenter("spherical_mask")
    m = seg._method
    pts, cols = validate_points(*room)
    feeds, xyz, _ = smm.voxel_inputs(pts, cols, m.voxel_size, m.levels, m.kernel_size,
                                     m.features)
    stage1 = m.backends["points"].run(feeds)
    calls = []

    def run(f):
        calls.append(len(f["voxel_xyz"]))
        return m.backends["queries"].run(f)

    whole = smm.run_queries(run, stage1, xyz, m.params)
    one_call_per_round = len(calls)
    chunked = smm.run_queries(run, stage1, xyz, m.params, max_pairs=5 * len(xyz))
    assert len(calls) - one_call_per_round > 2 * one_call_per_round  # it really chunked
    assert min(calls[one_call_per_round:]) < len(xyz)
    assert whole.keys() == chunked.keys()
    for k in whole:
        np.testing.assert_allclose(chunked[k], whole[k], rtol=0, atol=1e-4, err_msg=k)


def test_spherical_mask_budget_sizes_the_chunks(room):
    from edge3d.runtime.postprocess.spherical_mask import (
        MAX_PAIRS_PER_CALL,
        SphericalMaskParams,
        plan_memory,
    )

    p = SphericalMaskParams()
    assert plan_memory(10_000, p, 8 << 30) == MAX_PAIRS_PER_CALL
    small = plan_memory(200_000, p, 2 << 30)
    assert 0 < small < MAX_PAIRS_PER_CALL
    with pytest.raises(CapacityError, match="queries over 2,000,000 voxels"):
        plan_memory(2_000_000, p, 2 << 30)


@pytest.mark.parametrize("bad", [0, -5, "1GB", float("nan")])
def test_bad_budgets_are_refused(bad):
    with pytest.raises(ValueError, match="max_memory_mb"):
        resolve_budget(bad)
    assert resolve_budget(None) > 0 and resolve_budget(100) == 100 << 20
