"""neighbor_table against its NumPy reference, and the padding and capacity conventions."""

from __future__ import annotations

import numpy as np
import pytest

import edge3d.native as native
from tests.native import reference as ref


def voxels(m: int, seed: int = 0, span: int = 25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coords = np.unique(rng.integers(-span, span, size=(m, 3)), axis=0)
    return rng.permutation(coords).astype(np.int32)


@pytest.mark.parametrize(("kernel_size", "dilation"), [(3, 1), (2, 1), (3, 2), (1, 1), (5, 1)])
def test_submanifold_table_matches_reference(kernel_size: int, dilation: int) -> None:
    coords = voxels(20_000 if kernel_size <= 3 else 4000, seed=kernel_size * 10 + dilation)
    table, valid = native.neighbor_table(coords, kernel_size, dilation)
    want, _ = ref.neighbor_table(coords, kernel_size, dilation)
    assert table.dtype == np.int32 and table.shape == (coords.shape[0], kernel_size**3)
    assert valid == coords.shape[0]
    np.testing.assert_array_equal(table, want)


def test_submanifold_centre_tap_is_the_voxel_itself() -> None:
    coords = voxels(3000)
    table, _ = native.neighbor_table(coords)
    np.testing.assert_array_equal(table[:, 13], np.arange(coords.shape[0]))


def test_offset_order_is_x_slowest_z_fastest() -> None:
    coords = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, -1, -1]], np.int32)
    table, _ = native.neighbor_table(coords, 3)
    row = table[0]
    assert row[13] == 0 and row[22] == 1 and row[16] == 2 and row[14] == 3 and row[0] == 4
    assert np.count_nonzero(row < 5) == 5
    table2, _ = native.neighbor_table(coords, 2)
    # k = 2 taps are (0|1)^3: slot 4*dx + 2*dy + dz.
    np.testing.assert_array_equal(table2[0], [0, 3, 2, 5, 1, 5, 5, 5])


def test_query_and_capacity_padding() -> None:
    coords = voxels(5000, seed=3)
    query = np.unique(coords // 2, axis=0).astype(np.int32) * 2  # e.g. a strided output grid
    table, valid = native.neighbor_table(coords, 2, query=query, capacity=query.shape[0] + 7)
    want, _ = ref.neighbor_table(coords, 2, query=query)
    assert valid == query.shape[0]
    assert table.shape == (query.shape[0] + 7, 8)
    np.testing.assert_array_equal(table[:valid], want)
    assert np.all(table[valid:] == coords.shape[0])


def test_capacity_exactly_q() -> None:
    coords = voxels(1000, seed=4)
    table, valid = native.neighbor_table(coords, capacity=coords.shape[0])
    np.testing.assert_array_equal(table, ref.neighbor_table(coords)[0])
    assert valid == coords.shape[0]


def test_capacity_below_q_is_an_error() -> None:
    coords = voxels(100)
    with pytest.raises(ValueError, match="exceed capacity"):
        native.neighbor_table(coords, capacity=coords.shape[0] - 1)


def test_empty_coords_and_query() -> None:
    empty = np.zeros((0, 3), np.int32)
    table, valid = native.neighbor_table(empty)
    assert table.shape == (0, 27) and valid == 0
    table, valid = native.neighbor_table(empty, query=np.zeros((2, 3), np.int32), capacity=4)
    assert valid == 2 and np.all(table == 0)  # padding M = 0 everywhere


def test_single_voxel() -> None:
    table, valid = native.neighbor_table(np.array([[-4, 7, 0]], np.int32))
    assert valid == 1
    np.testing.assert_array_equal(table, [[1] * 13 + [0] + [1] * 13])


def test_extreme_coordinates_do_not_wrap() -> None:
    top, bottom = np.iinfo(np.int32).max, np.iinfo(np.int32).min
    coords = np.array([[top, top, top], [bottom, bottom, bottom], [top, top, top - 1],
                       [bottom, 0, 0], [bottom + 1, 0, 0]], np.int32)
    table, _ = native.neighbor_table(coords, 3, dilation=3)
    np.testing.assert_array_equal(table, ref.neighbor_table(coords, 3, 3)[0])
    table, _ = native.neighbor_table(coords, 3)
    assert table[0, 12] == 2 and table[3, 22] == 4 and table[4, 4] == 3
    assert table[0, 26] == 5 and table[1, 0] == 5  # int32 wrap-around would find the other


def test_duplicate_coords_are_an_error() -> None:
    coords = np.array([[1, 2, 3], [0, 0, 0], [1, 2, 3]], np.int32)
    with pytest.raises(ValueError, match="same voxel"):
        native.neighbor_table(coords)
