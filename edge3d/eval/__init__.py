"""Evaluation: the ScanNet 3D instance benchmark protocol, S3DIS mPrec/mRec, trajectory error.

- :func:`evaluate_scannet`: AP / AP50 / AP25 exactly as the official
  ``evaluate_semantic_instance.py`` computes them (``docs/evaluation.md``).
- :func:`evaluate_segmentation`: the same for ``(ground-truth ids, SegmentationResult)`` pairs;
  what every ``bench/`` accuracy table uses.
- :func:`read_gt_dir`, :func:`read_pred_dir`, :func:`write_predictions`: the benchmark's text
  format.
- :func:`s3dis_mprec_mrec`: mean precision / recall at IoU 0.5 as the 3D-BoNet paper reports.
- :mod:`edge3d.eval.trajectory`: absolute and relative pose error.
"""

from __future__ import annotations

from edge3d.eval import trajectory
from edge3d.eval.benchmark_format import (
    read_gt_dir,
    read_ids,
    read_pred_dir,
    read_pred_file,
    write_gt,
    write_ids,
    write_predictions,
    write_scenes,
)
from edge3d.eval.predictions import PredInstance, predictions_from_segmentation
from edge3d.eval.result import InstanceEvalResult
from edge3d.eval.s3dis import S3DIS_CLASS_NAMES, PrecisionRecallResult, s3dis_mprec_mrec
from edge3d.eval.scannet import (
    AGNOSTIC_LABEL,
    MIN_REGION_SIZE,
    OVERLAPS,
    SCANNET_CLASS_LABELS,
    SCANNET_VALID_CLASS_IDS,
    evaluate_scannet,
)
from edge3d.eval.segmentation import evaluate_segmentation
from edge3d.eval.trajectory import ate_rmse, relative_pose_error

__all__ = [
    "AGNOSTIC_LABEL", "MIN_REGION_SIZE", "OVERLAPS", "S3DIS_CLASS_NAMES", "SCANNET_CLASS_LABELS",
    "SCANNET_VALID_CLASS_IDS", "InstanceEvalResult", "PrecisionRecallResult", "PredInstance",
    "ate_rmse", "evaluate_scannet", "evaluate_segmentation", "predictions_from_segmentation",
    "read_gt_dir", "read_ids", "read_pred_dir", "read_pred_file", "relative_pose_error",
    "s3dis_mprec_mrec", "trajectory", "write_gt", "write_ids", "write_predictions",
    "write_scenes",
]
