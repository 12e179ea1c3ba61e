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

# ids below this are "groups" in the official script: never ground truth, but ignored for FPs.
GROUP_ID_LIMIT = 1000


@dataclass
class ClassBlock:
    """One class of one scene: its ground-truth instances and predictions.

    ``gt_ids`` / ``gt_counts`` int64 [G] (every instance of the class, small ones and groups
    included, ascending id); ``pred_rows`` int64 [P] indices into the scene's kept predictions,
    in file order; ``inter`` int64 [G, P] intersection counts; ``iou`` float64 [G, P].
    """

    gt_ids: np.ndarray
    gt_counts: np.ndarray
    pred_rows: np.ndarray
    inter: np.ndarray
    iou: np.ndarray


@dataclass
class SceneMatches:
    """Everything the threshold loop needs from one scene.

    Per kept prediction (file order): ``scores`` float64, ``counts`` int64 vertex counts,
    ``keys`` int64 visited-flag identities, ``ignore_frac`` float64 (void + group + small-GT
    intersection over the prediction's vertex count). ``blocks[c]`` is class ``c``'s block.
    """

    scores: np.ndarray
    counts: np.ndarray
    keys: np.ndarray
    ignore_frac: np.ndarray
    blocks: list[ClassBlock]


def associate_scene(scene: str, gt_ids: np.ndarray, preds: Sequence[PredInstance],
                    valid_class_ids: np.ndarray, agnostic: bool, min_region_size: int,
                    key_index: dict[object, int]) -> SceneMatches:
    """Associate one scene's predictions with its ground truth.

    Args:
        scene: name used in error messages.
        gt_ids: int [V] ``class * 1000 + instance`` per vertex.
        preds: the scene's predictions in file order.
        valid_class_ids: int64 [C] evaluated class ids; class ``c`` is index ``c`` here.
        agnostic: one class: every evaluated ground-truth instance and every prediction
            (whatever its label) belong to class index 0.
        min_region_size: predictions with fewer vertices are dropped (100 in the benchmark).
        key_index: maps prediction keys to visited-flag indices across all scenes (updated).
    """
    gt = np.asarray(gt_ids)
    if gt.ndim != 1 or not np.issubdtype(gt.dtype, np.integer):
        raise FormatError(f"scene {scene!r}: ground truth must be a 1-D integer array of "
                          f"class*1000+instance ids, got {gt.dtype} {gt.shape}")
    gt = gt.astype(np.int64, copy=False)
    num_vertices = len(gt)
    uniq, inv, gt_counts = np.unique(gt, return_inverse=True, return_counts=True)
    sem = uniq // 1000
    valid = np.isin(sem, valid_class_ids)
    is_instance = valid & (uniq != 0)
    num_classes = 1 if agnostic else len(valid_class_ids)
    if agnostic:
        class_of_uniq = np.where(is_instance, 0, -1)
    else:
        order = np.argsort(valid_class_ids)
        pos = np.searchsorted(valid_class_ids[order], sem).clip(0, len(order) - 1)
        class_of_uniq = np.where(is_instance, order[pos], -1)

    vertices, labels, scores, keys = [], [], [], []
    class_lookup = {int(c): i for i, c in enumerate(valid_class_ids)}
    for k, pred in enumerate(preds):
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

    num_preds = len(vertices)
    counts = np.array([len(v) for v in vertices], dtype=np.int64)
    num_uniq = len(uniq)
    if num_preds:
        rows = np.repeat(np.arange(num_preds, dtype=np.int64), counts)
        cols = inv.ravel()[np.concatenate(vertices)]
        inter_all = np.bincount(rows * num_uniq + cols,
                                minlength=num_preds * num_uniq).reshape(num_preds, num_uniq)
    else:
        inter_all = np.zeros((0, num_uniq), dtype=np.int64)
    ignored = inter_all[:, ~valid].sum(axis=1)

    labels_arr = np.array(labels, dtype=np.int64)
    blocks = []
    for c in range(num_classes):
        gt_cols = np.flatnonzero(class_of_uniq == c)
        pred_rows = np.flatnonzero(labels_arr == c)
        inter = inter_all[np.ix_(pred_rows, gt_cols)].T
        b_counts = gt_counts[gt_cols].astype(np.int64)
        b_ids = uniq[gt_cols]
        # The script adds a group's or a small instance's intersection once per reason.
        reasons = (b_ids < GROUP_ID_LIMIT).astype(np.int64) + (b_counts < min_region_size)
        ignored[pred_rows] += (inter * reasons[:, None]).sum(axis=0)
        union = b_counts[:, None] + counts[pred_rows][None, :] - inter
        iou = np.divide(inter, union, out=np.zeros(inter.shape), where=inter > 0)
        blocks.append(ClassBlock(b_ids, b_counts, pred_rows, inter, iou))

    ignore_frac = ignored / counts if num_preds else np.zeros(0)
    return SceneMatches(scores=np.array(scores, dtype=np.float64), counts=counts,
                        keys=np.array(keys, dtype=np.int64), ignore_frac=ignore_frac,
                        blocks=blocks)
