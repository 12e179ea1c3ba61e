"""Small text formats shared by the folder loaders: 4x4 matrices, timestamped lists, .log
trajectories, intrinsics files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from edge3d.errors import FormatError, FrameError
from edge3d.types import Intrinsics


def read_matrix4(path: str | os.PathLike) -> np.ndarray:
    """A 4x4 matrix written as 4 lines of 4 numbers (ScanNet ``pose/*.txt``, intrinsics .txt).
    Non-finite values (ScanNet's ``-inf`` for tracking failures) are returned as they are."""
    try:
        m = np.loadtxt(path, dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: not a 4x4 matrix file ({exc})") from exc
    if m.shape != (4, 4):
        raise FormatError(f"{path}: expected 4 rows of 4 numbers, got shape {m.shape}")
    return m


def read_timestamped_list(path: str | os.PathLike) -> list[tuple[float, str]]:
    """TUM ``rgb.txt`` / ``depth.txt``: ``# comments``, then ``timestamp filename`` lines."""
    out = []
    for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.replace(",", " ").split()
        try:
            out.append((float(parts[0]), parts[1]))
        except (IndexError, ValueError) as exc:
            raise FormatError(f"{path}:{lineno}: expected 'timestamp filename', got {line!r}") \
                from exc
    return out


def read_log_trajectory(path: str | os.PathLike) -> dict[int, np.ndarray]:
    """A Redwood / Open3D ``.log`` trajectory: blocks of a metadata line ``i j k`` and 4 matrix
    rows (camera-to-world). Returns ``{i: T_W_C}`` keyed by the first metadata integer, the frame
    index (Open3D writes ``i i i+1``). ``#`` lines are skipped."""
    lines = [ln.split() for ln in Path(path).read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) % 5:
        raise FormatError(f"{path}: a .log trajectory has blocks of 5 lines (metadata + 4x4 "
                          f"pose); {len(lines)} lines is not a multiple of 5")
    out: dict[int, np.ndarray] = {}
    for b in range(0, len(lines), 5):
        try:
            meta = [int(v) for v in lines[b]]
            T = np.array([[float(v) for v in row] for row in lines[b + 1:b + 5]])
        except ValueError as exc:
            raise FormatError(f"{path}: block {b // 5} is malformed ({exc})") from exc
        if len(meta) != 3 or T.shape != (4, 4):
            raise FormatError(f"{path}: block {b // 5} needs a line of 3 integers and 4 rows of "
                              "4 numbers")
        out[meta[0]] = T
    return out


def write_log_trajectory(path: str | os.PathLike, poses: list[np.ndarray]) -> None:
    """Write camera-to-world poses as a ``.log`` trajectory (``i i i+1`` metadata lines)."""
    lines = []
    for i, T in enumerate(poses):
        lines.append(f"{i} {i} {i + 1}")
        lines += [" ".join(repr(float(v)) for v in row) for row in np.asarray(T, float)]
    Path(path).write_text("\n".join(lines) + "\n")


def read_intrinsics_json(path: str | os.PathLike) -> tuple[Intrinsics, float | None]:
    """Intrinsics (and depth scale, if given) from JSON.

    Two layouts: edge3d's (``Intrinsics.to_dict()`` keys plus optional ``depth_scale``, metres per
    unit) and Open3D's ``camera_intrinsic.json`` (``width``, ``height``, column-major
    ``intrinsic_matrix``; optional ``depth_scale``, which Open3D means as units per metre).
    """
    try:
        d = json.loads(Path(path).read_text())
        if "intrinsic_matrix" in d:
            m = np.asarray(d["intrinsic_matrix"], float).reshape(3, 3).T
            intr = Intrinsics(int(d["width"]), int(d["height"]), m[0, 0], m[1, 1], m[0, 2],
                              m[1, 2])
            scale = 1.0 / float(d["depth_scale"]) if "depth_scale" in d else None
        else:
            intr = Intrinsics.from_dict(d)
            scale = float(d["depth_scale"]) if "depth_scale" in d else None
    except (OSError, ValueError, KeyError, TypeError, FrameError) as exc:
        raise FormatError(f"{path}: not an intrinsics JSON ({exc}); expected edge3d's keys "
                          "(width, height, fx, fy, cx, cy, depth_scale) or Open3D's "
                          "camera_intrinsic.json") from exc
    return intr, scale
