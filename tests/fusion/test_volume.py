"""TSDFVolume on analytic scenes: surfaces, normals, mesh, ray casting, budget, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.errors import FrameError
from edge3d.runtime.fusion import TSDFVolume
from edge3d.types import Frame
from tests.fusion.scenes import FLOOR_Z, INTRINSICS, Scene, camera_pose, corner_scene

VOXEL = 0.02
# Noise-free depth of exact primitives: the zero crossing is linear interpolation of a
# projective SDF, accurate to a small fraction of a voxel on planes and gentle curves.
MAX_RMS_VOXELS = 0.1


def _views(n: int = 6) -> list[np.ndarray]:
    return [camera_pose((0.2 + 0.1 * i, -0.3 + 0.05 * i, 1.3), (1.4, 1.2, 0.3)) for i in range(n)]


@pytest.fixture(scope="module")
def fused() -> tuple[TSDFVolume, Scene]:
    scene = corner_scene()
    vol = TSDFVolume(VOXEL)
    for i, pose in enumerate(_views()):
        vol.integrate(scene.frame(pose, index=i))
    return vol, scene


def test_points_lie_on_the_true_surfaces(fused):
    vol, scene = fused
    points, colors, normals = vol.extract_points()
    assert normals.shape == points.shape
    assert points.dtype == np.float32 and points.shape[1] == 3 and len(points) > 5000
    assert colors.dtype == np.uint8 and colors.shape == points.shape
    err = scene.distance(points)
    assert np.sqrt(np.mean(err ** 2)) < MAX_RMS_VOXELS * VOXEL
    assert np.all(colors[:, 0] > 150)  # the scene is painted red


def test_normals_point_out_of_the_surface(fused):
    vol, _ = fused
    points, _, normals = vol.extract_points()
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-3)
    floor = np.abs(points[:, 2] - FLOOR_Z) < 0.005
    floor &= (points[:, 0] < 1.8) & (points[:, 1] < 1.8)
    floor &= np.linalg.norm(points - np.array([1.2, 1.0, 0.4]), axis=1) > 0.6
    assert floor.sum() > 500
    assert np.median(normals[floor, 2]) > 0.99  # floor normals point up, into the room


def test_mesh_vertices_on_surface_and_faces_valid(fused):
    vol, scene = fused
    vertices, faces, colors = vol.extract_mesh()
    assert faces.dtype == np.int32 and faces.shape[1] == 3 and len(faces) > 5000
    assert faces.min() >= 0 and faces.max() < len(vertices)
    assert colors.shape == vertices.shape
    # Surface nets put a vertex at the mean of its cell's edge crossings: within a voxel.
    err = scene.distance(vertices)
    assert np.sqrt(np.mean(err ** 2)) < 0.25 * VOXEL
    # Faces wind counter-clockwise seen from outside: on the floor their normals point up.
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    on_floor = np.all(np.abs(tri[:, :, 2] - FLOOR_Z) < 0.003, axis=1)
    assert on_floor.sum() > 100
    assert np.mean(fn[on_floor, 2] > 0) > 0.99


def test_mesh_saves_as_ply(fused, tmp_path):
    from edge3d.io import read_ply, write_ply

    vol, _ = fused
    vertices, faces, colors = vol.extract_mesh()
    path = write_ply(tmp_path / "map.ply", vertices, colors, faces=faces)
    back = read_ply(path)
    np.testing.assert_allclose(back["points"], vertices)
    np.testing.assert_array_equal(back["colors"], colors)
    assert len(back["faces"]) == len(faces)
    np.testing.assert_array_equal(np.asarray(back["faces"]).reshape(len(faces), -1)[:, -3:],
                                  faces)


def test_raycast_matches_the_analytic_depth(fused):
    vol, scene = fused
    pose = _views()[2]
    res = vol.raycast(pose, INTRINSICS)
    truth = scene.depth(pose)
    hit = res.depth > 0
    assert hit.mean() > 0.9
    # Away from the image border (half-observed voxels) and silhouettes the depth is exact.
    inner = np.zeros_like(hit)
    inner[4:-4, 4:-4] = True
    err = np.abs(res.depth - truth)[hit & inner]
    assert np.median(err) < 0.002 and np.mean(err < 0.01) > 0.97
    n = res.normals[hit & inner]
    assert np.mean(np.abs(np.linalg.norm(n, axis=1) - 1) < 1e-3) > 0.95
    # Vertices are the depth back-projected into the world.
    v = res.vertices[hit]
    cam = (v - pose[:3, 3]) @ pose[:3, :3]
    np.testing.assert_allclose(cam[:, 2], res.depth[hit], atol=1e-4)


def test_query_gives_signed_distance(fused):
    vol, _ = fused
    pts = np.array([[0.8, 0.6, 0.03], [0.8, 0.6, -0.03], [0.8, 0.6, 0.5]], np.float32)
    pts[:2, 2] += FLOOR_Z
    sdf, weight = vol.query(pts)
    # Projective SDF: the distance along the viewing rays, longer than the true 3 cm for these
    # oblique views of the floor (by 1 / cos of the incidence angle).
    assert 0.027 < sdf[0] < 0.06 and -0.06 < sdf[1] < -0.027
    assert np.isnan(sdf[2]) and weight[2] == 0  # free space far from the surface: no block


def test_stats_count_blocks_and_memory(fused):
    vol, _ = fused
    s = vol.stats
    assert s.blocks == len(vol.block_coords()) > 0
    assert s.voxels == 512 * s.blocks and s.budget is None and s.evicted == 0
    assert s.memory_bytes >= s.blocks * 512 * 11
    assert s.frames == 6
    assert len(np.unique(vol.block_coords(), axis=0)) == s.blocks


def test_frame_without_pose_is_an_error():
    frame = corner_scene().frame(_views()[0], with_pose=False)
    with pytest.raises(FrameError, match="no pose"):
        TSDFVolume(VOXEL).integrate(frame)


def test_malformed_frame_is_an_error():
    frame = corner_scene().frame(_views()[0])
    frame.depth = frame.depth.astype(np.float32)
    with pytest.raises(FrameError, match="uint16"):
        TSDFVolume(VOXEL).integrate(frame)


def test_empty_depth_touches_nothing():
    frame = corner_scene().frame(_views()[0])
    frame.depth[:] = 0
    vol = TSDFVolume(VOXEL)
    assert vol.integrate(frame) == 0
    points, colors, normals = vol.extract_points()
    assert points.shape == (0, 3) and colors.shape == (0, 3) and normals.shape == (0, 3)
    vertices, faces, _ = vol.extract_mesh()
    assert vertices.shape == (0, 3) and faces.shape == (0, 3)


@pytest.mark.parametrize("bad", [dict(voxel_size=0.0), dict(voxel_size=0.02, truncation=0.01),
                                 dict(voxel_size=0.02, max_blocks=0)])
def test_bad_parameters_are_rejected(bad):
    with pytest.raises(ValueError):
        TSDFVolume(**bad)


def test_block_budget_bounds_memory_and_evicts_far_blocks():
    """A camera gliding over a long floor: without a budget the map grows with the path; with
    one it stays at the budget, evicting the blocks left behind."""
    floor = Scene(planes=[((0, 0, 1), -FLOOR_Z)])
    budget = 600
    vol = TSDFVolume(VOXEL, max_blocks=budget)
    free = TSDFVolume(VOXEL)
    for i in range(40):
        pose = camera_pose((0.25 * i, 0.0, 1.0), (0.25 * i + 1.0, 0.0, 0.0))
        frame = floor.frame(pose, index=i)
        vol.integrate(frame)
        free.integrate(frame)
        assert vol.stats.blocks <= budget
    s = vol.stats
    assert free.stats.blocks > 3 * budget
    assert s.evicted > 0 and s.blocks + s.evicted >= free.stats.blocks - s.dropped
    assert s.memory_bytes < free.stats.memory_bytes / 2
    # What is left is the surface near the last camera position.
    points, _, _ = vol.extract_points()
    assert np.sqrt(np.mean((points[:, 2] - FLOOR_Z) ** 2)) < 0.25 * VOXEL  # grazing views
    assert points[:, 0].min() > 0.25 * 39 - 6.0


def test_a_frame_larger_than_the_budget_drops_its_farthest_blocks():
    floor = Scene(planes=[((0, 0, 1), -FLOOR_Z)])
    vol = TSDFVolume(VOXEL, max_blocks=50)
    pose = camera_pose((0.0, 0.0, 1.0), (1.0, 0.0, 0.0))
    vol.integrate(floor.frame(pose))
    s = vol.stats
    assert s.blocks == 50 and s.dropped > 0
    points, _, _ = vol.extract_points()
    assert np.linalg.norm(points[:, :2], axis=1).max() < 2.0  # the nearest blocks were kept


def test_color_is_optional():
    frame = corner_scene().frame(_views()[0])
    frame.color = None
    vol = TSDFVolume(VOXEL)
    vol.integrate(frame)
    _, colors, _ = vol.extract_points()
    assert len(colors) > 0 and colors.max() == 0


def test_frame_pose_is_used_by_default_and_explicit_pose_wins():
    scene = corner_scene()
    pose = _views()[0]
    frame = scene.frame(pose)
    a, b = TSDFVolume(VOXEL), TSDFVolume(VOXEL)
    a.integrate(frame)
    shifted = pose.copy()
    shifted[2, 3] += 0.5
    b.integrate(Frame(depth=frame.depth, depth_scale=frame.depth_scale,
                      intrinsics=frame.intrinsics, pose=pose), pose=shifted)
    pa, _, _ = a.extract_points()
    pb, _, _ = b.extract_points()
    assert abs(np.median(pb[:, 2]) - np.median(pa[:, 2]) - 0.5) < 0.05


_DETERMINISM_SCRIPT = """
import hashlib, numpy as np
from edge3d.runtime.fusion import TSDFVolume
from tests.fusion.scenes import camera_pose, corner_scene
scene, vol = corner_scene(), TSDFVolume(0.02)
for i in range(4):
    vol.integrate(scene.frame(camera_pose((0.2 + 0.1 * i, -0.3, 1.3), (1.4, 1.2, 0.3))))
h = hashlib.sha256()
for a in (*vol.extract_points(), *vol.extract_mesh()):
    h.update(np.ascontiguousarray(a).tobytes())
print(h.hexdigest())
"""


def test_results_do_not_depend_on_the_thread_count():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    digests = set()
    for threads in ("1", "2", "5"):
        env = {**os.environ, "EDGE3D_NUM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT], cwd=root, env=env,
                             capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_stale_blocks_are_evicted_before_far_ones():
    floor = Scene(planes=[((0, 0, 1), -FLOOR_Z)])

    def view(x: float):
        return floor.frame(camera_pose((x, 0.0, 1.0), (x + 0.5, 0.0, 0.0)))

    a, b, c = view(0.0), view(10.0), view(4.0)
    counts = []
    for frame in (a, b, c):
        probe = TSDFVolume(VOXEL, depth_max=2.5)
        probe.integrate(frame)
        counts.append(probe.stats.blocks)
    vol = TSDFVolume(VOXEL, max_blocks=counts[0] + counts[1] + 10, depth_max=2.5)
    vol.integrate(a)
    for _ in range(301):  # A is now unseen for more than 300 frames: stale
        vol.integrate(b)
    vol.integrate(c)  # C is nearer to A than to B, but A goes first
    points, _, _ = vol.extract_points()
    assert vol.stats.evicted > 0
    assert np.mean(points[:, 0] > 9.0) > 0.3  # B (far, recent) is still mapped
    assert np.mean(points[:, 0] < 1.5) < 0.05  # A (near, stale) is gone
