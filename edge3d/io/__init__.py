"""Reading and writing edge3d's inputs: RealSense recordings and cameras, RGB-D datasets, PLY.

- :func:`open_source`: one entry point from a path or spec to a :class:`FrameSource` of
  validated :class:`edge3d.Frame` objects (see ``docs/data.md``).
- :class:`FrameFeed`: frames pushed in from callbacks (a ROS 2 node) as a source.
- :func:`write_recording`: any frames as a real RealSense ``.db3`` recording (+ sidecar).
- :func:`read_ply`, :func:`write_ply`: point clouds and meshes.
- Submodules loaded on first use: :mod:`scannet` (``load_scene``, ``SensReader``),
  :mod:`s3dis` (``load_room``), :mod:`realsense` (``LiveCamera``), :mod:`tum`, :mod:`redwood`.

Nothing here imports pyrealsense2 until a RealSense function runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from edge3d.io.dispatch import open_source
from edge3d.io.feed import FrameFeed
from edge3d.io.ply import read_ply, write_ply
from edge3d.io.source import FrameSource, Gap, SkippedFrame, SourceStats

if TYPE_CHECKING:
    from edge3d.io import realsense, s3dis, scannet
    from edge3d.io.recording import write_recording

__all__ = [
    "FrameFeed", "FrameSource", "Gap", "SkippedFrame", "SourceStats", "open_source", "read_ply",
    "realsense", "s3dis", "scannet", "write_ply", "write_recording",
]

_SUBMODULES = {"realsense", "s3dis", "scannet", "tum", "redwood", "folder", "sens", "recording",
               "synthetic"}


def __getattr__(name: str) -> Any:
    if name == "write_recording":
        from edge3d.io.recording import write_recording

        return write_recording
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'edge3d.io' has no attribute {name!r}")
