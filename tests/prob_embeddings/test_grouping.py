"""The native greedy seed grouping (Eq. 16) against a direct numpy transcription."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.native import bhattacharyya, seed_grouping


def greedy(mu, sigma, score, candidates, tau, min_seed_score):
    """The paper's loop, literally: seed = argmax score among unassigned seedable candidates
    (lowest row on ties), members = unassigned candidates with similarity >= tau."""
    labels = np.full(len(mu), -1)
    free = candidates.copy()
    group = 0
    while True:
        s = np.where(free & (score >= min_seed_score), score, -np.inf)
        if not np.isfinite(s.max(initial=-np.inf)):
            return labels
        seed = int(np.argmax(s))
        members = free & (bhattacharyya(mu, sigma, mu[seed], sigma[seed]) >= tau)
        members[seed] = True
        labels[members] = group
        free &= ~members
        group += 1


def blobs(seed: int, n: int = 3000, centres: int = 12):
    rng = np.random.default_rng(seed)
    c = rng.uniform(0, 5, (centres, 3))
    which = rng.integers(0, centres, n)
    mu = (c[which] + rng.normal(0, 0.05, (n, 3))).astype(np.float32)
    sigma = np.exp(rng.normal(-2.0, 0.3, (n, 3))).astype(np.float32)
    score = rng.uniform(0, 1, n).astype(np.float32)
    return mu, sigma, score, rng.uniform(size=n) < 0.8


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("min_seed_score", [0.0, 0.6])
def test_matches_the_paper_loop(seed, min_seed_score):
    mu, sigma, score, cand = blobs(seed)
    got = seed_grouping(mu, sigma, score, cand, tau=0.35, min_seed_score=min_seed_score)
    ref = greedy(mu.astype(np.float64), sigma.astype(np.float64), score, cand, 0.35,
                 min_seed_score)
    # float32 similarity in the native code: a row exactly at the threshold may differ.
    assert (got.labels == ref).mean() > 0.999
    assert len(got.seeds) == ref.max() + 1
    assert (got.labels[~cand] == -1).all()
    assert (got.sizes == np.bincount(got.labels[got.labels >= 0])).all()
    assert np.all(score[got.seeds] >= min_seed_score)
    assert np.all((got.similarity > 0.35 - 1e-6) & (got.similarity <= 1.0))


def test_seeds_by_score_ties_to_the_lower_row():
    mu = np.zeros((4, 3), np.float32)
    mu[2:] = 10.0
    sigma = np.full((4, 3), 0.1, np.float32)
    g = seed_grouping(mu, sigma, np.array([0.5, 0.9, 0.9, 0.1], np.float32))
    assert g.seeds.tolist() == [1, 2] and g.labels.tolist() == [0, 0, 1, 1]
    assert g.sizes.tolist() == [2, 2] and np.allclose(g.similarity, 1.0)


def test_empty_and_no_candidates():
    g = seed_grouping(np.zeros((0, 3)), np.ones((0, 3)), np.zeros(0))
    assert len(g.labels) == 0 and len(g.seeds) == 0
    g = seed_grouping(np.zeros((5, 3)), np.ones((5, 3)), np.ones(5), np.zeros(5, bool))
    assert (g.labels == -1).all() and len(g.seeds) == 0


@pytest.mark.parametrize("bad, match", [
    ({"sigma": np.zeros((3, 3))}, "sigma must be finite and > 0"),
    ({"mu": np.full((3, 3), np.nan)}, "mu and score must be finite"),
    ({"mu": np.zeros((3, 2))}, r"must both be \[N, 3\]"),
    ({"score": np.zeros(2)}, "3 rows but 2 scores"),
    ({"tau": 0.0}, r"tau must be in \(0, 1\]"),
    ({"candidates": np.ones(4, bool)}, "3 rows but 4 candidate flags"),
])
def test_bad_input_is_named(bad, match):
    args = {"mu": np.zeros((3, 3)), "sigma": np.ones((3, 3)), "score": np.zeros(3), **bad}
    with pytest.raises(ValueError, match=match):
        seed_grouping(**args)
