"""The geometric segmenter: structure, superpoints, support and colour cuts, on scenes whose
answer is known."""

from __future__ import annotations

import numpy as np
import pytest

import edge3d
from edge3d.runtime.methods.geometric import GeometricParams

from .scenes import BOXES, floor_and_walls, purity, room_scene, scanned_boxes

FLOOR, WALL = 1, 2


def segment(points, colors=None, **options):
    return edge3d.Segmenter("geometric", **options).segment(points, colors)


def scene(boxes, colors=None, walls=True, noise=0.002, seed=0):
    """Scanned boxes (contact faces hidden) in a room; returns points, colours, owner (-1 for
    floor and walls, k for box k)."""
    obj, owner = scanned_boxes(boxes)
    parts, own = [obj], [owner]
    if walls:
        room = floor_and_walls()
        parts.append(room)
        own.append(np.full(len(room), -1))
    pts = np.concatenate(parts)
    pts = pts + np.random.default_rng(seed).normal(0, noise, pts.shape)
    own = np.concatenate(own)
    cols = None
    if colors is not None:
        table = np.asarray([*colors, (0.85, 0.85, 0.8)], np.float32)
        cols = table[own]
    return pts.astype(np.float32), cols, own


def instance_of(result, owner, k) -> tuple[int, float]:
    """The instance holding most of box k's points, and its share of them."""
    lab = result.labels[owner == k]
    ids, counts = np.unique(lab, return_counts=True)
    best = int(np.argmax(counts))
    return int(ids[best]), counts[best] / len(lab)


def test_every_box_found_floor_and_walls_are_structure():
    pts, gt = room_scene()
    result = segment(pts)
    found = purity(result, gt, pts)
    assert sorted(found) == list(range(1, len(BOXES) + 1))
    assert len({i for i, _ in found.values()}) == len(BOXES)
    assert all(share > 0.9 and i > 0 for i, share in found.values())
    # The third box stands 5 cm from a wall and its 2 m high face is parallel to it: it is
    # not taken for the wall (the wall behind it is larger).
    cls = result.classes[gt == 0]
    assert np.mean(np.isin(cls, [FLOOR, WALL])) > 0.95
    assert np.mean(result.labels[gt == 0] > 0) < 0.02
    scores = [i.score for i in result.instances]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    for inst in result.instances:
        assert inst.class_name == "object"
        np.testing.assert_allclose(inst.box_min, pts[inst.indices].min(0))
        assert np.all(result.labels[inst.indices] == inst.id)
    assert {"graph", "structure", "objects", "total"} <= set(result.timings)


@pytest.mark.parametrize(("yaw", "offset"), [(30.0, (0, 0, 0)), (-63.0, (812.4, -3055.7, 2.5))])
def test_rotated_and_far_from_the_origin(yaw: float, offset):
    pts, gt = room_scene()
    c, s = np.cos(np.deg2rad(yaw)), np.sin(np.deg2rad(yaw))
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    moved = (pts.astype(np.float64) @ rot.T + offset).astype(np.float32)
    result = segment(moved)
    found = purity(result, gt, pts)  # heights above the unmoved floor
    assert len({i for i, _ in found.values()}) == len(BOXES)
    assert all(share > 0.9 for _, share in found.values())
    assert np.mean(np.isin(result.classes[gt == 0], [FLOOR, WALL])) > 0.9


def table_with(items):
    """A table (top 1.2 x 0.8 m at 0.75 m on four legs) and ``items`` as boxes."""
    legs = [((x, y, 0.0), (x + 0.05, y + 0.05, 0.72)) for x in (1.0, 2.15) for y in (1.5, 2.25)]
    return [((1.0, 1.5, 0.72), (2.2, 2.3, 0.75)), *legs, *items]


def test_objects_on_a_table_are_cut_from_it():
    boxes = table_with([((1.3, 1.7, 0.75), (1.5, 1.9, 0.95)),      # a box on the top
                        ((1.8, 1.9, 0.75), (2.0, 2.1, 0.85))])     # another, apart
    pts, _, own = scene(boxes)
    result = segment(pts)
    table = {instance_of(result, own, k)[0] for k in range(5)}
    assert len(table) == 1 and table != {-1}
    box1, share1 = instance_of(result, own, 5)
    box2, share2 = instance_of(result, own, 6)
    assert len({*table, box1, box2}) == 3
    assert share1 > 0.9 and share2 > 0.9


def test_a_chair_stays_whole():
    # Seat on four legs, back standing on the seat's rear edge: the back rests on the seat's
    # edge, not inside it, so it is part of the chair.
    seat = ((2.0, 2.0, 0.42), (2.45, 2.45, 0.46))
    legs = [((x, y, 0.0), (x + 0.04, y + 0.04, 0.42)) for x in (2.0, 2.41) for y in (2.0, 2.41)]
    back = ((2.0, 2.41, 0.46), (2.45, 2.45, 0.9))
    pts, _, own = scene([seat, *legs, back])
    result = segment(pts)
    parts = {instance_of(result, own, k)[0] for k in range(6)}
    assert len(parts) == 1 and parts != {-1}


def test_furniture_in_contact_side_by_side_is_one_instance():
    # The documented limit: a cabinet standing against a table's edge touches it along
    # vertical faces, where geometry alone cannot tell two objects from one.
    boxes = table_with([((2.2, 1.4, 0.0), (2.7, 2.4, 1.4))])
    pts, _, own = scene(boxes)
    result = segment(pts)
    assert len({instance_of(result, own, k)[0] for k in range(6)}) == 1


def test_a_desk_seen_from_above_without_floor_is_not_the_floor():
    # A close view of a desk: its top is the lowest big horizontal surface, but its legs
    # reach below it, so it is not the floor.
    boxes = table_with([((1.3, 1.7, 0.75), (1.5, 1.9, 0.95))])
    pts, _, own = scene(boxes, walls=False)
    seen = pts[:, 2] > 0.3
    pts, own = pts[seen], own[seen]
    result = segment(pts)
    top = own == 0
    assert np.mean(result.classes[top] == FLOOR) < 0.05
    assert np.mean(result.labels[top] > 0) > 0.9


def test_a_door_flush_with_the_wall_is_found_by_colour():
    pts, cols, own = scene([((1.0, 1.0, 0.0), (1.6, 1.5, 0.7))], colors=[(0.3, 0.5, 0.3)])
    # A brown door on the y = 0 wall.
    door = (own == -1) & (np.abs(pts[:, 1]) < 0.01) & (pts[:, 0] > 2.0) & \
        (pts[:, 0] < 2.9) & (pts[:, 2] < 2.05)
    cols[door] = (0.45, 0.3, 0.15)
    result = segment(pts, cols)
    ids, counts = np.unique(result.labels[door], return_counts=True)
    d = int(ids[np.argmax(counts)])
    assert d > 0 and counts.max() / door.sum() > 0.8
    door_inst = next(i for i in result.instances if i.id == d)
    box_inst = next(i for i in result.instances if i.id == instance_of(result, own, 0)[0])
    assert door_inst.score < box_inst.score
    # The rest of the wall stays wall, and no other instance appears on it.
    wall = (own == -1) & ~door & (pts[:, 2] > 0.05)
    assert np.mean(result.classes[wall] == WALL) > 0.95
    assert len(result.instances) == 2
    # Without colour, the door is just wall (and floor at its foot).
    plain = segment(pts)
    assert np.mean(plain.classes[door & (pts[:, 2] > 0.05)] == WALL) > 0.95


def test_sparse_walls_and_floor_of_a_decimated_mesh():
    # Mesh vertices are sparse on flat walls and floors (8 cm here) and dense on furniture.
    room = floor_and_walls(spacing=0.08)
    obj, owner = scanned_boxes(BOXES[:2])
    pts = np.concatenate([room, obj]).astype(np.float32)
    result = segment(pts)
    assert np.mean(np.isin(result.classes[:len(room)], [FLOOR, WALL])) > 0.95
    result.labels = result.labels[len(room):]
    a, share_a = instance_of(result, owner, 0)
    b, share_b = instance_of(result, owner, 1)
    assert a != b and min(a, b) > 0 and min(share_a, share_b) > 0.9


def test_a_swivel_chair_base_joins_its_seat_across_a_missing_column():
    base = [((1.0, 1.3, 0.0), (1.6, 1.34, 0.08)), ((1.28, 1.0, 0.0), (1.32, 1.6, 0.08))]
    seat = ((1.05, 1.05, 0.3), (1.55, 1.55, 0.36))
    back = ((1.05, 1.51, 0.36), (1.55, 1.55, 0.8))
    pts, _, own = scene([*base, seat, back])
    result = segment(pts)
    parts = {instance_of(result, own, k)[0] for k in range(4)}
    assert len(parts) == 1 and parts != {-1}


def test_empty_tiny_and_structure_only_inputs():
    assert len(segment(np.zeros((0, 3), np.float32))) == 0
    r = segment(np.zeros((5, 3), np.float32))
    assert len(r) == 0 and np.all(r.labels == -1)
    r = segment(floor_and_walls())
    assert len(r) == 0
    assert np.mean(r.classes >= FLOOR) > 0.98


def test_min_points_drops_small_pieces():
    pts, _ = room_scene()
    speck = np.random.default_rng(1).normal((2.5, 2.0, 1.2), 0.01, (30, 3)).astype(np.float32)
    full = np.concatenate([pts, speck])
    assert np.all(segment(full).labels[len(pts):] == -1)
    assert np.all(segment(full, min_points=5).labels[len(pts):] > 0)


def test_options_are_validated():
    with pytest.raises(TypeError, match="voxel_size"):
        edge3d.Segmenter("geometric", voxelsize=0.02)
    with pytest.raises(ValueError, match="voxel_size must be > 0"):
        GeometricParams(voxel_size=0.0)
    with pytest.raises(ValueError, match="neighbors"):
        GeometricParams(neighbors=0)
    with pytest.raises(ValueError, match="non-negative"):
        GeometricParams(min_points=-1)
