"""Synthetic indoor worlds, a virtual RealSense camera, trajectories and ground truth.

- :func:`make_world`: rooms with furniture built from boxes (``kind="room"``) or the MTML toy
  scenes (``kind="toy"``); deterministic from a seed.
- :class:`World`: objects with instance and class ids, and :meth:`World.surface_points`, the
  labelled ground-truth point cloud (ScanNet-style ``gt_ids = class * 1000 + instance``).
- :class:`VirtualCamera`: a D435-like depth camera (stereo noise growing with z^2,
  quantisation, holes) with an aligned colour image and per-pixel instance and class maps.
- :mod:`trajectories`: ``static``, ``orbit`` and ``walkthrough`` camera paths.
- :func:`sequence`: a world rendered along a trajectory, the source behind ``synthetic:`` specs.
- :mod:`toy`: the MTML connected-components baseline on ground-truth semantics.
- :func:`observed`: which ground-truth points a sequence of frames actually saw.

See ``docs/synthetic.md``.
"""

from __future__ import annotations

from edge3d.synth import toy, trajectories
from edge3d.synth.camera import RenderedFrame, VirtualCamera, d435_intrinsics
from edge3d.synth.classes import (
    BACKGROUND_CLASSES,
    CLASS_NAMES,
    TOY_BACKGROUND_CLASSES,
    TOY_CLASS_NAMES,
)
from edge3d.synth.primitives import Box
from edge3d.synth.sequence import sequence
from edge3d.synth.visibility import observed
from edge3d.synth.world import LabelledPoints, SceneObject, World
from edge3d.synth.worlds import make_world, world_parameters

__all__ = [
    "BACKGROUND_CLASSES", "CLASS_NAMES", "TOY_BACKGROUND_CLASSES", "TOY_CLASS_NAMES", "Box",
    "LabelledPoints", "RenderedFrame", "SceneObject", "VirtualCamera", "World",
    "d435_intrinsics", "make_world", "observed", "sequence", "toy", "trajectories",
    "world_parameters",
]
