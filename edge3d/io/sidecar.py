"""The edge3d sidecar written next to a RealSense recording: poses and frame checksums.

A RealSense recording has no place for a camera pose, and uncompressed frames carry no checksum,
so :func:`edge3d.io.write_recording` writes ``<stem>.frames.json`` beside ``<stem>.db3``.
Playback attaches the poses to the frames again and skips (and counts) any frame whose depth or
colour CRC-32 does not match, by depth frame number, and counts frames the sidecar lists that
the recording lost. The file (format version 1)::

    {
      "format": "edge3d.frames",
      "version": 1,
      "convention": "T_W_C: camera-to-world, OpenCV camera axes (x right, y down, ...), metres",
      "depth_scale": 0.001,
      "intrinsics": {"width": 640, "height": 480, "fx": ..., ...},   # exact float64 values
      "frames": [
        {"frame_number": 0, "timestamp": 0.0, "depth_crc32": 1234567890,
         "color_crc32": 987654321,                  # only when the frame had colour
         "T_W_C": [16 floats, row-major]},          # T_W_C only when the frame had a pose
        ...
      ]
    }

``depth_crc32`` is ``zlib.crc32`` of the depth image's bytes (uint16, little-endian, row-major),
``color_crc32`` of the colour image's (uint8 RGB, row-major); sidecars written before colour
checksums existed have none, and their colour is not checked.
Numbers use Python's shortest round-trip repr, so float64 poses come back bit for bit.
librealsense stores intrinsics as float32; playback uses the sidecar's exact ``intrinsics`` when
they round to the recorded float32 values (and no filter resampled the depth). A recording
without a sidecar plays without poses or checksums.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge3d.errors import FormatError, FrameError
from edge3d.types import Intrinsics

FORMAT = "edge3d.frames"
VERSION = 1
CONVENTION = "T_W_C: camera-to-world, OpenCV camera axes (x right, y down, z forward), metres"


@dataclass
class FrameRecord:
    """What the sidecar knows about one recorded depth frame."""

    frame_number: int
    timestamp: float
    depth_crc32: int
    pose: np.ndarray | None = None
    color_crc32: int | None = None


def sidecar_path(recording: str | os.PathLike) -> Path:
    """``scene.db3`` -> ``scene.frames.json`` (same folder)."""
    p = Path(recording)
    return p.with_name(p.stem + ".frames.json")


def depth_crc32(depth: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(depth, dtype="<u2").tobytes())


def color_crc32(color: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(color, dtype=np.uint8).tobytes())


@dataclass
class Sidecar:
    """A parsed sidecar: the exact intrinsics and depth scale written, and the frame records."""

    depth_scale: float
    intrinsics: Intrinsics | None
    frames: dict[int, FrameRecord]


def encode(records: list[FrameRecord], depth_scale: float, intrinsics: Intrinsics) -> str:
    entries = []
    for r in records:
        e: dict = {"frame_number": int(r.frame_number), "timestamp": float(r.timestamp),
                   "depth_crc32": int(r.depth_crc32)}
        if r.color_crc32 is not None:
            e["color_crc32"] = int(r.color_crc32)
        if r.pose is not None:
            e["T_W_C"] = [float(v) for v in np.asarray(r.pose, np.float64).reshape(16)]
        entries.append(e)
    return json.dumps({"format": FORMAT, "version": VERSION, "convention": CONVENTION,
                       "depth_scale": float(depth_scale), "intrinsics": intrinsics.to_dict(),
                       "frames": entries}, indent=1)


def read(path: str | os.PathLike) -> Sidecar:
    """Parse a sidecar; raises FormatError if it is malformed."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: not a readable edge3d sidecar ({exc}); delete or fix it to "
                          "play the recording without poses") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise FormatError(f"{path}: not an edge3d sidecar (expected \"format\": \"{FORMAT}\")")
    if doc.get("version") != VERSION:
        raise FormatError(f"{path}: sidecar version {doc.get('version')} is not supported (this "
                          f"edge3d reads version {VERSION}); upgrade edge3d")
    out: dict[int, FrameRecord] = {}
    for i, e in enumerate(doc.get("frames", [])):
        try:
            pose = np.asarray(e["T_W_C"], np.float64).reshape(4, 4) if "T_W_C" in e else None
            n = int(e["frame_number"])
            color = int(e["color_crc32"]) if "color_crc32" in e else None
            out[n] = FrameRecord(n, float(e["timestamp"]), int(e["depth_crc32"]), pose, color)
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"{path}: frame entry {i} is malformed ({exc}); each entry needs "
                              "frame_number, timestamp, depth_crc32 and optionally 16 T_W_C "
                              "numbers") from exc
    try:
        intr = Intrinsics.from_dict(doc["intrinsics"]) if "intrinsics" in doc else None
        depth_scale = float(doc["depth_scale"])
    except (KeyError, TypeError, ValueError, FrameError) as exc:
        raise FormatError(f"{path}: malformed depth_scale or intrinsics ({exc})") from exc
    return Sidecar(depth_scale, intr, out)
