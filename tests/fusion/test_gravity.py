"""Gravity alignment sources: IMU accelerometer, floor-plane fit, and their map correction."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.runtime.fusion.gravity import (
    LEVEL_R_W_C,
    correction,
    fit_floor,
    level_pose,
    rotation_between,
    up_from_accel,
)


def _rot_x(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def test_rotation_between_maps_a_onto_b():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.normal(size=3), rng.normal(size=3)
        r = rotation_between(a, b)
        np.testing.assert_allclose(r @ (a / np.linalg.norm(a)), b / np.linalg.norm(b), atol=1e-9)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-9)
    r = rotation_between(np.array([0, 0, 1.0]), np.array([0, 0, -1.0]))
    np.testing.assert_allclose(r @ [0, 0, 1.0], [0, 0, -1.0], atol=1e-9)


def test_up_from_accel_accepts_gravity_and_rejects_motion_or_garbage():
    np.testing.assert_allclose(up_from_accel(np.array([0.0, -9.81, 0.0])), [0, -1, 0])
    assert up_from_accel(np.array([0.0, -15.0, 0.0])) is None  # accelerating
    assert up_from_accel(np.array([np.nan, -9.8, 0.0])) is None
    assert up_from_accel(np.array([1.0, 2.0])) is None


def test_level_pose_maps_up_to_z_and_keeps_forward_in_the_yz_plane():
    np.testing.assert_allclose(level_pose()[:3, :3], LEVEL_R_W_C)
    up_c = _rot_x(20) @ np.array([0.0, -1.0, 0.0])  # camera pitched
    T = level_pose(up_c)
    np.testing.assert_allclose(T[:3, :3] @ up_c, [0, 0, 1], atol=1e-12)
    forward_w = T[:3, :3] @ np.array([0.0, 0.0, 1.0])
    assert abs(forward_w[0]) < 1e-12 and forward_w[1] > 0
    np.testing.assert_allclose(np.linalg.det(T[:3, :3]), 1.0)


def test_fit_floor_finds_the_floor_below_a_tilted_camera():
    rng = np.random.default_rng(1)
    # World: floor z = 0, a wall x = 2, a table top at z = 0.7; camera 1.4 m up, pitched down.
    floor = np.c_[rng.uniform(-1, 2, 3000), rng.uniform(0.5, 4, 3000), np.zeros(3000)]
    wall = np.c_[np.full(1500, 2.0), rng.uniform(0.5, 4, 1500), rng.uniform(0, 2.5, 1500)]
    table = np.c_[rng.uniform(-0.5, 0.5, 1200), rng.uniform(1, 2, 1200), np.full(1200, 0.7)]
    world = np.concatenate([floor, wall, table]) + rng.normal(0, 0.004, (5700, 3))
    up_c = _rot_x(25) @ np.array([0.0, -1.0, 0.0])
    T_W_C = level_pose(up_c)
    T_W_C[2, 3] = 1.4
    cam = (world - T_W_C[:3, 3]) @ T_W_C[:3, :3]
    n, d = fit_floor(cam, np.array([0.0, -1.0, 0.0]))
    assert np.degrees(np.arccos(np.clip(n @ up_c, -1, 1))) < 0.5
    assert d == pytest.approx(1.4, abs=0.01)


def test_fit_floor_returns_none_without_a_floor():
    rng = np.random.default_rng(2)
    wall = np.c_[rng.uniform(-1, 1, 3000), rng.uniform(-1, 1, 3000), np.full(3000, 3.0)]
    assert fit_floor(wall, np.array([0.0, -1.0, 0.0])) is None
    assert fit_floor(np.zeros((0, 3)), np.array([0.0, -1.0, 0.0])) is None


def test_correction_puts_the_floor_at_z0_with_z_up():
    up = _rot_x(7) @ np.array([0.0, 0.0, 1.0])
    d = 1.3
    C = correction(up, d)
    # Points on the plane up . x + d = 0 land on z = 0.
    rng = np.random.default_rng(3)
    basis = np.linalg.svd(up[None])[2][1:]
    pts = rng.normal(size=(50, 2)) @ basis - d * up
    out = pts @ C[:3, :3].T + C[:3, 3]
    np.testing.assert_allclose(out[:, 2], 0, atol=1e-12)
    np.testing.assert_allclose(C[:3, :3] @ up, [0, 0, 1], atol=1e-12)
