"""Gravity alignment of the fused map: world z up, as every segmenter assumes.

Sources, best first: host poses (taken as gravity-aligned), the camera's IMU accelerometer (at
rest it measures the reaction to gravity, i.e. +9.81 m/s^2 along "up"), or the floor: the
largest plane in the first frames whose normal is within ``max_tilt_deg`` of the camera's -y
axis (the camera's "up" when it is held level; OpenCV's y points down) and that lies below the
camera. A floor fit also puts the floor at z = 0.
"""

from __future__ import annotations

import numpy as np

STANDARD_GRAVITY = 9.80665

# A level camera: world x = camera x, world y = camera z (forward), world z = -camera y (up).
LEVEL_R_W_C = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (3x3) taking unit vector ``a`` onto unit vector ``b``."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(a @ b)
    if c < -1 + 1e-9:  # opposite: turn half way round any axis perpendicular to a
        axis = np.cross(a, [1.0, 0.0, 0.0])
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(a, [0.0, 1.0, 0.0])
        axis /= np.linalg.norm(axis)
        return 2 * np.outer(axis, axis) - np.eye(3)
    vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def up_from_accel(accel: np.ndarray, tolerance: float = 1.5) -> np.ndarray | None:
    """Unit "up" vector in the camera frame from an accelerometer sample (m/s^2, camera
    frame), or None when the sample is not finite or its magnitude is farther than
    ``tolerance`` m/s^2 from standard gravity (the camera is accelerating)."""
    a = np.asarray(accel, dtype=np.float64).reshape(-1)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        return None
    g = float(np.linalg.norm(a))
    if abs(g - STANDARD_GRAVITY) > tolerance:
        return None
    return a / g


def fit_floor(points: np.ndarray, up_guess: np.ndarray, max_tilt_deg: float = 35.0,
              threshold: float = 0.02, min_inliers: int = 500, min_fraction: float = 0.08,
              iterations: int = 300, seed: int = 0) -> tuple[np.ndarray, float] | None:
    """RANSAC floor plane in the camera frame.

    Args:
        points: float [N, 3] camera-frame points (the camera at the origin).
        up_guess: unit vector the floor normal should be close to (camera -y when level).
        max_tilt_deg: largest angle between the floor normal and ``up_guess``.
        threshold: inlier distance, metres.
        min_inliers, min_fraction: the plane must hold this many points and this fraction.

    Returns:
        ``(normal, d)`` with ``normal . x + d = 0`` on the floor, ``normal`` pointing up (towards
        the camera, so ``d > 0`` is the camera's height), or None when no such plane exists.
    """
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) < max(3, min_inliers):
        return None
    rng = np.random.default_rng(seed)
    cos_tilt = np.cos(np.deg2rad(max_tilt_deg))
    best, best_count = None, 0
    samples = rng.integers(0, len(pts), size=(iterations, 3))
    for i, j, k in samples:
        n = np.cross(pts[j] - pts[i], pts[k] - pts[i])
        norm = np.linalg.norm(n)
        if norm < 1e-9:
            continue
        n /= norm
        if n @ up_guess < 0:
            n = -n
        if n @ up_guess < cos_tilt:
            continue
        d = -float(n @ pts[i])
        if d <= 0:  # the camera must be above the plane
            continue
        count = int(np.count_nonzero(np.abs(pts @ n + d) < threshold))
        if count > best_count:
            best, best_count = (n, d), count
    if best is None or best_count < max(min_inliers, min_fraction * len(pts)):
        return None
    # Least-squares refinement on the inliers.
    n, d = best
    inliers = pts[np.abs(pts @ n + d) < threshold]
    centre = inliers.mean(axis=0)
    _, _, vt = np.linalg.svd(inliers - centre, full_matrices=False)
    n = vt[2] if vt[2] @ up_guess > 0 else -vt[2]
    return n, -float(n @ centre)


def level_pose(up_c: np.ndarray | None = None) -> np.ndarray:
    """Camera-to-world rotation (as a 4x4 pose at the origin) that maps camera-frame ``up_c``
    onto world +z, keeping the camera's forward axis in the world's y-z plane. Without
    ``up_c`` the camera is assumed level."""
    T = np.eye(4)
    if up_c is None:
        T[:3, :3] = LEVEL_R_W_C
        return T
    z = up_c / np.linalg.norm(up_c)
    forward = np.array([0.0, 0.0, 1.0])
    if abs(forward @ z) > 0.99:  # looking straight up or down: use the camera's x instead
        forward = np.array([0.0, -1.0, 0.0]) if forward @ z < 0 else np.array([0.0, 1.0, 0.0])
    y = forward - (forward @ z) * z
    y /= np.linalg.norm(y)
    x = np.cross(y, z)
    T[:3, :3] = np.stack([x, y, z])  # rows: world axes expressed in the camera frame
    return T


def correction(up_map: np.ndarray, floor_offset: float | None = None) -> np.ndarray:
    """Transform (4x4) re-aligning a map whose "up" is ``up_map`` (unit, map frame): the
    smallest rotation taking it to +z, then a shift putting the floor plane
    ``up_map . x + floor_offset = 0`` at z = 0 (no shift without a floor)."""
    C = np.eye(4)
    C[:3, :3] = rotation_between(up_map, np.array([0.0, 0.0, 1.0]))
    if floor_offset is not None:
        C[2, 3] = floor_offset
    return C
