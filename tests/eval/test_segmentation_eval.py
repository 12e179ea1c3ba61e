"""evaluate_segmentation: SegmentationResults against synthetic-style ground truth."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from edge3d import Instance, SegmentationResult
from edge3d.eval import evaluate_scannet, evaluate_segmentation, predictions_from_segmentation

NAMES = ("floor", "wall", "chair", "table")  # synthetic-style: class id = index
N = 600


def instance(k: int, class_id: int, score: float, idx: np.ndarray) -> Instance:
    z = np.zeros(3)
    return Instance(id=k, class_id=class_id, class_name=NAMES[class_id] if class_id < 4 else "?",
                    score=score, indices=np.asarray(idx, np.int64), box_min=z, box_max=z,
                    centroid=z)


def result(instances: list[Instance]) -> SegmentationResult:
    return SegmentationResult(labels=np.full(N, -1, np.int32), classes=np.full(N, -1, np.int32),
                              instances=instances, class_names=list(NAMES))


def synthetic_gt() -> np.ndarray:
    gt = np.zeros(N, np.int64)          # floor: 0*1000 + 0
    gt[100:200] = 1 * 1000              # wall: 1000
    gt[200:350] = 2 * 1000 + 1          # chair 1
    gt[350:500] = 2 * 1000 + 2          # chair 2
    gt[500:600] = 3 * 1000 + 1          # table 1
    return gt


def test_synthetic_classes_with_floor_and_wall_as_background() -> None:
    gt = synthetic_gt()
    res = result([
        instance(0, 2, 0.9, np.arange(200, 350)),           # chair 1, exact
        instance(1, 2, 0.8, np.arange(350, 460)),           # chair 2, IoU 110/150
        instance(2, 3, 0.7, np.arange(500, 600)),           # table, exact
        instance(3, 0, 0.99, np.arange(0, 100)),            # a "floor" instance: dropped
        instance(4, 2, 0.95, np.arange(0, 200)),            # chair on floor+wall: void, ignored
    ])
    r = evaluate_segmentation([(gt, res)], NAMES, background_classes=(0, 1))
    assert r.class_labels == ("chair", "table") and r.class_ids == (2, 3)
    # chair 2 is matched while 110/150 = 0.733 > th: 0.25 and 0.50..0.70.
    chair = r.ap_matrix[0]
    np.testing.assert_allclose(chair[[0, 1, 2, 3, 4, 9]], 1.0)
    # Above: entries .9T .8F and one missed GT: AP 0.5.
    np.testing.assert_allclose(chair[5:9], 0.5)
    assert r.per_class["table"] == (1.0, 1.0, 1.0)
    assert r.num_gt == (2, 1) and r.num_pred == (3, 1)


def test_equals_evaluate_scannet_on_the_same_data() -> None:
    gt = synthetic_gt()
    res = result([instance(0, 2, 0.9, np.arange(200, 340)), instance(1, 3, 0.6,
                                                                      np.arange(480, 600))])
    r = evaluate_segmentation([(gt, res)], NAMES, background_classes=(0, 1))
    preds = {"s": predictions_from_segmentation(res, N)}
    ref = evaluate_scannet({"s": gt}, preds, ["chair", "table"], [2, 3])
    np.testing.assert_array_equal(r.ap_matrix, ref.ap_matrix)


def test_class_zero_can_be_evaluated() -> None:
    # A class list whose class 0 is a thing: with the raw ScanNet rules its ids (1, 2, ...)
    # would be "groups", never ground truth; the shift makes it an ordinary class.
    names = ("box", "ball")
    gt = np.zeros(N, np.int64)
    gt[0:200] = 0 * 1000 + 1      # box 1 -> id 1
    gt[200:400] = 1 * 1000 + 1    # ball 1
    gt[400:600] = 0 * 1000 + 0    # nothing (instance 0): void
    res = result([instance(0, 0, 0.9, np.arange(0, 200)), instance(1, 1, 0.8, np.arange(200, 400)),
                  instance(2, 0, 0.95, np.arange(400, 600))])
    r = evaluate_segmentation([(gt, res)], names)
    assert r.per_class["box"] == (1.0, 1.0, 1.0) and r.per_class["ball"] == (1.0, 1.0, 1.0)
    assert r.class_ids == (0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = evaluate_scannet({"s": gt}, {"s": predictions_from_segmentation(res, N)},
                               names, [0, 1])
    assert math.isnan(raw.per_class["box"][0])  # what the shift avoids


def test_agnostic() -> None:
    gt = synthetic_gt()
    # A table labelled chair and chair 1 labelled table: per class 0, agnostic perfect.
    res = result([instance(0, 2, 0.9, np.arange(500, 600)), instance(1, 3, 0.8,
                                                                      np.arange(200, 350)),
                  instance(2, 2, 0.7, np.arange(350, 500))])
    r = evaluate_segmentation([(gt, res)], NAMES, background_classes=(0, 1), agnostic=True)
    assert r.ap == pytest.approx(1.0, abs=1e-12) and r.num_gt == (3,)


def test_several_scenes_and_min_region_size() -> None:
    gt = synthetic_gt()
    small = gt.copy()
    small[200:350] = 0
    small[200:250] = 2001  # a 50-point chair
    res_a = result([instance(0, 2, 0.9, np.arange(200, 350))])
    res_b = result([instance(0, 2, 0.9, np.arange(200, 250))])
    r = evaluate_segmentation([(gt, res_a), (small, res_b)], NAMES, background_classes=(0, 1))
    assert r.num_scenes == 2 and r.num_gt[0] == 3  # the 50-point chair does not count
    r10 = evaluate_segmentation([(gt, res_a), (small, res_b)], NAMES, background_classes=(0, 1),
                                min_region_size=10)
    assert r10.num_gt[0] == 4 and r10.num_pred[0] == 2


def test_bad_inputs() -> None:
    gt = synthetic_gt()
    with pytest.raises(ValueError, match="outside"):
        evaluate_segmentation([(gt, result([instance(0, 2, 0.9, np.array([N]))]))], NAMES)
    with pytest.raises(ValueError, match="background"):
        evaluate_segmentation([(gt, result([]))], NAMES, background_classes=range(4))
    with pytest.raises(ValueError, match="1-D integer"):
        evaluate_segmentation([(gt.astype(float), result([]))], NAMES)
