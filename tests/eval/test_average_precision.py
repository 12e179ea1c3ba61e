"""The benchmark's PR-curve integration, checked against answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.eval.average_precision import scannet_average_precision


def ap(trues: list[int], scores: list[float], hard_fn: int = 0) -> float:
    return scannet_average_precision(np.array(trues, float), np.array(scores, float), hard_fn)


def test_single_true_positive_is_one() -> None:
    # curve: (p=1, r=1), artificial (p=1, r=0); widths 0.5 and 0.5.
    assert ap([1], [0.9]) == pytest.approx(1.0, abs=1e-12)


def test_false_positive_below_the_true_positive_costs_nothing() -> None:
    assert ap([1, 0], [0.9, 0.5]) == pytest.approx(1.0, abs=1e-12)


def test_no_interpolation_false_positive_above() -> None:
    # points (0.5, 1), (0, 0), (1, 0): widths 0.5, 0.5, 0 -> 0.25 (an interpolated
    # envelope would give 0.5).
    assert ap([1, 0], [0.5, 0.9]) == pytest.approx(0.25, abs=1e-12)


def test_tied_scores_enter_the_curve_together() -> None:
    # one threshold: (p=0.5, r=1), then the artificial (1, 0): 0.5*0.5 + 1*0.5.
    assert ap([1, 0], [0.5, 0.5]) == pytest.approx(0.75, abs=1e-12)
    assert ap([0, 1], [0.5, 0.5]) == pytest.approx(0.75, abs=1e-12)


def test_hard_false_negatives_lower_recall() -> None:
    # (p=1, r=0.5), (1, 0): widths 0.25, 0.25.
    assert ap([1], [0.9], hard_fn=1) == pytest.approx(0.5, abs=1e-12)


def test_three_entries_worked_example() -> None:
    # sorted .7T .8F .9T: (2/3, 1), (1/2, 1/2), (1, 1/2), (1, 0); widths all 1/4.
    assert ap([1, 0, 1], [0.7, 0.8, 0.9]) == pytest.approx((2 / 3 + 0.5 + 1 + 1) / 4, abs=1e-12)


def test_only_false_positives_is_zero() -> None:
    assert ap([0, 0], [0.3, 0.6], hard_fn=2) == 0.0


def test_no_entries_is_zero_where_the_script_crashes() -> None:
    assert ap([], [], hard_fn=3) == 0.0
