"""Bad inputs fail with errors that name the argument, before any native code runs."""

from __future__ import annotations

import numpy as np
import pytest

import edge3d.native as native

P = np.zeros((4, 3), np.float32)
C = np.zeros((4, 3), np.int32)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: native.voxelize(np.zeros((4, 3), np.int32), 0.1), TypeError, "points.*floating"),
    (lambda: native.voxelize(np.zeros((4, 2), np.float32), 0.1), ValueError, r"\[N, 3\]"),
    (lambda: native.voxelize(np.zeros(3, np.float32), 0.1), ValueError, "shape"),
    (lambda: native.voxelize(np.array([[0, np.nan, 0]], np.float32), 0.1), ValueError,
     "row 0 is not finite"),
    (lambda: native.voxelize(np.array([[1e39, 0, 0]]), 0.1), ValueError, "not finite"),
    (lambda: native.voxelize(P, 0.0), ValueError, "voxel_size must be a finite number > 0"),
    (lambda: native.voxelize(P, -1.0), ValueError, "voxel_size"),
    (lambda: native.voxelize(P, float("nan")), ValueError, "voxel_size"),
    (lambda: native.voxelize(P, "big"), TypeError, "voxel_size"),
    (lambda: native.voxelize(P, 0.1, np.zeros((3, 2), np.float32)), ValueError,
     "features has 3 rows but points has 4"),
    (lambda: native.voxelize(P, 0.1, np.full((4, 1), np.inf, np.float32)), ValueError,
     "features row 0"),
    (lambda: native.voxel_pyramid(P, 2), TypeError, "coords must be an integer array"),
    (lambda: native.voxel_pyramid(C, 0), ValueError, "levels must be >= 1"),
    (lambda: native.voxel_pyramid(np.full((1, 3), 2**40), 2), ValueError, "int32 range"),
    (lambda: native.neighbor_table(C[:1], kernel_size=0), ValueError, "kernel_size"),
    (lambda: native.neighbor_table(C[:1], dilation=0), ValueError, "dilation"),
    (lambda: native.neighbor_table(C[:1], kernel_size=3.0), TypeError, "kernel_size"),
    (lambda: native.neighbor_table(C[:1], query=np.zeros((2, 2), np.int32)), ValueError,
     "query must have shape"),
    (lambda: native.neighbor_table(C[:1], capacity=-1), ValueError, "capacity"),
    (lambda: native.fps(P, 5), ValueError, "n=5 samples from 4 points"),
    (lambda: native.fps(P, -1), ValueError, "n must be >= 0"),
    (lambda: native.fps(P, 2, start=4), ValueError, "start=4"),
    (lambda: native.ball_query(P, P, 0.0, 4), ValueError, "radius"),
    (lambda: native.ball_query(P, P, 1e30, 4), ValueError, "overflows float32"),
    (lambda: native.ball_query(P, P, 0.1, 0), ValueError, "k must be >= 1"),
    (lambda: native.ball_query(P, np.zeros((2, 4), np.float32), 0.1, 2), ValueError,
     "centers must have shape"),
    (lambda: native.knn(P, P, 5), ValueError, "k=5 exceeds the number of points N=4"),
    (lambda: native.knn(P, P, 0), ValueError, "k must be >= 1"),
    (lambda: native.knn(P, np.array([[0, 0, np.inf]], np.float32), 1), ValueError,
     "queries row 0"),
    (lambda: native.three_nn_weights(np.zeros((0, 3), np.float32), P), ValueError,
     "points is empty"),
    (lambda: native.knn(np.full((2, 3), 1e19, np.float32), P, 1), ValueError, "overflow"),
    (lambda: native.fps(np.full((2, 3), -1e19, np.float32), 1), ValueError, "overflow"),
])
def test_bad_input_is_rejected(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


def test_non_contiguous_and_float64_inputs_are_accepted() -> None:
    points = np.random.default_rng(0).normal(size=(100, 6))[:, ::2]  # strided float64
    idx, _ = native.knn(points, points[:5], 2)
    np.testing.assert_array_equal(idx[:, 0], np.arange(5))
    coords = np.arange(30, dtype=np.int64).reshape(10, 3)[::-1]
    table, _ = native.neighbor_table(coords)
    np.testing.assert_array_equal(table[:, 13], np.arange(10))
