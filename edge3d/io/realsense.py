"""A live RealSense camera as a :class:`FrameSource`.

Depth and colour stream at the chosen size and rate; the depth filters of
:mod:`edge3d.io.rs_filters` run in librealsense's documented order; colour is then aligned to the
(filtered) depth, so intrinsics follow decimation. The depth scale is read from the device (a
D405 uses 0.1 mm units, most D4xx 1 mm). A camera that stops delivering (unplugged, USB reset,
"Frame didn't arrive") is closed and reopened with exponential backoff; each outage is recorded
in ``stats.gaps`` and ``stats.reconnects`` and the stream goes on.

Cameras with an IMU (D435i, D455) also stream the accelerometer; :meth:`LiveCamera.gravity`
gives the averaged direction of gravity in the depth camera's frame, for gravity alignment.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from edge3d.errors import SourceError
from edge3d.io.rs_filters import DepthFilterChain, FilterSpec
from edge3d.io.rs_util import (
    color_to_numpy,
    depth_to_numpy,
    f32_value,
    import_rs,
    intrinsics_from_rs,
)
from edge3d.io.source import FrameSource, Gap, SkippedFrame
from edge3d.types import Frame, Intrinsics

log = logging.getLogger(__name__)
_WAIT_SLICE_MS = 100  # frame waits are cut into slices this long, so stop() is prompt

DEFAULT_FILTERS: tuple[FilterSpec, ...] = ("spatial", "temporal")
"""Edge-preserving spatial smoothing and temporal averaging, as the RealSense Viewer applies
them; pass ``filters=()`` for raw depth, or add ``"decimation"`` to halve the resolution."""


def connected_serials() -> list[str]:
    """Serial numbers of the connected RealSense cameras."""
    rs = import_rs("Listing RealSense cameras")
    return [d.get_info(rs.camera_info.serial_number) for d in rs.context().query_devices()]


def frameset_to_frame(frameset: Any, filters: DepthFilterChain | None, align: Any,
                      depth_scale: float, index: int) -> Frame | SkippedFrame:
    """Run the depth filters, then align colour to the filtered depth (``align`` is an
    ``rs.align(rs.stream.depth)`` or None to drop colour), and copy the result into a Frame whose
    intrinsics are those of the filtered depth profile."""
    fs = filters.process(frameset) if filters else frameset
    fs = fs.as_frameset()
    if align is not None:
        fs = align.process(fs)
    depth = fs.get_depth_frame()
    if not depth:
        return SkippedFrame("no depth in frameset", "", index)
    intr = intrinsics_from_rs(depth.profile.as_video_stream_profile().get_intrinsics())
    color_frame = fs.get_color_frame() if align is not None else None
    color = color_to_numpy(color_frame) if color_frame else None
    if color is not None and color.shape[:2] != (intr.height, intr.width):
        color = None
    return Frame(depth=depth_to_numpy(depth), depth_scale=depth_scale, intrinsics=intr,
                 color=color, timestamp=depth.get_timestamp() / 1000.0, index=index)


class LiveCamera(FrameSource):
    """Frames from a connected RealSense camera.

    Args:
        width, height, fps: the depth and colour stream mode.
        serial: the camera to open; None takes the first one.
        filters: depth filters (names or ``(name, options)``), run in the documented order.
        align: align colour to depth (otherwise colour is dropped, because edge3d frames carry
            only colour registered to depth).
        imu: stream the accelerometer when the camera has one.
        frame_timeout_ms: how long to wait for a frameset before treating the camera as gone.
        max_backoff_s: the longest wait between reopen attempts (the wait doubles from 0.25 s).
        reconnect_timeout_s: give up (SourceError) after this long without a camera; None keeps
            trying until :meth:`close`.
    """

    live = True

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30,
                 serial: str | None = None,
                 filters: Iterable[FilterSpec] | str | None = DEFAULT_FILTERS, align: bool = True,
                 imu: bool = True, frame_timeout_ms: int = 5000, max_backoff_s: float = 4.0,
                 reconnect_timeout_s: float | None = None) -> None:
        super().__init__()
        self._rs = import_rs("The live RealSense camera")
        self.width, self.height, self.fps = width, height, fps
        self.serial = serial
        self.filter_specs = filters
        self.align = align
        self.use_imu = imu
        self.frame_timeout_ms = frame_timeout_ms
        self.max_backoff_s = max_backoff_s
        self.reconnect_timeout_s = reconnect_timeout_s
        self._stop = threading.Event()
        self._accel: deque[np.ndarray] = deque(maxlen=200)
        self._accel_lock = threading.Lock()
        self._R_depth_accel: np.ndarray | None = None
        self._pipeline = self._imu_pipeline = None
        self.depth_scale = 0.0
        self._intrinsics: Intrinsics | None = None
        self._open()

    # ---------------------------------------------------------------------------- device control

    def _open(self) -> None:
        rs = self._rs
        devices = rs.context().query_devices()
        if len(devices) == 0:
            raise SourceError("no RealSense camera is connected (check the USB 3 cable and the "
                              "udev rules)")
        if self.serial is None:
            self.serial = devices[0].get_info(rs.camera_info.serial_number)
        elif self.serial not in connected_serials():
            raise SourceError(f"no RealSense camera with serial {self.serial}; connected: "
                              f"{', '.join(connected_serials())}")
        cfg = rs.config()
        cfg.enable_device(self.serial)
        cfg.enable_stream(rs.stream.depth, self.width, self.height, rs.format.z16, self.fps)
        if self.align:
            cfg.enable_stream(rs.stream.color, self.width, self.height, rs.format.rgb8, self.fps)
        pipeline = rs.pipeline()
        try:
            profile = pipeline.start(cfg)
        except RuntimeError as exc:
            raise SourceError(f"RealSense {self.serial}: cannot stream {self.width}x{self.height}"
                              f" at {self.fps} fps ({exc}); try another mode") from exc
        self._pipeline = pipeline
        depth_sensor = profile.get_device().first_depth_sensor()
        self.depth_scale = f32_value(depth_sensor.get_depth_scale())
        self._filters = DepthFilterChain(self.filter_specs)  # fresh temporal history per session
        self._align = rs.align(rs.stream.depth) if self.align else None
        depth_profile = profile.get_stream(rs.stream.depth)
        if self.use_imu:
            self._start_imu(profile.get_device(), depth_profile)

    def _start_imu(self, device: Any, depth_profile: Any) -> None:
        rs = self._rs
        if not any(s.is_motion_sensor() for s in device.query_sensors()):
            return
        cfg = rs.config()
        cfg.enable_device(self.serial)
        cfg.enable_stream(rs.stream.accel)
        pipeline = rs.pipeline()
        try:
            profile = pipeline.start(cfg, self._on_motion)
        except RuntimeError as exc:
            log.warning("RealSense %s: accelerometer unavailable (%s)", self.serial, exc)
            return
        ext = profile.get_stream(rs.stream.accel).get_extrinsics_to(depth_profile)
        # librealsense rotations are column-major
        self._R_depth_accel = np.asarray(ext.rotation, float).reshape(3, 3).T
        self._imu_pipeline = pipeline

    def _on_motion(self, frame: Any) -> None:
        if frame.is_motion_frame():
            d = frame.as_motion_frame().get_motion_data()
            with self._accel_lock:
                self._accel.append(np.array([d.x, d.y, d.z], float))

    def _close_device(self) -> None:
        for name in ("_imu_pipeline", "_pipeline"):
            pipeline = getattr(self, name)
            setattr(self, name, None)
            if pipeline is not None:
                try:
                    pipeline.stop()
                except RuntimeError:
                    pass  # the device is already gone

    def _reopen(self, after_index: int, reason: str) -> None:
        """Close and reopen the camera with exponential backoff; record the gap."""
        start = time.monotonic()
        self._close_device()
        delay = 0.25
        while not self._stop.is_set():
            if self._stop.wait(delay):
                break
            try:
                self._open()
            except (SourceError, RuntimeError) as exc:  # RuntimeError: a USB reset in progress
                waited = time.monotonic() - start
                if self.reconnect_timeout_s is not None and waited > self.reconnect_timeout_s:
                    raise SourceError(f"RealSense {self.serial} did not come back within "
                                      f"{self.reconnect_timeout_s:.0f} s: {exc}") from exc
                log.info("RealSense %s not back yet (%s); retrying in %.1f s", self.serial, exc,
                         delay)
                delay = min(2 * delay, self.max_backoff_s)
                continue
            self.stats.reconnects += 1
            gap = Gap(after_index, time.monotonic() - start, reason)
            self.stats.gaps.append(gap)
            log.warning("RealSense %s reconnected after %.1f s (%s)", self.serial, gap.seconds,
                        reason)
            return

    # ---------------------------------------------------------------------------------- frames

    @property
    def intrinsics(self) -> Intrinsics:
        if self._intrinsics is None:
            frame = self._peek_frame()
            if frame is None:
                raise SourceError(f"RealSense {self.serial}: no frame arrived")
        return self._intrinsics

    def _read(self) -> Iterator[Frame | SkippedFrame]:
        index = -1
        while not self._stop.is_set():
            if self._pipeline is None:
                self._reopen(index, "camera closed")
                continue
            try:
                frameset = self._next_frameset()
            except RuntimeError as exc:
                if self._stop.is_set():
                    return
                log.warning("RealSense %s: %s; reopening", self.serial, exc)
                self._reopen(index, str(exc))
                continue
            if frameset is None:  # stopped
                return
            index += 1
            try:
                yield self.convert(frameset, index)
            except RuntimeError as exc:
                yield SkippedFrame("unreadable frameset", str(exc), index)

    def _next_frameset(self) -> Any:
        """The next frameset; None once stopped; RuntimeError when none arrives within
        ``frame_timeout_ms``. Waits in short slices so that :meth:`stop` is noticed at once."""
        deadline = time.monotonic() + self.frame_timeout_ms / 1000.0
        while not self._stop.is_set():
            ok, frameset = self._pipeline.try_wait_for_frames(_WAIT_SLICE_MS)
            if ok:
                return frameset
            if time.monotonic() > deadline:
                raise RuntimeError(f"Frame didn't arrive within {self.frame_timeout_ms} ms")
        return None

    def convert(self, frameset: Any, index: int) -> Frame | SkippedFrame:
        """Filter, align and copy one librealsense frameset into a :class:`Frame`."""
        out = frameset_to_frame(frameset, self._filters, self._align, self.depth_scale, index)
        if isinstance(out, Frame):
            self._intrinsics = out.intrinsics
            out.accel = self.accel()
        return out

    # ------------------------------------------------------------------------------------- IMU

    @property
    def has_imu(self) -> bool:
        return self._R_depth_accel is not None

    def accel(self) -> np.ndarray | None:
        """Mean of the recent accelerometer samples (up to 200), float64 [3] m/s^2, rotated into
        the depth camera's frame (x right, y down, z forward); None without an IMU or samples.
        At rest it is the specific force, which points up (about -9.8 along y when level)."""
        if self._R_depth_accel is None:
            return None
        with self._accel_lock:
            if not self._accel:
                return None
            mean = np.mean(self._accel, axis=0)
        return self._R_depth_accel @ mean

    def gravity(self) -> np.ndarray | None:
        """Unit vector of gravity (pointing down) in the depth camera's frame, or None."""
        a = self.accel()
        if a is None or not np.linalg.norm(a) > 0:
            return None
        return -a / np.linalg.norm(a)

    def stop(self) -> None:
        """End the iteration soon, from any thread: a frame wait returns within 0.1 s and a
        reconnect attempt stops waiting (the device is released by :meth:`close`)."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self._close_device()
        super().close()
