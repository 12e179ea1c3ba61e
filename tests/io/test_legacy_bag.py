"""Legacy ROS1 .bag recordings (librealsense < 2.58) still play back.

The fixture was recorded by pyrealsense2 2.57 (see fixtures/make_legacy_bag.py): today's
librealsense cannot write this format, so it is committed rather than made by the test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge3d.io import open_source

BAG = Path(__file__).with_name("fixtures") / "legacy_d405.bag"
W, H = 32, 24


def expected_depth(i: int) -> np.ndarray:
    v, u = np.mgrid[0:H, 0:W]
    d = (5000 + 100 * i + 7 * u + 3 * v).astype(np.uint16)
    d[0, 0] = 0
    return d


def expected_color(i: int) -> np.ndarray:
    v, u = np.mgrid[0:H, 0:W]
    return np.stack([u * 8, v * 10, np.full_like(u, 40 * i)], axis=-1).astype(np.uint8)


def test_legacy_bag_plays_every_frame_bit_exact() -> None:
    with open_source(BAG) as source:
        frames = list(source)
        assert source.stats.frames_skipped == 0
    assert [f.index for f in frames] == [0, 1, 2, 3]
    for i, f in enumerate(frames):
        np.testing.assert_array_equal(f.depth, expected_depth(i))
        np.testing.assert_array_equal(f.color, expected_color(i))
        assert f.depth_scale == pytest.approx(0.0001)  # D405 units, read from the file
        k = f.intrinsics
        assert (k.width, k.height, k.fx, k.fy, k.cx, k.cy) == (W, H, 30.0, 31.0, 15.5, 11.5)
        assert f.timestamp == pytest.approx(i / 30.0, abs=1e-6)
