"""The edge3d runtime: sources, fusion, backends, post-processing, ``Segmenter`` and ``Stream``.

Never imports torch (a test checks it): a Jetson installs the runtime without PyTorch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"Segmenter": "edge3d.runtime.segmenter", "Stream": "edge3d.runtime.stream"}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edge3d.runtime' has no attribute {name!r}")
