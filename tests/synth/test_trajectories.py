"""Trajectories: smooth, at hand-held height, inside the room, clear of tall furniture."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.synth import trajectories

from .conftest import room


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    r = a[:3, :3].T @ b[:3, :3]
    return float(np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1))))


@pytest.mark.parametrize("name", ["static", "orbit", "walkthrough"])
def test_poses_are_valid_smooth_and_inside(name: str) -> None:
    for seed in range(6):
        w = room(seed)
        poses = getattr(trajectories, name)(w, 100)
        assert len(poses) == 100
        lo, hi = w.interior
        for p in poses:
            r = p[:3, :3]
            np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-9)
            assert np.linalg.det(r) == pytest.approx(1.0)
            assert 1.0 <= p[2, 3] <= 1.6
            assert np.all(p[:2, 3] > lo[:2]) and np.all(p[:2, 3] < hi[:2])
            forward = r[:, 2]
            assert -0.8 < forward[2] < 0.0  # looking into the room, slightly down
            for obj in w.objects:  # never inside furniture
                assert not any(b.contains(p[None, :3, 3], 0.05)[0] for b in obj.primitives)
        steps = [np.linalg.norm(poses[i + 1][:3, 3] - poses[i][:3, 3]) for i in range(99)]
        turns = [_angle(poses[i], poses[i + 1]) for i in range(99)]
        assert max(steps) < 0.06 and max(turns) < 4.0, (name, seed, max(steps), max(turns))
        if name == "static":
            assert max(steps) == 0
        else:
            assert np.mean(steps) > 0.01


def test_walkthrough_moves_through_the_room() -> None:
    w = room(5)
    poses = trajectories.walkthrough(w, 100)
    xy = np.array([p[:2, 3] for p in poses])
    assert np.linalg.norm(xy.max(0) - xy.min(0)) > 1.5  # covers ground, not a shuffle
    np.testing.assert_allclose(np.sum(np.linalg.norm(np.diff(xy, axis=0), axis=1)), 99 * 0.03,
                               rtol=0.05)


def test_same_world_same_trajectory() -> None:
    w = room(4)
    a, b = trajectories.walkthrough(w, 20), trajectories.walkthrough(w, 20)
    np.testing.assert_array_equal(np.array(a), np.array(b))
    c = trajectories.walkthrough(w, 20, seed=99)
    assert not np.allclose(np.array(a), np.array(c))


def test_views_see_the_room() -> None:
    # Every view has mostly valid depth (never staring into a wall at arm's length) and objects.
    from edge3d.synth import VirtualCamera
    from edge3d.synth.camera import d435_intrinsics

    cam = VirtualCamera(d435_intrinsics(80, 60), noise=False)
    for seed in range(6):
        w = room(seed)
        for name in ("static", "orbit", "walkthrough"):
            for pose in getattr(trajectories, name)(w, 100)[::10]:
                r = cam.render(w, pose)
                assert (r.frame.depth > 0).mean() > 0.5, (seed, name)
                assert r.instance.max() > 0, (seed, name)
