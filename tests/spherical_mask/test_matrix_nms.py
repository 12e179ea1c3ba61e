"""Native matrix NMS vs a NumPy transcription of the reference's matrix form (research 5.8)."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d import native


def reference_matrix_nms(masks: np.ndarray, labels: np.ndarray, scores: np.ndarray,
                         sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The reference's dense form: sort, IoU matrix, upper triangle, same-class mask,
    compensate = column max, decay = min over rows of exp(-s iou^2) / exp(-s comp^2)."""
    order = np.argsort(-scores, kind="stable")
    m = masks[order].astype(np.float64)
    lab = labels[order]
    n = len(order)
    if n == 0:
        return order.astype(np.int32), np.zeros(0, np.float32)
    inter = m @ m.T
    area = m.sum(1)
    union = area[None, :] + area[:, None] - inter
    iou = np.triu(np.divide(inter, union, out=np.zeros_like(inter), where=union > 0), k=1)
    same = np.triu((lab[None, :] == lab[:, None]).astype(np.float64), k=1)
    decay_iou = iou * same
    comp = decay_iou.max(0)
    comp_matrix = np.repeat(comp[:, None], n, axis=1)       # row i: compensation of i
    coef = (np.exp(-sigma * decay_iou ** 2) / np.exp(-sigma * comp_matrix ** 2)).min(0)
    out = np.zeros(n, np.float64)
    out[order] = scores[order] * coef
    return order.astype(np.int32), out.astype(np.float32)


@pytest.mark.parametrize("seed", range(12))
def test_native_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, n = int(rng.integers(1, 40)), int(rng.integers(1, 300))
    base = rng.random((4, n)) < 0.3
    # Overlapping masks: noisy copies of a few bases, so IoUs span (0, 1).
    masks = base[rng.integers(0, 4, k)] ^ (rng.random((k, n)) < rng.random((k, 1)) * 0.3)
    labels = rng.integers(0, 3, k).astype(np.int32)
    scores = rng.random(k).astype(np.float32)
    order, decayed = native.matrix_nms(masks, labels, scores, 2.0)
    ref_order, ref = reference_matrix_nms(masks, labels, scores, 2.0)
    np.testing.assert_array_equal(order, ref_order)
    np.testing.assert_allclose(decayed, ref, rtol=1e-6, atol=1e-7)
    assert np.all(decayed <= scores + 1e-7)


def test_identical_masks_decay_and_classes_separate() -> None:
    m = np.ones((3, 10), bool)
    order, decayed = native.matrix_nms(m, np.array([0, 0, 1]), np.array([0.9, 0.8, 0.7]), 2.0)
    np.testing.assert_array_equal(order, [0, 1, 2])
    # Same class, IoU 1: exp(-2) decay; the other class is untouched.
    np.testing.assert_allclose(decayed, [0.9, 0.8 * np.exp(-2.0), 0.7], rtol=1e-6)


def test_empty_and_errors() -> None:
    order, decayed = native.matrix_nms(np.zeros((0, 5), bool), np.zeros(0), np.zeros(0))
    assert order.shape == (0,) and decayed.shape == (0,)
    with pytest.raises(ValueError, match="labels"):
        native.matrix_nms(np.ones((2, 3), bool), np.zeros(1), np.zeros(2))
    with pytest.raises(ValueError, match="finite"):
        native.matrix_nms(np.ones((1, 3), bool), np.zeros(1), np.array([np.nan]))
