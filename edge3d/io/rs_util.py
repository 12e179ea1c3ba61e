"""Conversions between pyrealsense2 objects and edge3d types, shared by recordings and the live
camera. pyrealsense2 is imported only inside functions (it is the optional ``realsense`` extra)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edge3d.errors import MissingDependencyError
from edge3d.types import Intrinsics

# edge3d distortion model name -> pyrealsense2.distortion member name
_DISTORTION = {
    "none": "none",
    "brown_conrady": "brown_conrady",
    "inverse_brown_conrady": "inverse_brown_conrady",
    "modified_brown_conrady": "modified_brown_conrady",
    "kannala_brandt4": "kannala_brandt4",
}


def import_rs(purpose: str) -> Any:
    """Import pyrealsense2 or raise :class:`MissingDependencyError` naming ``purpose``."""
    try:
        import pyrealsense2 as rs
    except ImportError as exc:
        raise MissingDependencyError("pyrealsense2", "realsense", purpose) from exc
    return rs


def f32_value(x: float) -> float:
    """The shortest decimal that rounds to the same float32 as ``x``.

    librealsense stores intrinsics and depth units as float32, so 0.0001 comes back as
    9.99999974e-05; this recovers the value the writer meant (exact for any float32 input).
    """
    return float(str(np.float32(x)))


def intrinsics_to_rs(k: Intrinsics) -> Any:
    rs = import_rs("Writing a RealSense recording")
    out = rs.intrinsics()
    out.width, out.height = k.width, k.height
    out.fx, out.fy, out.ppx, out.ppy = k.fx, k.fy, k.cx, k.cy
    out.model = getattr(rs.distortion, _DISTORTION[k.distortion_model])
    coeffs = list(k.distortion_coeffs)[:5]
    out.coeffs = coeffs + [0.0] * (5 - len(coeffs))
    return out


def intrinsics_from_rs(ri: Any) -> Intrinsics:
    """edge3d intrinsics from ``pyrealsense2.intrinsics`` (float32 noise removed: f32_value)."""
    model = str(ri.model).rsplit(".", 1)[-1]
    if model not in _DISTORTION:
        model = "none"  # ftheta and other fisheye models never describe depth or colour streams
    return Intrinsics(
        width=int(ri.width), height=int(ri.height), fx=f32_value(ri.fx), fy=f32_value(ri.fy),
        cx=f32_value(ri.ppx), cy=f32_value(ri.ppy), distortion_model=model,
        distortion_coeffs=tuple(f32_value(c) for c in ri.coeffs),
    )


def depth_to_numpy(frame: Any) -> np.ndarray:
    """A copy of a z16 depth frame as uint16 [H, W] (so librealsense can reuse its buffer)."""
    return np.array(np.asanyarray(frame.get_data()), dtype=np.uint16, copy=True)


def color_to_numpy(frame: Any) -> np.ndarray | None:
    """A copy of a colour frame as uint8 RGB [H, W, 3], or None for a format edge3d cannot use
    (for example YUYV or raw Bayer in an old recording)."""
    rs = import_rs("Reading RealSense colour frames")
    fmt = frame.profile.format()
    data = np.asanyarray(frame.get_data())
    if fmt == rs.format.rgb8:
        return np.array(data, dtype=np.uint8, copy=True)
    if fmt == rs.format.bgr8:
        return np.ascontiguousarray(data[..., ::-1])
    if fmt == rs.format.rgba8:
        return np.ascontiguousarray(data[..., :3])
    if fmt == rs.format.bgra8:
        return np.ascontiguousarray(data[..., 2::-1])
    return None


def is_identity_extrinsics(ext: Any, tol: float = 1e-6) -> bool:
    r = np.asarray(ext.rotation, float).reshape(3, 3)
    t = np.asarray(ext.translation, float)
    return bool(np.allclose(r, np.eye(3), atol=tol) and np.allclose(t, 0.0, atol=tol))
