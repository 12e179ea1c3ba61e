"""``Fusion``: frames in, a gravity-aligned TSDF map and a camera trajectory out.

Per frame: check the frame (a corrupt or empty frame is skipped and counted, never raised),
find the pose (the host's, frame-to-model ICP, or a fixed one for a static camera), align the
map with gravity (host poses, IMU, floor fit), and integrate the frame into the TSDF unless
tracking was lost.

While gravity is still being looked for (``gravity_source == "pending"``) the map is built in a
provisional frame that assumes a level camera; the frames fused so far are kept (at most
``gravity_frames``), and when the IMU or the floor gives gravity the map is rebuilt from them
in the aligned frame, so the map and every reported pose are always in one frame. If nothing is
found within ``gravity_frames`` frames the level-camera assumption stays (``"assumed"``).

Host poses (``tracking="host"``, or ``"auto"`` with posed frames) are taken as gravity-aligned
with ``gravity="host"``; with ``"auto"`` they are checked against the floor (or the IMU) in the
first frames and re-aligned, with a warning, when their z is more than ``HOST_TILT_DEG`` off
(an Open3D / Redwood ``.log`` is in the first camera's frame, y down); with ``"floor"`` or
``"imu"`` that source aligns them.

The map has its own frame: the host poses' world moved so that a world far from its origin
(GNSS / UTM-referenced poses, 10^5 to 10^7 m out) does not lose the map to float32 and the
block index's range. :attr:`Fusion.map_to_world` takes map coordinates back to the host's
world; it is the identity unless the host poses start more than ``LOCAL_FRAME_M`` from their
origin or were re-aligned with gravity.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from edge3d.errors import FrameError
from edge3d.runtime.fusion.gravity import correction, fit_floor, level_pose, up_from_accel
from edge3d.runtime.fusion.icp_tracker import ICPTracker, TrackingResult
from edge3d.runtime.fusion.volume import MAX_BLOCK_COORD, TSDFVolume
from edge3d.types import Frame

log = logging.getLogger(__name__)

TRACKING_MODES = ("auto", "host", "icp", "static")
GRAVITY_MODES = ("auto", "host", "imu", "floor")
FLOOR_SAMPLE_POINTS = 6000
# Host poses farther than this from their origin get a map frame of their own: float32 map
# points keep 0.1 mm within it.
LOCAL_FRAME_M = 1000.0
# Host poses whose z is farther than this from the measured up are not gravity-aligned.
HOST_TILT_DEG = 15.0


@dataclass
class FusionStep:
    """What :meth:`Fusion.add` did with one frame.

    Attributes:
        index: the frame's index.
        pose: float64 [4, 4] ``T_W_C`` in the gravity-aligned map frame (z up; see
            :attr:`Fusion.map_to_world`); for a skipped or lost frame the last good pose (None
            before the first one).
        tracking: "ok" (ICP converged), "lost" (ICP failed; not integrated), "host" (pose from
            the frame), "static" (fixed pose), or "skipped" (frame rejected, see ``reason``).
        gravity_source: "host", "imu", "floor", "pending" (still looking) or "assumed" (gave
            up; a level camera is assumed).
        integrated: whether the frame was fused into the map.
        reason: why the frame was skipped or tracking was lost ("" otherwise).
        timings: seconds per stage ("check", "track", "gravity", "integrate", "total").
        icp: the ICP result for tracked frames, else None.
    """

    index: int
    pose: np.ndarray | None
    tracking: str
    gravity_source: str
    integrated: bool
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    icp: TrackingResult | None = None


class Fusion:
    """Streaming TSDF fusion with tracking and gravity alignment.

    Args:
        voxel_size: metres (0.01 to 0.05).
        tracking: "auto" (host poses when a frame has one, else ICP), "host" (frames without a
            pose are skipped), "icp" (ignore host poses), "static" (the camera does not move).
        max_blocks: block budget of the map (None: unbounded); see :class:`TSDFVolume`.
        gravity: "auto" (host poses checked against the IMU or floor, else IMU, else floor),
            "host" (host poses trusted as they are), "imu" or "floor" (the only source tried;
            for "host" without host poses the camera is assumed level).
        truncation: TSDF truncation in metres (default 4 voxels).
        depth_max: depths beyond this (metres) are not fused.
        smooth_depth: bilateral-filter depth before fusing it (see :class:`TSDFVolume`); on by
            default because stereo depth noise is large next to centimetre voxels.
        gravity_frames: how many frames the floor / IMU search may take before giving up.
        tracker: a configured :class:`ICPTracker` (default: one for ``voxel_size``).
    """

    def __init__(self, voxel_size: float = 0.02, tracking: str = "auto",
                 max_blocks: int | None = None, gravity: str = "auto", *,
                 truncation: float | None = None, depth_max: float = 5.0,
                 smooth_depth: bool = True, gravity_frames: int = 30,
                 tracker: ICPTracker | None = None) -> None:
        if tracking not in TRACKING_MODES:
            raise ValueError(f"tracking must be one of {TRACKING_MODES}, got {tracking!r}")
        if gravity not in GRAVITY_MODES:
            raise ValueError(f"gravity must be one of {GRAVITY_MODES}, got {gravity!r}")
        self.volume = TSDFVolume(voxel_size, truncation, max_blocks, depth_max=depth_max,
                                 smooth_depth=smooth_depth)
        self.tracking_mode, self.gravity_mode = tracking, gravity
        self.gravity_frames = int(gravity_frames)
        self.tracker = tracker or ICPTracker(voxel_size)
        self.trajectory: list[np.ndarray] = []
        self.trajectory_indices: list[int] = []
        self.counters = {"frames": 0, "integrated": 0, "skipped": 0, "lost": 0}
        self.gravity_source = "pending"
        self._last_pose: np.ndarray | None = None   # last integrated (or host) pose
        self._prev_pose: np.ndarray | None = None   # the one before, for the motion prediction
        self._static_pose: np.ndarray | None = None
        self._pending: list[tuple[Frame, int]] = []  # frames fused before gravity was known
        self._host_to_map = np.eye(4)  # host poses' world -> map frame (see map_to_world)
        self._host_seen = False
        # Until gravity is known the camera is taken as level; _apply_correction fixes it up.
        self._start_pose = level_pose()

    # -- public -----------------------------------------------------------------------------

    def add(self, frame: Frame) -> FusionStep:
        """Fuse one frame (its ``accel``, when the camera has an IMU, tells fusion where up
        is)."""
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        self.counters["frames"] += 1
        index = int(getattr(frame, "index", -1))
        problem = self._check(frame)
        timings["check"] = time.perf_counter() - t0
        if problem:
            self.counters["skipped"] += 1
            return self._step(index, "skipped", False, problem, timings, t0)

        mode = self.tracking_mode
        if mode == "auto":
            mode = "host" if frame.pose is not None else "icp"
        if mode == "host":
            return self._add_host(frame, index, timings, t0)
        if mode == "static":
            return self._add_static(frame, index, timings, t0)
        return self._add_icp(frame, index, timings, t0)

    def extract_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The map's surface points ``(points, colors, normals)`` in the map frame; see
        :meth:`TSDFVolume.extract_points`."""
        return self.volume.extract_points()

    @property
    def map_to_world(self) -> np.ndarray:
        """float64 [4, 4]: map coordinates to the host poses' world (``world = M @ map``).

        The identity unless the host poses start more than ``LOCAL_FRAME_M`` from their
        origin (then the map's origin is the first pose's position, in whole metres) or were
        re-aligned with gravity. Without host poses the map frame is the world."""
        return np.linalg.inv(self._host_to_map)

    # -- modes ------------------------------------------------------------------------------

    def _add_host(self, frame: Frame, index: int, timings: dict, t0: float) -> FusionStep:
        if frame.pose is None:
            self.counters["skipped"] += 1
            return self._step(index, "skipped", False, "tracking='host' but the frame has no "
                              "pose", timings, t0)
        pose = np.asarray(frame.pose, dtype=np.float64)
        if not self._host_seen:
            self._host_seen = True
            t = pose[:3, 3]
            if np.linalg.norm(t) > LOCAL_FRAME_M:
                self._host_to_map[:3, 3] = -np.round(t)
            if self.gravity_mode == "host":
                self.gravity_source = "host"
        pose = self._host_to_map @ pose
        reach = MAX_BLOCK_COORD * 8 * self.volume.voxel_size - self.volume.depth_max
        if np.abs(pose[:3, 3]).max() > reach:
            self.counters["skipped"] += 1
            return self._step(index, "skipped", False,
                              f"host pose {np.linalg.norm(pose[:3, 3]) / 1000:.0f} km from the "
                              f"map's origin, beyond the map's reach of {reach / 1000:.0f} km "
                              f"at {self.volume.voxel_size} m voxels; start a new map",
                              timings, t0)
        self._integrate(frame, pose, index, timings)
        self._gravity(frame, timings)
        return self._step(index, "host", True, "", timings, t0)

    def _add_static(self, frame: Frame, index: int, timings: dict, t0: float) -> FusionStep:
        if self._static_pose is None:
            self._static_pose = self._start_pose
        self._integrate(frame, self._static_pose, index, timings)
        self._gravity(frame, timings)
        return self._step(index, "static", True, "", timings, t0)

    def _add_icp(self, frame: Frame, index: int, timings: dict, t0: float) -> FusionStep:
        if self._last_pose is None or self.volume.stats.blocks == 0:
            # The first frame defines the map; so does the first one that fuses anything when
            # the map is still empty (e.g. every depth so far was beyond depth_max).
            start = self._start_pose if self._last_pose is None else self._last_pose
            self._integrate(frame, start, index, timings)
            self._gravity(frame, timings)
            return self._step(index, "ok", True, "", timings, t0)
        t = time.perf_counter()
        prediction = self._last_pose
        if self._prev_pose is not None:  # constant velocity
            prediction = self._last_pose @ np.linalg.inv(self._prev_pose) @ self._last_pose
        result = self.tracker.track(self.volume, frame, prediction, self._last_pose)
        if not result.ok and self._prev_pose is not None:
            # The motion model may have overshot (the camera stopped): retry from the last pose.
            retry = self.tracker.track(self.volume, frame, self._last_pose, self._last_pose)
            if retry.ok:
                result = retry
        timings["track"] = time.perf_counter() - t
        if not result.ok:
            self.counters["lost"] += 1
            self._prev_pose = None  # the motion model is stale after a gap
            return self._step(index, "lost", False, result.reason, timings, t0, result)
        self._integrate(frame, result.pose, index, timings)
        self._gravity(frame, timings)
        return self._step(index, "ok", True, "", timings, t0, result)

    # -- helpers ----------------------------------------------------------------------------

    def _check(self, frame: Frame) -> str:
        try:
            frame.validate()
        except FrameError as exc:
            return str(exc)
        except (AttributeError, TypeError, ValueError) as exc:
            return f"malformed frame: {exc}"
        if not np.any(frame.depth):
            return f"frame {frame.index}: depth has no valid pixel"
        return ""

    def _integrate(self, frame: Frame, pose: np.ndarray, index: int, timings: dict) -> None:
        t = time.perf_counter()
        self.volume.integrate(frame, pose)
        timings["integrate"] = time.perf_counter() - t
        self._prev_pose, self._last_pose = self._last_pose, pose
        self.trajectory.append(pose)
        self.trajectory_indices.append(index)
        self.counters["integrated"] += 1

    def _gravity(self, frame: Frame, timings: dict) -> None:
        """While gravity is pending: remember the frame just fused, try the IMU and then the
        floor on it, and re-align the map on success; give up after ``gravity_frames``."""
        if self.gravity_source != "pending":
            return
        t = time.perf_counter()
        self._pending.append((frame, len(self.trajectory) - 1))
        pose_map = self._last_pose  # this frame's pose in the provisional map
        R = pose_map[:3, :3]
        up_c = up_from_accel(frame.accel) if frame.accel is not None else None
        found = None
        if self.gravity_mode in ("auto", "imu") and up_c is not None:
            found = R @ up_c, None, "imu"
        elif self.gravity_mode in ("auto", "floor"):
            floor = self._fit_floor(frame)
            if floor is not None:
                n_m = R @ floor[0]
                found = n_m, floor[1] - float(n_m @ pose_map[:3, 3]), "floor"
        checking_host = self._host_seen and self.gravity_mode == "auto"
        if found is not None:
            up_m, offset, source = found
            tilt = float(np.degrees(np.arccos(np.clip(up_m[2], -1.0, 1.0))))
            if checking_host and tilt <= HOST_TILT_DEG:
                self._keep_host_frame()
            else:
                if checking_host:
                    log.warning("edge3d fusion: the host poses' z is %.0f degrees from up as "
                                "the %s shows it; the map is aligned to the %s (pass "
                                "gravity='host' to keep the host's frame)", tilt, source, source)
                self._apply_correction(correction(up_m, offset), source)
        if self.gravity_source == "pending" and len(self._pending) >= self.gravity_frames:
            if checking_host:
                self._keep_host_frame()
            else:
                self.gravity_source = "assumed"
                self._pending.clear()
        timings["gravity"] = time.perf_counter() - t

    def _keep_host_frame(self) -> None:
        self.gravity_source = "host"
        self._pending.clear()

    def _fit_floor(self, frame: Frame) -> tuple[np.ndarray, float] | None:
        k = frame.intrinsics
        depth = frame.depth_m()
        step = max(1, int(np.sqrt(np.count_nonzero(depth) / FLOOR_SAMPLE_POINTS)))
        sub = depth[::step, ::step]
        v, u = np.nonzero(sub)
        z = sub[v, u].astype(np.float64)
        pts = np.stack([(u * step - k.cx) / k.fx * z, (v * step - k.cy) / k.fy * z, z], axis=1)
        return fit_floor(pts, np.array([0.0, -1.0, 0.0]),
                         threshold=max(0.02, self.volume.voxel_size))

    def _apply_correction(self, C: np.ndarray, source: str) -> None:
        """Move the map into the gravity-aligned frame: correct the trajectory and tracking
        state, and rebuild the map from the remembered frames with corrected poses."""
        self.gravity_source = source
        self._host_to_map = C @ self._host_to_map
        self.trajectory = [C @ p for p in self.trajectory]
        self._start_pose = C @ self._start_pose
        for name in ("_last_pose", "_prev_pose", "_static_pose"):
            pose = getattr(self, name)
            if pose is not None:
                setattr(self, name, C @ pose)
        self.volume.clear()
        for old, slot in self._pending:
            self.volume.integrate(old, self.trajectory[slot])
        self._pending.clear()

    def _step(self, index: int, tracking: str, integrated: bool, reason: str, timings: dict,
              t0: float, icp: TrackingResult | None = None) -> FusionStep:
        timings["total"] = time.perf_counter() - t0
        pose = None if self._last_pose is None else self._last_pose.copy()
        return FusionStep(index=index, pose=pose, tracking=tracking,
                          gravity_source=self.gravity_source, integrated=integrated,
                          reason=reason, timings=timings, icp=icp)
