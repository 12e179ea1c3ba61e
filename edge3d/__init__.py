"""edge3d: 3D instance segmentation from research to robots.

The top-level namespace is light: it imports numpy only. ``Segmenter`` and ``Stream`` load the
runtime on first use, and nothing here ever imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge3d.types import Frame, Instance, Intrinsics, PointCloud, SegmentationResult

__version__ = "0.1.0"

__all__ = [
    "Frame", "Instance", "Intrinsics", "PointCloud", "SegmentationResult", "Segmenter", "Stream",
    "__version__",
]

if TYPE_CHECKING:
    from edge3d.runtime import Segmenter, Stream

_LAZY = {"Segmenter": "edge3d.runtime", "Stream": "edge3d.runtime"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edge3d' has no attribute {name!r}")
