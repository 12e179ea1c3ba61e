"""Native greedy seed grouping of Gaussian point embeddings (Probabilistic Embeddings).

Zhang & Wonka, *Point Cloud Instance Segmentation using Probabilistic Embeddings*, section 3.4
(``papers/probabilistic-embeddings.md``): each row is a diagonal Gaussian ``N(mu, diag(sigma^2))``;
the seed is the unassigned candidate of highest score, and every unassigned candidate whose
Bhattacharyya similarity to it (Eq. 1) is at least ``tau`` joins its group; repeat until no
seed is left. See :func:`bhattacharyya` for the similarity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge3d.native._loader import load_extension

__all__ = ["SeedGroups", "bhattacharyya", "seed_grouping"]


@dataclass(frozen=True)
class SeedGroups:
    """The result of :func:`seed_grouping`.

    Attributes:
        labels: int32 [N], the group of each row (0..K-1 in the order groups were formed), -1
            for rows in no group (not candidates, or left when no seed was left).
        seeds: int32 [K], the seed row of each group.
        similarity: float32 [K], the mean similarity of each group's rows to its seed.
        sizes: int32 [K], rows per group.
    """

    labels: np.ndarray
    seeds: np.ndarray
    similarity: np.ndarray
    sizes: np.ndarray


def bhattacharyya(mu_a: np.ndarray, sigma_a: np.ndarray, mu_b: np.ndarray,
                  sigma_b: np.ndarray) -> np.ndarray:
    """The Bhattacharyya kernel of diagonal Gaussians, Eq. 1 of the paper (numpy, broadcasting):

    ``k = beta * exp(-sum_d (mu_a - mu_b)^2 / (4 (sigma_a^2 + sigma_b^2)))`` with
    ``beta = prod_d ((sigma_a / sigma_b + sigma_b / sigma_a) / 2) ^ -1/2``; in [0, 1], 1 only
    for equal Gaussians. (The paper's text drops the square on the mean difference; its
    derivation from the kernel's definition has it, as does its Eq. 3.)
    """
    va, vb = np.square(sigma_a), np.square(sigma_b)
    expo = np.sum(np.square(mu_a - mu_b) / (4.0 * (va + vb)), axis=-1)
    ratio = sigma_a / sigma_b
    beta = np.prod((ratio + 1.0 / ratio) / 2.0, axis=-1) ** -0.5
    return beta * np.exp(-expo)


def seed_grouping(mu: np.ndarray, sigma: np.ndarray, score: np.ndarray,
                  candidates: np.ndarray | None = None, tau: float = 0.35,
                  min_seed_score: float = 0.0) -> SeedGroups:
    """Greedy grouping (module docstring), single-threaded; releases the GIL.

    Args:
        mu: float [N, 3] embedding means.
        sigma: float [N, 3] embedding standard deviations, > 0.
        score: float [N] seed scores (the paper's highest foreground class probability).
        candidates: bool [N], rows that may join or seed a group (default: all).
        tau: the similarity threshold (0.35 in the paper), in (0, 1].
        min_seed_score: rows scored below it join groups but never seed one; grouping stops
            when no candidate at or above it is left.

    Ties in score seed in row order, so the result depends on the inputs alone.
    """
    mu = np.ascontiguousarray(mu, dtype=np.float32)
    sigma = np.ascontiguousarray(sigma, dtype=np.float32)
    score = np.ascontiguousarray(score, dtype=np.float32).reshape(-1)
    n = len(mu)
    if mu.ndim != 2 or mu.shape[1] != 3 or sigma.shape != mu.shape:
        raise ValueError(f"seed_grouping: mu and sigma must both be [N, 3], got {mu.shape} and "
                         f"{sigma.shape}")
    if len(score) != n:
        raise ValueError(f"seed_grouping: {n} rows but {len(score)} scores")
    cand = np.ones(n, np.uint8) if candidates is None else \
        np.ascontiguousarray(candidates, dtype=bool).reshape(-1).view(np.uint8)
    if len(cand) != n:
        raise ValueError(f"seed_grouping: {n} rows but {len(cand)} candidate flags")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(score))):
        raise ValueError("seed_grouping: mu and score must be finite")
    if not np.all(np.isfinite(sigma) & (sigma > 0)):
        raise ValueError("seed_grouping: sigma must be finite and > 0")
    if not 0.0 < tau <= 1.0:
        raise ValueError(f"seed_grouping: tau must be in (0, 1], got {tau}")
    if not np.isfinite(min_seed_score):
        raise ValueError(f"seed_grouping: min_seed_score must be finite, got {min_seed_score}")
    labels, seeds, similarity, sizes = load_extension("grouping").seed_grouping(
        mu, sigma, score, cand, float(tau), float(min_seed_score))
    return SeedGroups(labels=labels, seeds=seeds, similarity=similarity, sizes=sizes)
