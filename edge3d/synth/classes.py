"""Class lists of the synthetic worlds.

Room worlds use :data:`CLASS_NAMES` (class id = index). Floor and wall are background ("stuff"):
their points carry instance 0. Ground-truth ids are ScanNet-style ``class_id * 1000 + instance``.

Toy worlds (the synthetic dataset of the MTML paper, ``papers/mtml.md`` section 4) use
:data:`TOY_CLASS_NAMES`: a ground plane (stuff) and five cuboid classes that differ in size and
aspect ratio, the paper's "Obj1" to "Obj5".
"""

from __future__ import annotations

CLASS_NAMES: tuple[str, ...] = (
    "floor", "wall", "chair", "table", "sofa", "cabinet", "bed", "bookshelf", "desk", "clutter",
)
BACKGROUND_CLASSES: tuple[int, ...] = (0, 1)

TOY_CLASS_NAMES: tuple[str, ...] = (
    "plane", "small_cube", "large_cube", "bar", "slab", "pillar",
)
TOY_BACKGROUND_CLASSES: tuple[int, ...] = (0,)

FLOOR, WALL, CHAIR, TABLE, SOFA, CABINET, BED, BOOKSHELF, DESK, CLUTTER = range(10)
