"""The method registry: one line per segmentation method, naming the class that runs it.

A registered class provides:

- ``name`` (str), ``class_names`` (tuple of str) and ``needs_package`` (bool): whether it runs
  from a model package (learned methods) or from a name alone (``"geometric"``);
- ``create(package, backend, device, **options)`` (classmethod) returning the instance, where
  ``package`` is a verified :class:`edge3d.package.ModelPackage` or None;
- ``segment(points, colors) -> SegmentationResult`` with ``points`` float32 [N, 3] metres z up
  and ``colors`` float32 [N, 3] in [0, 1] or None, already validated by
  :class:`edge3d.Segmenter`; a class with ``uses_superpoints = True`` also takes
  ``superpoints`` (integer [N]) as a keyword;
- ``describe() -> dict``: what it is and how it is configured (goes into the demo's JSON).

Adding a method means adding its module here and one line in :data:`METHODS`; nothing in
:class:`edge3d.Segmenter` changes. Modules load only when their method is used, so the registry
never imports a backend, and never torch.
"""

from __future__ import annotations

import importlib
from typing import Any

#: method name -> "module:class"
METHODS: dict[str, str] = {
    "geometric": "edge3d.runtime.postprocess.geometric:GeometricSegmenter",
    "euclidean": "edge3d.runtime.postprocess.euclidean:EuclideanSegmenter",
    "ssen": "edge3d.runtime.postprocess.ssen:SSENSegmenter",
    "spherical_mask": "edge3d.runtime.postprocess.spherical_mask:SphericalMaskSegmenter",
}


def method_class(name: str) -> Any:
    """The class registered for ``name``; KeyError when there is none."""
    module, _, attr = METHODS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def packageless_methods() -> list[str]:
    """Methods that run from their name alone (no model package)."""
    return [m for m in METHODS if not method_class(m).needs_package]


__all__ = ["METHODS", "method_class", "packageless_methods"]
