"""3D-BoNet's S3DIS mPrec / mRec, hand-computed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge3d import Instance, SegmentationResult
from edge3d.eval import S3DIS_CLASS_NAMES, s3dis_mprec_mrec
from tests.eval.builders import gt_scene, pred

N = 400
NAMES = ("ceiling", "chair", "table")


def test_worked_example() -> None:
    # chair (1): GT 1001 [0,100), 1002 [100,200). table (2): GT 2001 [200,300).
    gt = gt_scene(N, {1001: (0, 100), 1002: (100, 200), 2001: (200, 300)})
    preds = [
        pred(N, [(0, 100)], 1, 0.9),     # chair TP (IoU 1)
        pred(N, [(0, 60)], 1, 0.8),      # chair: IoU 0.6 on the same GT: TP too (no 1-to-1)
        pred(N, [(100, 150)], 1, 0.7),   # chair FP: IoU 50 / (100 + 1e-8) is just below 0.5
        pred(N, [(300, 400)], 2, 0.6),   # table FP
        pred(N, [(300, 400)], 0, 0.6),   # ceiling: no GT -> FP, class left out of the means
    ]
    r = s3dis_mprec_mrec([(gt, preds)], NAMES)
    p_chair, r_chair, tp, fp, ngt = r.per_class["chair"]
    assert (tp, fp, ngt) == (2, 1, 2)
    assert p_chair == pytest.approx(2 / 3) and r_chair == pytest.approx(1.0)
    assert r.per_class["table"][:2] == (0.0, 0.0)
    assert r.per_class["ceiling"][2:] == (0, 1, 0)
    assert r.mprec == pytest.approx((2 / 3 + 0) / 2)
    assert r.mrec == pytest.approx((1 + 0) / 2)
    assert r.to_dict()["classes"]["chair"]["tp"] == 2


def test_scenes_are_summed_per_class() -> None:
    a = gt_scene(N, {1001: (0, 100)})
    b = gt_scene(N, {1001: (0, 100), 1002: (100, 200)})
    r = s3dis_mprec_mrec([(a, [pred(N, [(0, 100)], 1, 1.0)]), (b, [pred(N, [(0, 10)], 1, 1.0)])],
                         NAMES)
    assert r.per_class["chair"][2:] == (1, 1, 3)
    assert r.mprec == pytest.approx(0.5) and r.mrec == pytest.approx(1 / 3)


def test_class_zero_and_instance_zero() -> None:
    # ceiling is class 0: id 1 is ceiling instance 1; id 0 (instance 0) is no instance.
    gt = gt_scene(N, {1: (0, 100)})
    r = s3dis_mprec_mrec([(gt, [pred(N, [(0, 100)], 0, 1.0)])], NAMES)
    assert r.per_class["ceiling"][2:] == (1, 0, 1) and r.mprec == pytest.approx(1.0)


def test_no_ground_truth_gives_nan() -> None:
    r = s3dis_mprec_mrec([(np.zeros(N, np.int64), [])])
    assert math.isnan(r.mprec) and math.isnan(r.mrec)
    assert len(r.per_class) == len(S3DIS_CLASS_NAMES) == 13


def test_accepts_segmentation_results() -> None:
    gt = gt_scene(N, {8001: (0, 100)})  # chair is class 8 in S3DIS
    z = np.zeros(3)
    res = SegmentationResult(
        labels=np.full(N, -1, np.int32), classes=np.full(N, -1, np.int32),
        instances=[Instance(id=0, class_id=8, class_name="chair", score=1.0,
                            indices=np.arange(0, 60), box_min=z, box_max=z, centroid=z)],
        class_names=list(S3DIS_CLASS_NAMES))
    r = s3dis_mprec_mrec([(gt, res)])
    assert r.per_class["chair"][2:] == (1, 0, 1)  # IoU 0.6
    assert s3dis_mprec_mrec([(gt, res)], iou_threshold=0.7).per_class["chair"][2:] == (0, 1, 1)


def test_mask_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="shape"):
        s3dis_mprec_mrec([(np.zeros(N, np.int64), [pred(N - 1, [(0, 10)], 1, 1.0)])], NAMES)
