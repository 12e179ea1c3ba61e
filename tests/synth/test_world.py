"""Room worlds: determinism, class shapes and size priors, touching, labelled surface points."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.synth import BACKGROUND_CLASSES, CLASS_NAMES, make_world
from edge3d.synth.classes import CHAIR, TABLE

from .conftest import boxes_world, objects_within, room, room_points

SEEDS = range(12)

# (sorted horizontal sizes lo/hi, height lo/hi, part count) per class, metres, from furniture.py's
# documented priors; checked on the placed objects in the object's own frame.
PRIORS = {
    "chair": ((0.40, 0.50), (0.40, 0.50), (0.77, 0.98), {6}),
    "table": ((0.60, 1.00), (0.90, 1.80), (0.70, 0.78), {5}),
    "sofa": ((0.80, 1.00), (1.50, 2.40), (0.75, 0.95), {4}),
    "cabinet": ((0.35, 0.60), (0.40, 1.20), (0.70, 2.00), {3, 4}),
    "bed": ((0.90, 1.80), (1.90, 2.10), (0.80, 1.20), {4, 5}),
    "bookshelf": ((0.25, 0.40), (0.60, 1.20), (1.20, 2.00), {7, 8, 9}),
    "desk": ((0.55, 0.80), (1.00, 1.60), (0.72, 0.76), {4}),
    "clutter": ((0.08, 0.45), (0.08, 0.45), (0.05, 0.55), {1, 2}),
}


def _local_extent(obj) -> np.ndarray:
    """Size of the object in its own (yawed) frame, [x, y, z]."""
    c, s = np.cos(obj.yaw), np.sin(obj.yaw)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    pts = np.concatenate([b.corners() for b in obj.primitives]) @ rot
    return pts.max(0) - pts.min(0)


def test_same_seed_same_world_and_points() -> None:
    a, b = make_world(11), make_world(11)
    assert len(a.objects) == len(b.objects)
    np.testing.assert_array_equal(a.primitives.centers, b.primitives.centers)
    np.testing.assert_array_equal(a.primitives.colors, b.primitives.colors)
    pa, pb = a.surface_points(0.05, seed=2), b.surface_points(0.05, seed=2)
    np.testing.assert_array_equal(pa.positions, pb.positions)
    np.testing.assert_array_equal(pa.gt_ids, pb.gt_ids)
    c = make_world(12)
    assert c.primitives.centers.shape != a.primitives.centers.shape or not np.allclose(
        c.primitives.centers, a.primitives.centers)


def test_room_size_walls_and_labels() -> None:
    for seed in SEEDS:
        w = room(seed)
        sx, sy = w.params["room_size"]
        assert 3.0 <= sx <= 8.0 and 3.0 <= sy <= 8.0
        assert [o.instance_id for o in w.objects] == list(range(1, len(w.objects) + 1))
        assert {o.class_id for o in w.stuff} == set(BACKGROUND_CLASSES)
        assert all(o.instance_id == 0 for o in w.stuff)
        assert all(o.class_id not in BACKGROUND_CLASSES for o in w.objects)
        lo, hi = w.interior
        for o in w.objects:  # inside the room, on the floor or on their support
            blo, bhi = o.bounds()
            assert np.all(blo[:2] >= lo[:2] - 1e-6) and np.all(bhi[:2] <= hi[:2] + 1e-6)
            if o.support == 0:
                assert abs(blo[2]) < 1e-9
            else:
                host = w.objects[o.support - 1]
                assert host.class_id in (TABLE, CLASS_NAMES.index("desk"),
                                         CLASS_NAMES.index("cabinet"))
                assert abs(blo[2] - host.bounds()[1][2]) < 1e-9


def test_class_shapes_and_size_priors() -> None:
    seen = set()
    for seed in range(40):
        for obj in room(seed).objects if seed < 12 else make_world(seed).objects:
            name = CLASS_NAMES[obj.class_id]
            small, large, height, parts = PRIORS[name]
            ext = _local_extent(obj)
            a, b = sorted(ext[:2])
            lo_small = min(small[0], large[0])
            assert lo_small - 1e-6 <= a and b <= max(small[1], large[1]) + 0.03, (name, ext)
            assert height[0] - 1e-6 <= ext[2] <= height[1] + 1e-6, (name, ext)
            assert len(obj.primitives) in parts, (name, len(obj.primitives))
            seen.add(name)
    assert seen == set(PRIORS), f"classes never generated: {set(PRIORS) - seen}"


def test_chair_is_seat_back_and_legs() -> None:
    chair = next(o for s in SEEDS for o in room(s).objects if o.class_id == CHAIR)
    heights = sorted((b.aabb()[0][2], b.aabb()[1][2]) for b in chair.primitives)
    legs = [h for h in heights if h[0] < 1e-9]
    assert len(legs) == 4  # four legs stand on the floor
    seat_top = max(h[1] for h in legs)
    assert 0.35 < seat_top < 0.48
    assert max(h[1] for h in heights) > seat_top + 0.3  # the back rises above the seat


def _touching(world) -> set[int]:
    floor = [o for o in world.objects if o.support == 0]
    out = set()
    for i, a in enumerate(floor):
        for b in floor[i + 1:]:
            if objects_within(a, b, 1e-6):
                out |= {a.instance_id, b.instance_id}
    return out


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.6])
def test_touching_fraction_is_honoured(fraction: float) -> None:
    measured, planned = [], []
    for seed in range(8):
        w = make_world(seed, touching_fraction=fraction, num_objects=10, room_size=(6, 8))
        touching = _touching(w)
        grouped = {i for g in w.params["touching_groups"] for i in g}
        assert touching == grouped, f"seed {seed}: touching {touching} != planned {grouped}"
        measured.append(len(touching) / w.params["num_floor_objects"])
        planned.append(fraction)
    assert abs(np.mean(measured) - fraction) < 0.1, measured


def test_free_objects_keep_their_gap() -> None:
    w = make_world(4, touching_fraction=0.0, num_objects=8, gap=0.2)
    floor = [o for o in w.objects if o.support == 0]
    for i, a in enumerate(floor):
        for b in floor[i + 1:]:
            assert not objects_within(a, b, 0.19)


def test_objects_on_tables() -> None:
    on_top = [o for s in SEEDS for o in room(s).objects if o.support]
    assert on_top, "no clutter on tables in 12 rooms"
    assert all(CLASS_NAMES[o.class_id] == "clutter" for o in on_top)
    none = make_world(3, on_table_probability=0.0)
    assert all(o.support == 0 for o in none.objects)


def test_surface_points_are_labelled_and_exposed() -> None:
    w = room(2)
    pts = w.surface_points(spacing=0.03, seed=0)
    n = len(pts)
    assert pts.positions.dtype == np.float32 and pts.positions.shape == (n, 3)
    assert pts.colors.dtype == np.uint8 and pts.normals.dtype == np.float32
    assert pts.semantic.dtype == np.int32 and pts.instance.dtype == np.int32
    np.testing.assert_allclose(np.linalg.norm(pts.normals, axis=1), 1.0, atol=1e-5)
    stuff = np.isin(pts.semantic, BACKGROUND_CLASSES)
    assert np.all(pts.instance[stuff] == 0) and np.all(pts.instance[~stuff] > 0)
    assert set(np.unique(pts.instance[~stuff])) <= {o.instance_id for o in w.objects}
    np.testing.assert_array_equal(pts.gt_ids, pts.semantic.astype(np.int64) * 1000 + pts.instance)
    # Nothing below the floor, outside the walls, or inside any box (hidden faces are dropped).
    lo, hi = w.interior
    assert np.all(pts.positions >= lo - 1e-3) and np.all(pts.positions <= hi + 1e-3)
    t = w.primitives
    for i in range(len(t)):
        box = t.box(i)
        local = np.abs(box.to_local(pts.positions)) - box.half
        assert not np.any(np.all(local < -1e-3, axis=1)), f"points inside box {i}"
    # The floor under a box standing on it (a cabinet's plinth) has no points.
    seed = next(s for s in SEEDS for o in room(s).objects if CLASS_NAMES[o.class_id] == "cabinet")
    w = room(seed)
    floor = w.surface_points(0.03).positions
    floor = floor[np.abs(floor[:, 2]) < 1e-6]
    plinth = next(o.primitives[0] for o in w.objects if CLASS_NAMES[o.class_id] == "cabinet")
    probe = np.column_stack([floor[:, :2], np.full(len(floor), plinth.center[2])])
    assert not np.any(plinth.contains(probe, -0.01))


def test_surface_point_density() -> None:
    w = room(5)
    a, b = w.surface_points(0.04), w.surface_points(0.02)
    assert 3.2 < len(b) / len(a) < 4.8  # points per area grow as 1 / spacing^2
    with pytest.raises(ValueError, match="spacing"):
        w.surface_points(0.0)


def test_unknown_parameter_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"valid: .*touching_fraction"):
        make_world(0, touchng_fraction=0.5)
    with pytest.raises(ValueError, match="room, toy"):
        make_world(0, kind="castle")


def test_no_two_objects_interpenetrate() -> None:
    for seed in range(10):
        for kind in ("room", "toy"):
            w = make_world(seed, kind=kind, touching_fraction=0.8)
            objs = w.objects
            for i, a in enumerate(objs):
                for b in objs[i + 1:]:
                    assert not objects_within(a, b, -1e-6), (kind, seed, a.instance_id,
                                                             b.instance_id)


def test_planned_objects_are_placed() -> None:
    complete = [make_world(seed).params for seed in range(20)]
    done = [p["num_floor_objects"] == p["num_objects"] for p in complete]
    assert np.mean(done) >= 0.9, complete


def test_signed_distance_to_surfaces() -> None:
    w = room(2)
    pts = room_points(2, 0.05)
    sd = w.signed_distance(pts.positions)
    assert sd.dtype == np.float32 and np.abs(sd).max() < 1e-5  # on the surface
    # Off the surface along the normal: free space if nothing else is nearer.
    off = pts.positions + 0.01 * pts.normals
    np.testing.assert_array_less(w.signed_distance(off), 0.01 + 1e-5)
    assert np.median(w.signed_distance(off)) == pytest.approx(0.01, abs=1e-5)
    inside = pts.positions - 0.01 * pts.normals  # into the box it lies on
    assert np.all(w.signed_distance(inside) < 0)
    # A hand-made world with known distances: a floor slab and a unit box on it.
    simple = boxes_world([((2.0, 2.0, 0.0), (3.0, 3.0, 1.0))],
                         stuff_boxes=[((-10, -10, -0.1), (10, 10, 0.0))])
    probe = np.array([[0.0, 0.0, 1.5], [0.0, 0.0, -0.04], [3.3, 3.4, 1.0], [2.5, 2.5, 0.9]])
    np.testing.assert_allclose(simple.signed_distance(probe), [1.5, -0.04, 0.5, -0.1],
                               atol=1e-6)
