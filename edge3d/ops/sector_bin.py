"""SectorBin: Spherical Mask's sector index and radius of every point around every centre.

Implements ``cartesian_to_spherical`` + ``find_sector_`` of the Spherical Mask reference code
(research/methods.md section 5.4; papers/spherical-mask.md, section 3): for centre k and point n,
``d = points[n] - centers[k]``, ``radius = |d|``, polar angle ``theta = atan2(|d_xy|, d_z)`` in
[0, pi], azimuth ``phi = atan2(d_y, d_x) + pi`` in [0, 2 pi], bins
``clamp(floor(angle / unit), 0, n - 1)`` and ``sector = polar_bin * n_azimuth + azimuth_bin``.
At the centre itself (d = 0) the answer is defined: radius 0, theta = phi - pi = 0, so the sector
is ``floor(n_azimuth / 2)`` (2 for the default 5 x 5 grid), as in the reference code.
"""

from __future__ import annotations

from typing import Any

from edge3d.ops import _torch_common as tc
from edge3d.ops._onnx_body import BodyBuilder, offsets, sector_index
from edge3d.ops.registry import get_op

SPEC = get_op("SectorBin")


def sector_bin(points: Any, centers: Any, n_azimuth: int = 5, n_polar: int = 5) -> tuple[Any, Any]:
    """Sector index and radius of every point around every centre.

    Args:
        points: float tensor ``[N, 3]`` or ``[B, N, 3]`` (metres).
        centers: float tensor ``[K, 3]`` or ``[B, K, 3]``, same dtype and batching as ``points``.
        n_azimuth: number of azimuth bins (over [0, 2 pi]).
        n_polar: number of polar bins (over [0, pi]).

    Returns:
        ``(sector, radius)``: int32 ``[K, N]`` (``[B, K, N]``) in [0, n_azimuth * n_polar), and
        the distance ``|points[n] - centers[k]|`` in the dtype of ``points`` (FP16 inputs are
        computed in FP32). ``radius`` is differentiable w.r.t. both inputs (gradient 0 at r = 0).
    """
    import torch

    attrs = SPEC.resolve_attributes({"n_azimuth": n_azimuth, "n_polar": n_polar})
    _check_grid(attrs)
    tc.check_float("SectorBin", "points", points, 3, (2, 3))
    tc.check_float("SectorBin", "centers", centers, 3, (2, 3))
    tc.check_same_dtype("SectorBin", {"points": points, "centers": centers})
    tc.check_batch("SectorBin", {"points": (points, 2), "centers": (centers, 2)})
    shape = (*centers.shape[:-1], points.shape[-2])
    if tc.exporting():
        return tc.emit(SPEC, [points, centers], attrs, [torch.int32, points.dtype], [shape, shape])
    dx, dy, dz = tc.offsets(points, centers, tc.compute_dtype(points.dtype))
    sector = tc.sector_index(dx, dy, dz, attrs["n_azimuth"], attrs["n_polar"]).to(torch.int32)
    return sector, tc.safe_radius(dx, dy, dz).to(points.dtype)


def _check_grid(attrs: dict[str, int | float]) -> None:
    for key in ("n_azimuth", "n_polar"):
        if not 1 <= attrs[key] <= 1024:
            raise ValueError(f"{key} must be in [1, 1024], got {attrs[key]}")


def function_body(opset: int) -> Any:
    """ONNX function body: per-component Sub -> Atan/Where atan2 -> Floor/Clip bins."""
    from onnx import TensorProto

    b = BodyBuilder(SPEC)
    sector, radius = sector_index(b, *offsets(b, "points", "centers"))
    b.output("Cast", "sector", sector, to=TensorProto.INT32)
    b.output("CastLike", "radius", radius, "points")
    return b.finish(opset)
