"""Per-scene association of predictions with ground-truth instances (ScanNet protocol).

This is the part of the official ``evaluate_semantic_instance.py`` that runs once per scene
(``assign_instances_for_scan``), vectorised: one ``np.bincount`` over (prediction, ground-truth
id) pairs gives every intersection count at once, where the script compares masks pair by pair.
The rules it reproduces (see ``docs/evaluation.md``):

- a ground-truth instance is every non-zero id whose class ``id // 1000`` is evaluated, in
  ascending id order, with its vertex count;
- a vertex is *void* when its class ``id // 1000`` is not evaluated (this includes id 0,
  unannotated, unless class 0 is evaluated);
- a prediction is dropped when its label is not evaluated (its mask is then never looked at) or
  when its mask has fewer than ``min_region_size`` vertices; the rest keep their order;
- per prediction: its vertex count, its void intersection, and its intersection with every
  ground-truth instance of its own class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge3d.errors import FormatError
from edge3d.eval.predictions import PredInstance

GROUP_ID_LIMIT = 1000
"""Ids below this are "groups" in the official script: never ground truth, ignored for FPs."""


@dataclass
class ClassBlock:
    """One class of one scene, reduced to what the per-threshold loop needs.

    Ground truth: ``num_counted`` instances count (id >= 1000 and >= ``min_region_size``
    vertices); ``candidates[g]`` lists, for the g-th counted instance in ascending id order,
    ``(prediction, IoU)`` for every prediction of the class that intersects it, in file order
    (prediction = index into this block). Predictions (file order): ``scores`` float64 [P],
    ``keys`` int64 [P] visited-flag identities, ``best_iou`` float64 [P] (highest IoU with any
    ground-truth instance of the class, counted or not; 0 if none), ``ignore_frac`` float64 [P]
    ((void + group + small-instance intersection) / vertex count).
    """

    num_counted: int
    candidates: list[list[tuple[int, float]]]
    scores: list[float]
    keys: list[int]
    best_iou: np.ndarray
    ignore_frac: np.ndarray


def associate_scene(scene: str, gt_ids: np.ndarray, preds: Sequence[PredInstance],
                    valid_class_ids: np.ndarray, agnostic: bool, min_region_size: int,
                    key_index: dict[object, int]) -> list[ClassBlock]:
    """Associate one scene's predictions with its ground truth; one block per class.

    Args:
        scene: name used in error messages.
        gt_ids: int [V] ``class * 1000 + instance`` per vertex.
        preds: the scene's predictions in file order.
        valid_class_ids: int64 [C] evaluated class ids (unique); class ``c`` is index ``c``.
        agnostic: one class: every evaluated ground-truth instance (in class-list order, then
            by id) and every prediction (whatever its label) belong to class index 0.
        min_region_size: predictions with fewer vertices are dropped (100 in the benchmark).
        key_index: maps prediction keys to visited-flag indices across all scenes (updated).
    """
    gt = np.asarray(gt_ids)
    if gt.ndim != 1 or not np.issubdtype(gt.dtype, np.integer):
        raise FormatError(f"scene {scene!r}: ground truth must be a 1-D integer array of "
                          f"class*1000+instance ids, got {gt.dtype} {gt.shape}")
    gt = gt.astype(np.int64, copy=False)
    num_vertices = len(gt)
    uniq, inv, gt_counts = _unique_inverse_counts(gt)
    sem = uniq // 1000
    valid = np.isin(sem, valid_class_ids)
    is_instance = valid & (uniq != 0)
    order = np.argsort(valid_class_ids)
    pos = np.searchsorted(valid_class_ids[order], sem).clip(0, len(order) - 1)
    class_of_uniq = np.where(is_instance, order[pos], -1)

    class_lookup = {int(c): i for i, c in enumerate(valid_class_ids)}
    vertices, labels, scores, keys = [], [], [], []
    for k, pred in enumerate(preds):
        if not np.isfinite(float(pred.score)):
            # The script would sort a NaN anywhere and rank -inf last but still count it: the
            # AP it reports then means nothing.
            raise FormatError(f"scene {scene!r}: prediction {k} (label {pred.label_id}) has "
                              f"confidence {pred.score!r}; confidences must be finite numbers")
        cls = 0 if agnostic else class_lookup.get(int(pred.label_id), -1)
        if cls < 0:
            continue
        mask = np.asarray(pred.mask)
        if mask.shape != (num_vertices,):
            raise FormatError(
                f"scene {scene!r}: prediction {k} (label {pred.label_id}) has a mask of shape "
                f"{mask.shape} but the scene has {num_vertices} vertices; masks must cover "
                "exactly the ground truth's vertices, in order"
            )
        idx = np.flatnonzero(mask)
        if len(idx) < min_region_size:
            continue
        key = ("anonymous", len(key_index)) if pred.key is None else ("key", pred.key)
        vertices.append(idx)
        labels.append(cls)
        scores.append(float(pred.score))
        keys.append(key_index.setdefault(key, len(key_index)))

    num_preds, num_uniq = len(vertices), len(uniq)
    counts = np.array([len(v) for v in vertices], dtype=np.int64)
    if num_preds:
        rows = np.repeat(np.arange(num_preds, dtype=np.int64), counts)
        cols = inv[np.concatenate(vertices)]
        inter_all = np.bincount(rows * num_uniq + cols,
                                minlength=num_preds * num_uniq).reshape(num_preds, num_uniq)
    else:
        inter_all = np.zeros((0, num_uniq), dtype=np.int64)
    void_inter = inter_all[:, ~valid].sum(axis=1)

    labels_arr = np.array(labels, dtype=np.int64)
    num_classes = 1 if agnostic else len(valid_class_ids)
    blocks = []
    for c in range(num_classes):
        if agnostic:
            # Ground truth in class-list order, then by id: the order of ScanNetEval's
            # class-agnostic mode in ISBNet / Open3DIS (for ScanNet's ascending ids, id order).
            gt_cols = np.flatnonzero(class_of_uniq >= 0)
            gt_cols = gt_cols[np.argsort(class_of_uniq[gt_cols], kind="stable")]
        else:
            gt_cols = np.flatnonzero(class_of_uniq == c)
        pred_rows = np.flatnonzero(labels_arr == c)
        inter = inter_all[np.ix_(pred_rows, gt_cols)].T  # [G, P]
        b_counts = gt_counts[gt_cols]
        b_ids = uniq[gt_cols]
        p_counts = counts[pred_rows]
        # The script adds a group's or a small instance's intersection once per reason.
        reasons = (b_ids < GROUP_ID_LIMIT).astype(np.int64) + (b_counts < min_region_size)
        ignored = void_inter[pred_rows] + (inter * reasons[:, None]).sum(axis=0)
        union = b_counts[:, None] + p_counts[None, :] - inter
        iou = np.divide(inter, union, out=np.zeros(inter.shape), where=inter > 0)
        counted = np.flatnonzero((b_ids >= GROUP_ID_LIMIT) & (b_counts >= min_region_size))
        candidates = []
        for g in counted:
            hits = np.flatnonzero(inter[g])
            candidates.append(list(zip(hits.tolist(), iou[g, hits].tolist(), strict=True)))
        blocks.append(ClassBlock(
            num_counted=len(counted), candidates=candidates,
            scores=[scores[r] for r in pred_rows], keys=[keys[r] for r in pred_rows],
            best_iou=iou.max(axis=0, initial=0.0),
            ignore_frac=ignored / p_counts if len(pred_rows) else np.zeros(0)))
    return blocks



def _unique_inverse_counts(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(ids, return_inverse=True, return_counts=True)``, through a lookup table when
    the id range is small (ScanNet ids stay below ~41000): O(V) instead of a sort."""
    if len(ids) == 0:
        return ids, ids.copy(), ids.copy()
    lo, hi = int(ids.min()), int(ids.max())
    if hi - lo >= max(4 * len(ids), 1 << 16):
        uniq, inv, counts = np.unique(ids, return_inverse=True, return_counts=True)
        return uniq, inv.ravel(), counts
    offset = ids - lo
    counts_all = np.bincount(offset, minlength=hi - lo + 1)
    present = np.flatnonzero(counts_all)
    lut = np.zeros(hi - lo + 1, dtype=np.int64)
    lut[present] = np.arange(len(present))
    return present + lo, lut[offset], counts_all[present]
