"""Every rule of the ScanNet instance protocol, on scenes small enough to work out by hand.

Vertex ranges are half-open. IoU = |P & G| / (|G| + |P| - |P & G|). Thresholds: 0.50, 0.55,
..., 0.90 (index 0..8) and 0.25 (index 9). The AP arithmetic of each case is spelled out in
``test_average_precision.py`` or next to the case.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from edge3d.errors import FormatError
from edge3d.eval import OVERLAPS, evaluate_scannet
from tests.eval.builders import BED, CHAIR, CLASSES, TABLE, gt_scene, pred

V = 1000
T25 = 9  # column of IoU 0.25


def evaluate(gt, preds, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate_scannet(gt, preds, **{**CLASSES, **kw})


def chair_row(result) -> np.ndarray:
    return result.ap_matrix[result.class_labels.index("chair")]


def test_thresholds_are_the_scripts_floats() -> None:
    assert len(OVERLAPS) == 10
    assert OVERLAPS[0] == 0.5 and OVERLAPS[-1] == 0.25
    assert OVERLAPS[2] == 0.6000000000000001  # arange's accumulated step, kept on purpose


def test_perfect_prediction() -> None:
    gt = {"s": gt_scene(V, {5001: (0, 200)})}
    r = evaluate(gt, {"s": [pred(V, [(0, 200)], CHAIR, 0.9)]})
    assert r.ap == r.ap50 == r.ap25 == 1.0
    assert r.per_class["chair"] == (1.0, 1.0, 1.0)
    assert math.isnan(r.per_class["bed"][0]) and math.isnan(r.per_class["table"][0])


def test_iou_must_exceed_the_threshold_strictly() -> None:
    # IoU = 100 / 200 = 0.5 exactly: no match at 0.5 (GT missed, prediction a FP), a match at
    # 0.25.
    gt = {"s": gt_scene(V, {5001: (0, 200)})}
    r = evaluate(gt, {"s": [pred(V, [(0, 100)], CHAIR, 0.9)]})
    assert (chair_row(r)[:9] == 0).all() and chair_row(r)[T25] == 1.0
    assert r.ap == 0.0 and r.ap50 == 0.0 and r.ap25 == 1.0


def test_iou_between_thresholds() -> None:
    # 100 vertices inside a 150-vertex GT: IoU 2/3 > 0.5, 0.55, 0.6.., 0.65.., not > 0.7.
    gt = {"s": gt_scene(V, {5001: (0, 150)})}
    r = evaluate(gt, {"s": [pred(V, [(0, 100)], CHAIR, 0.9)]})
    np.testing.assert_array_equal(chair_row(r), [1, 1, 1, 1, 0, 0, 0, 0, 0, 1])
    assert r.ap == pytest.approx(4 / 9, abs=1e-12)


def test_small_predictions_are_dropped() -> None:
    # 99 vertices: dropped, so chair has GT and no prediction -> 0 (not NaN).
    gt = {"s": gt_scene(V, {5001: (0, 150)})}
    r = evaluate(gt, {"s": [pred(V, [(0, 99)], CHAIR, 0.9)]})
    assert (chair_row(r) == 0).all() and r.num_pred[1] == 0


def test_small_ground_truth_is_not_counted_and_its_overlap_is_ignored() -> None:
    # GT 5001 has 99 vertices: not counted. A prediction covering it (+1 void vertex) has IoU
    # 0.99 with it, so it is no FP; a prediction half on it and half void is ignored at
    # thresholds < 1 (ignore fraction (50 void + 50 small) / 100 = 1). The counted GT 5002 is
    # found exactly: AP 1 everywhere.
    gt = {"s": gt_scene(V, {5001: (0, 99), 5002: (200, 400)})}
    preds = [pred(V, [(0, 100)], CHAIR, 0.95), pred(V, [(49, 99), (900, 950)], CHAIR, 0.97),
             pred(V, [(200, 400)], CHAIR, 0.5)]
    r = evaluate(gt, {"s": preds})
    assert (chair_row(r) == 1).all()
    assert r.num_gt[1] == 1


def test_a_small_ground_truth_alone_leaves_the_class_without_ground_truth() -> None:
    gt = {"s": gt_scene(V, {5001: (0, 99)})}
    r = evaluate(gt, {"s": [pred(V, [(0, 120)], CHAIR, 0.9)]})
    assert np.isnan(chair_row(r)).all() and math.isnan(r.ap)


def test_void_overlap_decides_false_positives_with_exact_float_thresholds() -> None:
    # FP candidate: 60 void + 40 of the GT (IoU 40/260). Ignore fraction 60/100 = 0.6: ignored
    # at 0.5 and 0.55 and 0.25 (0.6 > th), a FP from 0.6000000000000001 on (0.6 <= th). Its
    # score 0.95 is above the TP's 0.9, so where it counts AP = 0.25.
    gt = {"s": gt_scene(V, {5001: (0, 200)})}
    preds = [pred(V, [(0, 200)], CHAIR, 0.9), pred(V, [(0, 40), (500, 560)], CHAIR, 0.95)]
    r = evaluate(gt, {"s": preds})
    np.testing.assert_allclose(chair_row(r), [1, 1] + [0.25] * 7 + [1], atol=1e-12)
    assert r.ap == pytest.approx((2 + 7 * 0.25) / 9, abs=1e-12)


def test_void_includes_unannotated_and_other_classes() -> None:
    # Wall (1001), an unevaluated class (40001) and unannotated (0) are all void: a prediction
    # lying on them is ignored, not a FP.
    gt = {"s": gt_scene(V, {5001: (0, 200), 1001: (300, 400), 40001: (400, 450)})}
    preds = [pred(V, [(0, 200)], CHAIR, 0.5), pred(V, [(300, 500)], CHAIR, 0.9)]
    assert evaluate(gt, {"s": preds}).ap == 1.0


def test_duplicate_keeps_the_higher_score_and_adds_a_false_positive() -> None:
    # GT1 found by A (.9) and B (.8), GT2 by C (.7). B is the duplicate: FP with min(.9, .8).
    # Curve (sorted .7T .8F .9T): AP = (2/3 + 1/2 + 1 + 1) / 4 = 19/24 at every threshold.
    gt = {"s": gt_scene(V, {5001: (0, 200), 5002: (200, 400)})}
    preds = [pred(V, [(0, 200)], CHAIR, 0.9), pred(V, [(0, 200)], CHAIR, 0.8),
             pred(V, [(200, 400)], CHAIR, 0.7)]
    r = evaluate(gt, {"s": preds})
    np.testing.assert_allclose(chair_row(r), 19 / 24, atol=1e-12)
    # The order of A and B does not matter: the GT keeps the max, the FP gets the min.
    r2 = evaluate(gt, {"s": [preds[1], preds[0], preds[2]]})
    np.testing.assert_allclose(r2.ap_matrix, r.ap_matrix, atol=1e-12)


def test_duplicate_stays_unvisited_and_can_match_another_gt_at_025() -> None:
    # B = [100, 300) has IoU 1/3 with GT1 and GT2. At 0.25: GT1 takes A (exact, .9), B is its
    # duplicate (FP .5) but stays free and matches GT2 (TP .5): entries .9T .5F .5T ->
    # AP = 2/3 * 1/4 + 1/2 + 1/4 = 11/12. At >= 0.5 B matches nothing: FP .5, GT2 missed ->
    # AP = 1/2.
    gt = {"s": gt_scene(V, {5001: (0, 200), 5002: (200, 400)})}
    preds = [pred(V, [(0, 200)], CHAIR, 0.9), pred(V, [(100, 300)], CHAIR, 0.5)]
    r = evaluate(gt, {"s": preds})
    np.testing.assert_allclose(chair_row(r)[:9], 0.5, atol=1e-12)
    assert chair_row(r)[T25] == pytest.approx(11 / 12, abs=1e-12)


def test_greedy_follows_ground_truth_id_order() -> None:
    # P = [100, 350) overlaps the GT on [0, 200) (IoU 0.29) and the GT on [200, 400) (0.5);
    # Q = [0, 200) exactly. At 0.25 whichever GT has the lower id takes P first.
    preds = [pred(V, [(100, 350)], CHAIR, 0.5), pred(V, [(0, 200)], CHAIR, 0.3)]
    low_left = {"s": gt_scene(V, {5001: (0, 200), 5002: (200, 400)})}
    low_right = {"s": gt_scene(V, {5002: (0, 200), 5001: (200, 400)})}
    # Left first: it takes P, Q is its duplicate, the right GT is missed: .5T .3F + 1 FN.
    assert chair_row(evaluate(low_left, {"s": preds}))[T25] == pytest.approx(0.5, abs=1e-12)
    # Right first: it takes P, the left GT takes Q: two TPs.
    assert chair_row(evaluate(low_right, {"s": preds}))[T25] == pytest.approx(1.0, abs=1e-12)


def test_greedy_follows_prediction_file_order() -> None:
    # Same scene; the GT on [0, 200) has the lower id and sees P and Q in file order.
    gt = {"s": gt_scene(V, {5001: (0, 200), 5002: (200, 400)})}
    p = pred(V, [(100, 350)], CHAIR, 0.5)
    q = pred(V, [(0, 200)], CHAIR, 0.3)
    # P first: GT1 takes P, Q duplicate, GT2 missed -> 0.5.
    assert chair_row(evaluate(gt, {"s": [p, q]}))[T25] == pytest.approx(0.5, abs=1e-12)
    # Q first: GT1 takes Q, P is a duplicate left free for GT2: .5T .3F .5T -> 1.
    assert chair_row(evaluate(gt, {"s": [q, p]}))[T25] == pytest.approx(1.0, abs=1e-12)


def test_classes_without_ground_truth_are_nan_and_left_out_of_the_means() -> None:
    # chair: AP 1. table: predictions but no GT -> NaN. bed: GT but no predictions -> 0.
    gt = {"s": gt_scene(V, {5001: (0, 200), 4001: (500, 700)})}
    preds = [pred(V, [(0, 200)], CHAIR, 0.9), pred(V, [(800, 1000)], TABLE, 0.9)]
    r = evaluate(gt, {"s": preds})
    assert r.per_class["chair"] == (1.0, 1.0, 1.0)
    assert r.per_class["bed"] == (0.0, 0.0, 0.0)
    assert all(math.isnan(v) for v in r.per_class["table"])
    assert r.ap == r.ap50 == r.ap25 == 0.5


def test_no_ground_truth_at_all_is_nan() -> None:
    r = evaluate({"s": gt_scene(V, {})}, {"s": [pred(V, [(0, 200)], CHAIR, 0.9)]})
    assert math.isnan(r.ap) and math.isnan(r.ap50) and math.isnan(r.ap25)
    assert r.to_dict()["ap"] is None


def test_all_predictions_ignored_and_gt_missed_is_zero_where_the_script_crashes() -> None:
    # The only chair prediction lies on void (ignored at every threshold), the GT is missed:
    # no entries at all. The official script raises IndexError here; the AP is 0.
    gt = {"s": gt_scene(V, {5001: (0, 200)})}
    r = evaluate(gt, {"s": [pred(V, [(500, 700)], CHAIR, 0.9)]})
    assert (chair_row(r) == 0).all() and r.ap == 0.0


def test_predictions_of_other_labels_are_dropped() -> None:
    # Label 1 (wall) is not evaluated: the chair GT is missed, nothing else happens.
    gt = {"s": gt_scene(V, {5001: (0, 200)})}
    r = evaluate(gt, {"s": [pred(V, [(0, 200)], 1, 0.9)]})
    assert r.per_class["chair"] == (0.0, 0.0, 0.0) and r.num_pred == (0, 0, 0)


def test_wrong_label_counts_for_neither_class() -> None:
    gt = {"s": gt_scene(V, {5001: (0, 200)})}
    r = evaluate(gt, {"s": [pred(V, [(0, 200)], TABLE, 0.9)]})
    assert r.per_class["chair"] == (0.0, 0.0, 0.0)
    assert math.isnan(r.per_class["table"][0])


def test_visited_flags_span_scenes_for_shared_keys() -> None:
    # The script keys "visited" by mask file path: one file named by two scenes' lines is one
    # prediction. With a shared key the second scene's GT is missed (the prediction is above
    # the threshold there, so no FP either): AP 1/2. Without keys: two TPs.
    gt = {"a": gt_scene(V, {5001: (0, 200)}), "b": gt_scene(V, {5001: (0, 200)})}
    shared = {s: [pred(V, [(0, 200)], CHAIR, 0.9, key="/p/pred_mask/m.txt")] for s in gt}
    assert evaluate(gt, shared).ap == pytest.approx(0.5, abs=1e-12)
    own = {s: [pred(V, [(0, 200)], CHAIR, 0.9)] for s in gt}
    assert evaluate(gt, own).ap == 1.0


def test_scenes_are_pooled_before_the_curve() -> None:
    # Scene a: TP .9. Scene b: a chair prediction on a table (not void): FP .95.
    # Pooled: .9T .95F -> 0.25.
    gt = {"a": gt_scene(V, {5001: (0, 200)}), "b": gt_scene(V, {7001: (0, 200)})}
    preds = {"a": [pred(V, [(0, 200)], CHAIR, 0.9)], "b": [pred(V, [(0, 200)], CHAIR, 0.95)]}
    assert evaluate(gt, preds).per_class["chair"][0] == pytest.approx(0.25, abs=1e-12)


def test_ground_truth_scene_without_predictions_is_not_evaluated() -> None:
    gt = {"a": gt_scene(V, {5001: (0, 200)}), "b": gt_scene(V, {5001: (0, 200)})}
    preds = {"a": [pred(V, [(0, 200)], CHAIR, 0.9)]}
    with pytest.warns(UserWarning, match="not evaluated"):
        r = evaluate_scannet(gt, preds, **CLASSES)
    assert r.ap == 1.0 and r.num_scenes == 1
    # An empty list evaluates the scene: its GT is missed.
    r = evaluate(gt, {**preds, "b": []})
    assert r.ap == pytest.approx(0.5, abs=1e-12)


def test_class_agnostic_merges_classes_and_labels() -> None:
    # A chair-labelled mask on the table and a wall-labelled mask on the chair: per class
    # nothing is right, class-agnostic both are found.
    gt = {"s": gt_scene(V, {5001: (0, 200), 7001: (300, 500), 1001: (600, 700)})}
    preds = [pred(V, [(300, 500)], CHAIR, 0.9), pred(V, [(0, 200)], 1, 0.8)]
    assert evaluate(gt, {"s": preds}).ap == 0.0
    r = evaluate(gt, {"s": preds}, agnostic=True)
    assert r.class_labels == ("object",) and r.ap == 1.0 and r.num_gt == (2,)
    # Wall (not an evaluated class) stays void: a prediction on it is ignored, not a FP.
    r = evaluate(gt, {"s": [*preds, pred(V, [(600, 700)], CHAIR, 0.95)]}, agnostic=True)
    assert r.ap == 1.0


def test_class_agnostic_keeps_equal_instance_numbers_apart() -> None:
    # chair 5001 and table 7001 share instance number 1 but are two objects.
    gt = {"s": gt_scene(V, {5001: (0, 200), 7001: (300, 500)})}
    r = evaluate(gt, {"s": [pred(V, [(0, 200)], CHAIR, 0.9)]}, agnostic=True)
    assert r.num_gt == (2,) and r.ap == pytest.approx(0.5, abs=1e-12)


def test_class_zero_follows_the_official_group_rules_with_a_warning() -> None:
    # Evaluating class 0 makes id 0 (unannotated) non-void: the prediction on unannotated
    # vertices becomes a FP above the TP (AP 0.25); ids < 1000 are groups, never GT.
    gt = {"s": gt_scene(V, {5001: (0, 200), 7: (200, 300)})}
    preds = [pred(V, [(0, 200)], CHAIR, 0.9), pred(V, [(500, 600)], CHAIR, 0.95)]
    r = evaluate(gt, {"s": preds})
    assert r.ap == 1.0
    with pytest.warns(UserWarning, match="class id 0"):
        r0 = evaluate_scannet(gt, {"s": preds}, ["thing0", "chair"], [0, CHAIR])
    assert r0.per_class["chair"][0] == pytest.approx(0.25, abs=1e-12)
    assert math.isnan(r0.per_class["thing0"][0])


def test_prediction_over_a_group_is_ignored() -> None:
    # With class 0 evaluated, a class-0 prediction lying on the group id 7 is ignored (group
    # intersection counts as ignored), not a FP; class 0 itself has no GT -> NaN.
    gt = {"s": gt_scene(V, {5001: (0, 200), 7: (200, 300)}, fill=40001)}
    preds = [pred(V, [(0, 200)], CHAIR, 0.9), pred(V, [(200, 300)], 0, 0.95)]
    with pytest.warns(UserWarning):
        r = evaluate_scannet(gt, {"s": preds}, ["thing0", "chair"], [0, CHAIR])
    assert r.per_class["chair"][0] == 1.0 and math.isnan(r.per_class["thing0"][0])


def test_scannet_classes_by_default() -> None:
    gt = {"s": gt_scene(V, {5001: (0, 200), 39001: (300, 500)})}
    preds = [pred(V, [(0, 200)], CHAIR, 0.9), pred(V, [(300, 500)], 39, 0.9)]
    r = evaluate_scannet(gt, {"s": preds})
    assert len(r.class_labels) == 18 and r.ap == 1.0
    assert r.class_ids[r.class_labels.index("otherfurniture")] == 39
    assert r.per_class["otherfurniture"] == (1.0, 1.0, 1.0)


def test_non_zero_mask_values_are_members() -> None:
    gt = {"s": gt_scene(V, {5001: (0, 200)})}
    mask = np.zeros(V, dtype=np.int64)
    mask[:100], mask[100:200] = 2, -1
    from edge3d.eval import PredInstance

    r = evaluate(gt, {"s": [PredInstance(mask=mask, label_id=CHAIR, score=0.9)]})
    assert r.ap == 1.0


def test_mask_of_the_wrong_length_is_rejected() -> None:
    gt = {"s": gt_scene(V, {5001: (0, 200)})}
    with pytest.raises(FormatError, match="vertices"):
        evaluate(gt, {"s": [pred(V - 1, [(0, 200)], CHAIR, 0.9)]})


def test_predictions_for_an_unknown_scene_are_rejected() -> None:
    with pytest.raises(FormatError, match="without ground truth"):
        evaluate({}, {"x": []})


def test_bad_class_lists_are_rejected() -> None:
    gt = {"s": gt_scene(V, {})}
    with pytest.raises(ValueError, match="unique"):
        evaluate_scannet(gt, {"s": []}, ["a", "a"], [1, 2])
    with pytest.raises(ValueError, match="valid_class_ids"):
        evaluate_scannet(gt, {"s": []}, ["a"])
    with pytest.raises(ValueError, match="labels for"):
        evaluate_scannet(gt, {"s": []}, ["a"], [1, 2])


def test_result_dict_and_table() -> None:
    gt = {"s": gt_scene(V, {5001: (0, 200), 4001: (500, 700)})}
    r = evaluate(gt, {"s": [pred(V, [(0, 200)], CHAIR, 0.9)]})
    d = r.to_dict()
    assert d["ap"] == 0.5 and d["ap50"] == 0.5 and d["ap25"] == 0.5
    assert d["classes"]["chair"] == {"class_id": CHAIR, "ap": 1.0, "ap50": 1.0, "ap25": 1.0,
                                     "num_gt": 1, "num_pred": 1}
    assert d["classes"]["table"]["ap"] is None
    table = r.table()
    assert "chair" in table and "average" in table and "1.000" in table and "0.500" in table
    assert r.class_ids == (BED, CHAIR, TABLE)


def test_class_agnostic_greedy_order_is_class_list_order_then_id() -> None:
    # As ScanNetEval's class-agnostic mode (ISBNet, Open3DIS): GT of the first listed class
    # first. P overlaps the chair (IoU 0.29) and the table (0.5); Q is the chair exactly.
    gt = {"s": gt_scene(V, {5001: (0, 200), 7001: (200, 400)})}
    preds = {"s": [pred(V, [(100, 350)], CHAIR, 0.5), pred(V, [(0, 200)], CHAIR, 0.3)]}
    chair_first = evaluate_scannet(gt, preds, ["chair", "table"], [CHAIR, TABLE], agnostic=True)
    table_first = evaluate_scannet(gt, preds, ["table", "chair"], [TABLE, CHAIR], agnostic=True)
    # Chair first: it takes P, Q is its duplicate, the table is missed -> 0.5.
    assert chair_first.ap25 == pytest.approx(0.5, abs=1e-12)
    # Table first: it takes P, the chair takes Q -> 1.
    assert table_first.ap25 == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("score", [float("nan"), float("-inf"), float("inf")])
def test_non_finite_confidences_are_refused(score):
    from edge3d.eval import PredInstance

    gt = np.full(200, 5001)  # one chair of 200 vertices
    preds = [PredInstance(mask=np.ones(200, bool), label_id=5, score=score)]
    with pytest.raises(FormatError, match="confidences must be finite"):
        evaluate_scannet({"s": gt}, {"s": preds})
