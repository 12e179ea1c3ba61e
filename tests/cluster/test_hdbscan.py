"""Native HDBSCAN against exact references: a dense MST and the `hdbscan` package."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist
from sklearn.metrics import adjusted_rand_score

from edge3d.native import hdbscan
from edge3d.native._loader import load_extension


def blobs(seed: int, n: int, k: int, d: int, sigma: float = 0.1, outliers: float = 0.0
          ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-3, 3, (k, d))
    truth = rng.integers(0, k, n)
    x = centres[truth] + rng.normal(0, sigma, (n, d))
    m = int(outliers * n)
    x[:m] = rng.uniform(-3.5, 3.5, (m, d))
    truth[:m] = -1
    return x.astype(np.float32), truth


@pytest.mark.parametrize("d", [2, 3, 5, 8])
def test_mst_is_exact(d: int) -> None:
    x, _ = blobs(d, 1200, 6, d)
    xd = x.astype(np.float64)
    dist = cdist(xd, xd)
    core = np.sort(dist, axis=1)[:, 7]  # 7th nearest other point
    mrd = np.maximum(dist, np.maximum(core[:, None], core[None, :]))
    np.fill_diagonal(mrd, 0)
    exact = minimum_spanning_tree(mrd).data.sum()
    a, b, w = load_extension("hdbscan").mutual_reachability_mst(x, 8)
    assert len(w) == len(x) - 1
    np.testing.assert_allclose(w.sum(), exact, rtol=1e-12)
    # Every edge weight is the mutual reachability distance of its endpoints.
    np.testing.assert_allclose(w, mrd[a, b], rtol=1e-12)


@pytest.mark.parametrize(("seed", "n", "k", "d", "mcs", "ms"), [
    (0, 3000, 8, 8, 30, 10),
    (1, 2000, 5, 3, 20, 5),
    (2, 4000, 12, 8, 40, 10),
    (3, 1500, 4, 2, 25, 8),
])
def test_matches_hdbscan_package(seed: int, n: int, k: int, d: int, mcs: int, ms: int) -> None:
    ref_lib = pytest.importorskip("hdbscan")
    x, _ = blobs(seed, n, k, d, outliers=0.02)
    ours = hdbscan(x, mcs, ms)
    ref = ref_lib.HDBSCAN(min_cluster_size=mcs, min_samples=ms,
                          approx_min_span_tree=False).fit(x.astype(np.float64))
    assert ours.num_clusters == ref.labels_.max() + 1
    # The package computes in float64 from the float32 points we segment, and its versions
    # break ties differently (hdbscan 0.8.44 with scikit-learn 1.9 moved one point at the edge
    # of a cluster): the same up to points on the margin, which join a cluster with a
    # membership probability near 0.
    differ = ~((ours.labels == -1) == (ref.labels_ == -1))
    assert differ.sum() <= max(1, len(x) // 1000), np.flatnonzero(differ)
    assert np.all(np.maximum(ours.probabilities, ref.probabilities_)[differ] < 0.1)
    assert adjusted_rand_score(ours.labels, ref.labels_) > 0.999
    same = ~differ
    np.testing.assert_allclose(ours.probabilities[same], ref.probabilities_[same], atol=1e-9)
    # Clusters are numbered differently; compare persistence through the label mapping, for
    # the clusters whose members agree (a point more or less changes a cluster's persistence).
    mapping = {o: r for o, r in zip(ours.labels[same], ref.labels_[same], strict=True) if o >= 0}
    touched = set(ours.labels[differ]) | {o for o, r in mapping.items() if r in ref.labels_[differ]}
    for o, r in mapping.items():
        if o in touched:
            continue
        assert ours.persistence[o] == pytest.approx(ref.cluster_persistence_[r], abs=1e-9)


def test_finds_blobs_and_noise() -> None:
    x, truth = blobs(5, 5000, 10, 8, sigma=0.05, outliers=0.02)
    r = hdbscan(x, 40, 10)
    assert r.num_clusters == 10
    inliers = truth >= 0
    assert adjusted_rand_score(truth[inliers], r.labels[inliers]) > 0.99
    # Uniform outliers that land near a blob join it legitimately; the hdbscan package rejects
    # 76 % of these, the native one 85 %.
    assert (r.labels[~inliers] == -1).mean() > 0.8
    assert np.all((r.probabilities >= 0) & (r.probabilities <= 1))
    assert np.all(r.probabilities[r.labels == -1] == 0)
    assert np.all((r.persistence > 0) & (r.persistence <= 1))  # several clusters: within [0, 1]


def test_single_cluster_needs_permission() -> None:
    x, _ = blobs(6, 800, 1, 3)
    assert hdbscan(x, 20).num_clusters in (0, 2, 3)  # never the whole set as one cluster
    r = hdbscan(x, 20, allow_single_cluster=True)
    if r.num_clusters == 1:
        assert r.lambda_birth[0] == 0.0


def test_same_result_for_any_thread_count() -> None:
    code = (
        "import numpy as np, sys; from edge3d.native import hdbscan; "
        "rng = np.random.default_rng(3); c = rng.uniform(-3, 3, (20, 8)); "
        "x = (c[rng.integers(0, 20, 20000)] + rng.normal(0, 0.1, (20000, 8))).astype('f4'); "
        "r = hdbscan(x, 30, 10); sys.stdout.buffer.write(r.labels.tobytes() + "
        "r.probabilities.tobytes())"
    )
    outs = []
    for threads in ("1", "2", "5"):
        env = dict(os.environ, EDGE3D_NUM_THREADS=threads)
        outs.append(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                   check=True).stdout)
    assert outs[0] == outs[1] == outs[2]


def test_degenerate_inputs() -> None:
    assert hdbscan(np.zeros((0, 8), np.float32)).labels.shape == (0,)
    assert hdbscan(np.zeros((1, 3), np.float32)).labels.tolist() == [-1]
    same = np.ones((50, 3), np.float32)  # all distances zero
    r = hdbscan(same, 5, allow_single_cluster=True)
    assert r.labels.shape == (50,)
    assert np.all(np.isfinite(r.probabilities))


@pytest.mark.parametrize(("x", "kwargs", "message"), [
    (np.full((10, 3), np.nan, np.float32), {}, "NaN"),
    (np.zeros(10, np.float32), {}, r"\[N, D\]"),
    (np.zeros((10, 3), np.float32), {"min_cluster_size": 1}, "min_cluster_size"),
    (np.zeros((10, 3), np.float32), {"min_samples": 0}, "min_samples"),
])
def test_bad_input_is_named(x: np.ndarray, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hdbscan(x, **kwargs)
