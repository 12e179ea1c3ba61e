"""The live-camera path: the frame conversion on recorded framesets (no camera needed), and
the camera itself (marked realsense_hw)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyrealsense2")

import pyrealsense2 as rs

from edge3d.errors import SourceError
from edge3d.io import open_source, write_recording
from edge3d.io.realsense import LiveCamera, frameset_to_frame
from edge3d.io.recording import _compose
from edge3d.io.rs_filters import DepthFilterChain, parse_filters
from edge3d.types import Intrinsics
from tests.io.writers import make_frames


def test_filter_order_is_the_documented_one():
    cfg = parse_filters(["hole_filling", ("temporal", {"alpha": 0.3}), "decimation", "spatial"])
    assert list(cfg) == ["decimation", "spatial", "temporal", "hole_filling"]
    assert parse_filters("spatial+decimation") == {"decimation": {}, "spatial": {}}
    with pytest.raises(SourceError, match="unknown depth filter"):
        parse_filters(["median"])
    with pytest.raises(SourceError, match="unknown option"):
        parse_filters([("spatial", {"radius": 2})])
    chain = DepthFilterChain(["temporal", "spatial", "decimation", "hole_filling"])
    kinds = [type(b).__name__ for b in chain._blocks]
    assert kinds == ["decimation_filter", "disparity_transform", "spatial_filter",
                     "temporal_filter", "disparity_transform", "hole_filling_filter"]


def test_frameset_conversion_on_recorded_frames(tmp_path):
    """What LiveCamera does to each camera frameset, run on framesets from a recording."""
    intr = Intrinsics(64, 48, 50.0, 50.0, 31.5, 23.5)
    frames = make_frames(2, 64, 48, intrinsics=intr, poses=False, depth_scale=0.0001)
    for f in frames:
        f.depth[:] = 15000
    path = write_recording(frames, tmp_path / "cam.db3")
    dev = rs.context().load_device(str(path))
    dev.as_playback().set_real_time(False)
    got = []
    sensors = dev.query_sensors()
    for s in sensors:
        s.open(s.get_stream_profiles()[0])
    dev.as_playback().pause()
    for s in sensors:
        s.start(lambda f: (f.keep(), got.append(f)))
    dev.as_playback().resume()
    import time

    deadline = time.monotonic() + 60  # a wait, not a limit: busy machines are slow
    while len(got) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    depth = next(f for f in got if f.profile.stream_type() == rs.stream.depth)
    color = next(f for f in got if f.profile.stream_type() == rs.stream.color)
    fs = _compose(rs, depth, color)
    chain = DepthFilterChain([("decimation", {"magnitude": 2})])
    out = frameset_to_frame(fs, chain, rs.align(rs.stream.depth), 0.0001, 7)
    for s in sensors:
        s.stop()
        s.close()
    assert out.index == 7 and out.depth_scale == 0.0001
    assert (out.intrinsics.width, out.intrinsics.height) == (32, 24)
    assert out.intrinsics.fx == pytest.approx(25.0, rel=1e-3)
    assert out.color.shape == (24, 32, 3) and out.depth.shape == (24, 32)
    assert np.all(out.depth[out.depth > 0] == 15000)
    out.validate()


def test_realsense_spec_without_camera_is_a_clear_error():
    if len(rs.context().query_devices()) > 0:
        pytest.skip("a camera is connected")
    with pytest.raises(SourceError, match="no RealSense camera"):
        open_source("realsense")


@pytest.mark.realsense_hw
def test_live_camera_streams_frames_with_device_scale():
    with LiveCamera(filters=("spatial", "temporal")) as cam:
        frames = []
        for f in cam:
            frames.append(f)
            if len(frames) == 10:
                break
        sensor = rs.context().query_devices()[0].first_depth_sensor()
        assert cam.depth_scale == pytest.approx(sensor.get_depth_scale(), rel=1e-6)
        assert cam.stats.frames_read == 10
    assert all(f.color is not None and f.color.shape[:2] == f.depth.shape for f in frames)
    assert len({f.index for f in frames}) == 10


@pytest.mark.realsense_hw
def test_live_camera_decimation_and_imu():
    with LiveCamera(640, 480, 30, filters=["decimation"]) as cam:
        f = next(iter(cam))
        assert (f.intrinsics.width, f.intrinsics.height) == (320, 240)
        if cam.has_imu:
            import time

            time.sleep(0.5)
            g = cam.gravity()
            assert g is not None and abs(np.linalg.norm(g) - 1) < 1e-6
