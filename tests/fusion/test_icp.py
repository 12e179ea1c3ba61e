"""Frame-to-model point-to-plane ICP: recovers known offsets and detects loss."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.native.icp import point_to_plane_system, vertex_normal_map
from edge3d.runtime.fusion import ICPTracker, TSDFVolume
from edge3d.runtime.fusion.icp_tracker import se3_exp
from tests.fusion.scenes import INTRINSICS, Scene, camera_pose, corner_scene

VOXEL = 0.02


def _rotation_deg(a: np.ndarray, b: np.ndarray) -> float:
    r = a[:3, :3].T @ b[:3, :3]
    return float(np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1))))


def test_vertex_normal_map_of_a_plane():
    scene = Scene(planes=[((0, 0, -1), 2.0)])  # z = 2 in front of an identity camera
    depth = scene.depth(np.eye(4)).astype(np.float32)
    k = INTRINSICS
    vertices, normals = vertex_normal_map(depth, (k.fx, k.fy, k.cx, k.cy))
    np.testing.assert_allclose(vertices[..., 2], depth, rtol=1e-6)
    inner = normals[1:-1, 1:-1].reshape(-1, 3)
    np.testing.assert_allclose(inner, np.tile([0, 0, -1.0], (len(inner), 1)), atol=1e-5)
    assert np.all(normals[0] == 0) and np.all(normals[:, -1] == 0)  # no neighbours: no normal


def test_normal_equations_are_zero_at_the_true_pose():
    scene = corner_scene()
    pose = camera_pose((0.3, -0.2, 1.3), (1.4, 1.2, 0.3))
    vol = TSDFVolume(VOXEL)
    vol.integrate(scene.frame(pose))
    k = INTRINSICS
    model = vol.raycast(pose, k)
    vertices, normals = vertex_normal_map(scene.depth(pose).astype(np.float32),
                                          (k.fx, k.fy, k.cx, k.cy))
    A, b, inliers, valid, sum_sq = point_to_plane_system(
        vertices, normals, pose, model.vertices, model.normals, pose, (k.fx, k.fy, k.cx, k.cy),
        0.05)
    assert inliers > 0.8 * valid > 1000
    assert np.sqrt(sum_sq / inliers) < 0.004  # silhouettes of the ball add a few mm outliers
    step = -np.linalg.solve(A, b)
    assert np.linalg.norm(step[3:]) < 0.002 and np.linalg.norm(step[:3]) < 0.002


@pytest.mark.parametrize("offset", [(0.03, -0.02, 0.01, 2.0), (-0.05, 0.04, -0.03, -4.0)])
def test_icp_recovers_a_pose_offset(offset):
    scene = corner_scene()
    model_pose = camera_pose((0.3, -0.2, 1.3), (1.4, 1.2, 0.3))
    vol = TSDFVolume(VOXEL)
    for i, dx in enumerate((-0.1, 0.0, 0.1)):
        p = camera_pose((0.3 + dx, -0.2, 1.3), (1.4, 1.2, 0.3))
        vol.integrate(scene.frame(p, index=i))
    # The true pose of the new frame is a small move away from the model pose.
    true_pose = se3_exp(np.array([0.0, 0.0, np.radians(offset[3]), *offset[:3]])) @ model_pose
    frame = scene.frame(true_pose, with_pose=False)
    result = ICPTracker(VOXEL).track(vol, frame, model_pose, model_pose)
    assert result.ok, result.reason
    assert np.linalg.norm(result.pose[:3, 3] - true_pose[:3, 3]) < 0.003
    assert _rotation_deg(result.pose, true_pose) < 0.2
    assert result.inlier_ratio > 0.8 and result.rmse < 0.005


def test_a_single_plane_is_degenerate_and_reported_lost():
    scene = Scene(planes=[((0, 0, 1), 0.0071)])
    pose = camera_pose((0.0, 0.0, 1.2), (0.0, 0.01, 0.0))  # looking straight down at the floor
    vol = TSDFVolume(VOXEL)
    vol.integrate(scene.frame(pose))
    moved = pose.copy()
    moved[0, 3] += 0.02
    result = ICPTracker(VOXEL).track(vol, scene.frame(moved, with_pose=False), pose, pose)
    assert not result.ok and "degenerate" in result.reason
    np.testing.assert_array_equal(result.pose, pose)  # lost: the prediction is returned


def test_a_frame_of_another_place_is_reported_lost():
    scene = corner_scene()
    pose = camera_pose((0.3, -0.2, 1.3), (1.4, 1.2, 0.3))
    vol = TSDFVolume(VOXEL)
    vol.integrate(scene.frame(pose))
    elsewhere = Scene(spheres=[((0.0, 0.0, 1.0), 0.3)]).frame(np.eye(4), with_pose=False)
    result = ICPTracker(VOXEL).track(vol, elsewhere, pose, pose)
    assert not result.ok and result.reason


def test_se3_exp_is_a_rigid_transform():
    T = se3_exp(np.array([0.1, -0.2, 0.3, 1.0, 2.0, 3.0]))
    np.testing.assert_allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-12)
    assert np.linalg.det(T[:3, :3]) == pytest.approx(1.0)
    np.testing.assert_allclose(T[:3, 3], [1, 2, 3])
    np.testing.assert_allclose(se3_exp(np.zeros(6)), np.eye(4))


def test_tracker_rejects_inconsistent_configuration():
    with pytest.raises(ValueError, match="one entry per level"):
        ICPTracker(VOXEL, levels=2)
