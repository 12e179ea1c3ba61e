"""The synthetic toy dataset of the MTML paper and its connected-components baseline.

``papers/mtml.md``, section 4 ("Synthetic Toy Dataset"): objects of five shapes, "each shape is
analogous to an object class", of different sizes and aspect ratios, randomly oriented and placed
on a planar surface, each randomly in contact with another object or not. Our five cuboid
classes (:data:`~edge3d.synth.classes.TOY_CLASS_NAMES`; class 0 is the plane, stuff):

| id | name       | size (x, y, z), metres, each side +-10 % |
|----|------------|------------------------------------------|
| 1  | small_cube | 0.25 x 0.25 x 0.25                       |
| 2  | large_cube | 0.60 x 0.60 x 0.60                       |
| 3  | bar        | 1.00 x 0.20 x 0.20                       |
| 4  | slab       | 0.70 x 0.50 x 0.12                       |
| 5  | pillar     | 0.25 x 0.25 x 0.90                       |

The baseline (section 4, "Baselines: Connected Component") labels instances as connected
components of points with the same ground-truth class: right whenever same-class objects do not
touch, and merging them when they do.
"""

from __future__ import annotations

import numpy as np

from edge3d.synth.classes import TOY_BACKGROUND_CLASSES, TOY_CLASS_NAMES
from edge3d.synth.furniture import Template
from edge3d.synth.layout import Layout, place_all
from edge3d.synth.primitives import Box
from edge3d.synth.world import SceneObject, World

TOY_SIZES: dict[int, tuple[float, float, float]] = {
    1: (0.25, 0.25, 0.25), 2: (0.60, 0.60, 0.60), 3: (1.00, 0.20, 0.20),
    4: (0.70, 0.50, 0.12), 5: (0.25, 0.25, 0.90),
}
# Colours show the class, as in the paper's figure 4 (middle).
TOY_COLORS: dict[int, tuple[int, int, int]] = {
    0: (170, 170, 170), 1: (230, 80, 70), 2: (70, 150, 230), 3: (90, 200, 90),
    4: (240, 200, 60), 5: (170, 90, 210),
}


def _cuboid(class_id: int, rng: np.random.Generator) -> Template:
    size = np.array(TOY_SIZES[class_id]) * rng.uniform(0.9, 1.1, 3)
    x, y, z = size / 2
    return Template(class_id, [((-x, -y, 0.0), (x, y, 2 * z))],
                    np.array([TOY_COLORS[class_id]], np.uint8))


def make_toy_world(seed: int, num_objects: int | None = None, plane_size: float = 4.0,
                   touching_fraction: float = 0.5, gap: float = 0.1) -> World:
    """A toy scene: cuboids of the five toy classes on a ``plane_size`` square plane.

    ``num_objects`` defaults to a random 6-12. Classes are uniform; a partner placed touching
    another object has the anchor's class half of the time, so same-class contacts (the hard
    case for the baseline) are common.
    """
    rng = np.random.default_rng(seed)
    if num_objects is None:
        num_objects = int(rng.integers(6, 13))
    if num_objects < 0 or not plane_size > 0:
        raise ValueError(f"need num_objects >= 0 and plane_size > 0, got {num_objects}, "
                         f"{plane_size}")
    templates = [_cuboid(int(rng.integers(1, 6)), rng) for _ in range(num_objects)]

    def partner(anchor: Template) -> Template:
        cls = anchor.class_id if rng.random() < 0.5 else int(rng.integers(1, 6))
        return _cuboid(cls, rng)

    layout = Layout(rng, (plane_size, plane_size), gap=gap, walls=False)
    placed = place_all(layout, templates, touching_fraction, partner)
    objects, groups = [], {}
    for p in placed:
        objects.append(SceneObject(len(objects) + 1, p.template.class_id, p.primitives(),
                                   np.asarray(p.template.colors, np.uint8), p.pivot.copy(),
                                   float(p.yaw)))
        if p.group >= 0:
            groups.setdefault(p.group, []).append(len(objects))
    plane = SceneObject(0, 0, [Box.from_extents((0.0, 0.0, -0.05), (plane_size, plane_size, 0.0))],
                        np.array([TOY_COLORS[0]], np.uint8))
    return World(
        kind="toy", seed=seed, class_names=TOY_CLASS_NAMES,
        background_classes=TOY_BACKGROUND_CLASSES, objects=objects, stuff=[plane],
        interior=(np.zeros(3), np.array([plane_size, plane_size, 10.0])),
        params={"num_objects": num_objects, "plane_size": plane_size,
                "touching_fraction": touching_fraction, "gap": gap,
                "touching_groups": [tuple(v) for v in groups.values()]},
    )


def connected_components(positions: np.ndarray, semantic: np.ndarray, radius: float,
                         ignore_classes: tuple[int, ...] = TOY_BACKGROUND_CLASSES
                         ) -> np.ndarray:
    """The MTML connected-components baseline: instances from ground-truth semantics.

    Two points are connected when they have the same class and lie within ``radius`` metres;
    each connected component is one instance. Touching objects of one class therefore merge.

    Args:
        positions: float [N, 3], metres.
        semantic: int [N], ground-truth class per point.
        radius: connection distance, metres (about 1.5-2x the point spacing).
        ignore_classes: classes that get no instance (stuff), e.g. ``BACKGROUND_CLASSES``.

    Returns:
        int32 [N]: instance label from 1, numbered in order of first point; 0 for ignored points.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as cc
    from scipy.spatial import cKDTree

    positions = np.asarray(positions, np.float64)
    semantic = np.asarray(semantic)
    if positions.ndim != 2 or positions.shape[1] != 3 or semantic.shape != (len(positions),):
        raise ValueError(f"need positions [N, 3] and semantic [N], got {positions.shape} and "
                         f"{semantic.shape}")
    if not radius > 0:
        raise ValueError(f"radius must be > 0 metres, got {radius}")
    labels = np.zeros(len(positions), np.int32)
    raw = np.full(len(positions), -1, np.int64)
    offset = 0
    for cls in np.unique(semantic):
        if int(cls) in ignore_classes:
            continue
        idx = np.flatnonzero(semantic == cls)
        pairs = cKDTree(positions[idx]).query_pairs(radius, output_type="ndarray")
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                           shape=(len(idx), len(idx)))
        count, comp = cc(graph, directed=False)
        raw[idx] = comp + offset
        offset += count
    valid = raw >= 0
    if valid.any():  # renumber by first occurrence so labels do not depend on class order
        _, first, inverse = np.unique(raw[valid], return_index=True, return_inverse=True)
        rank = np.argsort(np.argsort(first))
        labels[valid] = rank[inverse] + 1
    return labels
