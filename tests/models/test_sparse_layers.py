"""The gather convolutions equal dense 3D convolutions on the occupied voxels.

This pins the weight layout to ``edge3d.native``'s table conventions: neighbour column
``j = (ox+1)*9 + (oy+1)*3 + (oz+1)`` (x slowest) and child slot ``4*dx + 2*dy + dz``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edge3d import native
from edge3d.models.backbones.layers import SparseMaxPool, StridedConv, SubMConv, TransposedConv

D = 8  # dense grid edge (even, so stride-2 levels align)


def _coords(seed: int, fraction: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(D)] * 3, indexing="ij"), -1).reshape(-1, 3)
    keep = rng.random(len(grid)) < fraction
    return grid[keep].astype(np.int32)


def _dense(coords: np.ndarray, feats: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    grid = torch.full((1, feats.shape[1], D, D, D), fill, dtype=feats.dtype)
    c = torch.from_numpy(coords).long()
    grid[0, :, c[:, 0], c[:, 1], c[:, 2]] = feats.T
    return grid


def _at(grid: torch.Tensor, coords: np.ndarray) -> torch.Tensor:
    c = torch.from_numpy(coords).long()
    return grid[0, :, c[:, 0], c[:, 1], c[:, 2]].T


@pytest.mark.parametrize("seed", [0, 1])
def test_submanifold_conv_equals_dense_conv(seed: int) -> None:
    torch.manual_seed(seed)
    coords = _coords(seed)
    cin, cout = 3, 5
    feats = torch.randn(len(coords), cin, dtype=torch.float64)
    table, valid = native.neighbor_table(coords, 3)
    assert valid == len(coords)
    conv = SubMConv(cin, cout).double()
    got = conv(feats, torch.from_numpy(table))
    w = conv.weight.detach().reshape(3, 3, 3, cin, cout).permute(4, 3, 0, 1, 2)
    ref = _at(torch.nn.functional.conv3d(_dense(coords, feats), w, padding=1), coords)
    torch.testing.assert_close(got, ref)


def test_strided_and_transposed_conv_equal_dense_convs() -> None:
    torch.manual_seed(3)
    coords = _coords(3)
    level0, level1 = native.voxel_pyramid(coords, 2)
    cin, cout = 4, 6
    feats = torch.randn(len(coords), cin, dtype=torch.float64)
    down = StridedConv(cin, cout).double()
    got = down(feats, torch.from_numpy(level0.children))
    w = down.weight.detach().reshape(2, 2, 2, cin, cout).permute(4, 3, 0, 1, 2)
    dense = torch.nn.functional.conv3d(_dense(coords, feats), w, stride=2)
    c1 = torch.from_numpy(level1.coords).long()
    torch.testing.assert_close(got, dense[0, :, c1[:, 0], c1[:, 1], c1[:, 2]].T)

    up = TransposedConv(cout, cin).double()
    coarse = torch.randn(len(level1.coords), cout, dtype=torch.float64)
    index = torch.from_numpy(level0.parent * 8 + level0.octant)
    got_up = up(coarse, index)
    wt = up.weight.detach().reshape(cout, 2, 2, 2, cin).permute(0, 4, 1, 2, 3)
    small = torch.zeros(1, cout, D // 2, D // 2, D // 2, dtype=torch.float64)
    small[0, :, c1[:, 0], c1[:, 1], c1[:, 2]] = coarse.T
    ref_up = torch.nn.functional.conv_transpose3d(small, wt, stride=2)
    torch.testing.assert_close(got_up, _at(ref_up, coords))


def test_max_pool_equals_dense_max_pool() -> None:
    coords = _coords(4)
    level0, level1 = native.voxel_pyramid(coords, 2)
    feats = torch.randn(len(coords), 3, dtype=torch.float64)
    got = SparseMaxPool()(feats, torch.from_numpy(level0.children))
    dense = torch.nn.functional.max_pool3d(_dense(coords, feats, -torch.inf), 2)
    c1 = torch.from_numpy(level1.coords).long()
    torch.testing.assert_close(got, dense[0, :, c1[:, 0], c1[:, 1], c1[:, 2]].T)


@pytest.mark.parametrize("kernel", [3, 5])
def test_submanifold_conv_gradients_equal_autograd_of_the_gather(kernel: int) -> None:
    # Training uses a gather-only backward that relies on the table's symmetry; it must give
    # autograd's gradients of the plain Gather + MatMul.
    torch.manual_seed(kernel)
    coords = _coords(5 + kernel)
    table = torch.from_numpy(native.neighbor_table(coords, kernel)[0])
    conv = SubMConv(4, 6, kernel ** 3).double()
    feats = torch.randn(len(coords), 4, dtype=torch.float64, requires_grad=True)
    probe = torch.randn(len(coords), 6, dtype=torch.float64)
    (conv(feats, table) * probe).sum().backward()
    got_x, got_w = feats.grad.clone(), conv.weight.grad.clone()
    feats.grad, conv.weight.grad = None, None
    cols = torch.cat([feats, feats.new_zeros(1, 4)])[table.long()].reshape(len(coords), -1)
    ((cols @ conv.weight) * probe).sum().backward()
    torch.testing.assert_close(got_x, feats.grad)
    torch.testing.assert_close(got_w, conv.weight.grad)
    with torch.no_grad():
        torch.testing.assert_close(conv(feats, table), cols @ conv.weight)
