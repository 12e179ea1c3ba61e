"""Which ground-truth surface points a sequence of rendered frames actually observed.

A reconstruction can only contain what the camera saw, so evaluating a streamed map against
all of ``World.surface_points`` counts never-seen objects as misses. :func:`observed` marks the
points that were in view, unoccluded and (optionally) measured with valid depth in at least
``min_views`` frames.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from edge3d.geometry import invert_pose
from edge3d.synth.camera import RenderedFrame


def observed(positions: np.ndarray, frames: Iterable[RenderedFrame], tolerance: float = 0.02,
             valid_depth_only: bool = True, min_views: int = 1) -> np.ndarray:
    """bool [N]: whether each world point was seen by the frames.

    A point counts as seen in a frame when it projects inside the image, in front of the
    camera, and its depth matches the exact depth of its pixel (``depth_true``) within
    ``tolerance`` metres (nothing in front of it); with ``valid_depth_only`` the pixel's
    measured depth must also be valid (not a hole).

    Args:
        positions: float [N, 3] world points, e.g. ``world.surface_points().positions``.
        frames: rendered frames with poses (``VirtualCamera.render`` or ``sequence``).
        tolerance: depth agreement, metres (about the point spacing).
        valid_depth_only: require valid measured depth at the pixel.
        min_views: frames a point must be seen in.
    """
    pts = np.asarray(positions, np.float64).reshape(-1, 3)
    views = np.zeros(len(pts), np.int32)
    for rendered in frames:
        f = rendered.frame
        if f.pose is None:
            raise ValueError(f"frame {f.index} has no pose; observed() needs exact poses")
        k = f.intrinsics
        cam = pts @ invert_pose(f.pose)[:3, :3].T + invert_pose(f.pose)[:3, 3]
        z = cam[:, 2]
        front = z > 1e-6
        u = np.full(len(pts), -1, np.int64)
        v = np.full(len(pts), -1, np.int64)
        u[front] = np.rint(k.fx * cam[front, 0] / z[front] + k.cx).astype(np.int64)
        v[front] = np.rint(k.fy * cam[front, 1] / z[front] + k.cy).astype(np.int64)
        inside = front & (u >= 0) & (u < k.width) & (v >= 0) & (v < k.height)
        idx = np.flatnonzero(inside)
        z_true = rendered.depth_true[v[idx], u[idx]].astype(np.float64)
        seen = (z_true > 0) & (np.abs(z_true - z[idx]) <= tolerance)
        if valid_depth_only:
            seen &= f.depth[v[idx], u[idx]] > 0
        views[idx[seen]] += 1
    return views >= min_views
