"""The ScanNet 3D semantic-instance benchmark protocol (``evaluate_semantic_instance.py``).

Reimplemented from the specification in ``research/methods.md`` section 6 and checked against
the official script to 1e-9 on randomized inputs; every rule is written out with a worked
example in ``docs/evaluation.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from tqdm import tqdm

from edge3d.errors import FormatError
from edge3d.eval.average_precision import scannet_average_precision
from edge3d.eval.matching import GROUP_ID_LIMIT, SceneMatches, associate_scene
from edge3d.eval.predictions import PredInstance
from edge3d.eval.result import InstanceEvalResult

SCANNET_CLASS_LABELS: tuple[str, ...] = (
    "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture",
    "counter", "desk", "curtain", "refrigerator", "shower curtain", "toilet", "sink", "bathtub",
    "otherfurniture",
)
"""The benchmark's 18 instance classes."""

SCANNET_VALID_CLASS_IDS: tuple[int, ...] = (
    3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39,
)
"""Their NYU40 label ids, in the same order."""

OVERLAPS: np.ndarray = np.append(np.arange(0.5, 0.95, 0.05), 0.25)
"""IoU thresholds: the script's exact floats (0.6000000000000001, ...), so strict ``>`` ties
resolve as there."""

MIN_REGION_SIZE = 100
"""Vertices a ground-truth instance needs to count, and a prediction needs to be kept."""

AGNOSTIC_LABEL = "object"
"""The single class of class-agnostic evaluation."""


def resolve_classes(class_labels: Sequence[str] | None,
                    valid_class_ids: Sequence[int] | None) -> tuple[tuple[str, ...], np.ndarray]:
    """Class names and ids to evaluate: ScanNet's 18 when both are None; names default to the
    ids as strings."""
    if class_labels is None and valid_class_ids is None:
        return SCANNET_CLASS_LABELS, np.array(SCANNET_VALID_CLASS_IDS, dtype=np.int64)
    if valid_class_ids is None:
        raise ValueError("class_labels needs valid_class_ids (the label id of each class); "
                         "pass both, or neither for ScanNet's 18 classes")
    ids = np.array([int(c) for c in valid_class_ids], dtype=np.int64)
    labels = tuple(str(c) for c in ids) if class_labels is None else tuple(class_labels)
    if len(labels) != len(ids):
        raise ValueError(f"{len(labels)} class labels for {len(ids)} class ids")
    if len(ids) == 0:
        raise ValueError("no classes to evaluate")
    if len(set(ids.tolist())) != len(ids) or len(set(labels)) != len(labels):
        raise ValueError("class labels and class ids must be unique")
    if 0 in ids:
        warnings.warn(
            "class id 0 is evaluated: as in the official script, ids below 1000 (class 0) are "
            "'groups', never ground truth, and id 0 (unannotated) is no longer void. Shift "
            "class ids by one (as evaluate_segmentation does) to evaluate a class 0.",
            stacklevel=3)
    return labels, ids


def evaluate_scannet(gt: Mapping[str, np.ndarray], preds: Mapping[str, Sequence[PredInstance]],
                     class_labels: Sequence[str] | None = None,
                     valid_class_ids: Sequence[int] | None = None, agnostic: bool = False,
                     min_region_size: int = MIN_REGION_SIZE,
                     progress: bool = False) -> InstanceEvalResult:
    """Evaluate instance predictions with the ScanNet benchmark's protocol.

    Args:
        gt: scene -> int [V] ground-truth id per vertex, ``class_id * 1000 + instance``
            (instance from 1; id 0 = unannotated).
        preds: scene -> predictions in file order. As in the official script, the scenes
            evaluated are the keys of ``preds`` (each must be in ``gt``); a ground-truth scene
            without an entry is not evaluated (a warning says so): give it an empty list to
            count its instances as missed.
        class_labels, valid_class_ids: the evaluated classes (ScanNet's 18 when both None).
        agnostic: evaluate one class: every ground-truth instance of an evaluated class (each
            distinct id stays its own instance) and every prediction, whatever its label.
        min_region_size: 100 in the benchmark.
        progress: show a progress bar over scenes.

    Returns:
        AP per class and IoU threshold with the benchmark's means; a class without ground
        truth is NaN, a class with ground truth and no prediction 0.
    """
    labels, ids = resolve_classes(class_labels, valid_class_ids)
    missing = [s for s in preds if s not in gt]
    if missing:
        raise FormatError(f"predictions for {len(missing)} scene(s) without ground truth, e.g. "
                          f"{missing[0]!r}")
    unevaluated = [s for s in gt if s not in preds]
    if unevaluated:
        warnings.warn(f"{len(unevaluated)} ground-truth scene(s) have no predictions and are not "
                      f"evaluated (as in the official script), e.g. {unevaluated[0]!r}",
                      stacklevel=2)
    key_index: dict[object, int] = {}
    scenes = [associate_scene(s, gt[s], preds[s], ids, agnostic, min_region_size, key_index)
              for s in tqdm(preds, desc="associating", unit="scene", disable=not progress)]
    if agnostic:
        labels, ids = (AGNOSTIC_LABEL,), np.array([-1], dtype=np.int64)
    ap = np.zeros((len(labels), len(OVERLAPS)))
    for t, threshold in enumerate(OVERLAPS):
        visited = np.zeros(len(key_index), dtype=bool)
        for c in range(len(labels)):
            ap[c, t] = _class_ap(scenes, c, threshold, visited, min_region_size)
    num_gt = tuple(sum(int(_counted(s.blocks[c], min_region_size).sum()) for s in scenes)
                   for c in range(len(labels)))
    num_pred = tuple(sum(len(s.blocks[c].pred_rows) for s in scenes) for c in range(len(labels)))
    return InstanceEvalResult(class_labels=labels, class_ids=tuple(int(i) for i in ids),
                              overlaps=OVERLAPS.copy(), ap_matrix=ap, num_gt=num_gt,
                              num_pred=num_pred, num_scenes=len(scenes))


def _counted(block, min_region_size: int) -> np.ndarray:
    return (block.gt_ids >= GROUP_ID_LIMIT) & (block.gt_counts >= min_region_size)


def _class_ap(scenes: list[SceneMatches], c: int, threshold: float, visited: np.ndarray,
              min_region_size: int) -> float:
    """AP of class ``c`` at one threshold; ``visited`` is shared by every class and scene at
    this threshold, as the script's ``pred_visited``."""
    true_scores: list[float] = []
    false_scores: list[float] = []
    hard_false_negatives = 0
    has_gt = has_pred = False
    for scene in scenes:
        block = scene.blocks[c]
        counted = _counted(block, min_region_size)
        has_gt |= bool(counted.any())
        has_pred |= len(block.pred_rows) > 0
        above = block.iou > threshold
        scores = scene.scores[block.pred_rows].tolist()
        keys = scene.keys[block.pred_rows]
        # Greedy: each counted GT in id order takes the unvisited predictions above the
        # threshold in file order; the first is its match, each later one a duplicate whose
        # lower score becomes a false positive (the duplicate stays unvisited).
        for g in np.flatnonzero(counted):
            score = None
            for p in np.flatnonzero(above[g]):
                if visited[keys[p]]:
                    continue
                conf = scores[p]
                if score is None:
                    score = conf
                    visited[keys[p]] = True
                else:
                    # Python's max/min keep the first argument unless the second beats it.
                    false_scores.append(conf if conf < score else score)
                    score = conf if conf > score else score
            if score is None:
                hard_false_negatives += 1
            else:
                true_scores.append(score)
        # A prediction above the threshold with no GT of its class (counted or not) is a false
        # positive unless too much of it lies on void, groups or small GT.
        unmatched = ~above.any(axis=0) & (scene.ignore_frac[block.pred_rows] <= threshold)
        false_scores.extend(scene.scores[block.pred_rows[unmatched]].tolist())
    if not has_gt:
        return float("nan")
    if not has_pred:
        return 0.0
    y_true = np.concatenate([np.ones(len(true_scores)), np.zeros(len(false_scores))])
    y_score = np.array(true_scores + false_scores, dtype=np.float64)
    return scannet_average_precision(y_true, y_score, hard_false_negatives)
