"""Superpoint alignment: snap an instance mask to the over-segmentation a scan comes with.

ScanNet meshes carry a superpoint per vertex (Felzenszwalb segments of the mesh, the
``*.segs.json``). Spherical Mask, like ISBNet and SPFormer, aligns each final mask to them
(``research/methods.md`` 5.8): a superpoint joins the mask when at least half of its points are
in it, and leaves it otherwise, which cleans mask borders that voxelisation blurred. Fused maps
have no superpoints, so the runtime does this only when the caller passes them.
"""

from __future__ import annotations

import numpy as np


class Grouping:
    """Points grouped by an integer label in ``[0, n_groups)`` (CSR), to gather the points of a
    set of groups at once: a voxel's points, a superpoint's points."""

    def __init__(self, labels: np.ndarray, n_groups: int = 0) -> None:
        self.labels = np.asarray(labels, np.int64).reshape(-1)
        self.sizes = np.bincount(self.labels, minlength=n_groups)
        self._order = np.argsort(self.labels, kind="stable")
        self._starts = np.concatenate([[0], np.cumsum(self.sizes)])

    def members(self, groups: np.ndarray) -> np.ndarray:
        """Sorted indices of the points in ``groups`` (distinct group ids)."""
        per = self.sizes[groups]
        first = np.repeat(self._starts[groups] - (np.cumsum(per) - per), per)
        return np.sort(self._order[first + np.arange(per.sum())])


class Superpoints:
    """A per-point superpoint labelling, indexed for repeated mask alignment.

    Args:
        labels: integer [N], the superpoint of each point (any integer ids; ScanNet's are
            large and sparse).
        n_points: N, the number of points segmented.

    Raises:
        ValueError: not one integer per point.
    """

    def __init__(self, labels: np.ndarray, n_points: int) -> None:
        labels = np.asarray(labels)
        if labels.shape != (n_points,):
            raise ValueError(f"superpoints must hold one id per point, shape ({n_points},); got "
                             f"{labels.shape}")
        if labels.size and not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"superpoints must be integer ids, got dtype {labels.dtype}")
        self.groups = Grouping(np.unique(labels, return_inverse=True)[1])

    def align(self, points: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """The points of every superpoint that has at least ``threshold`` of its points in the
        mask ``points`` (indices); sorted indices."""
        sizes = self.groups.sizes
        inside = np.bincount(self.groups.labels[points], minlength=len(sizes))
        return self.groups.members(np.flatnonzero(inside >= threshold * sizes))
