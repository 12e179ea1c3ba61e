"""Predicted instances as the evaluators take them, and the conversion from a
:class:`edge3d.SegmentationResult`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge3d.types import SegmentationResult


@dataclass(frozen=True)
class PredInstance:
    """One predicted instance of one scene.

    Attributes:
        mask: [V] over the scene's vertices (points); any non-zero entry is part of the instance
            (bool, or the 0/1 integers of a benchmark mask file).
        label_id: class id of the prediction (a ScanNet/NYU40 id for ScanNet evaluation).
        score: confidence; only its order matters (ties share one point of the PR curve).
        key: identity for the official script's per-threshold "visited" flag, which is keyed by
            the mask file's absolute path. :func:`edge3d.eval.read_pred_dir` sets it to that path,
            so two scenes' lines naming one mask file behave as in the official script. ``None``
            (the default) makes every prediction its own identity.
    """

    mask: np.ndarray
    label_id: int
    score: float
    key: str | None = None


def predictions_from_segmentation(result: SegmentationResult, num_points: int,
                                  label_offset: int = 0) -> list[PredInstance]:
    """The instances of ``result`` as :class:`PredInstance` masks over ``num_points`` points.

    ``label_id`` is ``instance.class_id + label_offset``, ``score`` is ``instance.score``; the
    order is ``result.instances``' order (descending score), which is the "file order" the
    ScanNet protocol's greedy matching follows.

    Raises:
        ValueError: an instance index lies outside ``[0, num_points)``.
    """
    preds = []
    for k, inst in enumerate(result.instances):
        idx = np.asarray(inst.indices, dtype=np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= num_points):
            raise ValueError(
                f"instance {k} (id {inst.id}) has point indices outside [0, {num_points}): the "
                "ground truth and the segmentation result must describe the same points"
            )
        mask = np.zeros(num_points, dtype=bool)
        mask[idx] = True
        preds.append(PredInstance(mask=mask, label_id=int(inst.class_id) + label_offset,
                                  score=float(inst.score)))
    return preds
