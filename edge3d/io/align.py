"""Registering a colour image to a depth image with numpy (for datasets whose colour camera
differs from the depth camera, such as ScanNet's 1296x968 colour; RealSense recordings use
librealsense's own ``align``)."""

from __future__ import annotations

import numpy as np

from edge3d.geometry import backproject, transform_points
from edge3d.types import Intrinsics


def align_color_to_depth(depth_m: np.ndarray, depth_intrinsics: Intrinsics, color: np.ndarray,
                         color_intrinsics: Intrinsics,
                         T_color_depth: np.ndarray | None = None) -> np.ndarray:
    """Colour sampled at every depth pixel: uint8 [H_d, W_d, 3].

    Each valid depth pixel is back-projected (pinhole, no distortion), moved into the colour
    camera by ``T_color_depth`` (identity if None) and projected; the nearest colour pixel is
    taken. Pixels with no depth, or that project outside the colour image or behind it, get 0,
    as librealsense's ``align`` does.
    """
    pts = backproject(depth_m, depth_intrinsics)
    if T_color_depth is not None:
        pts = transform_points(T_color_depth, pts)
    z = pts[..., 2]
    ok = (depth_m > 0) & (z > 0)
    zs = np.where(ok, z, 1.0)
    k = color_intrinsics
    u = np.rint(pts[..., 0] / zs * k.fx + k.cx).astype(np.int64)
    v = np.rint(pts[..., 1] / zs * k.fy + k.cy).astype(np.int64)
    ok &= (u >= 0) & (u < color.shape[1]) & (v >= 0) & (v < color.shape[0])
    out = np.zeros((*depth_m.shape, 3), np.uint8)
    out[ok] = color[v[ok], u[ok]]
    return out
