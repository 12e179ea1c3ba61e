"""Point-to-plane ICP building blocks for frame-to-model tracking (KinectFusion, Newcombe et al.
2011, section 3.5): camera-frame vertex and normal maps from depth, and the normal equations of
one Gauss-Newton step with projective data association against a ray-cast model.

The C++ core is multithreaded (``EDGE3D_NUM_THREADS``), releases the GIL and sums in a fixed
order, so results are bit-identical for any thread count. The 6x6 solve and the pose update are
left to the caller (``edge3d.runtime.fusion.icp_tracker``).
"""

from __future__ import annotations

import functools
from types import ModuleType

import numpy as np

from edge3d.native._loader import load_extension

__all__ = ["bilateral_depth", "point_to_plane_system", "vertex_normal_map"]


@functools.cache
def _ext() -> ModuleType:
    return load_extension("icp")


def _map(a: np.ndarray, name: str) -> np.ndarray:
    m = np.ascontiguousarray(a, dtype=np.float32)
    if m.ndim != 3 or m.shape[2] != 3:
        raise ValueError(f"{name} must be float32 [H, W, 3], got shape {m.shape}")
    return m


def _pose(p: np.ndarray, name: str) -> np.ndarray:
    m = np.ascontiguousarray(p, dtype=np.float64)
    if m.shape != (4, 4) or not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be a finite [4, 4] matrix, got shape {m.shape}")
    return m


def bilateral_depth(depth_m: np.ndarray, radius: int = 2, sigma_px: float = 1.5,
                    range_min: float = 0.005, range_per_m2: float = 0.025) -> np.ndarray:
    """Edge-preserving smoothing of a depth image before normals are taken (KinectFusion,
    section 3.2).

    A bilateral filter applied separably (a horizontal, then a vertical pass of
    ``2 radius + 1`` taps; an approximation of the ``(2 radius + 1)^2`` filter at a fraction of
    its cost): spatial sigma ``sigma_px`` pixels, range sigma
    ``max(range_min, range_per_m2 * z^2)`` metres (stereo depth noise grows with z^2), so depth
    edges larger than a few noise sigmas survive. Invalid pixels (0 or non-finite) stay 0 and
    never contribute.

    Args:
        depth_m: float32 [H, W] metres.

    Returns:
        float32 [H, W] smoothed depth.
    """
    d = np.ascontiguousarray(depth_m, dtype=np.float32)
    if d.ndim != 2:
        raise ValueError(f"depth_m must be [H, W], got shape {d.shape}")
    if not 0 <= int(radius) <= 8:
        raise ValueError(f"radius must be in [0, 8], got {radius}")
    if not (sigma_px > 0 and range_min > 0 and range_per_m2 >= 0):
        raise ValueError("sigma_px and range_min must be > 0 and range_per_m2 >= 0")
    return _ext().bilateral_depth(d, int(radius), float(sigma_px), float(range_min),
                                  float(range_per_m2))


def vertex_normal_map(depth_m: np.ndarray, intrinsics: tuple[float, float, float, float],
                      max_jump: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame vertices and normals of a depth image.

    Args:
        depth_m: float32 [H, W] depth in metres, 0 (or non-finite) = invalid.
        intrinsics: (fx, fy, cx, cy) in pixels.
        max_jump: a neighbour whose depth differs by more than ``max_jump * z`` is across an
            occlusion edge; such pixels get no normal.

    Returns:
        ``(vertices float32 [H, W, 3], normals float32 [H, W, 3])``: zero vectors where invalid;
        normals are unit length and face the camera. Border pixels have no normal.
    """
    d = np.ascontiguousarray(depth_m, dtype=np.float32)
    if d.ndim != 2:
        raise ValueError(f"depth_m must be [H, W], got shape {d.shape}")
    fx, fy, cx, cy = (float(v) for v in intrinsics)
    if not (fx > 0 and fy > 0):
        raise ValueError(f"focal lengths must be > 0, got fx={fx}, fy={fy}")
    return _ext().vertex_normal_map(d, fx, fy, cx, cy, float(max_jump))


def point_to_plane_system(
    src_vertices: np.ndarray, src_normals: np.ndarray, T_W_C: np.ndarray,
    model_vertices: np.ndarray, model_normals: np.ndarray, T_W_M: np.ndarray,
    model_intrinsics: tuple[float, float, float, float], max_dist: float,
    min_normal_cos: float = 0.7, noise_floor: float = 0.002, noise_per_m2: float = 0.0,
    huber: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, int, int, float]:
    """Normal equations of one point-to-plane Gauss-Newton step.

    Each valid source point ``p`` (camera frame, with a normal) is moved into the world by the
    current guess ``T_W_C``, projected into the model maps (rendered from ``T_W_M`` with
    ``model_intrinsics``) and paired with the model vertex ``q`` and normal ``n`` at that pixel.
    Pairs farther apart than ``max_dist`` metres or with normals less aligned than
    ``min_normal_cos`` are rejected. The residual is ``n . (T p - q)``; the Jacobian is with
    respect to a left twist ``xi = (omega, t)`` applied as ``exp(xi) T_W_C``. Each residual is
    weighted by ``1 / sigma^2`` with ``sigma = noise_floor + noise_per_m2 * z^2`` metres (stereo
    noise grows with the square of the source depth ``z``), and by Huber's weight beyond
    ``huber`` sigmas.

    Returns:
        ``(A float64 [6, 6], b float64 [6], inliers, valid, sum_sq)``: solve ``A xi = -b``; A is
        in units of ``1 / sigma^2``;
        ``valid`` counts source points with a normal, ``sum_sq`` is the sum of squared residuals
        of the inliers (m^2).
    """
    fx, fy, cx, cy = (float(v) for v in model_intrinsics)
    return _ext().point_to_plane(
        _map(src_vertices, "src_vertices"), _map(src_normals, "src_normals"),
        _pose(T_W_C, "T_W_C"), _map(model_vertices, "model_vertices"),
        _map(model_normals, "model_normals"), _pose(T_W_M, "T_W_M"), fx, fy, cx, cy,
        float(max_dist), float(min_normal_cos), float(noise_floor), float(noise_per_m2),
        float(huber))
