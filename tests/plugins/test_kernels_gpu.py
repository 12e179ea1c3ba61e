"""CUDA kernels (through the C ABI) vs the PyTorch references; needs a GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import edge3d.ops as ops
from tests.ops.cases import SIZES, make_inputs, near_sector_edge
from tests.plugins.kernel_lib import KernelLibrary

pytestmark = pytest.mark.gpu

REFERENCES = {
    "SectorBin": ops.sector_bin, "SectorMask": ops.sector_mask,
    "PointInBoxProb": ops.point_in_box_prob, "SoftBoxIoU": ops.soft_box_iou,
}
KERNELS = {"SectorBin": "sector_bin", "SectorMask": "sector_mask",
           "PointInBoxProb": "point_in_box_prob", "SoftBoxIoU": "soft_box_iou"}


def compare(kernels: KernelLibrary, op: str, feeds: dict[str, np.ndarray]) -> None:
    got = getattr(kernels, KERNELS[op])(*feeds.values())
    got = list(got) if isinstance(got, tuple) else [got]
    with torch.no_grad():
        want = REFERENCES[op](*(torch.from_numpy(a) for a in feeds.values()))
    want = [w.numpy() for w in (want if isinstance(want, tuple) else (want,))]
    spec = ops.get_op(op)
    tol = spec.tolerance[str(next(iter(feeds.values())).dtype)]
    edge = (near_sector_edge(feeds["points"], feeds["centers"])
            if op in ("SectorBin", "SectorMask") else None)
    for name, g, w in zip(spec.outputs, got, want, strict=True):
        assert g.shape == w.shape and g.dtype == w.dtype, (name, g.shape, w.shape)
        ok = (g == w) if g.dtype == np.int32 else np.isclose(
            g.astype(np.float64), w.astype(np.float64), rtol=tol.rtol, atol=tol.atol)
        if edge is not None and name in ("sector", "logits"):
            ok |= edge
        assert ok.all(), f"{op}.{name}: {(~ok).sum()} of {ok.size} differ"


@pytest.mark.parametrize("op", sorted(KERNELS))
@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_kernel_matches_reference(kernels: KernelLibrary, op: str, size: str, dtype: str) -> None:
    n, k, b = SIZES[size]
    compare(kernels, op, make_inputs(op, n, k, b, dtype=dtype, seed=7))


@pytest.mark.parametrize("op", sorted(KERNELS))
def test_kernel_batched(kernels: KernelLibrary, op: str) -> None:
    compare(kernels, op, make_inputs(op, 1000, 17, 9, batch=3, seed=8))


@pytest.mark.parametrize("op", sorted(KERNELS))
@pytest.mark.parametrize(("n", "k"), [(0, 4), (9, 0), (0, 0)])
def test_kernel_empty(kernels: KernelLibrary, op: str, n: int, k: int) -> None:
    compare(kernels, op, make_inputs(op, n, k, k))


def test_sector_at_the_centre(kernels: KernelLibrary) -> None:
    points = np.array([[0.5, -0.25, 2.0]], np.float32)
    sector, radius = kernels.sector_bin(points, points)
    assert sector.item() == 2 and radius.item() == 0.0
