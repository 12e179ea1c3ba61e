"""The D435-like sensor model over ray-cast maps: the numpy reference (the spec).

``edge3d.native.render_frame`` computes exactly this in C++; both draw every random number
from a counter-based hash of (frame key, pixel, draw number), so the two agree pixel for pixel
(up to the last bit of ``log``/``cos``) and neither depends on threads or visiting order.

Draws per pixel: 0, the depth noise (a uniform through the normal quantile, Acklam's rational
approximation, relative error below 1.2e-9); 2, the dropout uniform; 3-5, colour noise per
channel (an Irwin-Hall sum of four 16-bit uniforms, unit variance).
See :mod:`edge3d.synth.camera` for the model itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge3d.synth.shading import AMBIENT, LIGHT_DIRECTION
from edge3d.types import Intrinsics

_MASK = 0xFFFFFFFFFFFFFFFF
_GOLDEN = 0x9E3779B97F4A7C15


def mix64(z: np.ndarray | int) -> np.ndarray | int:
    """splitmix64's finaliser on uint64 arrays (wrapping) or Python ints."""
    if isinstance(z, int):
        z &= _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def frame_key(seed: int, index: int) -> int:
    """The random stream of frame ``index`` of a camera seeded with ``seed``."""
    return int(mix64(int(mix64(int(seed))) ^ (int(index) & _MASK)))


def _draw(key: int, pixels: np.ndarray, j: int) -> np.ndarray:
    return mix64(np.uint64(key) ^ ((pixels * np.uint64(8) + np.uint64(j)) * np.uint64(_GOLDEN)))


def _uniform(x: np.ndarray) -> np.ndarray:  # (0, 1]
    return ((x >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _approx_gaussian(x: np.ndarray) -> np.ndarray:
    s = np.zeros(x.shape)
    for i in range(4):
        s += (((x >> np.uint64(16 * i)) & np.uint64(0xFFFF)).astype(np.float64) + 0.5) / 65536.0
    return (s - 2.0) * 1.7320508075688772


_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00)


def normal_quantile(p: np.ndarray) -> np.ndarray:
    """Standard normal quantile of ``p`` in (0, 1] (Acklam's rational approximation); ``p = 1``
    gives the quantile of ``1 - 2**-54``, just beyond the largest one below it."""
    low = 0.02425
    q = p - 0.5
    r = q * q
    central = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / (
        ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)
    tail_p = np.where(p < low, p, 1.0 - p)
    with np.errstate(divide="ignore", invalid="ignore"):  # p = 1 is handled below
        t = np.sqrt(-2.0 * np.log(tail_p))
        tail = (((((_C[0] * t + _C[1]) * t + _C[2]) * t + _C[3]) * t + _C[4]) * t + _C[5]) / (
            (((_D[0] * t + _D[1]) * t + _D[2]) * t + _D[3]) * t + 1.0)
    out = np.where((p < low) | (p > 1.0 - low), np.where(p < low, tail, -tail), central)
    return np.where(p >= 1.0, 8.292361075813597, out)


@dataclass(frozen=True)
class SensorParams:
    """Sensor model settings (see :class:`edge3d.synth.VirtualCamera` for their meaning)."""

    depth_scale: float
    noise: bool
    holes: bool
    min_depth: float
    max_depth: float
    baseline: float
    subpixel: float
    max_incidence_deg: float
    edge_threshold: float
    dropout: float
    color_noise: float


def sensor_model_numpy(depth_true: np.ndarray, prim: np.ndarray, normal: np.ndarray,
                       prim_colors: np.ndarray, pose: np.ndarray, intrinsics: Intrinsics,
                       params: SensorParams, key: int) -> tuple[np.ndarray, np.ndarray]:
    """Depth uint16 [H, W] and colour uint8 [H, W, 3] from ray-cast maps.

    Args:
        depth_true: float32 [H, W], exact depth in metres (0: no surface).
        prim: int32 [H, W], box index per pixel (-1: no surface).
        normal: float32 [H, W, 3], world unit normals of the surfaces hit.
        prim_colors: uint8 [P, 3], base colour per box.
        pose: float64 [4, 4], ``T_W_C``.
        params: the sensor settings.
        key: the frame's random stream (:func:`frame_key`).
    """
    k, sp = intrinsics, params
    h, w = depth_true.shape
    surface = prim >= 0
    z = depth_true.astype(np.float64)
    pixels = np.arange(h * w, dtype=np.uint64).reshape(h, w)
    fb = k.fx * sp.baseline

    lambert = np.clip(normal.astype(np.float64) @ LIGHT_DIRECTION, 0.0, None)
    gain = np.where(surface, AMBIENT + (1.0 - AMBIENT) * lambert, 0.0)
    color = np.where(surface[..., None], prim_colors[np.clip(prim, 0, None)] * gain[..., None],
                     0.0)
    if sp.noise and sp.color_noise > 0:
        for c in range(3):
            color[..., c] += _approx_gaussian(_draw(key, pixels, 3 + c)) * sp.color_noise
    color = np.clip(color + 0.5, 0.0, 255.0).astype(np.uint8)

    measured = z.copy()
    if sp.noise:
        gauss = normal_quantile(_uniform(_draw(key, pixels, 0)))
        measured += np.where(surface, gauss * (z * z * sp.subpixel / fb), 0.0)
    valid = surface & (measured >= sp.min_depth) & (measured <= sp.max_depth)
    if sp.holes:
        valid &= _incidence_ok(normal, pose, k, np.cos(np.radians(sp.max_incidence_deg)))
        valid &= ~stereo_shadow(z, surface, fb)
        valid &= ~depth_edges(z, surface, sp.edge_threshold)
        if sp.dropout > 0:
            valid &= _uniform(_draw(key, pixels, 2)) > sp.dropout
    units = np.rint(measured / sp.depth_scale)
    valid &= units <= 65535.0
    return np.where(valid, units, 0).astype(np.uint16), color


def _incidence_ok(normal: np.ndarray, pose: np.ndarray, k: Intrinsics, cos_max: float
                  ) -> np.ndarray:
    """Whether the angle between each surface normal and the ray to the camera is small enough."""
    x = (np.arange(k.width) - k.cx) / k.fx
    y = (np.arange(k.height) - k.cy) / k.fy
    t = pose
    d = [t[r, 0] * x[None, :] + t[r, 1] * y[:, None] + t[r, 2] for r in range(3)]
    n = normal.astype(np.float64)
    dot = n[..., 0] * d[0] + n[..., 1] * d[1] + n[..., 2] * d[2]
    cos_inc = -dot / np.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
    return cos_inc >= cos_max


def stereo_shadow(z: np.ndarray, surface: np.ndarray, fb: float) -> np.ndarray:
    """Pixels the right imager (``baseline`` to the right) cannot see: a point at column u lands
    at ``u - f b / z`` in the right image and is hidden when a point right of it lands at or
    left of that (0.5 px slack)."""
    with np.errstate(divide="ignore"):
        disparity = np.where(surface, fb / np.where(surface, z, 1.0), 0.0)
    x_right = np.arange(z.shape[1], dtype=np.float64)[None, :] - disparity
    right_min = np.minimum.accumulate(x_right[:, ::-1], axis=1)[:, ::-1]
    right_min = np.concatenate([right_min[:, 1:], np.full((z.shape[0], 1), np.inf)], axis=1)
    return surface & (x_right > right_min + 0.5)


def depth_edges(z: np.ndarray, surface: np.ndarray, threshold: float) -> np.ndarray:
    """Surface pixels with a 4-neighbour more than ``threshold * z`` away in depth or without a
    surface (image borders do not count)."""
    zz = np.where(surface, z, np.inf)
    edge = np.zeros(z.shape, bool)
    with np.errstate(invalid="ignore"):
        jump_x = ~(np.abs(zz[:, 1:] - zz[:, :-1]) <= threshold * np.minimum(zz[:, 1:], zz[:, :-1]))
        jump_y = ~(np.abs(zz[1:] - zz[:-1]) <= threshold * np.minimum(zz[1:], zz[:-1]))
    edge[:, 1:] |= jump_x
    edge[:, :-1] |= jump_x
    edge[1:] |= jump_y
    edge[:-1] |= jump_y
    return edge & surface
