"""Native HDBSCAN* for clustering instance embeddings (SSEN's post-processing).

The algorithm and its conventions follow the ``hdbscan`` package that the SSEN reference code
uses (McInnes, Healy, Astels 2017; Campello, Moulavi, Sander 2013): core distance to the
``min_samples``-th nearest other point, the exact minimum spanning tree of the mutual
reachability graph (the package approximates it by default; ``approx_min_span_tree=False``
gives the same tree), the condensed tree at ``min_cluster_size``, excess-of-mass selection,
and the package's membership probabilities and cluster persistence. ``bench/bm_hdbscan.py``
measures it against the ``hdbscan``, ``fast_hdbscan`` and scikit-learn implementations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge3d.native._loader import load_extension

__all__ = ["HDBSCANResult", "hdbscan"]


@dataclass
class HDBSCANResult:
    """Clusters found by :func:`hdbscan`.

    Attributes:
        labels: int32 [N], cluster per point numbered from 0, -1 for noise.
        probabilities: float64 [N], membership strength in [0, 1] (0 for noise).
        persistence: float64 [C], per cluster: its excess of mass normalised by its size and the
            largest lambda in the tree (the ``hdbscan`` package's ``cluster_persistence_``); a
            measure of how clearly it stands out, in [0, 1] except for a cluster that is the
            whole data set (``allow_single_cluster``), which can exceed 1, as in the package.
        lambda_birth: float64 [C], 1 / the distance at which the cluster separates from its
            parent (0 for a cluster that is the whole data set).
    """

    labels: np.ndarray
    probabilities: np.ndarray
    persistence: np.ndarray
    lambda_birth: np.ndarray

    @property
    def num_clusters(self) -> int:
        return len(self.persistence)


def hdbscan(x: np.ndarray, min_cluster_size: int = 5, min_samples: int | None = None,
            allow_single_cluster: bool = False) -> HDBSCANResult:
    """Cluster points (typically [N, 3..16] embeddings) with HDBSCAN*.

    Args:
        x: float [N, D] points; converted to float32 C-contiguous. Must be finite.
        min_cluster_size: smallest group that counts as a cluster (>= 2).
        min_samples: the core distance of a point is the distance to its ``min_samples``-th
            nearest other point; defaults to ``min_cluster_size`` as in the ``hdbscan`` package.
        allow_single_cluster: allow the whole data set to be returned as one cluster.

    Multithreaded (``EDGE3D_NUM_THREADS``) and deterministic: ties in the spanning tree break on
    point indices, so labels do not depend on the thread count. Releases the GIL.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"hdbscan: x must be [N, D], got shape {x.shape}")
    if x.shape[1] == 0:
        raise ValueError("hdbscan: x has zero dimensions")
    if not np.all(np.isfinite(x)):
        raise ValueError("hdbscan: x contains NaN or infinite values; drop those rows first")
    if min_cluster_size < 2:
        raise ValueError(f"hdbscan: min_cluster_size must be >= 2, got {min_cluster_size}")
    ms = min_cluster_size if min_samples is None else int(min_samples)
    if ms < 1:
        raise ValueError(f"hdbscan: min_samples must be >= 1, got {ms}")
    labels, prob, persistence, birth = load_extension("hdbscan").hdbscan(
        x, int(min_cluster_size), ms + 1, bool(allow_single_cluster))  # +1: the point itself
    return HDBSCANResult(labels=labels, probabilities=prob, persistence=persistence,
                         lambda_birth=birth)
