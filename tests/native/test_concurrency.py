"""The native calls release the GIL: concurrent calls from Python threads must not interfere."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import edge3d.native as native


def work(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(20_000, 3)).astype(np.float32)
    grid = native.voxelize(points, 0.1, points)
    table, _ = native.neighbor_table(grid.coords)
    samples = native.fps(points, 128)
    groups = native.ball_query(points, points[samples], 0.3, 16)
    idx, d2 = native.knn(points, points[::10], 8)
    nn3, w3 = native.three_nn_weights(points[samples], points)
    return [grid.coords, grid.features, table, samples, groups, idx, d2, nn3, w3]


def test_concurrent_calls_match_sequential_calls() -> None:
    seeds = list(range(6))
    sequential = [work(s) for s in seeds]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(work, seeds))
    for seq, con in zip(sequential, concurrent, strict=True):
        for a, b in zip(seq, con, strict=True):
            np.testing.assert_array_equal(a, b)
