"""The virtual camera: exact geometry without noise, the z^2 noise model, holes, labels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from edge3d.geometry import backproject, look_at, transform_points
from edge3d.synth import VirtualCamera, trajectories
from edge3d.synth.camera import d435_intrinsics

from .conftest import boxes_world, room, room_points, small_intrinsics

BACKENDS = ["numpy", "native"]


def _wall_world(z: float, size: float = 20.0):
    """A big wall facing a camera at the origin looking along +x, ``z`` metres away."""
    return boxes_world([], stuff_boxes=[((z, -size, -size), (z + 0.2, size, size))])


def _camera_pose_x() -> np.ndarray:
    return look_at(np.zeros(3), np.array([1.0, 0.0, 0.0]))


def test_default_intrinsics_are_d435_like() -> None:
    k = VirtualCamera().intrinsics
    assert (k.width, k.height) == (640, 480)
    hfov = np.degrees(2 * np.arctan(k.width / 2 / k.fx))
    assert 75 < hfov < 90
    assert k.distortion_model == "brown_conrady" and not any(k.distortion_coeffs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_noise_free_depth_lies_on_true_surfaces(backend: str) -> None:
    w = room(1)
    cam = VirtualCamera(small_intrinsics(), noise=False, backend=backend)
    pts = room_points(1, 0.015)
    tree = cKDTree(pts.positions)
    for pose in trajectories.orbit(w, 3):
        r = cam.render(w, pose)
        f = r.frame
        valid = f.depth > 0
        in_range = (r.semantic >= 0) & (r.depth_true >= 0.2) & (r.depth_true <= 6.0)
        np.testing.assert_array_equal(valid, in_range)  # no holes without noise, only range
        assert valid.mean() > 0.5
        # Quantisation only: depth is the exact depth rounded to 1 mm units.
        np.testing.assert_array_equal(f.depth[valid],
                                      np.rint(r.depth_true[valid].astype(np.float64) / 0.001))
        world_pts = transform_points(pose, backproject(f.depth_m(), f.intrinsics)[valid])
        dist, idx = tree.query(world_pts)
        assert np.percentile(dist, 99) < 0.016 and dist.max() < 0.05
        # Labels of each pixel agree with the nearest labelled surface point.
        agree = (pts.instance[idx] == r.instance[valid]) & (pts.semantic[idx] == r.semantic[valid])
        assert agree.mean() > 0.98
        # Noise-free colour is the shaded colour the labelled points carry.
        same_colour = np.all(pts.colors[idx] == f.color[valid], axis=1)
        assert same_colour[agree].mean() > 0.97


@pytest.mark.parametrize("backend", BACKENDS)
def test_exact_hit_point_is_on_the_labelled_box(backend: str) -> None:
    w = room(6)
    cam = VirtualCamera(small_intrinsics(), noise=False, backend=backend)
    pose = trajectories.walkthrough(w, 10)[5]
    z, prim, normal = cam.raycast(w, pose)
    hit = prim >= 0
    pts = transform_points(pose, backproject(z, cam.intrinsics).astype(np.float64))[hit]
    t = w.primitives
    for i in np.unique(prim[hit]):
        sel = prim[hit] == i
        local = t.box(int(i)).to_local(pts[sel])
        excess = np.abs(local) - t.halves[i]
        assert np.all(excess < 1e-4)  # inside or on the box
        assert np.all(np.max(excess, axis=1) > -1e-4)  # on its boundary
    np.testing.assert_allclose(np.linalg.norm(normal[hit], axis=1), 1.0, atol=1e-5)


def test_native_matches_numpy_reference() -> None:
    w = room(8)
    for noise in (False, True):
        for i, pose in enumerate(trajectories.walkthrough(w, 12)[::4]):
            ref = VirtualCamera(small_intrinsics(), noise=noise, seed=4, backend="numpy")
            fast = VirtualCamera(small_intrinsics(), noise=noise, seed=4, backend="native")
            a, b = ref.render(w, pose, index=i), fast.render(w, pose, index=i)
            np.testing.assert_array_equal(a.depth_true, b.depth_true)
            np.testing.assert_array_equal(a.instance, b.instance)
            np.testing.assert_array_equal(a.semantic, b.semantic)
            # Same random numbers; log/cos may differ in the last bit, which can flip a rounding.
            dd = np.abs(a.frame.depth.astype(int) - b.frame.depth.astype(int))
            assert np.mean(dd > 0) < 1e-3 and np.all((dd <= 1) | (a.frame.depth == 0)
                                                     | (b.frame.depth == 0))
            dc = np.abs(a.frame.color.astype(int) - b.frame.color.astype(int))
            assert dc.max() <= 1 and np.mean(dc > 0) < 1e-3


def test_native_output_does_not_depend_on_threads() -> None:
    import subprocess
    import sys

    code = ("import numpy as np, hashlib; from edge3d import synth; w = synth.make_world(3); "
            "r = synth.VirtualCamera().render(w, synth.trajectories.orbit(w, 2)[1]); "
            "print(hashlib.sha1(r.frame.depth.tobytes() + r.frame.color.tobytes()).hexdigest())")
    digests = set()
    for threads in ("1", "2", "7"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**__import__("os").environ,
                                              "EDGE3D_NUM_THREADS": threads})
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_noise_sigma_grows_with_depth_squared() -> None:
    cam_kw = {"intrinsics": small_intrinsics(320, 240), "noise": True, "holes": False}
    sigmas = []
    for z in (1.0, 2.0, 3.0):
        cam = VirtualCamera(**cam_kw)
        errs = []
        for i in range(4):
            r = cam.render(_wall_world(z), _camera_pose_x(), index=i)
            v = r.frame.depth > 0
            errs.append(r.frame.depth_m()[v] - r.depth_true[v])
        err = np.concatenate(errs)
        assert abs(err.mean()) < 0.1 * cam.depth_sigma(z) + 1e-4  # unbiased
        sigmas.append(err.std())
        expected = np.sqrt(cam.depth_sigma(z) ** 2 + 0.001 ** 2 / 12)  # + quantisation
        assert abs(err.std() / expected - 1) < 0.05, (z, err.std(), expected)
    assert 3.6 < sigmas[1] / sigmas[0] < 4.4 and 8.0 < sigmas[2] / sigmas[0] < 10.0


def test_d435_sigma_formula() -> None:
    cam = VirtualCamera()
    # sigma_z = z^2 * subpixel / (f * baseline): 2 m -> 4 * 0.08 / (385 * 0.05) = 16.6 mm
    assert cam.depth_sigma(2.0) == pytest.approx(4 * 0.08 / (385.0 * 0.05))


def test_range_limits_give_zero_depth() -> None:
    cam = VirtualCamera(small_intrinsics(), noise=False, max_depth=6.0)
    far = cam.render(_wall_world(7.0), _camera_pose_x())
    assert np.all(far.frame.depth == 0) and np.all(far.semantic == 0)
    near = cam.render(_wall_world(0.15), _camera_pose_x())
    assert np.all(near.frame.depth == 0)
    ok = cam.render(_wall_world(3.0), _camera_pose_x())
    assert np.all(ok.frame.depth > 0)


def test_grazing_angles_are_holes() -> None:
    # A floor seen from 1.5 m: rays meet it more steeply than 80 degrees from its normal beyond
    # 1.5 / tan(10 deg) = 8.5 m; make that nearer with a lower limit.
    floor = boxes_world([], stuff_boxes=[((-50, -50, -0.1), (50, 50, 0.0))])
    pose = look_at(np.array([0, 0, 1.5]), np.array([5.0, 0, 1.2]))
    cam = VirtualCamera(small_intrinsics(), noise=False, holes=True, dropout=0.0,
                        max_incidence_deg=70.0, max_depth=40.0)
    r = cam.render(floor, pose)
    z, ok = r.depth_true, r.frame.depth > 0
    rays = backproject(np.ones_like(z), cam.intrinsics) @ pose[:3, :3].T
    cos_inc = -rays[..., 2] / np.linalg.norm(rays, axis=2)  # floor normal is +z
    surface = r.semantic >= 0
    steep = surface & (cos_inc < np.cos(np.radians(70)) - 1e-3)
    flat = surface & (cos_inc > np.cos(np.radians(70)) + 1e-3)
    assert steep.sum() > 100 and flat.sum() > 100
    assert not ok[steep].any()
    interior = flat.copy()  # away from the image border and the horizon edge
    interior[:, [0, -1]] = False
    assert ok[interior & (z < 15)].mean() > 0.99


def test_stereo_shadow_left_of_near_object_and_edges() -> None:
    # A box 1.5 m in front of a wall at 3 m: the right imager cannot see a band of wall left of
    # the box, f * b * (1/1.5 - 1/3) pixels wide.
    k = d435_intrinsics(320, 240)
    w = boxes_world([((1.5, -0.3, -0.3), (1.7, 0.3, 0.3))],
                    stuff_boxes=[((3.0, -9, -9), (3.2, 9, 9))])
    cam = VirtualCamera(k, noise=False, holes=True, dropout=0.0)
    r = cam.render(w, _camera_pose_x())
    row = k.height // 2
    obj = np.flatnonzero(r.instance[row] == 1)
    left_edge = obj.min()
    band = k.fx * 0.05 * (1 / 1.5 - 1 / 3.0)
    d = r.frame.depth[row]
    invalid_left = left_edge - np.flatnonzero(d[:left_edge] > 0).max() - 1
    assert abs(invalid_left - band) <= 2.0, (invalid_left, band)
    # On the right side only the one-pixel discontinuity rim is missing.
    right_edge = obj.max()
    assert d[right_edge] == 0 and d[right_edge + 1] == 0 and d[right_edge + 3] > 0
    assert d[obj.min() + 2: right_edge - 1].all()


def test_noise_false_has_no_holes_but_holes_true_does() -> None:
    w = room(2)
    pose = trajectories.orbit(w, 4)[1]
    clean = VirtualCamera(small_intrinsics(), noise=False).render(w, pose)
    surface_in_range = (clean.semantic >= 0) & (clean.depth_true >= 0.2) & (clean.depth_true <= 6)
    np.testing.assert_array_equal(clean.frame.depth > 0, surface_in_range)
    holey = VirtualCamera(small_intrinsics(), noise=False, holes=True).render(w, pose)
    assert (holey.frame.depth > 0).sum() < (clean.frame.depth > 0).sum()


def test_frame_fields_and_labels() -> None:
    w = room(3)
    pose = trajectories.static(w, 1)[0]
    r = VirtualCamera(small_intrinsics(), seed=5).render(w, pose, index=7)
    f = r.frame.validate()
    assert f.index == 7 and f.timestamp == pytest.approx(7 / 30)
    assert f.depth.dtype == np.uint16 and f.color.dtype == np.uint8
    assert f.depth_scale == 0.001
    np.testing.assert_array_equal(f.pose, pose)
    assert r.instance.dtype == np.int32 and r.semantic.dtype == np.int32
    assert set(np.unique(r.semantic)) <= set(range(-1, 10))
    stuff = np.isin(r.semantic, (-1, 0, 1))
    assert np.all(r.instance[stuff] == 0) and np.all(r.instance[~stuff] > 0)
    for inst in np.unique(r.instance[r.instance > 0]):  # one class per instance
        assert len(np.unique(r.semantic[r.instance == inst])) == 1
    assert np.all(f.color[r.semantic == -1] <= 8)  # nothing there: black, up to noise


def test_same_seed_and_index_same_noise() -> None:
    w = room(3)
    pose = trajectories.static(w, 1)[0]
    a = VirtualCamera(small_intrinsics(), seed=1).render(w, pose, index=2)
    b = VirtualCamera(small_intrinsics(), seed=1).render(w, pose, index=2)
    c = VirtualCamera(small_intrinsics(), seed=1).render(w, pose, index=3)
    np.testing.assert_array_equal(a.frame.depth, b.frame.depth)
    np.testing.assert_array_equal(a.frame.color, b.frame.color)
    assert not np.array_equal(a.frame.depth, c.frame.depth)


def test_bad_pose_is_rejected() -> None:
    with pytest.raises(ValueError, match="4x4"):
        VirtualCamera(small_intrinsics()).render(room(0), np.eye(3))


def test_observed_points() -> None:
    from edge3d.synth import observed

    # A box 2 m in front of the camera: its front face is seen, its back face is not.
    w = boxes_world([((2.0, -0.3, -0.3), (2.6, 0.3, 0.3))])
    pts = w.surface_points(spacing=0.02)
    cam = VirtualCamera(small_intrinsics(), noise=False)
    frames = [cam.render(w, _camera_pose_x())]
    seen = observed(pts.positions, frames)
    front = np.abs(pts.positions[:, 0] - 2.0) < 1e-6
    back = np.abs(pts.positions[:, 0] - 2.6) < 1e-6
    assert seen[front].mean() > 0.85 and not seen[back].any()  # border pixels may miss
    assert not observed(pts.positions, frames, min_views=2).any()
    # Holes: with stereo holes on, edge pixels are holes, so fewer points count as observed.
    holey = [VirtualCamera(small_intrinsics(), noise=False, holes=True).render(
        w, _camera_pose_x())]
    assert observed(pts.positions, holey).sum() < seen.sum()
    assert observed(pts.positions, holey, valid_depth_only=False).sum() == seen.sum()
