"""open_source dispatch, synthetic specs, errors, and the FrameSource contract."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from edge3d.errors import FormatError, SourceError
from edge3d.io import FrameSource, SkippedFrame, open_source
from edge3d.io.synthetic import parse_spec
from edge3d.types import Frame, Intrinsics


def test_parse_spec():
    assert parse_spec("synthetic") == {}
    assert parse_spec("synthetic:") == {}
    assert parse_spec("synthetic:seed=3, frames=4,room_size=4:7") == {
        "seed": "3", "frames": "4", "room_size": "4:7"}
    with pytest.raises(SourceError, match="not key=value"):
        parse_spec("synthetic:seed")
    with pytest.raises(SourceError, match="twice"):
        parse_spec("synthetic:seed=1,seed=2")


def test_synthetic_source():
    pytest.importorskip("edge3d.synth")
    with open_source("synthetic:seed=2,frames=3,width=64,height=48") as src:
        assert (src.intrinsics.width, src.intrinsics.height) == (64, 48)
        frames = list(src)
        assert src.stats.frames_read == 3
        assert src.last_rendered.instance.shape == (48, 64)
    assert [f.index for f in frames] == [0, 1, 2]
    assert all(f.pose is not None and f.color is not None for f in frames)
    assert all(f.depth.dtype == np.uint16 for f in frames)
    # options add parameters; the same seed gives the same frames
    with open_source("synthetic:seed=2,width=64,height=48", frames=3) as src:
        again = list(src)
    np.testing.assert_array_equal(again[2].depth, frames[2].depth)
    with pytest.raises(SourceError, match="unknown synthetic parameter"):
        open_source("synthetic:sed=2")
    with pytest.raises(SourceError, match="both in the spec and as options"):
        open_source("synthetic:frames=2", frames=3)


def test_synthetic_to_recording_round_trip(tmp_path):
    """The design's pipeline: a synthetic trajectory written as a .db3 plays back identically."""
    pytest.importorskip("edge3d.synth")
    pytest.importorskip("pyrealsense2")
    from edge3d.io import write_recording

    with open_source("synthetic:seed=1,frames=4,width=80,height=60") as src:
        frames = list(src)
    path = write_recording(frames, tmp_path / "synthetic.db3")
    with open_source(path) as src:
        back = list(src)
    assert len(back) == 4
    for a, b in zip(frames, back, strict=True):
        np.testing.assert_array_equal(a.depth, b.depth)
        np.testing.assert_array_equal(a.color, b.color)
        np.testing.assert_array_equal(a.pose, b.pose)
        assert a.intrinsics == b.intrinsics and a.depth_scale == b.depth_scale


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(SourceError, match="no such file or folder"):
        open_source(tmp_path / "missing.db3")
    (tmp_path / "x.mp4").write_bytes(b"")
    with pytest.raises(FormatError, match="unknown file type"):
        open_source(tmp_path / "x.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no known layout"):
        open_source(tmp_path / "empty")
    (tmp_path / "d" / "depth").mkdir(parents=True)
    (tmp_path / "d" / "depth" / "0.png").write_bytes(b"")
    with pytest.raises(SourceError, match="does not take option"):
        open_source(tmp_path / "d", bogus=1)


class _ListSource(FrameSource):
    def __init__(self, items):
        super().__init__()
        self.items = items

    @property
    def intrinsics(self):
        return Intrinsics(4, 3, 2.0, 2.0, 1.5, 1.0)

    def _read(self):
        yield from self.items


def test_frame_source_validates_skips_and_counts():
    k = Intrinsics(4, 3, 2.0, 2.0, 1.5, 1.0)
    good = Frame(np.ones((3, 4), np.uint16), 0.001, k, index=0)
    wrong_size = Frame(np.ones((2, 4), np.uint16), 0.001, k, index=1)
    bad_pose = Frame(np.ones((3, 4), np.uint16), 0.001, k, index=2, pose=np.full((4, 4), np.nan))
    src = _ListSource([good, wrong_size, SkippedFrame("truncated frame", "", 3), bad_pose, good])
    out = list(src)
    assert len(out) == 2
    assert src.stats.frames_read == 2 and src.stats.frames_skipped == 3
    assert src.stats.skip_reasons == {"invalid frame": 2, "truncated frame": 1}
    with pytest.raises(Exception, match="only once"):
        list(src)
    src.close()


def test_importing_io_loads_no_heavy_module():
    code = ("import sys, edge3d.io, edge3d.io.recording, edge3d.io.realsense; "
            "print('pyrealsense2' in sys.modules, 'torch' in sys.modules)")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
