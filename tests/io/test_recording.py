"""RealSense .db3 recordings written through pyrealsense2's software device and recorder, and
read back through pyrealsense2 playback."""

from __future__ import annotations

import sqlite3
import time

import numpy as np
import pytest

pytest.importorskip("pyrealsense2")

from edge3d.errors import FormatError, FrameError
from edge3d.io import open_source, write_recording
from edge3d.io.recording import RecordingSource
from edge3d.io.sidecar import sidecar_path
from edge3d.types import Intrinsics
from tests.io.writers import make_frames


def test_round_trip_is_bit_identical(tmp_path):
    frames = make_frames(6)
    path = write_recording(frames, tmp_path / "rec.db3")
    assert path == tmp_path / "rec.db3" and sidecar_path(path).is_file()
    # nothing but the recording and its sidecar is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.db3", "rec.frames.json"]
    with open_source(path) as src:
        assert src.intrinsics == frames[0].intrinsics
        assert src.depth_scale == 0.001
        out = list(src)
        assert src.stats.frames_read == 6 and src.stats.frames_skipped == 0
    assert [f.index for f in out] == list(range(6))
    for a, b in zip(frames, out, strict=True):
        assert b.depth.dtype == np.uint16
        np.testing.assert_array_equal(a.depth, b.depth)
        np.testing.assert_array_equal(a.color, b.color)
        np.testing.assert_array_equal(a.pose, b.pose)  # float64, bit for bit
        assert b.timestamp == a.timestamp
        assert b.intrinsics == a.intrinsics


def test_without_sidecar_values_come_from_the_recording(tmp_path):
    """librealsense stores intrinsics and depth units as float32: without the sidecar they come
    back as the float32 values, and there are no poses."""
    frames = make_frames(3)
    path = write_recording(frames, tmp_path / "rec.db3")
    sidecar_path(path).unlink()
    with open_source(path) as src:
        out = list(src)
    k, k0 = out[0].intrinsics, frames[0].intrinsics
    for name in ("fx", "fy", "cx", "cy"):
        assert np.float32(getattr(k, name)) == np.float32(getattr(k0, name))
    assert all(f.pose is None for f in out)
    np.testing.assert_array_equal(out[2].depth, frames[2].depth)
    assert out[0].depth_scale == 0.001  # float32 noise of the stored units removed


def test_d405_depth_scale_is_preserved(tmp_path):
    frames = make_frames(3, depth_scale=0.0001, poses=False)
    path = write_recording(frames, tmp_path / "d405.db3")
    sidecar_path(path).unlink()  # the scale must come from the recording itself
    with open_source(path) as src:
        assert src.depth_scale == 0.0001
        out = list(src)
    assert all(f.depth_scale == 0.0001 for f in out)
    np.testing.assert_array_equal(out[1].depth, frames[1].depth)


def test_depth_only_recording(tmp_path):
    frames = make_frames(3, color=False)
    path = write_recording(frames, tmp_path / "depth.db3", compress=True)
    with open_source(path) as src:
        out = list(src)
    assert len(out) == 3 and all(f.color is None for f in out)
    np.testing.assert_array_equal(out[0].depth, frames[0].depth)


def test_playback_waits_for_a_slow_consumer(tmp_path):
    frames = make_frames(12)
    path = write_recording(frames, tmp_path / "rec.db3")
    got = []
    with open_source(path) as src:
        for f in src:
            time.sleep(0.03)  # slower than the 30 fps the recording was made at
            got.append(f.index)
    assert got == list(range(12))


def test_truncated_recording_is_rejected(tmp_path):
    path = write_recording(make_frames(4), tmp_path / "rec.db3")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(FormatError, match="truncated or corrupt"):
        open_source(path)


def test_not_a_recording_is_rejected(tmp_path):
    bad = tmp_path / "x.db3"
    bad.write_bytes(b"hello world, not sqlite")
    with pytest.raises(FormatError, match="no SQLite header"):
        open_source(bad)
    bag = tmp_path / "x.bag"
    bag.write_bytes(b"nope")
    with pytest.raises(FormatError, match="ROSBAG"):
        open_source(bag)


def _damage_pixels(path, stream: str, index: int, n_bytes: int) -> None:
    """Flip the last ``n_bytes`` of the pixel payload (the tail of the CDR message) of the
    ``index``-th image of ``stream`` ("Depth_0", "Color_0") in a .db3 recording."""
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT m.id, m.data FROM messages m JOIN topics t ON m.topic_id = t.id "
            f"WHERE t.name LIKE '%{stream}/image/data%' ORDER BY m.id").fetchall()
        mid, blob = rows[index]
        blob = bytearray(blob)
        blob[-n_bytes:] = bytes(b ^ 0xFF for b in blob[-n_bytes:])
        db.execute("UPDATE messages SET data = ? WHERE id = ?", (bytes(blob), mid))


def test_corrupt_frame_is_skipped_and_counted(tmp_path):
    frames = make_frames(5)
    path = write_recording(frames, tmp_path / "rec.db3")
    _damage_pixels(path, "Depth_0", 2, 64)
    with open_source(path) as src:
        out = list(src)
        assert [f.index for f in out] == [0, 1, 3, 4]
        assert src.stats.frames_skipped == 1
        assert src.stats.skip_reasons["corrupt depth frame"] == 1
    np.testing.assert_array_equal(out[2].depth, frames[3].depth)


def test_corrupt_colour_is_skipped_and_counted(tmp_path):
    frames = make_frames(5)
    path = write_recording(frames, tmp_path / "rec.db3")
    _damage_pixels(path, "Color_0", 1, 30)
    with open_source(path) as src:
        out = list(src)
        assert [f.index for f in out] == [0, 2, 3, 4]
        assert src.stats.skip_reasons["corrupt colour frame"] == 1
    np.testing.assert_array_equal(out[1].color, frames[2].color)


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "rec.db3"
    target.write_bytes(b"previous recording")

    def frames_then_error():
        yield from make_frames(2)
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_recording(frames_then_error(), target)
    assert target.read_bytes() == b"previous recording"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.db3"]


def test_write_rejects_inconsistent_frames(tmp_path):
    frames = make_frames(3)
    frames[2].depth_scale = 0.0001
    with pytest.raises(FrameError, match="depth_scale"):
        write_recording(frames, tmp_path / "rec.db3")
    frames = make_frames(3)
    frames[1].index = 0
    with pytest.raises(FrameError, match="does not increase"):
        write_recording(frames, tmp_path / "rec.db3")
    with pytest.raises(FormatError, match=r"\.db3"):
        write_recording(make_frames(1), tmp_path / "rec.bag")
    with pytest.raises(FrameError, match="no frames"):
        write_recording([], tmp_path / "rec.db3")
    assert list(tmp_path.iterdir()) == []


def test_decimation_filter_updates_intrinsics_and_aligns_colour(tmp_path):
    intr = Intrinsics(64, 48, 50.0, 50.0, 31.5, 23.5)
    frames = make_frames(3, 64, 48, intrinsics=intr, poses=False)
    for f in frames:  # a smooth plane, so the filters have something sensible to work on
        f.depth[:] = 1500
    path = write_recording(frames, tmp_path / "rec.db3")
    with RecordingSource(path, filters=[("decimation", {"magnitude": 2}), "spatial"]) as src:
        k = src.intrinsics
        out = list(src)
    assert (k.width, k.height) == (32, 24)
    assert k.fx == pytest.approx(25.0, rel=1e-3)
    assert len(out) == 3
    f = out[0]
    assert f.depth.shape == (24, 32) and f.color.shape == (24, 32, 3)
    assert np.all(np.abs(f.depth[f.depth > 0].astype(int) - 1500) <= 2)


def test_frame_number_jumps_are_reported_as_gaps(tmp_path):
    frames = make_frames(4)
    for f, n in zip(frames, (0, 1, 5, 6), strict=True):
        f.index, f.timestamp = n, n / 30.0
    frames[2].color = None  # a colour frame that never came: that depth frame has no colour
    path = write_recording(frames, tmp_path / "rec.db3")
    with open_source(path) as src:
        out = list(src)
        gaps = src.stats.gaps
    assert [f.index for f in out] == [0, 1, 5, 6]
    assert [f.color is None for f in out] == [False, False, True, False]
    assert len(gaps) == 1 and gaps[0].after_index == 1
    assert gaps[0].seconds == pytest.approx(4 / 30.0, abs=1e-6)


def _camera_like_recording(path, n=3, extrinsics=True):
    """A recording shaped like a real camera's: colour at twice the depth resolution with its
    own intrinsics (what write_recording never produces), made with the software device;
    ``extrinsics=False`` leaves out the colour-to-depth extrinsics, as some tools do."""
    import pyrealsense2 as rs

    dev = rs.software_device()
    ds, cs = dev.add_sensor("Stereo Module"), dev.add_sensor("RGB Camera")

    def stream(kind, fmt, bpp, w, h, f, uid):
        intr = rs.intrinsics()
        intr.width, intr.height, intr.fx, intr.fy = w, h, f, f
        intr.ppx, intr.ppy = (w - 1) / 2, (h - 1) / 2
        intr.model, intr.coeffs = rs.distortion.none, [0.0] * 5
        vs = rs.video_stream()
        vs.type, vs.fmt, vs.bpp, vs.width, vs.height, vs.fps = kind, fmt, bpp, w, h, 30
        vs.index, vs.uid, vs.intrinsics = 0, uid, intr
        return vs

    dp = ds.add_video_stream(stream(rs.stream.depth, rs.format.z16, 2, 32, 24, 30.0, 1))
    cp = cs.add_video_stream(stream(rs.stream.color, rs.format.bgr8, 3, 64, 48, 60.0, 2))
    ds.add_read_only_option(rs.option.depth_units, 0.001)
    if extrinsics:
        ext = rs.extrinsics()
        ext.rotation, ext.translation = [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0], [0.0, 0.0, 0.0]
        dp.register_extrinsics_to(cp, ext)
    rec = rs.recorder(str(path), dev, False)
    ds.open(dp)
    cs.open(cp)
    got = []
    ds.start(got.append)
    cs.start(got.append)
    color = np.zeros((48, 64, 3), np.uint8)
    color[..., 2] = (np.arange(64) * 3)[None, :]  # bgr8: red encodes the colour column
    for i in range(n):
        for sensor, prof, pix, bpp in ((ds, dp, np.full((24, 32), 1000, np.uint16), 2),
                                       (cs, cp, color, 3)):
            f = rs.software_video_frame()
            f.pixels, f.stride, f.bpp = pix, pix.shape[1] * bpp, bpp
            f.timestamp, f.frame_number = i * 33.3 + (2.0 if bpp == 3 else 0.0), 100 + i
            f.domain, f.profile = rs.timestamp_domain.hardware_clock, prof.as_video_stream_profile()
            if bpp == 2:
                f.depth_units = 0.001
            sensor.on_video_frame(f)
        deadline = time.monotonic() + 60  # a wait, not a limit: busy machines are slow
        while len(got) < 2 * (i + 1) and time.monotonic() < deadline:
            time.sleep(0.005)
    for s in (ds, cs):
        s.stop()
    for s in (ds, cs):
        s.close()
    del rec


def test_camera_like_recording_aligns_colour_to_depth(tmp_path):
    path = tmp_path / "camera.db3"
    _camera_like_recording(path)
    with open_source(path) as src:
        out = list(src)
    assert [f.index for f in out] == [100, 101, 102]
    f = out[0]
    assert f.color.shape == (24, 32, 3) and f.pose is None
    # depth pixel u (cx 15.5, f 30) at 1 m maps to colour column 2u + 0.5 (cx 31.5, f 60); red
    # came from bgr8, so channel 0 holds 3 * column
    cols = f.color[..., 0].astype(int) // 3
    assert np.all(np.abs(cols - 2 * np.arange(32)[None, :]) <= 1)
    with open_source(path, align=False) as src:
        assert all(g.color is None for g in src)


def test_colour_without_extrinsics_is_named_and_depth_still_reads(tmp_path):
    path = tmp_path / "no-extrinsics.db3"
    _camera_like_recording(path, extrinsics=False)
    with pytest.raises(FormatError, match=r"no extrinsics between colour and depth.*align=False"):
        open_source(path)
    with open_source(path, align=False) as src:
        out = list(src)
    assert [f.index for f in out] == [100, 101, 102] and all(f.color is None for f in out)


def test_frame_missing_from_recording_is_counted(tmp_path):
    frames = make_frames(5, color=False)
    path = write_recording(frames, tmp_path / "rec.db3")
    with sqlite3.connect(path) as db:  # drop the third depth frame's message
        (mid,) = db.execute(
            "SELECT m.id FROM messages m JOIN topics t ON m.topic_id = t.id "
            "WHERE t.name LIKE '%Depth_0/image/data%' ORDER BY m.id LIMIT 1 OFFSET 2").fetchone()
        db.execute("DELETE FROM messages WHERE id = ?", (mid,))
    with open_source(path) as src:
        out = list(src)
        assert [f.index for f in out] == [0, 1, 3, 4]
        assert src.stats.skip_reasons["missing from recording"] == 1
        assert [g.after_index for g in src.stats.gaps] == [1]
