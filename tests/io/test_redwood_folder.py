"""Redwood .log trajectories and plain RGB-D folders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge3d.errors import FormatError, SourceError
from edge3d.io import open_source
from edge3d.io.folder import FolderSource
from edge3d.io.images import write_color, write_depth_png
from edge3d.io.redwood import RedwoodSource
from edge3d.io.text_formats import read_log_trajectory, write_log_trajectory


def _poses(n):
    out = []
    for i in range(n):
        T = np.eye(4)
        T[:3, 3] = [0.5 * i, 1.0 / 7.0, -2.0]
        out.append(T)
    return out


def test_log_round_trip_and_format(tmp_path):
    poses = _poses(3)
    path = tmp_path / "traj.log"
    write_log_trajectory(path, poses)
    lines = path.read_text().splitlines()
    assert lines[0] == "0 0 1" and lines[5] == "1 1 2" and len(lines) == 15
    back = read_log_trajectory(path)
    assert sorted(back) == [0, 1, 2]
    np.testing.assert_array_equal(back[2], poses[2])
    path.write_text("# comment\n" + "\n".join(lines[:7]))
    with pytest.raises(FormatError, match="multiple of 5"):
        read_log_trajectory(path)


@pytest.mark.parametrize("layout", ["flat", "nvblox"])
def test_redwood_sequence(tmp_path, layout):
    rng = np.random.default_rng(1)
    base = tmp_path / "apartment"
    if layout == "flat":
        seq, log = base, base / "apartment.log"
    else:
        seq, log = base / "rgbd_apartment" / "apartment", base / "pose_apartment" / "apartment.log"
    (seq / "depth").mkdir(parents=True)
    (seq / "image").mkdir()
    log.parent.mkdir(parents=True, exist_ok=True)
    depths = [rng.integers(0, 65536, (480, 640), dtype=np.uint16) for _ in range(3)]
    for i, d in enumerate(depths):
        write_depth_png(seq / "depth" / f"{i:06d}.png", d)
        write_color(seq / "image" / f"{i:06d}.jpg", rng.integers(0, 256, (480, 640, 3), np.uint8))
    write_log_trajectory(log, _poses(3))
    with open_source(base) as src:
        assert isinstance(src, RedwoodSource)
        assert src.intrinsics.fx == 525.0 and src.intrinsics.cx == 319.5
        frames = list(src)
    assert len(frames) == 3
    assert all(f.depth_scale == 0.001 for f in frames)
    np.testing.assert_array_equal(frames[1].depth, depths[1])
    np.testing.assert_array_equal(frames[2].pose, _poses(3)[2])


def _plain_folder(tmp_path, with_scale=True, n=3):
    rng = np.random.default_rng(2)
    folder = tmp_path / "frames"
    for d in ("depth", "color", "pose"):
        (folder / d).mkdir(parents=True)
    depths, colors = [], []
    for i in range(n):
        depths.append(rng.integers(1, 65536, (12, 16), dtype=np.uint16))
        colors.append(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8))
        write_depth_png(folder / "depth" / f"{i:05d}.png", depths[-1])
        write_color(folder / "color" / f"{i:05d}.png", colors[-1])
        np.savetxt(folder / "pose" / f"{i:05d}.txt", _poses(n)[i])
    intr = {"width": 16, "height": 12, "fx": 20.0, "fy": 21.0, "cx": 7.5, "cy": 5.5}
    if with_scale:
        intr["depth_scale"] = 0.00025
    (folder / "intrinsics.json").write_text(json.dumps(intr))
    return folder, depths, colors


def test_plain_folder(tmp_path):
    folder, depths, colors = _plain_folder(tmp_path)
    with open_source(folder) as src:
        assert isinstance(src, FolderSource)
        frames = list(src)
    assert [f.depth_scale for f in frames] == [0.00025] * 3
    np.testing.assert_array_equal(frames[2].depth, depths[2])
    np.testing.assert_array_equal(frames[2].color, colors[2])
    np.testing.assert_allclose(frames[1].pose, _poses(3)[1])


def test_plain_folder_needs_a_depth_scale(tmp_path):
    folder, _, _ = _plain_folder(tmp_path, with_scale=False)
    with pytest.raises(SourceError, match="depth scale is unknown"):
        open_source(folder)
    with open_source(folder, depth_scale=0.001) as src:
        assert len(list(src)) == 3


def test_scannet_export_folder_registers_colour(tmp_path):
    """ScanNet's exporter: depth/, color/ at another size, pose/ with a -inf pose,
    intrinsic/*.txt; colour is registered to depth and the -inf frame is skipped."""
    folder, _, _ = _plain_folder(tmp_path)
    (folder / "intrinsics.json").unlink()
    (folder / "intrinsic").mkdir()
    K_d = np.array([[20.0, 0, 7.5, 0], [0, 20.0, 5.5, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    K_c = np.array([[40.0, 0, 15.5, 0], [0, 40.0, 11.5, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    np.savetxt(folder / "intrinsic" / "intrinsic_depth.txt", K_d)
    np.savetxt(folder / "intrinsic" / "intrinsic_color.txt", K_c)
    np.savetxt(folder / "intrinsic" / "extrinsic_color.txt", np.eye(4))
    np.savetxt(folder / "intrinsic" / "extrinsic_depth.txt", np.eye(4))
    big = np.zeros((24, 32, 3), np.uint8)
    big[..., 0] = np.arange(32)[None, :] * 7  # colour encodes the colour column
    for i in range(3):
        write_color(folder / "color" / f"{i:05d}.png", big)
    bad = _poses(3)[1]
    bad[0, 0] = -np.inf
    np.savetxt(folder / "pose" / "00001.txt", bad)
    with open_source(folder) as src:
        frames = list(src)
        assert src.stats.skip_reasons["invalid frame"] == 1
    assert [f.index for f in frames] == [0, 2]
    f = frames[0]
    assert f.depth_scale == 0.001 and f.color.shape == (12, 16, 3)
    # depth pixel u maps to colour column 2u + 0.5 -> rounds to 2u (or 2u + 1)
    cols = f.color[..., 0].astype(int) // 7
    assert np.all(np.abs(cols - 2 * np.arange(16)[None, :]) <= 1)


def test_open3d_intrinsics_json(tmp_path):
    folder, depths, _ = _plain_folder(tmp_path)
    # Open3D's PinholeCameraIntrinsic JSON: column-major matrix; depth_scale in units per metre
    (folder / "intrinsics.json").unlink()
    (folder / "camera_intrinsic.json").write_text(json.dumps(
        {"width": 16, "height": 12, "intrinsic_matrix": [20.0, 0, 0, 0, 21.0, 0, 7.5, 5.5, 1],
         "depth_scale": 1000.0}))
    with open_source(folder) as src:
        k = src.intrinsics
        frames = list(src)
    assert (k.fx, k.fy, k.cx, k.cy) == (20.0, 21.0, 7.5, 5.5)
    assert frames[0].depth_scale == 0.001
    np.testing.assert_array_equal(frames[0].depth, depths[0])


def _flat_sequence(folder, logs: dict[str, list]) -> None:
    (folder / "depth").mkdir(parents=True)
    for i in range(2):
        write_depth_png(folder / "depth" / f"{i:06d}.png", np.full((480, 640), 1000, np.uint16))
    for name, poses in logs.items():
        write_log_trajectory(folder / name, poses)


def test_trajectory_log_wins_over_odometry_log(tmp_path):
    odometry = [np.eye(4), np.eye(4)]
    _flat_sequence(tmp_path, {"odometry.log": odometry, "trajectory.log": _poses(2)})
    with open_source(tmp_path) as src:
        assert src.log_path.name == "trajectory.log"
        np.testing.assert_array_equal(list(src)[1].pose, _poses(2)[1])


def test_several_logs_without_a_trajectory_log_must_be_named(tmp_path):
    _flat_sequence(tmp_path, {"a.log": _poses(2), "b.log": [np.eye(4)] * 2})
    with pytest.raises(SourceError, match=r"several \.log trajectories \(a\.log, b\.log\)"):
        open_source(tmp_path)
    with open_source(tmp_path, trajectory="b.log") as src:
        np.testing.assert_array_equal(list(src)[1].pose, np.eye(4))
    with pytest.raises(SourceError, match=r"'c\.log' is not a file"):
        open_source(tmp_path, trajectory="c.log")


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a 16-bit ``width`` x ``height`` image over a few bytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + \
        chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(30000, 30000), (100000, 1000), (9000, 9000)])
def test_an_image_claiming_absurd_size_is_skipped_and_counted(tmp_path, size):
    _flat_sequence(tmp_path, {"trajectory.log": _poses(2)})
    (tmp_path / "depth" / "000001.png").write_bytes(_png_claiming(*size))
    with open_source(tmp_path) as src:
        frames = list(src)
        assert [f.index for f in frames] == [0]
        assert src.stats.frames_skipped == 1
    from edge3d.io.images import read_depth_png

    with pytest.raises(FormatError, match=r"claims .*pixels.* the file is damaged"):
        read_depth_png(tmp_path / "depth" / "000001.png")
