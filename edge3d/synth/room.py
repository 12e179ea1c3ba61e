"""Indoor rooms: floor, four walls, furniture on the floor, clutter on tables."""

from __future__ import annotations

import numpy as np

from edge3d.synth.classes import (
    BACKGROUND_CLASSES,
    BED,
    BOOKSHELF,
    CABINET,
    CHAIR,
    CLASS_NAMES,
    CLUTTER,
    DESK,
    FLOOR,
    SOFA,
    TABLE,
    WALL,
)
from edge3d.synth.furniture import Template, build, clutter
from edge3d.synth.layout import Layout, Placed, place_all
from edge3d.synth.primitives import Box, boxes_within, yaw_matrix
from edge3d.synth.world import SceneObject, World

# Relative frequency of each furniture class among floor-standing objects.
CLASS_WEIGHTS: dict[int, float] = {
    CHAIR: 0.25, TABLE: 0.12, SOFA: 0.09, CABINET: 0.12, BED: 0.06, BOOKSHELF: 0.10,
    DESK: 0.10, CLUTTER: 0.16,
}
# Rooms rarely hold more than this many of a bulky class.
MAX_PER_ROOM: dict[int, int] = {BED: 2, SOFA: 3, BOOKSHELF: 3}
WALL_THICKNESS = 0.1
_FLOOR_COLORS = [(150, 110, 75), (120, 120, 120), (190, 170, 140), (95, 70, 50)]
_WALL_COLORS = [(225, 222, 215), (210, 215, 225), (230, 215, 190), (200, 210, 195)]

ROOM_DEFAULTS: dict[str, object] = {
    "room_size": (3.0, 8.0),
    "wall_height": (2.5, 3.0),
    "num_objects": None,
    "touching_fraction": 0.3,
    "on_table_probability": 0.7,
    "max_on_table": 3,
    "gap": 0.15,
}


def _range(value: object, name: str) -> tuple[float, float]:
    lo, hi = (value, value) if np.isscalar(value) else value  # type: ignore[misc]
    lo, hi = float(lo), float(hi)
    if not 0 < lo <= hi:
        raise ValueError(f"{name} must be a positive number or a (min, max) range, got {value!r}")
    return lo, hi


def _sample_class(rng: np.random.Generator, counts: dict[int, int]) -> int:
    """A furniture class drawn by :data:`CLASS_WEIGHTS`, skipping those at :data:`MAX_PER_ROOM`."""
    classes = [c for c in CLASS_WEIGHTS if counts.get(c, 0) < MAX_PER_ROOM.get(c, 1 << 30)]
    p = np.array([CLASS_WEIGHTS[c] for c in classes])
    choice = int(classes[rng.choice(len(classes), p=p / p.sum())])
    counts[choice] = counts.get(choice, 0) + 1
    return choice


def make_room(seed: int, room_size: object = (3.0, 8.0), wall_height: object = (2.5, 3.0),
              num_objects: int | None = None, touching_fraction: float = 0.3,
              on_table_probability: float = 0.7, max_on_table: int = 3,
              gap: float = 0.15) -> World:
    """A random room; see :func:`edge3d.synth.make_world` for the parameters."""
    rng = np.random.default_rng(seed)
    size_lo, size_hi = _range(room_size, "room_size")
    h_lo, h_hi = _range(wall_height, "wall_height")
    sx, sy = float(rng.uniform(size_lo, size_hi)), float(rng.uniform(size_lo, size_hi))
    height = float(rng.uniform(h_lo, h_hi))
    if num_objects is None:
        num_objects = int(np.clip(round(sx * sy / 4.0 * rng.uniform(0.8, 1.2)), 3, 16))
    if num_objects < 0:
        raise ValueError(f"num_objects must be >= 0, got {num_objects}")

    counts: dict[int, int] = {}
    templates = [build(_sample_class(rng, counts), rng) for _ in range(num_objects)]

    def partner(anchor: Template) -> Template:
        cls = anchor.class_id
        if rng.random() < 0.5 and counts[cls] < MAX_PER_ROOM.get(cls, 1 << 30):
            counts[cls] += 1
        else:
            cls = _sample_class(rng, counts)
        return build(cls, rng)

    layout = Layout(rng, (sx, sy), gap=gap, walls=True)
    placed = place_all(layout, templates, touching_fraction, partner)

    objects: list[SceneObject] = []
    groups: dict[int, list[int]] = {}
    for p in placed:
        objects.append(_scene_object(len(objects) + 1, p, support=0))
        if p.group >= 0:
            groups.setdefault(p.group, []).append(len(objects))
    floor_count = len(objects)
    for host_id in range(1, floor_count + 1):
        host = placed[host_id - 1]
        if host.template.top is not None and rng.random() < on_table_probability:
            for item in _place_on_top(rng, host, int(rng.integers(1, max_on_table + 1))):
                objects.append(_scene_object(len(objects) + 1, item, support=host_id))

    return World(
        kind="room", seed=seed, class_names=CLASS_NAMES, background_classes=BACKGROUND_CLASSES,
        objects=objects, stuff=_room_shell(rng, sx, sy, height),
        interior=(np.zeros(3), np.array([sx, sy, height])),
        params={
            "room_size": (sx, sy), "wall_height": height, "num_objects": num_objects,
            "num_floor_objects": floor_count, "touching_fraction": touching_fraction,
            "touching_groups": [tuple(v) for v in groups.values()],
            "on_table_probability": on_table_probability, "max_on_table": max_on_table,
            "gap": gap,
        },
    )


def _scene_object(instance_id: int, p: Placed, support: int) -> SceneObject:
    return SceneObject(instance_id=instance_id, class_id=p.template.class_id,
                       primitives=p.primitives(), colors=np.asarray(p.template.colors, np.uint8),
                       position=p.pivot.copy(), yaw=float(p.yaw), support=support)


def _place_on_top(rng: np.random.Generator, host: Placed, count: int) -> list[Placed]:
    """Up to ``count`` clutter items standing on ``host``'s top, apart from each other."""
    x0, y0, x1, y1, z = host.template.top  # type: ignore[misc]
    inset, items = 0.03, []
    for _ in range(count):
        for _attempt in range(20):
            t = clutter(rng, max_size=min(0.3, (x1 - x0) / 2, (y1 - y0) / 2))
            rel_yaw = float(rng.uniform(0, 2 * np.pi))
            local = Placed(t, rel_yaw, np.zeros(3), False)
            lo, hi = local.hull().aabb()
            if hi[0] - lo[0] > x1 - x0 - 2 * inset or hi[1] - lo[1] > y1 - y0 - 2 * inset:
                continue
            at = np.array([rng.uniform(x0 + inset - lo[0], x1 - inset - hi[0]),
                           rng.uniform(y0 + inset - lo[1], y1 - inset - hi[1]), z])
            item = Placed(t, host.yaw + rel_yaw, host.pivot + yaw_matrix(host.yaw) @ at, False)
            if not any(boxes_within(item.hull(), other.hull(), 0.02) for other in items):
                items.append(item)
                break
    return items


def _room_shell(rng: np.random.Generator, sx: float, sy: float, height: float
                ) -> list[SceneObject]:
    """Floor (top at z = 0) and four walls around ``[0, sx] x [0, sy]``, overlapping at corners."""
    t = WALL_THICKNESS
    floor_color = np.array(_FLOOR_COLORS[rng.integers(len(_FLOOR_COLORS))], np.uint8)
    wall_color = np.array(_WALL_COLORS[rng.integers(len(_WALL_COLORS))], np.uint8)
    floor = SceneObject(0, FLOOR, [Box.from_extents((-t, -t, -t), (sx + t, sy + t, 0.0))],
                        floor_color[None])
    walls = [
        Box.from_extents((-t, -t, -t), (sx + t, 0.0, height)),
        Box.from_extents((-t, sy, -t), (sx + t, sy + t, height)),
        Box.from_extents((-t, -t, -t), (0.0, sy + t, height)),
        Box.from_extents((sx, -t, -t), (sx + t, sy + t, height)),
    ]
    wall = SceneObject(0, WALL, walls, np.repeat(wall_color[None], 4, 0))
    return [floor, wall]
