"""Redwood RGB-D sequences with ``.log`` trajectories (Redwood indoor scenes, Open3D's layout).

Two layouts are recognised:

- flat: ``<folder>/*.log``, ``depth/*.png`` (uint16 millimetres), ``image/`` (or ``color/``,
  ``rgb/``) ``*.jpg|*.png``. Of several ``.log`` files ``trajectory.log`` is the trajectory
  (Open3D's reconstruction system writes it next to the drifting ``odometry.log``); otherwise
  name it with ``trajectory=``;
- nvblox's: ``<base>/pose_<name>/<name>.log``, ``<base>/rgbd_<name>/<name>/depth/%06d.png``,
  ``<base>/rgbd_<name>/<name>/image/%06d.jpg``.

Depth is millimetres (Redwood's definition, scale 0.001) unless the folder has an intrinsics JSON
that says otherwise; intrinsics are PrimeSense's default (525, 525, 319.5, 239.5) unless
``camera_intrinsic.json`` / ``intrinsics.json`` is present. The ``.log`` pose of block ``i`` is the
camera-to-world pose of the i-th depth image (sorted by name). These poses are in the first
camera's frame (y down), not gravity-aligned: fusion's ``gravity="auto"`` checks host poses
against the floor and aligns them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edge3d.errors import FormatError, SourceError
from edge3d.io.images import read_color, read_depth_png
from edge3d.io.source import FrameSource, SkippedFrame
from edge3d.io.text_formats import read_intrinsics_json, read_log_trajectory
from edge3d.types import Frame, Intrinsics

PRIMESENSE_DEFAULT = Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)
DEPTH_SCALE = 0.001
COLOR_DIRS = ("image", "color", "rgb")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def is_sequence(folder: Path) -> bool:
    """Whether ``folder`` has one of the Redwood layouts."""
    return ((folder / "depth").is_dir() and any(folder.glob("*.log"))) or \
        _nvblox_layout(folder) is not None


def find_layout(folder: Path, trajectory: str | os.PathLike | None = None
                ) -> tuple[Path, Path, Path | None] | None:
    """``(log file, depth dir, colour dir or None)`` when ``folder`` is a Redwood sequence.

    Raises:
        SourceError: several ``.log`` files and none is ``trajectory.log`` or named by
            ``trajectory``, or ``trajectory`` does not exist.
    """
    if trajectory is not None:
        log = folder / trajectory
        if not log.is_file() or not (folder / "depth").is_dir():
            raise SourceError(f"{folder}: trajectory {os.fspath(trajectory)!r} is not a file "
                              "next to a depth/ folder")
        return log, folder / "depth", _color_dir(folder)
    logs = sorted(folder.glob("*.log"))
    if logs and (folder / "depth").is_dir():
        if len(logs) > 1:
            if not (folder / "trajectory.log").is_file():
                names = ", ".join(p.name for p in logs)
                raise SourceError(f"{folder}: several .log trajectories ({names}); name the "
                                  "one to use, e.g. open_source(folder, trajectory="
                                  f"{logs[0].name!r})")
            return folder / "trajectory.log", folder / "depth", _color_dir(folder)
        return logs[0], folder / "depth", _color_dir(folder)
    return _nvblox_layout(folder)


def _nvblox_layout(folder: Path) -> tuple[Path, Path, Path | None] | None:
    for pose_dir in sorted(folder.glob("pose_*")):
        name = pose_dir.name[len("pose_"):]
        log = pose_dir / f"{name}.log"
        seq = folder / f"rgbd_{name}" / name
        if log.is_file() and (seq / "depth").is_dir():
            return log, seq / "depth", _color_dir(seq)
    return None


def _color_dir(folder: Path) -> Path | None:
    return next((folder / d for d in COLOR_DIRS if (folder / d).is_dir()), None)


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)


class RedwoodSource(FrameSource):
    """Frames of a Redwood sequence (see the module docstring for the layouts).

    Args:
        folder: the sequence folder.
        intrinsics, depth_scale: override the folder's (or the PrimeSense defaults).
        trajectory: the ``.log`` file to use, relative to ``folder`` (default: the only
            one, or ``trajectory.log``).
    """

    def __init__(self, folder: str | os.PathLike, *, intrinsics: Intrinsics | None = None,
                 depth_scale: float | None = None,
                 trajectory: str | os.PathLike | None = None) -> None:
        super().__init__()
        self.folder = Path(folder)
        layout = find_layout(self.folder, trajectory)
        if layout is None:
            raise SourceError(f"{self.folder}: not a Redwood sequence (needs a .log trajectory "
                              "and a depth/ folder, or pose_<name>/ and rgbd_<name>/)")
        self.log_path, self.depth_dir, self.color_dir = layout
        self.poses = read_log_trajectory(self.log_path)
        file_intr, file_scale = None, None
        for name in ("intrinsics.json", "camera_intrinsic.json"):
            for base in (self.folder, self.depth_dir.parent):
                if (base / name).is_file() and file_intr is None:
                    file_intr, file_scale = read_intrinsics_json(base / name)
        self._intrinsics = intrinsics or file_intr or PRIMESENSE_DEFAULT
        self.depth_scale = depth_scale or file_scale or DEPTH_SCALE
        self.depth_files = image_files(self.depth_dir)
        self.color_files = image_files(self.color_dir) if self.color_dir else []
        if self.color_files and len(self.color_files) != len(self.depth_files):
            raise FormatError(f"{self.folder}: {len(self.depth_files)} depth images but "
                              f"{len(self.color_files)} colour images; they pair by order")

    @property
    def intrinsics(self) -> Intrinsics:
        return self._intrinsics

    def _read(self) -> Iterator[Frame | SkippedFrame]:
        for i, path in enumerate(self.depth_files):
            try:
                depth = read_depth_png(path)
                color = read_color(self.color_files[i]) if self.color_files else None
            except FormatError as exc:
                yield SkippedFrame("unreadable image", str(exc), i)
                continue
            pose = self.poses.get(i)
            yield Frame(depth=depth, depth_scale=self.depth_scale, intrinsics=self._intrinsics,
                        color=color, timestamp=float(i) / 30.0, index=i,
                        pose=None if pose is None else np.asarray(pose, np.float64))
