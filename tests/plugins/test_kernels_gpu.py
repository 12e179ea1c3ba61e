"""CUDA kernels (through the C ABI) vs the PyTorch references; needs a GPU."""

from __future__ import annotations

import numpy as np
import pytest

import edge3d.ops as ops
from tests.ops.cases import SIZES, assert_matches_reference, kernel_name, make_inputs
from tests.plugins.kernel_lib import KernelLibrary

pytestmark = pytest.mark.gpu



def compare(kernels: KernelLibrary, op: str, feeds: dict[str, np.ndarray]) -> None:
    got = getattr(kernels, kernel_name(op))(*feeds.values())
    assert_matches_reference(op, feeds, list(got) if isinstance(got, tuple) else [got], "kernel")


@pytest.mark.parametrize("op", sorted(ops.OPS))
@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_kernel_matches_reference(kernels: KernelLibrary, op: str, size: str, dtype: str) -> None:
    n, k, b = SIZES[size]
    compare(kernels, op, make_inputs(op, n, k, b, dtype=dtype, seed=7))


@pytest.mark.parametrize("op", sorted(ops.OPS))
def test_kernel_batched(kernels: KernelLibrary, op: str) -> None:
    compare(kernels, op, make_inputs(op, 1000, 17, 9, batch=3, seed=8))


@pytest.mark.parametrize("op", sorted(ops.OPS))
@pytest.mark.parametrize(("n", "k"), [(0, 4), (9, 0), (0, 0)])
def test_kernel_empty(kernels: KernelLibrary, op: str, n: int, k: int) -> None:
    compare(kernels, op, make_inputs(op, n, k, k))


def test_sector_at_the_centre(kernels: KernelLibrary) -> None:
    points = np.array([[0.5, -0.25, 2.0]], np.float32)
    sector, radius = kernels.sector_bin(points, points)
    assert sector.item() == 2 and radius.item() == 0.0
