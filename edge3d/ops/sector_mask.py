"""SectorMask: Spherical Mask's fused mask assembly, ``rays[sector] - radius + 2 * migration``.

Implements ``mask_assembly`` of the Spherical Mask reference code (research/methods.md section
5.6): the point's sector around the query centre picks the predicted ray length; the radial
point migration is subtracted twice (the reference subtracts it from the radius and again in the
final difference). The reference's in-place clamp ``ray_preds[ray_preds < 0.01] = 0.01`` is the
caller's choice and not part of this op; ``logits >= 0`` is the mask.
"""

from __future__ import annotations

from typing import Any

from edge3d.ops import _torch_common as tc
from edge3d.ops._onnx_body import BodyBuilder, offsets, sector_index
from edge3d.ops.registry import get_op

SPEC = get_op("SectorMask")


def sector_mask(
    points: Any, centers: Any, rays: Any, migration: Any, n_azimuth: int = 5, n_polar: int = 5
) -> Any:
    """Mask logits of every point for every query.

    Args:
        points: float ``[N, 3]`` or ``[B, N, 3]``.
        centers: float ``[K, 3]`` (``[B, K, 3]``): the queries' sphere centres.
        rays: float ``[K, S]`` (``[B, K, S]``) with ``S = n_azimuth * n_polar``: ray length per
            sector, indexed as SectorBin's ``sector``.
        migration: float ``[K, N]`` (``[B, K, N]``): radial point migration (``rpm``).
        n_azimuth, n_polar: the sector grid (as SectorBin).

    Returns:
        float ``[K, N]`` (``[B, K, N]``) in the inputs' dtype:
        ``rays[k, sector(k, n)] - |points[n] - centers[k]| + 2 * migration[k, n]``, computed in
        FP32 for FP16 inputs. Differentiable w.r.t. all four inputs (the sector choice is not).
    """
    import torch

    attrs = SPEC.resolve_attributes({"n_azimuth": n_azimuth, "n_polar": n_polar})
    inputs = {"points": points, "centers": centers, "rays": rays, "migration": migration}
    tc.check_float("SectorMask", "points", points, 3, (2, 3))
    tc.check_float("SectorMask", "centers", centers, 3, (2, 3))
    sectors = int(attrs["n_azimuth"] * attrs["n_polar"])
    tc.check_float("SectorMask", "rays", rays, sectors, (2, 3))
    tc.check_float("SectorMask", "migration", migration, None, (2, 3))
    tc.check_same_dtype("SectorMask", inputs)
    tc.check_batch("SectorMask", {name: (t, 2) for name, t in inputs.items()})
    shape = (*centers.shape[:-1], points.shape[-2])
    if tuple(migration.shape) != shape or rays.shape[:-1] != centers.shape[:-1]:
        raise ValueError(
            f"SectorMask: expected rays {(*centers.shape[:-1], sectors)} and migration {shape} "
            f"for points {tuple(points.shape)} and centers {tuple(centers.shape)}, got rays "
            f"{tuple(rays.shape)} and migration {tuple(migration.shape)}"
        )
    if tc.exporting():
        return tc.emit(SPEC, list(inputs.values()), attrs, [points.dtype], [shape])
    work = tc.compute_dtype(points.dtype)
    dx, dy, dz = tc.offsets(points, centers, work)
    sector = tc.sector_index(dx, dy, dz, attrs["n_azimuth"], attrs["n_polar"])
    ray = torch.gather(rays.to(work), -1, sector)
    logits = ray - tc.safe_radius(dx, dy, dz) + 2 * migration.to(work)
    return logits.to(points.dtype)


def function_body(opset: int) -> Any:
    """ONNX function body: SectorBin's binning, then GatherElements over the rays."""
    b = BodyBuilder(SPEC)
    sector, radius = sector_index(b, *offsets(b, "points", "centers"))
    ray = b.op("GatherElements", b.float32("rays"), sector, axis=-1)
    twice = b.op("Mul", b.float32("migration"), b.const(2.0))
    b.output("CastLike", "logits", b.op("Add", b.op("Sub", ray, radius), twice), "points")
    return b.finish(opset)
