"""voxelize and voxel_pyramid against their NumPy references (tests/native/reference.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import edge3d.native as native
from tests.native import reference as ref

GRID_FIELDS = ("coords", "features", "centroids", "point_to_voxel", "voxel_offsets",
               "voxel_points")


def assert_grid_matches(grid: native.VoxelGrid, expected: dict) -> None:
    for name in GRID_FIELDS:
        got, want = getattr(grid, name), expected[name]
        assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want, err_msg=name)


def scene(n: int, seed: int = 0, scale: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 3)) * scale).astype(np.float32)


@pytest.mark.parametrize("n", [1, 2, 17, 5000, 70_000])
def test_voxelize_matches_reference(n: int) -> None:
    points = scene(n, seed=n)
    features = np.random.default_rng(1).normal(size=(n, 4)).astype(np.float32)
    grid = native.voxelize(points, 0.25, features)
    assert_grid_matches(grid, ref.voxelize(points, 0.25, features))
    assert grid.num_voxels == grid.coords.shape[0]


def test_voxelize_without_features_has_zero_columns() -> None:
    points = scene(300)
    grid = native.voxelize(points, 0.5)
    assert grid.features.shape == (grid.num_voxels, 0)
    assert_grid_matches(grid, ref.voxelize(points, 0.5))


def test_voxelize_empty() -> None:
    grid = native.voxelize(np.zeros((0, 3), np.float32), 0.1, np.zeros((0, 2), np.float32))
    assert grid.coords.shape == (0, 3) and grid.features.shape == (0, 2)
    np.testing.assert_array_equal(grid.voxel_offsets, [0])
    assert grid.point_to_voxel.shape == (0,) and grid.voxel_points.shape == (0,)


def test_voxelize_duplicates_average_in_one_voxel() -> None:
    points = np.array([[0.1, 0.1, 0.1]] * 5 + [[2.0, 0.0, 0.0]], np.float32)
    features = np.arange(6, dtype=np.float32)[:, None]
    grid = native.voxelize(points, 1.0, features)
    np.testing.assert_array_equal(grid.coords, [[0, 0, 0], [2, 0, 0]])
    np.testing.assert_array_equal(grid.features[:, 0], [2.0, 5.0])
    np.testing.assert_array_equal(grid.voxel_points, [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(grid.voxel_offsets, [0, 5, 6])
    assert_grid_matches(grid, ref.voxelize(points, 1.0, features))


def test_voxelize_floors_negative_coordinates() -> None:
    points = np.array([[-0.1, -1.0, 0.0], [-1.0001, 0.999, -0.5]], np.float32)
    grid = native.voxelize(points, 1.0)
    np.testing.assert_array_equal(grid.coords, [[-2, 0, -1], [-1, -1, 0]])
    np.testing.assert_array_equal(grid.point_to_voxel, [1, 0])


def test_voxelize_huge_coordinates() -> None:
    # Spread over the whole int32 range: the packed-key radix sort cannot be used.
    points = np.array([[2.0e9, -2.0e9, 5.0], [-2.1e9, 2.1e9, -5.0], [2.0e9, -2.0e9, 6.5]],
                      np.float32)
    grid = native.voxelize(points, 1.0)
    assert_grid_matches(grid, ref.voxelize(points, 1.0))
    assert grid.num_voxels == 3
    with pytest.raises(ValueError, match="int32"):
        native.voxelize(np.array([[3.0e9, 0.0, 0.0]], np.float32), 1.0)


def test_voxelize_accepts_float64_as_float32() -> None:
    points = scene(200).astype(np.float64)
    assert_grid_matches(native.voxelize(points, 0.3),
                        ref.voxelize(points.astype(np.float32), 0.3))


def test_voxel_centroids_lie_in_their_voxels() -> None:
    grid = native.voxelize(scene(2000), 0.2)
    assert np.all(np.floor(grid.centroids.astype(np.float64) / 0.2) == grid.coords)


@pytest.mark.parametrize("m", [0, 1, 300, 40_000])
def test_voxel_pyramid_matches_reference(m: int) -> None:
    rng = np.random.default_rng(m)
    coords = np.unique(rng.integers(-60, 60, size=(m, 3)), axis=0).reshape(-1, 3)
    coords = rng.permutation(coords).astype(np.int32)  # level 0 keeps the caller's order
    levels = native.voxel_pyramid(coords, 5)
    expected = ref.voxel_pyramid(coords, 5)
    assert len(levels) == 5
    for got, want in zip(levels, expected, strict=True):
        for name in ("coords", "parent", "children"):
            assert getattr(got, name).dtype == np.int32
            np.testing.assert_array_equal(getattr(got, name), want[name], err_msg=name)


def test_voxel_pyramid_tables_are_consistent() -> None:
    coords = native.voxelize(scene(5000), 0.1).coords
    levels = native.voxel_pyramid(coords, 4)
    for fine, coarse in itertools.pairwise(levels):
        np.testing.assert_array_equal(coarse.coords[fine.parent], fine.coords // 2)
        rows, slots = np.nonzero(fine.children < fine.coords.shape[0])
        child = fine.children[rows, slots]
        np.testing.assert_array_equal(fine.parent[child], rows)
        np.testing.assert_array_equal((fine.coords[child] & 1) @ [4, 2, 1], slots)
        np.testing.assert_array_equal(fine.children[fine.parent, fine.octant],
                                      np.arange(fine.coords.shape[0]))
        assert len(child) == fine.coords.shape[0]  # every voxel is some parent's child
    assert np.all(levels[-1].parent == -1) and levels[-1].children.shape == (0, 8)


def test_voxel_pyramid_single_level() -> None:
    coords = np.array([[0, 0, 0], [-1, 5, 2]], np.int32)
    (only,) = native.voxel_pyramid(coords, 1)
    np.testing.assert_array_equal(only.coords, coords)
    np.testing.assert_array_equal(only.parent, [-1, -1])


def test_voxel_pyramid_rejects_duplicates() -> None:
    coords = np.array([[0, 0, 0], [4, 4, 4], [0, 0, 0]], np.int32)
    with pytest.raises(ValueError, match="more than once"):
        native.voxel_pyramid(coords, 2)
