"""fps, ball_query, knn and three_nn_weights against NumPy references and scipy's cKDTree."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

import edge3d.native as native
from tests.native import reference as ref


def cloud(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(-2.0, 2.0, size=(n, 3))).astype(np.float32)


def lattice(step: float = 0.5) -> np.ndarray:
    """Points on a grid: many exactly equal distances, to exercise the tie rules."""
    r = np.arange(-3, 4) * step
    return np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float32)


# ---- fps -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "samples", "start"), [(1, 1, 0), (50, 50, 7), (3000, 256, 0),
                                                     (40_000, 64, 123)])
def test_fps_matches_reference(n: int, samples: int, start: int) -> None:
    points = cloud(n, seed=n)
    got = native.fps(points, samples, start)
    assert got.dtype == np.int32 and got.shape == (samples,)
    np.testing.assert_array_equal(got, ref.fps(points, samples, start))


def test_fps_ties_and_duplicates() -> None:
    points = np.concatenate([lattice(), lattice()[:40]])  # 40 exact duplicates at the end
    got = native.fps(points, points.shape[0])
    np.testing.assert_array_equal(got, ref.fps(points, points.shape[0]))
    assert len(np.unique(got)) == points.shape[0]  # every point exactly once


def test_fps_block_skipping_keeps_exact_ties() -> None:
    # A large lattice: many blocks, exact distance ties everywhere, most blocks skipped late on.
    r = np.arange(30, dtype=np.float32) * np.float32(0.1)
    points = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)
    points = np.random.default_rng(2).permutation(points)
    np.testing.assert_array_equal(native.fps(points, 600, 17), ref.fps(points, 600, 17))


def test_identical_points() -> None:
    points = np.ones((1000, 3), np.float32)
    np.testing.assert_array_equal(native.fps(points, 10), np.arange(10))
    idx, d2 = native.knn(points, points[:3], 5)
    np.testing.assert_array_equal(idx, np.tile(np.arange(5), (3, 1)))
    assert np.all(d2 == 0)
    np.testing.assert_array_equal(native.ball_query(points, points[:2], 0.1, 4), [[0, 1, 2, 3]] * 2)


def test_huge_coordinates_stay_exact() -> None:
    points = cloud(3000, seed=4) * np.float32(1e17)
    np.testing.assert_array_equal(native.fps(points, 100), ref.fps(points, 100))
    for got, want in zip(native.knn(points, points[:50], 4), ref.knn(points, points[:50], 4),
                         strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(native.ball_query(points, points[:50], 5e16, 8),
                                  ref.ball_query(points, points[:50], 5e16, 8))


def test_fps_spreads_out() -> None:
    points = cloud(5000)
    picked = points[native.fps(points, 32)]
    d = np.linalg.norm(picked[:, None] - picked[None], axis=-1) + np.eye(32) * 10
    rng = np.random.default_rng(0)
    rand = points[rng.choice(5000, 32, replace=False)]
    d_rand = np.linalg.norm(rand[:, None] - rand[None], axis=-1) + np.eye(32) * 10
    assert d.min() > d_rand.min()


def test_fps_zero_samples() -> None:
    assert native.fps(np.zeros((0, 3), np.float32), 0).shape == (0,)
    assert native.fps(cloud(10), 0).shape == (0,)


# ---- ball query --------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "radius", "k"), [(1, 0.5, 4), (2000, 0.3, 16), (20_000, 0.2, 32),
                                                (5000, 10.0, 8)])
def test_ball_query_matches_reference(n: int, radius: float, k: int) -> None:
    points = cloud(n, seed=n)
    centers = np.concatenate([points[:: max(1, n // 500)], cloud(100, seed=99) * 2])
    got = native.ball_query(points, centers, radius, k)
    assert got.dtype == np.int32 and got.shape == (centers.shape[0], k)
    np.testing.assert_array_equal(got, ref.ball_query(points, centers, radius, k))


def test_ball_query_agrees_with_ckdtree() -> None:
    points = cloud(20_000, seed=5)
    centers = cloud(300, seed=6)
    got = native.ball_query(points, centers, 0.25, 64)
    tree = cKDTree(points.astype(np.float64))
    for row, hits in zip(got, tree.query_ball_point(centers.astype(np.float64), 0.25),
                         strict=True):
        hits = sorted(hits)[:64]
        if not hits:
            assert np.all(row == points.shape[0])
            continue
        np.testing.assert_array_equal(row[: len(hits)], hits)
        assert np.all(row[len(hits):] == hits[0])


def test_ball_query_radius_is_strict() -> None:
    points = np.array([[0, 0, 0], [1, 0, 0], [0, 0.5, 0]], np.float32)
    got = native.ball_query(points, np.zeros((1, 3), np.float32), 1.0, 4)
    np.testing.assert_array_equal(got, [[0, 2, 0, 0]])  # distance exactly 1 is outside


def test_ball_query_padding() -> None:
    points = lattice()
    far = np.array([[100.0, 0, 0]], np.float32)
    got = native.ball_query(points, np.concatenate([points[:1], far]), 0.1, 5)
    np.testing.assert_array_equal(got, [[0] * 5, [points.shape[0]] * 5])
    empty = native.ball_query(np.zeros((0, 3), np.float32), far, 1.0, 3)
    np.testing.assert_array_equal(empty, [[0, 0, 0]])  # N = 0: the padding index is 0


def test_ball_query_tiny_radius_over_a_wide_scene() -> None:
    # Cells of one radius would need more than 63 key bits here: the k-d tree path answers.
    base = cloud(2000, seed=12) * np.float32(5000)
    near = base[:500] + np.float32(3e-4) * cloud(500, seed=13)
    points = np.concatenate([base, near])
    got = native.ball_query(points, points[::3], 1e-3, 4)
    np.testing.assert_array_equal(got, ref.ball_query(points, points[::3], 1e-3, 4))
    assert np.any(got[:, 1] != got[:, 0])  # some centres do have a second point


def test_ball_query_centres_far_outside_the_points() -> None:
    points = cloud(500, seed=14)
    centers = np.array([[1e6, 0, 0], [-3.0, 0, 0], [2.5, 2.5, 2.5], [0, 0, 0]], np.float32)
    got = native.ball_query(points, centers, 0.8, 6)
    np.testing.assert_array_equal(got, ref.ball_query(points, centers, 0.8, 6))


def test_ball_query_ties_on_lattice() -> None:
    points = lattice()
    got = native.ball_query(points, points, 0.51, 7)
    np.testing.assert_array_equal(got, ref.ball_query(points, points, 0.51, 7))


# ---- knn ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "q", "k"), [(1, 5, 1), (10, 10, 10), (3000, 400, 8),
                                           (30_000, 500, 16)])
def test_knn_matches_reference(n: int, q: int, k: int) -> None:
    points = cloud(n, seed=n)
    queries = cloud(q, seed=q + 1) * 1.5
    idx, d2 = native.knn(points, queries, k)
    want_idx, want_d2 = ref.knn(points, queries, k)
    assert idx.dtype == np.int32 and d2.dtype == np.float32
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(d2, want_d2)


def test_knn_ties_by_index() -> None:
    points = np.concatenate([lattice(), lattice()])  # every point twice
    idx, d2 = native.knn(points, points[::7] + np.float32(0.25), 12)
    want_idx, want_d2 = ref.knn(points, points[::7] + np.float32(0.25), 12)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(d2, want_d2)


def test_knn_agrees_with_ckdtree() -> None:
    points, queries = cloud(20_000, seed=8), cloud(500, seed=9)
    idx, d2 = native.knn(points, queries, 8)
    dist, want = cKDTree(points.astype(np.float64)).query(queries.astype(np.float64), 8)
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_allclose(d2, dist**2, rtol=1e-5, atol=1e-7)


def test_empty_query_sets() -> None:
    none = np.zeros((0, 3), np.float32)
    idx, d2 = native.knn(cloud(10), none, 3)
    assert idx.shape == (0, 3) and d2.shape == (0, 3)
    assert native.ball_query(cloud(10), none, 0.5, 4).shape == (0, 4)
    idx, weight = native.three_nn_weights(cloud(10), none)
    assert idx.shape == (0, 3) and weight.shape == (0, 3)


# ---- three_nn_weights --------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 4000])
def test_three_nn_weights_match_reference(n: int) -> None:
    points, queries = cloud(n, seed=n), cloud(700, seed=11)
    idx, weight = native.three_nn_weights(points, queries)
    want_idx, want_weight = ref.three_nn_weights(points, queries)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(weight, want_weight)
    np.testing.assert_allclose(weight.sum(axis=1), 1.0, rtol=1e-6)


def test_three_nn_weights_with_fewer_than_three_points() -> None:
    points = np.array([[0, 0, 0], [1, 0, 0]], np.float32)
    idx, weight = native.three_nn_weights(points, np.array([[0.25, 0, 0]], np.float32))
    np.testing.assert_array_equal(idx, [[0, 1, 0]])
    np.testing.assert_allclose(weight, [[0.75, 0.25, 0.0]], rtol=1e-6)


def test_three_nn_weights_interpolate_exactly_at_a_point() -> None:
    points = cloud(100)
    idx, weight = native.three_nn_weights(points, points[:10])
    np.testing.assert_array_equal(idx[:, 0], np.arange(10))
    np.testing.assert_allclose(weight[:, 0], 1.0, atol=1e-6)
