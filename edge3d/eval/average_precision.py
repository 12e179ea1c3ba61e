"""Average precision as the ScanNet benchmark integrates it (no precision interpolation)."""

from __future__ import annotations

import numpy as np


def scannet_average_precision(y_true: np.ndarray, y_score: np.ndarray,
                              hard_false_negatives: int) -> float:
    """AP of one class at one IoU threshold, exactly as ``evaluate_semantic_instance.py``.

    Args:
        y_true: float64 [N], 1 for a true positive, 0 for a false positive.
        y_score: float64 [N], the confidence of each entry.
        hard_false_negatives: ground-truth instances no prediction matched.

    The curve has one point per unique score ``s`` (precision and recall of the entries with
    score >= s, so tied scores enter together), plus the artificial point (recall 0,
    precision 1). Each point's precision is weighted by half the recall difference of its
    neighbours, ``w_i = (r_{i-1} - r_{i+1}) / 2`` with ``r_{-1} = r_0`` and ``r_{n+1} = 0``;
    there is no monotone precision envelope. With no entries at all (every prediction of the
    class was ignored and no ground truth matched) the official script crashes; here the AP
    is 0.
    """
    if len(y_score) == 0:
        return 0.0
    order = np.argsort(y_score)
    sorted_scores = y_score[order]
    cumsum = np.cumsum(y_true[order])
    _, first = np.unique(sorted_scores, return_index=True)
    num_examples = len(sorted_scores)
    num_true = cumsum[-1]
    # Index -1 must read 0: the entries below the lowest threshold.
    below = np.append(cumsum, 0.0)[first - 1]
    tp = num_true - below
    fp = num_examples - first - tp
    fn = below + hard_false_negatives
    precision = np.append(tp / (tp + fp), 1.0)
    recall = np.append(tp / (tp + fn), 0.0)
    padded = np.concatenate([recall[:1], recall, [0.0]])
    widths = np.convolve(padded, [-0.5, 0, 0.5], "valid")
    return float(np.dot(precision, widths))
