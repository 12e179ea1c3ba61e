"""Gradients of the PyTorch references (training uses them): gradcheck in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import edge3d.ops as ops
from tests.ops.cases import make_inputs


def _inputs(op: str, batch: int | None) -> list[torch.Tensor]:
    feeds = make_inputs(op, 6, 3, 2, batch=batch, dtype="float64", seed=11)
    return [torch.from_numpy(a).requires_grad_(True) for a in feeds.values()]


@pytest.mark.parametrize("batch", [None, 2], ids=["unbatched", "batched"])
def test_sector_bin_radius_gradient(batch: int | None) -> None:
    points, centers = _inputs("SectorBin", batch)
    # Centres that coincide with a point (r = 0) have a kink; gradcheck the smooth part, and the
    # r = 0 entries separately below.
    centers = (centers.detach() + 0.05).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p, c: ops.sector_bin(p, c)[1], (points, centers))


def test_sector_bin_gradient_is_zero_not_nan_at_the_centre() -> None:
    points = torch.tensor([[0.3, 0.2, 0.1], [1.0, 0.0, 0.0]], dtype=torch.float64,
                          requires_grad=True)
    centers = torch.tensor([[0.3, 0.2, 0.1]], dtype=torch.float64, requires_grad=True)
    _, radius = ops.sector_bin(points, centers)
    radius.sum().backward()
    assert torch.isfinite(points.grad).all() and torch.isfinite(centers.grad).all()
    assert points.grad[0].abs().sum() == 0.0


@pytest.mark.parametrize("batch", [None, 2], ids=["unbatched", "batched"])
def test_sector_mask_gradient(batch: int | None) -> None:
    points, centers, rays, migration = _inputs("SectorMask", batch)
    centers = (centers.detach() + 0.05).requires_grad_(True)
    assert torch.autograd.gradcheck(ops.sector_mask, (points, centers, rays, migration))


@pytest.mark.parametrize("batch", [None, 2], ids=["unbatched", "batched"])
def test_point_in_box_gradient(batch: int | None) -> None:
    points, boxes = _inputs("PointInBoxProb", batch)
    # theta1 = 10 keeps most products inside the clamp so the gradient is not all zero.
    out = ops.point_in_box_prob(points, boxes, theta1=10.0)
    assert (out.detach() > 0.01).any()
    assert torch.autograd.gradcheck(
        lambda p, b: ops.point_in_box_prob(p, b, theta1=10.0), (points, boxes))


@pytest.mark.parametrize("batch", [None, 2], ids=["unbatched", "batched"])
def test_soft_box_iou_gradient(batch: int | None) -> None:
    a, b = _inputs("SoftBoxIoU", batch)
    assert torch.autograd.gradcheck(ops.soft_box_iou, (a, b))


def test_fp16_forward_matches_fp32_reference() -> None:
    feeds = make_inputs("PointInBoxProb", 300, 8, seed=2)
    p16, b16 = (torch.from_numpy(a).half() for a in feeds.values())
    out16 = ops.point_in_box_prob(p16, b16)
    out32 = ops.point_in_box_prob(p16.float(), b16.float())
    assert out16.dtype == torch.float16
    np.testing.assert_allclose(out16.float().numpy(), out32.numpy(), atol=1e-3)
