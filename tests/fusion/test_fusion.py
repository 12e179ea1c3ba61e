"""Fusion: pose sources, gravity alignment, corrupt frames and tracking loss."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.runtime.fusion import Fusion
from edge3d.types import Frame
from tests.fusion.scenes import FLOOR_Z, Scene, camera_pose, corner_scene

VOXEL = 0.02
EYE, TARGET = (0.3, -0.2, 1.3), (1.4, 1.2, 0.3)


def _walk(n: int) -> list[np.ndarray]:
    return [camera_pose((0.3 + 0.02 * i, -0.2 + 0.01 * i, 1.3), (1.4, 1.2 - 0.01 * i, 0.3))
            for i in range(n)]


def _floor_z_of(fusion: Fusion) -> float:
    points, _, normals = fusion.extract_points()
    up = normals[:, 2] > 0.95
    return float(np.median(points[up, 2]))


def test_host_poses_are_used_and_taken_as_gravity_aligned():
    scene = corner_scene()
    fusion = Fusion(VOXEL)
    for i, pose in enumerate(_walk(3)):
        step = fusion.add(scene.frame(pose, index=i))
        assert step.tracking == "host" and step.gravity_source == "host" and step.integrated
        np.testing.assert_array_equal(step.pose, pose)
        assert step.timings["total"] >= step.timings["integrate"] > 0
    assert len(fusion.trajectory) == 3 and fusion.trajectory_indices == [0, 1, 2]
    assert _floor_z_of(fusion) == pytest.approx(FLOOR_Z, abs=0.1 * VOXEL)


def test_icp_tracks_without_poses_and_the_floor_sets_gravity():
    scene = corner_scene()
    poses = _walk(8)
    fusion = Fusion(VOXEL, tracking="auto")
    steps = [fusion.add(scene.frame(p, index=i, with_pose=False)) for i, p in enumerate(poses)]
    assert all(s.tracking == "ok" and s.integrated for s in steps)
    assert steps[0].gravity_source == "floor"
    # The map is z-up with the floor at z = 0; the true world differs by a rotation about z and
    # the floor offset, so relative motion must match the truth.
    assert _floor_z_of(fusion) == pytest.approx(0.0, abs=0.2 * VOXEL)
    est = fusion.trajectory
    for i in range(1, len(poses)):
        true_rel = np.linalg.inv(poses[0]) @ poses[i]
        est_rel = np.linalg.inv(est[0]) @ est[i]
        assert np.linalg.norm(true_rel[:3, 3] - est_rel[:3, 3]) < 0.005
    # Camera height above the floor is recovered (1.3 m above z = FLOOR_Z).
    assert est[0][2, 3] == pytest.approx(1.3 - FLOOR_Z, abs=0.01)


def test_static_mode_with_imu_gravity():
    scene = corner_scene()
    pose = camera_pose(EYE, TARGET)
    up_c = pose[:3, :3].T @ np.array([0.0, 0.0, 1.0])  # "up" seen from the camera
    fusion = Fusion(VOXEL, tracking="static", gravity="imu")
    for i in range(3):
        frame = scene.frame(pose, index=i, with_pose=False)
        frame.accel = 9.81 * up_c
        step = fusion.add(frame)
        assert step.tracking == "static" and step.gravity_source == "imu"
    np.testing.assert_allclose(step.pose[:3, :3] @ up_c, [0, 0, 1], atol=1e-9)
    np.testing.assert_array_equal(fusion.trajectory[0], fusion.trajectory[2])
    _, _, normals = fusion.extract_points()
    # The floor faces up (world z), nothing faces down; the walls are vertical.
    assert np.mean(normals[:, 2] > 0.99) > 0.1 and np.mean(normals[:, 2] < -0.5) < 0.01
    assert np.mean(np.abs(normals[:, 2]) < 0.05) > 0.15


def test_gravity_search_rebuilds_the_map_when_the_floor_appears():
    scene = corner_scene()
    pose = camera_pose(EYE, TARGET)
    fusion = Fusion(VOXEL, tracking="static")
    no_floor = scene.frame(pose, index=0, with_pose=False)
    floor_pixels = np.abs(scene.depth(pose) * 0 + _world_z(pose) - FLOOR_Z) < 0.01
    no_floor.depth[floor_pixels] = 0
    first = fusion.add(no_floor)
    assert first.gravity_source == "pending" and first.integrated
    second = fusion.add(scene.frame(pose, index=1, with_pose=False))
    assert second.gravity_source == "floor"
    assert fusion.volume.stats.frames == 4  # two frames, fused again after alignment
    assert _floor_z_of(fusion) == pytest.approx(0.0, abs=0.2 * VOXEL)
    np.testing.assert_allclose(fusion.trajectory[0], fusion.trajectory[1])


def _world_z(pose: np.ndarray) -> np.ndarray:
    z = corner_scene().depth(pose)
    from edge3d.geometry import pixel_rays
    from tests.fusion.scenes import INTRINSICS

    pts = pixel_rays(INTRINSICS) * z[..., None]
    return (pts @ pose[:3, :3].T + pose[:3, 3])[..., 2]


def test_gravity_is_assumed_level_when_nothing_is_found():
    wall = Scene(planes=[((0, 0, -1), 2.0)])
    fusion = Fusion(VOXEL, tracking="static", gravity_frames=3)
    sources = [fusion.add(wall.frame(np.eye(4), index=i, with_pose=False)).gravity_source
               for i in range(4)]
    assert sources == ["pending", "pending", "assumed", "assumed"]
    # A level camera: its y axis (down) is world -z.
    np.testing.assert_allclose(fusion.trajectory[-1][:3, 1], [0, 0, -1], atol=1e-12)


def _bad_frames(good: Frame) -> list[tuple[str, Frame]]:
    def copy(**kw) -> Frame:
        f = Frame(depth=good.depth.copy(), depth_scale=good.depth_scale,
                  intrinsics=good.intrinsics, color=good.color, index=good.index,
                  pose=None if good.pose is None else good.pose.copy())
        for k, v in kw.items():
            setattr(f, k, v)
        return f

    nan_pose = good.pose.copy()
    nan_pose[0, 3] = np.nan
    return [
        ("uint16", copy(depth=good.depth.astype(np.float32))),
        ("no valid pixel", copy(depth=np.zeros_like(good.depth))),
        ("finite", copy(pose=nan_pose)),
        ("depth_scale", copy(depth_scale=float("nan"))),
        ("intrinsics", copy(depth=good.depth[:, :-1].copy())),
        ("color", copy(color=good.color[..., :2].copy())),
    ]


@pytest.mark.parametrize("tracking", ["auto", "icp", "static"])
def test_corrupt_frames_are_skipped_and_counted(tracking):
    scene = corner_scene()
    good = scene.frame(camera_pose(EYE, TARGET), index=0)
    fusion = Fusion(VOXEL, tracking=tracking)
    assert fusion.add(good).integrated
    blocks = fusion.volume.stats.blocks
    for expected, bad in _bad_frames(good):
        step = fusion.add(bad)
        assert step.tracking == "skipped" and not step.integrated
        assert expected in step.reason
    assert fusion.counters == {"frames": 7, "integrated": 1, "skipped": 6, "lost": 0}
    assert fusion.volume.stats.blocks == blocks


def test_host_mode_skips_frames_without_a_pose():
    scene = corner_scene()
    fusion = Fusion(VOXEL, tracking="host")
    step = fusion.add(scene.frame(camera_pose(EYE, TARGET), with_pose=False))
    assert step.tracking == "skipped" and "no pose" in step.reason and step.pose is None


def test_an_empty_scene_never_crashes():
    fusion = Fusion(VOXEL, tracking="icp")
    empty = Scene().frame(camera_pose(EYE, TARGET), with_pose=False)
    for _ in range(3):
        assert fusion.add(empty).tracking == "skipped"
    points, colors, normals = fusion.extract_points()
    assert len(points) == len(colors) == len(normals) == 0


def test_icp_starts_over_while_the_map_is_still_empty():
    scene = corner_scene()
    poses = _walk(4)
    fusion = Fusion(VOXEL, tracking="icp", depth_max=5.0)
    far = scene.frame(poses[0], index=0, with_pose=False)
    far.depth[:] = np.uint16(6.0 / far.depth_scale)  # valid depth, all beyond depth_max
    assert fusion.add(far).integrated and fusion.volume.stats.blocks == 0
    steps = [fusion.add(scene.frame(p, index=i + 1, with_pose=False)) for i, p in enumerate(poses)]
    assert [s.tracking for s in steps] == ["ok"] * 4 and fusion.volume.stats.blocks > 0


def test_tracking_loss_is_reported_and_the_frame_not_fused():
    scene = corner_scene()
    poses = _walk(4)
    fusion = Fusion(VOXEL, tracking="icp")
    for i in range(3):
        assert fusion.add(scene.frame(poses[i], index=i, with_pose=False)).tracking == "ok"
    blocks = fusion.volume.stats.blocks
    elsewhere = Scene(spheres=[((0.0, 0.0, 1.0), 0.3)]).frame(np.eye(4), with_pose=False)
    step = fusion.add(elsewhere)
    assert step.tracking == "lost" and not step.integrated and step.reason
    assert fusion.volume.stats.blocks == blocks and fusion.counters["lost"] == 1
    np.testing.assert_array_equal(step.pose, fusion.trajectory[-1])
    # The camera comes back: tracking resumes from the last good pose.
    assert fusion.add(scene.frame(poses[3], index=3, with_pose=False)).tracking == "ok"


@pytest.mark.parametrize("bad", [dict(tracking="slam"), dict(gravity="magnet")])
def test_bad_modes_are_rejected(bad):
    with pytest.raises(ValueError, match="must be one of"):
        Fusion(VOXEL, **bad)


def _shifted(scene: Scene, poses: list[np.ndarray], offset) -> list[Frame]:
    frames = []
    for i, pose in enumerate(poses):
        f = scene.frame(pose, index=i)
        f.pose = f.pose.copy()
        f.pose[:3, 3] += offset
        frames.append(f)
    return frames


@pytest.mark.parametrize("offset", [(1e5, 0, 0), (5e5, 4.5e6, 0), (1e7, -1e7, 350.0)])
def test_host_poses_far_from_their_origin_fuse_the_same_map(offset):
    scene = corner_scene()
    poses = _walk(3)
    near = Fusion(VOXEL)
    for f in _shifted(scene, poses, (0, 0, 0)):
        near.add(f)
    far = Fusion(VOXEL)
    steps = [far.add(f) for f in _shifted(scene, poses, offset)]
    assert all(s.integrated and s.gravity_source == "host" for s in steps)
    world = far.map_to_world
    np.testing.assert_allclose(world[:3, :3], np.eye(3))
    assert np.abs(world[:3, 3] - np.round(poses[0][:3, 3] + offset)).max() == 0
    # Map poses plus the map's origin give back the host poses.
    for step, pose in zip(steps, poses, strict=True):
        np.testing.assert_allclose((world @ step.pose)[:3, 3], pose[:3, 3] + offset, atol=1e-6)
    a, _, _ = near.extract_points()
    b, _, _ = far.extract_points()
    b_world = b.astype(np.float64) + (world[:3, 3] - offset)
    # The grids differ by a fraction of a voxel (the origin is whole metres): the surfaces
    # agree to well within a voxel, and the maps are alike in size.
    from scipy.spatial import cKDTree

    assert np.percentile(cKDTree(a).query(b_world)[0], 95) < 0.5 * VOXEL
    assert abs(len(b) - len(a)) < 0.25 * len(a)
    assert _floor_z_of(far) + world[2, 3] - offset[2] == pytest.approx(FLOOR_Z, abs=0.1 * VOXEL)


def test_a_host_pose_beyond_the_maps_reach_is_skipped_and_named():
    scene = corner_scene()
    poses = _walk(2)
    fusion = Fusion(VOXEL)
    first, second = _shifted(scene, poses, (1e7, 0, 0))
    assert fusion.add(first).integrated
    second.pose[:3, 3] += (5e5, 0, 0)  # 500 km on: beyond 168 km at 2 cm voxels
    step = fusion.add(second)
    assert step.tracking == "skipped" and "beyond the map's reach" in step.reason
    assert fusion.counters["skipped"] == 1


def _camera_world(poses: list[np.ndarray]) -> list[np.ndarray]:
    """The poses as an Open3D / Redwood .log has them: in the first camera's frame (y down)."""
    return [np.linalg.inv(poses[0]) @ p for p in poses]


def _frames_with(scene: Scene, poses: list[np.ndarray]) -> list[Frame]:
    frames = []
    for i, (true, given) in enumerate(zip(_walk(len(poses)), poses, strict=True)):
        f = scene.frame(true, index=i)
        f.pose = given
        frames.append(f)
    return frames


def test_host_poses_that_are_not_gravity_aligned_are_aligned_by_the_floor(caplog):
    scene = corner_scene()
    fusion = Fusion(VOXEL)
    steps = [fusion.add(f) for f in _frames_with(scene, _camera_world(_walk(3)))]
    assert all(s.tracking == "host" and s.integrated for s in steps)
    assert steps[0].gravity_source == "floor" and "degrees from up" in caplog.text
    assert _floor_z_of(fusion) == pytest.approx(0.0, abs=0.2 * VOXEL)
    # map_to_world takes the map back to the host's (first camera's) frame.
    given = _camera_world(_walk(3))
    for step, pose in zip(steps, given, strict=True):
        np.testing.assert_allclose(fusion.map_to_world @ step.pose, pose, atol=1e-9)


def test_gravity_host_keeps_the_host_frame_and_floor_overrides_it():
    scene = corner_scene()
    given = _camera_world(_walk(3))
    trusted = Fusion(VOXEL, gravity="host")
    assert [trusted.add(f).gravity_source for f in _frames_with(scene, given)] == ["host"] * 3
    np.testing.assert_allclose(trusted.map_to_world, np.eye(4))
    # Gravity-aligned host poses, but the floor asked for: the map is put on the floor.
    floor = Fusion(VOXEL, gravity="floor")
    assert floor.add(scene.frame(_walk(1)[0], index=0)).gravity_source == "floor"
    assert _floor_z_of(floor) == pytest.approx(0.0, abs=0.2 * VOXEL)
    np.testing.assert_allclose(floor.map_to_world[:3, :3], np.eye(3), atol=5e-3)  # 0.3 deg
    assert floor.map_to_world[2, 3] == pytest.approx(FLOOR_Z, abs=0.2 * VOXEL)
