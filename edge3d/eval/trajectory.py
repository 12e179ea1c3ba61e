"""Trajectory error: absolute trajectory error (ATE) and relative pose error (RPE).

Definitions of Sturm et al., "A Benchmark for the Evaluation of RGB-D SLAM Systems" (IROS 2012),
as the TUM RGB-D tools compute them: poses are camera-to-world ``T_W_C`` float64 [4, 4], paired
by index (associate timestamps before calling); translations in metres, angles in degrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge3d.geometry import invert_pose

ALIGNMENTS = ("none", "se3")


def _stack(poses: Sequence[np.ndarray], name: str) -> np.ndarray:
    arr = np.asarray([np.asarray(p, dtype=np.float64) for p in poses])
    if arr.ndim != 3 or arr.shape[1:] != (4, 4):
        raise ValueError(f"{name} must be a sequence of 4x4 poses, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    return arr


def _pair(estimated: Sequence[np.ndarray],
          ground_truth: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    est, gt = _stack(estimated, "estimated"), _stack(ground_truth, "ground_truth")
    if len(est) != len(gt):
        raise ValueError(f"{len(est)} estimated poses for {len(gt)} ground-truth poses; pair "
                         "them (e.g. by timestamp) first")
    if len(est) == 0:
        raise ValueError("no poses")
    return est, gt


def align_se3(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The rigid transform ``T`` (float64 [4, 4]) minimising ``sum |T(source_i) - target_i|^2``.

    Horn / Umeyama closed form without scale; ``source`` and ``target`` are float [N, 3].
    """
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    mu_s, mu_t = source.mean(0), target.mean(0)
    cov = (target - mu_t).T @ (source - mu_s) / len(source)
    u, _, vt = np.linalg.svd(cov)
    d = np.eye(3)
    d[2, 2] = np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0
    rot = u @ d @ vt
    t = np.eye(4)
    t[:3, :3] = rot
    t[:3, 3] = mu_t - rot @ mu_s
    return t


def ate_rmse(estimated: Sequence[np.ndarray], ground_truth: Sequence[np.ndarray],
             align: str = "none") -> float:
    """Absolute trajectory error: RMSE (metres) of camera positions.

    Args:
        estimated, ground_truth: paired camera-to-world poses.
        align: ``"none"`` compares positions as they are; ``"se3"`` first moves the estimated
            trajectory by the rigid transform that best fits it to the ground truth (as the TUM
            ``evaluate_ate.py``), for trajectories in different world frames.
    """
    if align not in ALIGNMENTS:
        raise ValueError(f"align must be one of {ALIGNMENTS}, got {align!r}")
    est, gt = _pair(estimated, ground_truth)
    p_est, p_gt = est[:, :3, 3], gt[:, :3, 3]
    if align == "se3":
        t = align_se3(p_est, p_gt)
        p_est = p_est @ t[:3, :3].T + t[:3, 3]
    return float(np.sqrt(np.mean(np.sum((p_est - p_gt) ** 2, axis=1))))


@dataclass(frozen=True)
class RelativePoseError:
    """RPE over all pairs ``(i, i + delta)``: translation in metres, rotation in degrees."""

    trans_rmse: float
    trans_mean: float
    rot_rmse_deg: float
    rot_mean_deg: float
    num_pairs: int


def relative_pose_error(estimated: Sequence[np.ndarray], ground_truth: Sequence[np.ndarray],
                        delta: int = 1) -> RelativePoseError:
    """Relative pose error: drift over ``delta`` frames, independent of the world frame.

    ``E_i = (Q_i^-1 Q_{i+delta})^-1 (P_i^-1 P_{i+delta})`` with ground truth Q and estimate P;
    the translation error is ``|trans(E_i)|``, the rotation error the angle of ``rot(E_i)``.
    """
    if delta < 1:
        raise ValueError(f"delta must be >= 1, got {delta}")
    est, gt = _pair(estimated, ground_truth)
    if len(est) <= delta:
        raise ValueError(f"{len(est)} poses give no pair {delta} frames apart")
    trans, rots = [], []
    for i in range(len(est) - delta):
        rel_gt = invert_pose(gt[i]) @ gt[i + delta]
        rel_est = invert_pose(est[i]) @ est[i + delta]
        err = invert_pose(rel_gt) @ rel_est
        trans.append(np.linalg.norm(err[:3, 3]))
        cos = np.clip((np.trace(err[:3, :3]) - 1.0) / 2.0, -1.0, 1.0)
        rots.append(np.degrees(np.arccos(cos)))
    trans_arr, rot_arr = np.array(trans), np.array(rots)
    return RelativePoseError(
        trans_rmse=float(np.sqrt(np.mean(trans_arr**2))), trans_mean=float(trans_arr.mean()),
        rot_rmse_deg=float(np.sqrt(np.mean(rot_arr**2))), rot_mean_deg=float(rot_arr.mean()),
        num_pairs=len(trans_arr))
