"""Small geometric helpers used across io, synth, fusion and the runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from edge3d.types import Intrinsics


def pixel_rays(intrinsics: Intrinsics) -> np.ndarray:
    """Unit-depth rays (z = 1) through every pixel centre, float32 [H, W, 3], camera frame.

    Pixel (u, v) back-projects to ``((u - cx) / fx, (v - cy) / fy, 1)``.
    """
    k = intrinsics
    u = (np.arange(k.width, dtype=np.float32) - k.cx) / k.fx
    v = (np.arange(k.height, dtype=np.float32) - k.cy) / k.fy
    rays = np.empty((k.height, k.width, 3), np.float32)
    rays[..., 0] = u[None, :]
    rays[..., 1] = v[:, None]
    rays[..., 2] = 1.0
    return rays


def backproject(depth_m: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Camera-frame points float32 [H, W, 3] from depth in metres (0 stays at the origin)."""
    return pixel_rays(intrinsics) * depth_m[..., None].astype(np.float32)


def transform_points(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 4x4 rigid transform to points [..., 3]; keeps the input dtype."""
    T = np.asarray(T)
    out = points @ T[:3, :3].T.astype(points.dtype) + T[:3, 3].astype(points.dtype)
    return out.astype(points.dtype, copy=False)


def invert_pose(T: np.ndarray) -> np.ndarray:
    """Inverse of a rigid 4x4 transform."""
    out = np.eye(4)
    r = T[:3, :3]
    out[:3, :3] = r.T
    out[:3, 3] = -r.T @ T[:3, 3]
    return out


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray | None = None) -> np.ndarray:
    """Camera-to-world pose of an OpenCV camera at ``eye`` looking at ``target``; ``up`` is the
    world up direction (default +z)."""
    up = np.array([0.0, 0.0, 1.0]) if up is None else np.asarray(up, float)
    eye = np.asarray(eye, float)
    z = np.asarray(target, float) - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:  # looking straight up or down: any horizontal x will do
        x = np.cross(z, np.array([1.0, 0.0, 0.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, 0], T[:3, 1], T[:3, 2], T[:3, 3] = x, y, z, eye
    return T


def column_bounds(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column minimum and maximum of a 2-D array [N, C]. Reducing column by column is
    20-30x faster than ``a.min(0)`` for a few columns: NumPy's axis-0 reduction of a narrow
    C-contiguous array runs a strided inner loop."""
    lo = np.array([a[:, k].min() for k in range(a.shape[1])], a.dtype)
    hi = np.array([a[:, k].max() for k in range(a.shape[1])], a.dtype)
    return lo, hi


def point_spacing(points: np.ndarray, cell: float = 0.25) -> float:
    """Typical distance between neighbouring surface points (m), from how many points fill
    the fuller quarter of ``cell``-sized cubes (a surface crossing a cube covers about
    ``cell²``); 2 cm, a fused map's typical spacing, for fewer than 10 points."""
    if len(points) < 10:
        return 0.02
    ijk = np.floor((points - points.min(0)) / cell).astype(np.int64)
    dims = ijk.max(0) + 1
    _, counts = np.unique((ijk[:, 0] * dims[1] + ijk[:, 1]) * dims[2] + ijk[:, 2],
                          return_counts=True)
    return float(cell / np.sqrt(max(np.percentile(counts, 75), 1.0)))
