"""Absolute trajectory error and relative pose error on trajectories with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.eval.trajectory import align_se3, ate_rmse, relative_pose_error


def rot_z(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def pose(r: np.ndarray, t) -> np.ndarray:
    p = np.eye(4)
    p[:3, :3], p[:3, 3] = r, t
    return p


def circle(n: int = 20) -> list[np.ndarray]:
    return [pose(rot_z(18 * i), [np.cos(i / 3), np.sin(i / 3), 0.1 * i]) for i in range(n)]


def test_identical_trajectories_have_zero_error() -> None:
    gt = circle()
    assert ate_rmse(gt, gt) == 0.0
    rpe = relative_pose_error(gt, gt)
    assert rpe.trans_rmse == pytest.approx(0.0, abs=1e-12)
    assert rpe.rot_rmse_deg == pytest.approx(0.0, abs=1e-5) and rpe.num_pairs == 19


def test_constant_offset() -> None:
    gt = circle()
    est = [p.copy() for p in gt]
    for p in est:
        p[:3, 3] += [0.03, 0.0, 0.04]  # 5 cm everywhere
    assert ate_rmse(est, gt) == pytest.approx(0.05)
    assert ate_rmse(est, gt, align="se3") == pytest.approx(0.0, abs=1e-9)


def test_se3_alignment_removes_a_rigid_change_of_world_frame() -> None:
    gt = circle()
    world = pose(rot_z(40.0), [1.0, -2.0, 0.5])
    est = [world @ p for p in gt]
    assert ate_rmse(est, gt) > 1.0
    assert ate_rmse(est, gt, align="se3") == pytest.approx(0.0, abs=1e-9)
    t = align_se3(np.array([p[:3, 3] for p in est]), np.array([p[:3, 3] for p in gt]))
    np.testing.assert_allclose(t, np.linalg.inv(world), atol=1e-9)
    # RPE does not depend on the world frame at all.
    assert relative_pose_error(est, gt).trans_rmse == pytest.approx(0.0, abs=1e-9)


def test_rpe_measures_drift_per_step() -> None:
    # Ground truth: 1 m steps along x. Estimate: 1.1 m steps and 2 deg extra yaw per step... as
    # a pure translation drift first: each step's relative translation is off by 0.1 m.
    gt = [pose(np.eye(3), [i, 0, 0]) for i in range(10)]
    est = [pose(np.eye(3), [1.1 * i, 0, 0]) for i in range(10)]
    rpe = relative_pose_error(est, gt)
    assert rpe.trans_rmse == pytest.approx(0.1) and rpe.trans_mean == pytest.approx(0.1)
    assert relative_pose_error(est, gt, delta=3).trans_rmse == pytest.approx(0.3)
    # Rotation drift: 2 degrees of extra yaw per step.
    est_r = [pose(rot_z(2.0 * i), [i, 0, 0]) for i in range(10)]
    gt_r = [pose(np.eye(3), [i, 0, 0]) for i in range(10)]
    rpe_r = relative_pose_error(est_r, gt_r)
    assert rpe_r.rot_rmse_deg == pytest.approx(2.0) and rpe_r.rot_mean_deg == pytest.approx(2.0)


def test_bad_inputs() -> None:
    gt = circle(5)
    with pytest.raises(ValueError, match="pair"):
        ate_rmse(gt[:4], gt)
    with pytest.raises(ValueError, match="align"):
        ate_rmse(gt, gt, align="sim3")
    with pytest.raises(ValueError, match="4x4"):
        ate_rmse([np.eye(3)], [np.eye(3)])
    with pytest.raises(ValueError, match="non-finite"):
        bad = [p.copy() for p in gt]
        bad[2][0, 3] = np.nan
        ate_rmse(bad, gt)
    with pytest.raises(ValueError, match="no pair"):
        relative_pose_error(gt, gt, delta=5)
