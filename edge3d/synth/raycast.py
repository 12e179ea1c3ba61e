"""Ray casting boxes into a pinhole camera: the exact geometry under every rendered frame.

For each box, the pixels it can cover are bounded by projecting its corners (clipped against
the near plane); each of those pixels' rays is intersected with the box by the slab test in
the box's frame, and the nearest hit wins. Rays are ``d = ((u - cx) / fx, (v - cy) / fy, 1)`` in
the camera, so the ray parameter of a hit is its depth z.

:func:`raycast_numpy` is the reference (vectorised per box); ``edge3d.native.raycast_boxes``
computes the same thing in C++ and is what :class:`~edge3d.synth.VirtualCamera` uses.
"""

from __future__ import annotations

import numpy as np

from edge3d.types import Intrinsics

# Hits closer than this (metres) are ignored: the camera never sees inside a box it touches.
NEAR = 1e-3

_EDGES = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]


def pixel_bounds(corners_c: np.ndarray, intrinsics: Intrinsics) -> tuple[int, int, int, int] | None:
    """Pixel rectangle (u0, u1, v0, v1), end-exclusive, that a box with camera-frame corners
    float [8, 3] (ordered by bits x, y, z) can cover; None when it is behind the camera or
    off-screen."""
    z = corners_c[:, 2]
    pts = [corners_c[z > NEAR]]
    for a, b in _EDGES:  # where an edge crosses the near plane
        za, zb = z[a], z[b]
        if (za > NEAR) != (zb > NEAR):
            s = (NEAR - za) / (zb - za)
            pts.append((corners_c[a] + s * (corners_c[b] - corners_c[a]))[None])
    p = np.concatenate(pts)
    if len(p) == 0:
        return None
    k = intrinsics
    u = k.fx * p[:, 0] / p[:, 2] + k.cx
    v = k.fy * p[:, 1] / p[:, 2] + k.cy
    u0, u1 = max(int(np.floor(u.min())), 0), min(int(np.ceil(u.max())) + 1, k.width)
    v0, v1 = max(int(np.floor(v.min())), 0), min(int(np.ceil(v.max())) + 1, k.height)
    if u0 >= u1 or v0 >= v1:
        return None
    return u0, u1, v0, v1


def box_corner_bits() -> np.ndarray:
    """Corner sign pattern float [8, 3]: corner i has sign +1 on axis k where bit (2 - k) is set."""
    return np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)


def raycast_numpy(centers: np.ndarray, rotations: np.ndarray, halves: np.ndarray,
                  pose: np.ndarray, intrinsics: Intrinsics
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest box hit per pixel.

    Args:
        centers, rotations, halves: boxes as float64 [P, 3], [P, 3, 3] (box-to-world), [P, 3].
        pose: ``T_W_C`` float64 [4, 4].
        intrinsics: the pinhole model (distortion ignored).

    Returns:
        depth float32 [H, W] (z in metres, 0 where nothing is hit), primitive int32 [H, W]
        (box index, -1 where nothing is hit), normal float32 [H, W, 3] (world, outward, 0 where
        nothing is hit).
    """
    k = intrinsics
    h, w = k.height, k.width
    r_wc, t_wc = pose[:3, :3], pose[:3, 3]
    depth = np.full((h, w), np.inf)
    prim = np.full((h, w), -1, np.int32)
    normal = np.zeros((h, w, 3), np.float32)
    signs = box_corner_bits()
    us = (np.arange(w) - k.cx) / k.fx
    vs = (np.arange(h) - k.cy) / k.fy
    for i in range(len(centers)):
        c, rb, hb = centers[i], rotations[i], halves[i]
        corners_c = (c + (signs * hb) @ rb.T - t_wc) @ r_wc
        rect = pixel_bounds(corners_c, k)
        if rect is None:
            continue
        u0, u1, v0, v1 = rect
        m = rb.T @ r_wc  # camera direction -> box frame
        o = rb.T @ (t_wc - c)
        d = (m[:, 0][None, None] * us[None, u0:u1, None]
             + m[:, 1][None, None] * vs[v0:v1, None, None] + m[:, 2][None, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / d
            t1 = (-hb - o) * inv
            t2 = (hb - o) * inv
        tmin, tmax = np.fmin(t1, t2), np.fmax(t1, t2)
        axis = np.argmax(np.nan_to_num(tmin, nan=-np.inf), axis=2)
        tnear = np.take_along_axis(tmin, axis[..., None], 2)[..., 0]
        tfar = np.nanmin(tmax, axis=2)
        region = depth[v0:v1, u0:u1]
        hit = (tnear <= tfar) & (tnear > NEAR) & (tnear < region)
        if not hit.any():
            continue
        region[hit] = tnear[hit]
        prim[v0:v1, u0:u1][hit] = i
        d_axis = np.take_along_axis(d, axis[..., None], 2)[..., 0]
        n_world = rb[:, axis[hit]].T * -np.sign(d_axis[hit])[:, None]
        normal[v0:v1, u0:u1][hit] = n_world
    depth[~np.isfinite(depth)] = 0.0
    return depth.astype(np.float32), prim, normal
