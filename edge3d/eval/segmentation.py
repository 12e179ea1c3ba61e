"""ScanNet-protocol AP for ``(ground truth, SegmentationResult)`` pairs: the benchmarks' entry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from edge3d.eval.predictions import predictions_from_segmentation
from edge3d.eval.result import InstanceEvalResult
from edge3d.eval.scannet import MIN_REGION_SIZE, evaluate_scannet
from edge3d.types import SegmentationResult


def evaluate_segmentation(pairs: Iterable[tuple[np.ndarray, SegmentationResult]],
                          class_names: Sequence[str], background_classes: Iterable[int] = (),
                          agnostic: bool = False, min_region_size: int = MIN_REGION_SIZE,
                          progress: bool = False) -> InstanceEvalResult:
    """Evaluate segmentation results against per-point ground truth, ScanNet protocol.

    Args:
        pairs: per scene, ground truth int [N] ``class_id * 1000 + instance`` (class ids index
            ``class_names``; instance from 1, 0 = no instance) and the
            :class:`~edge3d.SegmentationResult` on the same N points (its instances'
            ``indices``, ``class_id`` and ``score`` are used, in the result's order).
        class_names: every class id's name (e.g. ``edge3d.synth.CLASS_NAMES``).
        background_classes: class ids not evaluated ("stuff", e.g. ``(0, 1)`` for floor and
            wall): their points are void and predictions of them are dropped.
        agnostic: one class: every ground-truth instance of an evaluated class and every
            prediction, whatever its class.
        min_region_size: 100 in the benchmark; small synthetic clouds may want less.
        progress: show a progress bar.

    Class 0 and the ScanNet id rules: the official protocol treats ids below 1000 as groups and
    id 0 as unannotated, which would make an evaluated class 0 unevaluable. So the ground truth
    is re-encoded before evaluation: a point whose class is evaluated and whose instance is
    >= 1 gets ``(class_id + 1) * 1000 + instance``, every other point (background classes,
    instance 0, unknown or negative classes) gets 0, which is void; predictions' labels are
    shifted by one likewise. Class ids and names in the result are the caller's.
    """
    background = {int(c) for c in background_classes}
    evaluated = [c for c in range(len(class_names)) if c not in background]
    if not evaluated:
        raise ValueError("every class is a background class: nothing to evaluate")
    shifted_ids = np.array(evaluated, dtype=np.int64) + 1
    gt, preds = {}, {}
    for k, (gt_ids, result) in enumerate(pairs):
        ids = np.asarray(gt_ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"scene {k}: ground truth must be 1-D integer ids, got "
                             f"{ids.dtype} {ids.shape}")
        ids = ids.astype(np.int64)
        sem, inst = ids // 1000, ids % 1000
        keep = np.isin(sem, evaluated) & (inst > 0)
        scene = f"scene{k:05d}"
        gt[scene] = np.where(keep, (sem + 1) * 1000 + inst, 0)
        preds[scene] = predictions_from_segmentation(result, len(ids), label_offset=1)
    result = evaluate_scannet(gt, preds, [class_names[c] for c in evaluated], shifted_ids,
                              agnostic=agnostic, min_region_size=min_region_size,
                              progress=progress)
    if agnostic:
        return result
    return InstanceEvalResult(class_labels=result.class_labels,
                              class_ids=tuple(int(c) for c in evaluated),
                              overlaps=result.overlaps, ap_matrix=result.ap_matrix,
                              num_gt=result.num_gt, num_pred=result.num_pred,
                              num_scenes=result.num_scenes)
