"""Ray casting of oriented boxes: the renderer under :class:`edge3d.synth.VirtualCamera`.

Same result as the numpy reference :func:`edge3d.synth.raycast.raycast_numpy` (the spec): per
box, the pixels its near-clipped corners project to are slab-tested in the box frame and the
nearest hit wins, boxes visited in index order. Rows run on ``EDGE3D_NUM_THREADS`` threads with
the GIL released; output is identical for every thread count.
"""

from __future__ import annotations

import functools
from types import ModuleType

import numpy as np

from edge3d.native._loader import load_extension
from edge3d.types import Intrinsics

__all__ = ["raycast_boxes", "render_frame"]

# Hits closer than this (metres) are ignored, as in edge3d.synth.raycast.NEAR.
NEAR = 1e-3


@functools.cache
def _ext() -> ModuleType:
    return load_extension("render")


def raycast_boxes(centers: np.ndarray, rotations: np.ndarray, halves: np.ndarray,
                  pose: np.ndarray, intrinsics: Intrinsics
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest box hit per pixel of a pinhole camera (distortion ignored).

    Args:
        centers: float64 [P, 3] box centres, world metres.
        rotations: float64 [P, 3, 3] box-to-world rotations (columns: box axes).
        halves: float64 [P, 3] half extents, metres.
        pose: float64 [4, 4] camera-to-world ``T_W_C`` (OpenCV camera axes).
        intrinsics: image size and pinhole parameters.

    Returns:
        ``(depth float32 [H, W], primitive int32 [H, W], normal float32 [H, W, 3])``: the hit's
        z in metres (0: no hit), the box index (-1: no hit), the outward world normal of the
        face hit (0: no hit). Ray ``(u, v)`` is ``((u - cx) / fx, (v - cy) / fy, 1)``.
    """
    c = np.ascontiguousarray(centers, dtype=np.float64)
    r = np.ascontiguousarray(rotations, dtype=np.float64)
    h = np.ascontiguousarray(halves, dtype=np.float64)
    p = np.ascontiguousarray(pose, dtype=np.float64)
    n = len(c)
    if c.shape != (n, 3) or r.shape != (n, 3, 3) or h.shape != (n, 3):
        raise ValueError(f"need centers [P, 3], rotations [P, 3, 3], halves [P, 3]; got "
                         f"{c.shape}, {r.shape}, {h.shape}")
    if p.shape != (4, 4) or not np.all(np.isfinite(p)):
        raise ValueError(f"pose must be a finite [4, 4] matrix, got shape {p.shape}")
    if np.any(h <= 0) or not np.all(np.isfinite(c)):
        raise ValueError("box half extents must be > 0 and centres finite")
    k = intrinsics
    return _ext().raycast_boxes(c.reshape(n, 3), r.reshape(n, 3, 3), h.reshape(n, 3), p,
                                int(k.width), int(k.height), float(k.fx), float(k.fy),
                                float(k.cx), float(k.cy), NEAR)


def render_frame(centers: np.ndarray, rotations: np.ndarray, halves: np.ndarray,
                 colors: np.ndarray, instance: np.ndarray, semantic: np.ndarray,
                 pose: np.ndarray, intrinsics: Intrinsics, *, depth_scale: float, noise: bool,
                 holes: bool, key: int, min_depth: float, max_depth: float, baseline: float,
                 subpixel: float, max_incidence_deg: float, edge_threshold: float,
                 dropout: float, color_noise: float, light: np.ndarray, ambient: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ray cast and apply the D435-like sensor model in one call.

    The sensor model is :func:`edge3d.synth.sensor.sensor_model_numpy` (the spec, with the same
    counter-based random numbers drawn from ``key``); see ``edge3d.synth.camera`` for the
    meaning of each parameter. ``colors`` uint8 [P, 3], ``instance`` / ``semantic`` int32 [P]
    label each box.

    Returns:
        ``(depth uint16 [H, W], color uint8 [H, W, 3], instance int32 [H, W] (0: none),
        semantic int32 [H, W] (-1: none), depth_true float32 [H, W] (metres, 0: none))``.
    """
    c = np.ascontiguousarray(centers, dtype=np.float64)
    r = np.ascontiguousarray(rotations, dtype=np.float64)
    h = np.ascontiguousarray(halves, dtype=np.float64)
    p = np.ascontiguousarray(pose, dtype=np.float64)
    n = len(c)
    if c.shape != (n, 3) or r.shape != (n, 3, 3) or h.shape != (n, 3):
        raise ValueError(f"need centers [P, 3], rotations [P, 3, 3], halves [P, 3]; got "
                         f"{c.shape}, {r.shape}, {h.shape}")
    if p.shape != (4, 4) or not np.all(np.isfinite(p)):
        raise ValueError(f"pose must be a finite [4, 4] matrix, got shape {p.shape}")
    k = intrinsics
    return _ext().render_frame(
        c.reshape(n, 3), r.reshape(n, 3, 3), h.reshape(n, 3),
        np.ascontiguousarray(colors, dtype=np.uint8).reshape(n, 3),
        np.ascontiguousarray(instance, dtype=np.int32).reshape(n),
        np.ascontiguousarray(semantic, dtype=np.int32).reshape(n), p,
        int(k.width), int(k.height), float(k.fx), float(k.fy), float(k.cx), float(k.cy), NEAR,
        float(depth_scale), bool(noise), bool(holes), int(key) & 0xFFFFFFFFFFFFFFFF,
        float(min_depth), float(max_depth), float(baseline), float(subpixel),
        float(np.cos(np.radians(max_incidence_deg))), float(edge_threshold), float(dropout),
        float(color_noise), np.ascontiguousarray(light, dtype=np.float64).reshape(3),
        float(ambient))
