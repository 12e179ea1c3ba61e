"""Small worlds and cameras shared by the synth tests (cached: building a room takes ~0.1 s)."""

from __future__ import annotations

import functools

import numpy as np

from edge3d.synth import World, make_world
from edge3d.synth.camera import d435_intrinsics
from edge3d.synth.primitives import Box
from edge3d.synth.world import SceneObject


@functools.cache
def room(seed: int, **params: object) -> World:
    return make_world(seed, **params)


def small_intrinsics(width: int = 160, height: int = 120):
    return d435_intrinsics(width, height)


def boxes_world(boxes: list[tuple[tuple[float, ...], tuple[float, ...]]], stuff_boxes=()) -> World:
    """A hand-made world: each (lo, hi) box one object of class 2, plus stuff boxes (class 0)."""
    objects = [SceneObject(i + 1, 2, [Box.from_extents(lo, hi)], np.array([[200, 100, 50]]))
               for i, (lo, hi) in enumerate(boxes)]
    stuff = [SceneObject(0, 0, [Box.from_extents(lo, hi) for lo, hi in stuff_boxes],
                         np.full((len(stuff_boxes), 3), 128, np.uint8))] if stuff_boxes else []
    lo = np.full(3, -100.0)
    return World(kind="room", seed=0, class_names=("floor", "wall", "chair"),
                 background_classes=(0, 1), objects=objects, stuff=stuff,
                 interior=(lo, -lo))


@functools.cache
def room_points(seed: int, spacing: float):
    return room(seed).surface_points(spacing=spacing)


def objects_within(a: SceneObject, b: SceneObject, distance: float) -> bool:
    """Whether any box of ``a`` comes within ``distance`` of any box of ``b`` (bounds first)."""
    from edge3d.synth.primitives import boxes_within

    (alo, ahi), (blo, bhi) = a.bounds(), b.bounds()
    if np.any(alo > bhi + max(distance, 0) + 1e-6) or np.any(blo > ahi + max(distance, 0) + 1e-6):
        return False
    return any(boxes_within(pa, pb, distance) for pa in a.primitives for pb in b.primitives)
