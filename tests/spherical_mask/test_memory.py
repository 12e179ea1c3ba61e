"""Spherical Mask within a memory budget: the query stage runs in voxel chunks sized by the
budget, with the same queries as in one piece."""

from __future__ import annotations

import numpy as np
import pytest

import edge3d
from edge3d.errors import CapacityError
from tests.runtime.scenes import room_scene


@pytest.fixture(scope="module")
def room():
    pts, _ = room_scene(spacing=0.03)
    return pts, np.full(pts.shape, 128, np.uint8)


def test_spherical_mask_in_voxel_chunks_gives_the_same_queries(room):
    from edge3d.runtime.methods import spherical_mask as smm
    from edge3d.runtime.segmenter import validate_points

    seg = edge3d.Segmenter("spherical_mask")
    m = seg._method
    pts, cols = validate_points(*room)
    feeds, _ = m.build_inputs(pts, cols)
    xyz = smm.voxel_centroids(pts, m.voxel_size)
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
    from edge3d.runtime.methods.spherical_mask import (
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
