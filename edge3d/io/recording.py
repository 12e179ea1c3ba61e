"""RealSense recordings: write any frame sequence as a ``.db3``, play ``.db3`` and ``.bag`` back.

Writing goes through pyrealsense2's ``software_device`` and ``recorder``, so the result is a real
RealSense recording (rosbag2 SQLite, librealsense >= 2.58.1) that the RealSense Viewer and any
librealsense program play. Reading goes through pyrealsense2 playback in non-real-time mode, so
every frame arrives and a slow consumer simply slows playback down.

Depth scale and intrinsics always come from the recording. Poses and per-frame depth checksums
live in the sidecar ``<stem>.frames.json`` (:mod:`edge3d.io.sidecar`).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from edge3d.errors import FormatError, FrameError, SourceError
from edge3d.io import sidecar
from edge3d.io.rs_filters import DepthFilterChain, FilterSpec
from edge3d.io.rs_util import (
    color_to_numpy,
    depth_to_numpy,
    f32_value,
    import_rs,
    intrinsics_from_rs,
    intrinsics_to_rs,
    is_identity_extrinsics,
)
from edge3d.io.source import FrameSource, Gap, SkippedFrame
from edge3d.types import Frame, Intrinsics

log = logging.getLogger(__name__)

_SQLITE_MAGIC = b"SQLite format 3\x00"
_ROSBAG_MAGIC = b"#ROSBAG V2.0"
_CALLBACK_TIMEOUT_S = 10.0
_MAX_PENDING = 8  # frames held while pairing depth with colour (librealsense pools are small)


# --------------------------------------------------------------------------------------- writing

def write_recording(frames: Iterable[Frame], path: str | os.PathLike, *, fps: int = 30,
                    compress: bool = False, progress: bool = False) -> Path:
    """Write frames as a RealSense ``.db3`` recording (depth z16, colour rgb8) plus its sidecar.

    Args:
        frames: validated frames with one set of intrinsics and one depth scale; frame indices
            must increase (they become the recorded frame numbers). Colour, when the first frame
            has it, is recorded as a second stream with the same intrinsics and identity
            extrinsics (it is aligned to depth already).
        path: output file; must end in ``.db3`` (librealsense >= 2.58 records only rosbag2).
        fps: the nominal stream rate stored in the stream profiles.
        compress: librealsense's lossless compression; such files play only in librealsense,
            not in ROS 2 tools, so it is off by default.
        progress: show a tqdm progress bar.

    Returns:
        ``path``. The recording and ``<stem>.frames.json`` (poses, depth CRC-32s) are written under
        temporary names and renamed at the end, so a failure never leaves a half file at ``path``.

    Raises:
        FormatError: the path does not end in ``.db3``.
        FrameError: a frame is invalid or differs in size, intrinsics or depth scale.
        SourceError: the recorder lost a frame; nothing is written.
    """
    path = Path(path)
    if path.suffix != ".db3":
        raise FormatError(f"{path}: RealSense recordings are written as .db3 (librealsense 2.58+ "
                          "records rosbag2 only); use a name ending in .db3")
    rs = import_rs("Writing a RealSense recording")
    path.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}.{threading.get_ident()}"
    tmp = path.with_name(f".{path.stem}.{tag}.tmp.db3")
    tmp_side = path.with_name(f".{path.stem}.{tag}.tmp.frames.json")
    try:
        records, first = _record(rs, frames, tmp, fps, compress, progress and path.name)
        _verify_written(tmp, len(records))
        tmp_side.write_text(sidecar.encode(records, first.depth_scale, first.intrinsics))
        os.replace(tmp_side, sidecar.sidecar_path(path))
        os.replace(tmp, path)
    finally:
        for p in (tmp, tmp_side):
            p.unlink(missing_ok=True)
    return path


class _Recorder:
    """A software device with a depth (and optional colour) sensor, wired to a recorder."""

    def __init__(self, rs: Any, path: Path, first: Frame, fps: int, compress: bool) -> None:
        self.rs = rs
        self.device = rs.software_device()
        self.device.register_info(rs.camera_info.name, "edge3d software camera")
        intr = intrinsics_to_rs(first.intrinsics)
        w, h = first.intrinsics.width, first.intrinsics.height
        self.depth_sensor = self.device.add_sensor("Depth")
        self.depth_profile = self.depth_sensor.add_video_stream(
            self._stream(rs.stream.depth, rs.format.z16, 2, w, h, fps, intr, uid=1))
        self.depth_sensor.add_read_only_option(rs.option.depth_units, first.depth_scale)
        self.sensors = [(self.depth_sensor, self.depth_profile)]
        self.color_sensor = self.color_profile = None
        if first.color is not None:
            self.color_sensor = self.device.add_sensor("Color")
            self.color_profile = self.color_sensor.add_video_stream(
                self._stream(rs.stream.color, rs.format.rgb8, 3, w, h, fps, intr, uid=2))
            identity = rs.extrinsics()  # default-constructed extrinsics are all zeros
            identity.rotation = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
            identity.translation = [0.0, 0.0, 0.0]
            self.depth_profile.register_extrinsics_to(self.color_profile, identity)
            self.sensors.append((self.color_sensor, self.color_profile))
        self.recorder = rs.recorder(str(path), self.device, compress)
        self.delivered = 0
        self._cond = threading.Condition()
        for sensor, profile in self.sensors:
            sensor.open(profile)
        for sensor, _ in self.sensors:
            sensor.start(self._on_frame)

    def _stream(self, kind: Any, fmt: Any, bpp: int, w: int, h: int, fps: int, intr: Any,
                uid: int) -> Any:
        vs = self.rs.video_stream()
        vs.type, vs.fmt, vs.bpp = kind, fmt, bpp
        vs.width, vs.height, vs.fps, vs.index, vs.uid = w, h, fps, 0, uid
        vs.intrinsics = intr
        return vs

    def _on_frame(self, _frame: Any) -> None:
        with self._cond:
            self.delivered += 1
            self._cond.notify_all()

    def push(self, frame: Frame, depth_scale: float) -> None:
        rs = self.rs
        expected = self.delivered
        pairs = [(self.depth_sensor, self.depth_profile, frame.depth, 2)]
        if self.color_sensor is not None and frame.color is not None:
            pairs.append((self.color_sensor, self.color_profile, frame.color, 3))
        for sensor, profile, pixels, bpp in pairs:
            f = rs.software_video_frame()
            f.pixels = np.ascontiguousarray(pixels)
            f.stride, f.bpp = frame.intrinsics.width * bpp, bpp
            f.timestamp = frame.timestamp * 1000.0
            f.domain = rs.timestamp_domain.hardware_clock
            f.frame_number = frame.index
            f.profile = profile.as_video_stream_profile()
            if bpp == 2:
                f.depth_units = depth_scale
            sensor.on_video_frame(f)
            expected += 1
        # the recorder writes inside the sensor's dispatch; waiting for our callback keeps a fast
        # producer from overrunning librealsense's frame queue
        with self._cond:
            if not self._cond.wait_for(lambda: self.delivered >= expected, _CALLBACK_TIMEOUT_S):
                raise SourceError(f"the RealSense recorder did not take frame {frame.index} "
                                  f"within {_CALLBACK_TIMEOUT_S:.0f} s; nothing was written")

    def close(self) -> None:
        for sensor, _ in self.sensors:
            sensor.stop()
        for sensor, _ in self.sensors:
            sensor.close()
        # the recorder finalises the file when it is destroyed
        del self.recorder


def _record(rs: Any, frames: Iterable[Frame], tmp: Path, fps: int, compress: bool,
            progress: str | bool) -> tuple[list[sidecar.FrameRecord], Frame]:
    from tqdm import tqdm

    rec: _Recorder | None = None
    records: list[sidecar.FrameRecord] = []
    first: Frame | None = None
    try:
        for frame in tqdm(frames, desc=f"recording {progress}", unit="frame",
                          disable=not progress):
            frame.validate()
            if first is None:
                first = frame
                rec = _Recorder(rs, tmp, frame, fps, compress)
            else:
                _check_consistent(first, frame, records[-1].frame_number)
            rec.push(frame, first.depth_scale)
            records.append(sidecar.FrameRecord(
                frame.index, float(frame.timestamp), sidecar.depth_crc32(frame.depth),
                None if frame.pose is None else np.asarray(frame.pose, np.float64),
                None if frame.color is None else sidecar.color_crc32(frame.color)))
    finally:
        if rec is not None:
            rec.close()
            del rec
    if first is None:
        raise FrameError("write_recording got no frames; a recording needs at least one")
    return records, first


def _check_consistent(first: Frame, frame: Frame, last_number: int) -> None:
    if frame.intrinsics != first.intrinsics:
        raise FrameError(f"frame {frame.index}: intrinsics {frame.intrinsics} differ from the "
                         f"first frame's {first.intrinsics}; a recording has one depth stream "
                         "profile")
    if frame.depth_scale != first.depth_scale:
        raise FrameError(f"frame {frame.index}: depth_scale {frame.depth_scale} differs from the "
                         f"first frame's {first.depth_scale}")
    if frame.index <= last_number:
        raise FrameError(f"frame index {frame.index} does not increase (previous {last_number}); "
                         "recorded frame numbers must increase, renumber the frames")
    if first.color is None and frame.color is not None:
        raise FrameError(f"frame {frame.index} has colour but the first frame had none; the "
                         "streams of a recording are fixed by its first frame")


def _verify_written(path: Path, n_frames: int) -> None:
    """Count the depth messages in the finished file: the recorder must have kept every frame."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            (n,) = db.execute(
                "SELECT count(*) FROM messages m JOIN topics t ON m.topic_id = t.id "
                "WHERE t.name LIKE '%/Depth_0/image/data%'").fetchone()
    except sqlite3.Error as exc:
        raise SourceError(f"the RealSense recorder wrote an unreadable file ({exc})") from exc
    if n != n_frames:
        raise SourceError(f"the RealSense recorder kept {n} of {n_frames} depth frames; nothing "
                          "was written")


# --------------------------------------------------------------------------------------- reading

def check_recording_file(path: Path) -> None:
    """Reject a missing, mislabelled, truncated or structurally corrupt recording before
    librealsense opens it (it gives opaque errors for some of these)."""
    if not path.is_file():
        raise SourceError(f"{path}: no such recording file")
    with path.open("rb") as fh:
        head = fh.read(16)
    if path.suffix == ".db3":
        if head != _SQLITE_MAGIC:
            raise FormatError(f"{path}: not a rosbag2 .db3 recording (no SQLite header); the file "
                              "is corrupt or not a recording")
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                result = db.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.Error as exc:
            result = str(exc)
        if result != "ok":
            raise FormatError(f"{path}: the recording is truncated or corrupt (SQLite: {result}); "
                              "re-record it or restore it from a copy")
    elif path.suffix == ".bag":
        if not head.startswith(_ROSBAG_MAGIC):
            raise FormatError(f"{path}: not a ROS1 .bag recording (no '#ROSBAG V2.0' header)")
    else:
        raise FormatError(f"{path}: RealSense recordings end in .db3 or .bag")


class RecordingSource(FrameSource):
    """Frames from a RealSense ``.db3`` or ``.bag`` recording, every frame, in recorded order.

    Colour is paired with the depth frame nearest in time (within half a colour frame period) and
    aligned to depth with librealsense's ``align`` unless it already is (same intrinsics, identity
    extrinsics, as :func:`write_recording` records it); with ``align=False`` colour that is not
    aligned already is not read. A recording without colour-to-depth extrinsics cannot be
    aligned: it raises :class:`FormatError` unless ``align=False`` (depth only). ``filters`` (see
    :mod:`edge3d.io.rs_filters`) run on depth before alignment; intrinsics follow decimation.

    Poses and checksums come from the sidecar when there is one: a frame whose depth or colour
    CRC-32 does not match is skipped as ``"corrupt depth frame"`` / ``"corrupt colour frame"``,
    and a frame listed there but absent from the recording (lost trailing frames included) is
    counted as ``"missing from recording"``. Without a sidecar (a RealSense Viewer recording)
    only what the recording itself shows is detected: frame-number gaps (``stats.gaps``) and
    frames librealsense cannot decode; damaged pixels and frames lost at the end are not (see
    ``docs/reliability.md``).
    """

    def __init__(self, path: str | os.PathLike, *,
                 filters: Iterable[FilterSpec] | str | None = None, align: bool = True,
                 use_sidecar: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        check_recording_file(self.path)
        self._rs = rs = import_rs("Reading a RealSense recording")
        try:
            self._device = rs.context().load_device(str(self.path))
        except RuntimeError as exc:
            raise FormatError(f"{self.path}: librealsense cannot open the recording ({exc})") \
                from exc
        self._playback = self._device.as_playback()
        self._playback.set_real_time(False)
        self._depth_sensor, self._depth_profile = self._find_stream(rs.stream.depth)
        if self._depth_sensor is None:
            raise FormatError(f"{self.path}: the recording has no depth stream")
        self._color_sensor, self._color_profile = self._find_stream(rs.stream.color)
        self.depth_scale = f32_value(self._depth_sensor.as_depth_sensor().get_depth_scale())
        self._raw_intrinsics = intrinsics_from_rs(
            self._depth_profile.as_video_stream_profile().get_intrinsics())
        self._filters = DepthFilterChain(filters)
        self._align_block = None
        if self._color_profile is not None:
            try:
                ext = self._color_profile.get_extrinsics_to(self._depth_profile)
            except RuntimeError as exc:  # "Requested extrinsics are not available!"
                if align:
                    raise FormatError(
                        f"{self.path}: the recording has no extrinsics between colour and "
                        f"depth ({exc}), so colour cannot be aligned to depth; open it with "
                        "align=False to read depth only") from exc
                ext = None
            same_intr = intrinsics_from_rs(
                self._color_profile.as_video_stream_profile().get_intrinsics()
            ) == self._raw_intrinsics
            decimated = "decimation" in self._filters.names
            if ext is None or not (same_intr and is_identity_extrinsics(ext)) or decimated:
                if align:
                    self._align_block = rs.align(rs.stream.depth)
                else:  # frames carry only colour registered to depth
                    self._color_sensor = self._color_profile = None
        self._color_tolerance_s = 0.5 / max(1, self._color_profile.fps()) if self._color_profile \
            else 0.0
        self.records: dict[int, sidecar.FrameRecord] = {}
        side = sidecar.sidecar_path(self.path)
        if use_sidecar and side.is_file():
            meta = sidecar.read(side)
            self.records = meta.frames
            if meta.intrinsics is not None and _same_f32(meta.intrinsics, self._raw_intrinsics):
                self._raw_intrinsics = meta.intrinsics
            if f32_value(meta.depth_scale) == self.depth_scale:
                self.depth_scale = meta.depth_scale
        self._frames: deque[Any] = deque()
        self._cond = threading.Condition()
        self._started_all = False
        self._stop = threading.Event()
        self._started: list[Any] = []
        self._last: tuple[int, float] | None = None

    def _find_stream(self, kind: Any) -> tuple[Any, Any]:
        for sensor in self._device.query_sensors():
            for profile in sensor.get_stream_profiles():
                if profile.stream_type() == kind and profile.is_video_stream_profile():
                    return sensor, profile
        return None, None

    @property
    def intrinsics(self) -> Intrinsics:
        if "decimation" not in self._filters.names:
            return self._raw_intrinsics
        return self._first_frame_intrinsics(f"{self.path}: the recording has no readable frame")

    @property
    def has_color(self) -> bool:
        return self._color_profile is not None

    def _on_frame(self, frame: Any) -> None:
        frame.keep()
        # Block while the consumer is behind (playback is non-real-time, so it waits for us), but
        # not before every sensor has started: starting a sensor waits for the running ones.
        with self._cond:
            self._cond.wait_for(lambda: self._stop.is_set() or not self._started_all
                                or len(self._frames) < _MAX_PENDING)
            if not self._stop.is_set():
                self._frames.append(frame)
                self._cond.notify_all()

    def _next_frame(self, timeout: float) -> Any:
        with self._cond:
            if not self._cond.wait_for(lambda: self._frames, timeout):
                return None
            frame = self._frames.popleft()
            self._cond.notify_all()
            return frame

    def _start(self) -> None:
        # a D405 streams colour from its depth sensor: open such a sensor once with both profiles
        groups: dict[str, tuple[Any, list[Any]]] = {}
        for sensor, profile in ((self._depth_sensor, self._depth_profile),
                                (self._color_sensor, self._color_profile)):
            if sensor is not None:
                name = sensor.get_info(self._rs.camera_info.name)
                groups.setdefault(name, (sensor, []))[1].append(profile)
        for sensor, profiles in groups.values():
            sensor.open(profiles if len(profiles) > 1 else profiles[0])
            self._started.append(sensor)
        # playback starts reading with the first sensor started: hold it until every sensor
        # listens, or the first frames of the later sensors are lost
        self._playback.pause()
        for sensor in self._started:
            sensor.start(self._on_frame)
        self._playback.resume()
        with self._cond:
            self._started_all = True

    def _stop_sensors(self) -> None:
        with self._cond:
            self._stop.set()
            self._cond.notify_all()
        for sensor in self._started:
            try:
                sensor.stop()
                sensor.close()
            except RuntimeError:
                pass  # already stopped by the end of playback
        self._started.clear()

    def _read(self) -> Iterator[Frame | SkippedFrame]:
        rs = self._rs
        self._start()
        pending: deque[Any] = deque()
        colors: deque[Any] = deque(maxlen=_MAX_PENDING)
        seen: set[int] = set()
        try:
            while True:
                f = self._next_frame(0.2)
                if f is None:
                    if self._playback.current_status() == rs.playback_status.stopped:
                        break
                    continue
                if f.profile.stream_type() == rs.stream.depth:
                    pending.append(f)
                else:
                    colors.append(f)
                # the two streams arrive from separate librealsense threads, so a depth frame is
                # ready once colour at or after its time arrived (or colour fell far behind)
                while pending and (self._color_profile is None or len(pending) > _MAX_PENDING
                                   or (colors and colors[-1].get_timestamp()
                                       >= pending[0].get_timestamp())):
                    yield self._emit(pending.popleft(), colors, seen)
            while pending:
                yield self._emit(pending.popleft(), colors, seen)
        finally:
            self._stop_sensors()
        for n in sorted(set(self.records) - seen):
            yield SkippedFrame("missing from recording",
                               f"frame {n} is in the sidecar but not in the recording", n)

    def _emit(self, depth: Any, colors: deque, seen: set[int]) -> Frame | SkippedFrame:
        number = int(depth.get_frame_number())
        ts = depth.get_timestamp() / 1000.0
        last, self._last = self._last, (number, ts)
        seen.add(number)
        if last is not None and number > last[0] + 1:
            self.stats.gaps.append(Gap(last[0], ts - last[1],
                                       f"recording skips frames {last[0] + 1}..{number - 1}"))
        try:
            raw = depth_to_numpy(depth)
        except RuntimeError as exc:
            return SkippedFrame("unreadable depth frame", str(exc), number)
        record = self.records.get(number)
        if record is not None and sidecar.depth_crc32(raw) != record.depth_crc32:
            return SkippedFrame("corrupt depth frame",
                                f"frame {number}: CRC-32 differs from the sidecar's", number)
        color = None
        if colors:
            c = min(colors, key=lambda c: abs(c.get_timestamp() / 1000.0 - ts))
            if abs(c.get_timestamp() / 1000.0 - ts) <= self._color_tolerance_s:
                color = c
        if record is not None and record.color_crc32 is not None and color is not None:
            try:
                pixels = np.asanyarray(color.get_data())
            except RuntimeError as exc:
                return SkippedFrame("unreadable colour frame", str(exc), number)
            if sidecar.color_crc32(pixels) != record.color_crc32:
                return SkippedFrame("corrupt colour frame",
                                    f"frame {number}: colour CRC-32 differs from the sidecar's",
                                    number)
        try:
            frame = self._to_frame(depth, color, number, ts)
        except RuntimeError as exc:
            return SkippedFrame("unreadable frame", str(exc), number)
        if record is not None:
            # the sidecar keeps the writer's exact float64 time; the recording rounds it
            frame.pose, frame.timestamp = record.pose, record.timestamp
        return frame

    def _to_frame(self, depth: Any, color: Any, number: int, ts: float) -> Frame:
        if self._filters or (color is not None and self._align_block is not None):
            fs = _compose(self._rs, depth, color) if color is not None else depth
            fs = self._filters.process(fs) if self._filters else fs
            if color is not None:
                fs = fs.as_frameset()
                if self._align_block is not None:
                    fs = self._align_block.process(fs)
                depth, color = fs.get_depth_frame(), fs.get_color_frame()
            else:
                depth = fs
        intr = intrinsics_from_rs(depth.profile.as_video_stream_profile().get_intrinsics())
        if _same_f32(intr, self._raw_intrinsics):
            intr = self._raw_intrinsics
        rgb = color_to_numpy(color) if color is not None else None
        if rgb is not None and rgb.shape[:2] != (intr.height, intr.width):
            rgb = None  # colour that is not aligned to depth is of no use downstream
        return Frame(depth=depth_to_numpy(depth), depth_scale=self.depth_scale, intrinsics=intr,
                     color=rgb, timestamp=ts, index=number)

    def close(self) -> None:
        self._stop_sensors()
        self._device = self._playback = None  # releases the file
        super().close()


def _same_f32(a: Intrinsics, b: Intrinsics) -> bool:
    """Equal up to librealsense's float32 storage."""
    va = (a.fx, a.fy, a.cx, a.cy, *a.distortion_coeffs)
    vb = (b.fx, b.fy, b.cx, b.cy, *b.distortion_coeffs)
    return ((a.width, a.height, a.distortion_model) == (b.width, b.height, b.distortion_model)
            and np.array_equal(np.float32(va), np.float32(vb)))


def _compose(rs: Any, depth: Any, color: Any) -> Any:
    """A frameset of two separately received frames (what ``align`` and the filters expect)."""
    out: list[Any] = []

    def make(_frame: Any, source: Any) -> None:
        source.frame_ready(source.allocate_composite_frame([depth, color]))

    block = rs.processing_block(make)
    block.start(out.append)
    block.invoke(depth)
    if not out:
        raise RuntimeError("librealsense did not compose the depth and colour frames")
    return out[0]
