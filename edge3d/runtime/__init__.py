"""The edge3d runtime: sources, fusion, backends, post-processing, ``Segmenter`` and ``Stream``.

- :class:`Segmenter`: a point cloud in, instances out (``"geometric"`` or a model package).
- :class:`Stream`: frames in, a fused map segmented every few frames out, in threads
  (:class:`StreamUpdate`, :class:`StreamCounters`).
- :class:`FrameFeed`: frames pushed from callbacks (a ROS 2 node) as a stream source.
- :class:`InstanceTracker`: ids that stay stable across segmentations.

Never imports torch (a test checks it): a Jetson installs the runtime without PyTorch. Names load
on first use, so ``import edge3d.runtime`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge3d.io.feed import FrameFeed
    from edge3d.runtime.instance_ids import InstanceTracker
    from edge3d.runtime.segmenter import Segmenter
    from edge3d.runtime.stream import Stream, StreamCounters, StreamUpdate

_LAZY = {
    "Segmenter": "edge3d.runtime.segmenter",
    "Stream": "edge3d.runtime.stream",
    "StreamUpdate": "edge3d.runtime.stream",
    "StreamCounters": "edge3d.runtime.stream",
    "FrameFeed": "edge3d.io.feed",
    "InstanceTracker": "edge3d.runtime.instance_ids",
}

__all__ = ["FrameFeed", "InstanceTracker", "Segmenter", "Stream", "StreamCounters",
           "StreamUpdate"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edge3d.runtime' has no attribute {name!r}")
