"""Real coordinates: a map far from the origin (GNSS / UTM frames) segments like one at it."""

from __future__ import annotations

import numpy as np
import pytest

import edge3d
from edge3d.methods import DEFAULT_MODEL
from tests.runtime.scenes import room_scene, runnable_models

# Whole-metre offsets from 0 to 10^7 m, UTM-like (x 500 km, y 4500 km) included.
OFFSETS = ((1e3, 0, 0), (1e5, 1e5, 0), (5e5, 4.5e6, 0), (1e7, 1e7, 12.0), (-7e6, 0, -400.0))


@pytest.fixture(scope="module")
def room() -> tuple[np.ndarray, np.ndarray]:
    pts, gt = room_scene(spacing=0.03)
    palette = np.random.default_rng(1).integers(0, 256, (gt.max() + 1, 3)).astype(np.uint8)
    return pts, palette[gt]


@pytest.mark.parametrize("method", runnable_models())
def test_far_maps_segment_exactly_like_the_same_map_at_the_origin(method, room):
    pts, colors = room
    seg = edge3d.Segmenter(method)
    base = seg.segment(pts, colors)
    assert base.labels.max() >= 0 or method != DEFAULT_MODEL
    for offset in OFFSETS:
        far = pts.astype(np.float64) + np.asarray(offset)
        got = seg.segment(far, colors)
        np.testing.assert_array_equal(got.labels, base.labels, err_msg=str(offset))
        np.testing.assert_array_equal(got.classes, base.classes)
        assert len(got.instances) == len(base.instances)
        for a, b in zip(got.instances, base.instances, strict=True):
            assert a.box_min.dtype == np.float64
            np.testing.assert_allclose(a.box_min - offset, b.box_min, atol=1e-6)
            np.testing.assert_allclose(a.box_max - offset, b.box_max, atol=1e-6)
            np.testing.assert_allclose(a.centroid - offset, b.centroid, atol=1e-6)


def test_fractional_offsets_change_nothing_that_matters(room):
    pts, colors = room
    seg = edge3d.Segmenter()
    base = seg.segment(pts, colors)
    offset = np.array([512345.6789, 4498765.4321, 231.123])
    got = seg.segment(pts.astype(np.float64) + offset, colors)
    assert len(got.instances) == len(base.instances)
    # A fractional shift moves the voxel grid by a fraction of a cell: a few floor-contact
    # points change hands, nothing more.
    assert (got.labels == base.labels).mean() > 0.99
    for a, b in zip(got.instances, base.instances, strict=True):
        assert abs(len(a.indices) - len(b.indices)) < 0.01 * len(b.indices)
        np.testing.assert_allclose(a.centroid - offset, b.centroid, atol=5e-3)


def test_float32_keeps_working_while_it_holds_millimetres(room):
    pts, colors = room
    seg = edge3d.Segmenter()
    base = seg.segment(pts, colors)
    got = seg.segment((pts.astype(np.float64) + 20000.0).astype(np.float32), colors)
    assert len(got.instances) == len(base.instances)
    assert (got.labels == base.labels).mean() > 0.99


@pytest.mark.parametrize("offset", [(5e5, 4.5e6, 0), (40000.0, 0, 0), (0, 0, -1e7)])
def test_float32_far_from_the_origin_is_refused_not_guessed(offset, room):
    pts, _ = room
    far = (pts.astype(np.float64) + np.asarray(offset)).astype(np.float32)
    with pytest.raises(ValueError, match="Pass float64 points"):
        edge3d.Segmenter().segment(far)
