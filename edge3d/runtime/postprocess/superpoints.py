"""Superpoint alignment: snap an instance mask to the over-segmentation a scan comes with.

ScanNet meshes carry a superpoint per vertex (Felzenszwalb segments of the mesh, the
``*.segs.json``). Spherical Mask, like ISBNet and SPFormer, aligns each final mask to them
(``research/methods.md`` 5.8): a superpoint joins the mask when at least half of its points are
in it, and leaves it otherwise, which cleans mask borders that voxelisation blurred. Fused maps
have no superpoints, so the runtime does this only when the caller passes them.
"""

from __future__ import annotations

import numpy as np


class Superpoints:
    """A per-point superpoint labelling, indexed for repeated mask alignment.

    Args:
        labels: integer [N], the superpoint of each point (any integer ids; ScanNet's are
            large and sparse).

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
        _, self.of_point = np.unique(labels, return_inverse=True)
        self.of_point = self.of_point.reshape(-1)
        self.sizes = np.bincount(self.of_point)
        # Points grouped by superpoint (CSR), to gather a set of superpoints' points at once.
        self._order = np.argsort(self.of_point, kind="stable")
        self._starts = np.concatenate([[0], np.cumsum(self.sizes)])

    def __len__(self) -> int:
        return len(self.sizes)

    def align(self, points: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """The points of every superpoint that has at least ``threshold`` of its points in the
        mask ``points`` (indices); sorted indices."""
        inside = np.bincount(self.of_point[points], minlength=len(self.sizes))
        chosen = np.flatnonzero(inside >= threshold * self.sizes)
        if len(chosen) == 0:
            return np.zeros(0, np.int64)
        per = self.sizes[chosen]
        first = np.repeat(self._starts[chosen] - (np.cumsum(per) - per), per)
        return np.sort(self._order[first + np.arange(per.sum())])
