"""S3DIS instance metric as 3D-BoNet reports it: mean precision and recall at IoU 0.5.

3D-BoNet (``papers/3d-bonet.md`` section 3.2, Table 2; ``research/methods.md`` 1.7 step 6)
reports "the classical metrics mean precision (mPrec) and mean recall (mRec) with IoU threshold
0.5", computed by its released ``main_eval.py`` as follows, which this module reproduces:

- per scene and class, a prediction is a true positive when its best IoU with a ground-truth
  instance of the same class is >= 0.5 (no one-to-one matching: two predictions may both count
  on one instance), otherwise a false positive; IoU = |P & G| / (|P | G| + 1e-8);
- TP, FP and the number of ground-truth instances are summed over scenes per class;
  precision = TP / (TP + FP + 1e-8), recall = TP / (#GT + 1e-8);
- mPrec / mRec average over the classes with ground truth (a class with predictions but no
  ground truth is left out; a class with ground truth but no predictions counts as 0).

The removal of small predictions (<= 0.3 x the class's mean training instance size) is
3D-BoNet's post-processing, applied before this metric, not part of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from edge3d.eval.predictions import PredInstance, predictions_from_segmentation
from edge3d.types import SegmentationResult

S3DIS_CLASS_NAMES: tuple[str, ...] = (
    "ceiling", "floor", "wall", "beam", "column", "window", "door", "table", "chair", "sofa",
    "bookcase", "board", "clutter",
)
"""The 13 S3DIS classes with their usual ids 0..12 (all evaluated)."""

_EPS = 1e-8  # as in 3D-BoNet's main_eval.py

ScenePredictions = Sequence[PredInstance] | SegmentationResult


@dataclass(frozen=True)
class PrecisionRecallResult:
    """mPrec / mRec and their per-class parts.

    ``per_class`` maps a class name to ``(precision, recall, tp, fp, num_gt)``; ``mprec`` and
    ``mrec`` average precision and recall over the classes with ``num_gt > 0`` (NaN if none).
    """

    mprec: float
    mrec: float
    per_class: dict[str, tuple[float, float, int, int, int]]
    iou_threshold: float

    def to_dict(self) -> dict:
        return {
            "mprec": self.mprec, "mrec": self.mrec, "iou_threshold": self.iou_threshold,
            "classes": {n: {"precision": p, "recall": r, "tp": tp, "fp": fp, "num_gt": g}
                        for n, (p, r, tp, fp, g) in self.per_class.items()},
        }


def s3dis_mprec_mrec(scenes: Iterable[tuple[np.ndarray, ScenePredictions]],
                     class_names: Sequence[str] = S3DIS_CLASS_NAMES,
                     class_ids: Sequence[int] | None = None,
                     iou_threshold: float = 0.5) -> PrecisionRecallResult:
    """mPrec / mRec of instance predictions, 3D-BoNet's S3DIS protocol.

    Args:
        scenes: per scene (room), ground truth int [N] ``class_id * 1000 + instance`` (instance
            from 1; instance 0 or a class outside ``class_ids`` = no instance) and its
            predictions: :class:`PredInstance` masks over the N points with ``label_id`` =
            class id, or a :class:`~edge3d.SegmentationResult` on the same points.
        class_names: names of the evaluated classes.
        class_ids: their ids (default ``0 .. len(class_names) - 1``).
        iou_threshold: 0.5 in the paper; a prediction needs IoU >= it.
    """
    ids = list(range(len(class_names))) if class_ids is None else [int(c) for c in class_ids]
    if len(ids) != len(class_names):
        raise ValueError(f"{len(class_names)} class names for {len(ids)} class ids")
    tp = dict.fromkeys(ids, 0)
    fp = dict.fromkeys(ids, 0)
    total = dict.fromkeys(ids, 0)
    for k, (gt_ids, preds) in enumerate(scenes):
        gt = np.asarray(gt_ids)
        if gt.ndim != 1 or not np.issubdtype(gt.dtype, np.integer):
            raise ValueError(f"scene {k}: ground truth must be 1-D integer ids, got "
                             f"{gt.dtype} {gt.shape}")
        gt = gt.astype(np.int64)
        if isinstance(preds, SegmentationResult):
            preds = predictions_from_segmentation(preds, len(gt))
        uniq, inv, sizes = np.unique(gt, return_inverse=True, return_counts=True)
        gt_class = uniq // 1000
        is_instance = np.isin(gt_class, ids) & (uniq % 1000 > 0)
        for c in ids:
            total[c] += int((is_instance & (gt_class == c)).sum())
        for j, pred in enumerate(preds):
            c = int(pred.label_id)
            if c not in tp:
                continue
            mask = np.asarray(pred.mask) != 0
            if mask.shape != gt.shape:
                raise ValueError(f"scene {k}: prediction {j} mask has shape {mask.shape}, the "
                                 f"ground truth {gt.shape}")
            inter = np.bincount(inv.ravel()[mask], minlength=len(uniq))
            same = is_instance & (gt_class == c)
            union = sizes[same] + mask.sum() - inter[same]
            best = (inter[same] / (union + _EPS)).max(initial=-1.0)
            if best >= iou_threshold:
                tp[c] += 1
            else:
                fp[c] += 1
    per_class = {}
    for name, c in zip(class_names, ids, strict=True):
        per_class[name] = (tp[c] / (tp[c] + fp[c] + _EPS), tp[c] / (total[c] + _EPS),
                           tp[c], fp[c], total[c])
    with_gt = [v for v in per_class.values() if v[4] > 0]
    mprec = float(np.mean([v[0] for v in with_gt])) if with_gt else float("nan")
    mrec = float(np.mean([v[1] for v in with_gt])) if with_gt else float("nan")
    return PrecisionRecallResult(mprec=mprec, mrec=mrec, per_class=per_class,
                                 iou_threshold=iou_threshold)
