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
from edge3d.eval.matching import ClassBlock, associate_scene
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
            distinct id stays its own instance; greedy order: class-list order, then id) and
            every prediction, whatever its label.
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
        visited = [False] * len(key_index)
        for c in range(len(labels)):
            ap[c, t] = _class_ap([blocks[c] for blocks in scenes], threshold, visited)
    num_gt = tuple(sum(blocks[c].num_counted for blocks in scenes) for c in range(len(labels)))
    num_pred = tuple(sum(len(blocks[c].scores) for blocks in scenes)
                     for c in range(len(labels)))
    return InstanceEvalResult(class_labels=labels, class_ids=tuple(int(i) for i in ids),
                              overlaps=OVERLAPS.copy(), ap_matrix=ap, num_gt=num_gt,
                              num_pred=num_pred, num_scenes=len(scenes))


def _class_ap(blocks: list[ClassBlock], threshold: float, visited: list[bool]) -> float:
    """AP of one class at one threshold over its per-scene blocks; ``visited`` is shared by
    every class and scene at this threshold, as the script's ``pred_visited``."""
    true_scores: list[float] = []
    false_scores: list[float] = []
    hard_false_negatives = 0
    has_gt = has_pred = False
    for block in blocks:
        has_gt |= block.num_counted > 0
        has_pred |= len(block.scores) > 0
        # Greedy: each counted GT in id order takes the unvisited predictions above the
        # threshold in file order; the first is its match, each later one a duplicate whose
        # lower score becomes a false positive (the duplicate stays unvisited).
        for candidates in block.candidates:
            score = None
            for p, iou in candidates:
                if iou <= threshold or visited[block.keys[p]]:
                    continue
                conf = block.scores[p]
                if score is None:
                    score = conf
                    visited[block.keys[p]] = True
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
        if block.scores:
            unmatched = (block.best_iou <= threshold) & (block.ignore_frac <= threshold)
            false_scores.extend(s for s, u in zip(block.scores, unmatched, strict=True) if u)
    if not has_gt:
        return float("nan")
    if not has_pred:
        return 0.0
    y_true = np.concatenate([np.ones(len(true_scores)), np.zeros(len(false_scores))])
    y_score = np.array(true_scores + false_scores, dtype=np.float64)
    return scannet_average_precision(y_true, y_score, hard_false_negatives)
