"""Native matrix NMS for mask proposals (Spherical Mask's inference, ``research/methods.md`` 5.8).

Matrix NMS (SOLOv2, Wang et al., NeurIPS 2020) as ISBNet and Spherical Mask call it: the
candidates are sorted by descending score; for candidate j every higher-scored candidate i of
the same class decays it by ``exp(-sigma * iou_ij^2) / exp(-sigma * comp_i^2)``, where
``comp_i`` is the largest IoU of i with a candidate of its class scored above it; the smallest
factor wins (the Gaussian kernel with compensation). Nothing is removed here: Spherical Mask's
``topk = 200`` exceeds its 90 candidates, so the reference only decays scores.
"""

from __future__ import annotations

import numpy as np

from edge3d.native._loader import load_extension

__all__ = ["matrix_nms"]


def matrix_nms(masks: np.ndarray, labels: np.ndarray, scores: np.ndarray,
               sigma: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Decay the scores of overlapping same-class masks (module docstring).

    Args:
        masks: bool or uint8 [K, N], candidate k covers element n when non-zero.
        labels: int [K] class of each candidate (only equal classes suppress each other).
        scores: float [K] scores, finite.
        sigma: Gaussian kernel width (2.0 in Spherical Mask and ISBNet), >= 0.

    Returns:
        ``(order, decayed)``: int32 [K] candidate indices by descending input score (ties keep
        the lower index first), and float32 [K] decayed scores in input order (each
        ``<= score`` for non-negative scores). IoU is over the N elements; two empty masks have
        IoU 0.
    """
    m = np.asarray(masks)
    if m.ndim != 2:
        raise ValueError(f"matrix_nms: masks must be [K, N], got shape {m.shape}")
    m = np.ascontiguousarray(m.astype(np.uint8, copy=False) != 0, dtype=np.uint8)
    k = m.shape[0]
    lab = np.ascontiguousarray(labels, dtype=np.int32).reshape(-1)
    sc = np.ascontiguousarray(scores, dtype=np.float32).reshape(-1)
    if len(lab) != k or len(sc) != k:
        raise ValueError(f"matrix_nms: {k} masks but {len(lab)} labels and {len(sc)} scores")
    if not np.all(np.isfinite(sc)):
        raise ValueError("matrix_nms: scores must be finite")
    if not (sigma >= 0 and np.isfinite(sigma)):
        raise ValueError(f"matrix_nms: sigma must be finite and >= 0, got {sigma}")
    order, decayed = load_extension("nms").matrix_nms(m, lab, sc, float(sigma))
    return order, decayed
