"""TUM RGB-D folders: association, depth / 5000, ground-truth interpolation."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.io import open_source
from edge3d.io.tum import TUM_INTRINSICS, TUMSource, associate
from tests.io.writers import write_tum


def test_associate_matches_associate_py_greedy_rule():
    # the globally closest pair goes first: 1.015-1.01 (0.005) beats 1.00-1.01 (0.01), so 1.00
    # is left without a partner (1.03 is 0.03 away) and 1.03 stays unused
    depth = [1.00, 1.015, 2.0, 3.0]
    rgb = [1.01, 1.03, 2.5, 3.019]
    assert associate(depth, rgb, 0.02) == [(1, 0), (3, 3)]
    assert associate([1.00, 1.015], [1.01, 1.019], 0.02) == [(0, 0), (1, 1)]
    # strict '<' like associate.py
    assert associate([0.0], [0.02], 0.02) == []
    assert associate([0.0], [0.5], 0.02, offset=-0.49) == [(0, 0)]


def test_tum_folder_frames_scale_and_poses(tmp_path):
    seq = tmp_path / "rgbd_dataset_freiburg1_xyz"
    dts = [100.000, 100.033, 100.066, 100.500]
    rts = [100.005, 100.030, 100.070]  # depth 100.500 has no rgb partner
    gt = []
    for k in range(0, 101):  # 100 Hz mocap: x moves 1 m/s, yaw 1 rad/s
        t = 99.95 + k * 0.01
        a = t - 100.0
        T = np.eye(4)
        T[:3, :3] = [[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]]
        T[:3, 3] = [t - 100.0, 2.0, 3.0]
        gt.append((t, T))
    depths, rgbs = write_tum(seq, dts, rts, gt)
    with open_source(seq) as src:
        assert isinstance(src, TUMSource)
        assert src.intrinsics == TUM_INTRINSICS["freiburg1"]
        frames = list(src)
        assert src.stats.skip_reasons["no rgb within max_difference"] == 1
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[0].depth_scale == pytest.approx(1 / 5000)
    np.testing.assert_array_equal(frames[1].depth, depths[100.033])
    np.testing.assert_array_equal(frames[1].color, rgbs[100.030])
    np.testing.assert_array_equal(frames[2].color, rgbs[100.070])
    for f in frames:
        a = f.timestamp - 100.0
        assert f.pose[0, 3] == pytest.approx(a, abs=1e-5)
        assert np.arctan2(f.pose[1, 0], f.pose[0, 0]) == pytest.approx(a, abs=1e-5)


def test_frames_outside_groundtruth_have_no_pose(tmp_path):
    seq = tmp_path / "seq"
    write_tum(seq, [1.0, 5.0], [1.0, 5.0], [(0.97, np.eye(4)), (1.03, np.eye(4))])
    with open_source(seq) as src:
        frames = list(src)
    assert frames[0].pose is not None and frames[1].pose is None
    assert src.intrinsics.fx == 525.0  # no freiburg in the name: the ROS default


def test_unreadable_png_is_skipped_and_counted(tmp_path):
    seq = tmp_path / "seq"
    write_tum(seq, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    (seq / "depth" / "2.000000.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with open_source(seq) as src:
        frames = list(src)
        assert src.stats.frames_skipped == 1 and src.stats.skip_reasons["unreadable image"] == 1
    assert [f.index for f in frames] == [0, 2]
