"""TSDF fusion with tracking and gravity alignment (``docs/fusion.md``).

- :class:`TSDFVolume`: the block-hashed TSDF map (C++ core in ``edge3d.native.tsdf``).
- :class:`Fusion`: frames in, poses and a gravity-aligned map out (host poses, frame-to-model
  ICP or a static camera; host / IMU / floor gravity).
- :class:`ICPTracker`: the frame-to-model point-to-plane tracker Fusion uses.
"""

from __future__ import annotations

from edge3d.runtime.fusion.fusion import Fusion, FusionStep
from edge3d.runtime.fusion.icp_tracker import ICPTracker, TrackingResult
from edge3d.runtime.fusion.volume import RaycastResult, TSDFVolume, VolumeStats

__all__ = ["Fusion", "FusionStep", "ICPTracker", "RaycastResult", "TSDFVolume",
           "TrackingResult", "VolumeStats"]
