"""The world container: objects built from boxes, their labels, and ground-truth surface points."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from edge3d.synth.primitives import Box, boxes_to_arrays
from edge3d.synth.shading import shade


@dataclass(eq=False)
class SceneObject:
    """One object (or one piece of stuff) in a world.

    Attributes:
        instance_id: 1..N for objects, 0 for stuff (floor, walls, the toy plane).
        class_id: index into the world's ``class_names``.
        primitives: the boxes the object is made of.
        colors: uint8 [len(primitives), 3] base RGB colour of each box.
        position: float64 [3], the object's floor anchor (footprint centre at its base), world.
        yaw: rotation about world z of the frame the primitives were built in, radians (a
            partner placed touching another object shares its anchor's frame, its parts turned
            by a quarter turn within it).
        support: instance id of the object it stands on (0: the floor).
    """

    instance_id: int
    class_id: int
    primitives: list[Box]
    colors: np.ndarray
    position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    yaw: float = 0.0
    support: int = 0

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """World axis-aligned bounds of all primitives (min [3], max [3])."""
        boxes = [b.aabb() for b in self.primitives]
        return np.min([b[0] for b in boxes], 0), np.max([b[1] for b in boxes], 0)


@dataclass(eq=False)
class LabelledPoints:
    """Ground-truth points on a world's surfaces.

    Attributes:
        positions: float32 [N, 3], world metres.
        colors: uint8 [N, 3], shaded RGB (the colour a noise-free camera sees).
        normals: float32 [N, 3], outward unit normals.
        semantic: int32 [N], class id (index into the world's class names).
        instance: int32 [N], instance id from 1; 0 for stuff (floor, walls).
    """

    positions: np.ndarray
    colors: np.ndarray
    normals: np.ndarray
    semantic: np.ndarray
    instance: np.ndarray

    @property
    def gt_ids(self) -> np.ndarray:
        """int64 [N], ScanNet-style ``semantic * 1000 + instance``."""
        return self.semantic.astype(np.int64) * 1000 + self.instance.astype(np.int64)

    def __len__(self) -> int:
        return len(self.positions)


@dataclass(frozen=True, eq=False)
class PrimitiveTable:
    """All boxes of a world as flat arrays (what the renderer consumes).

    ``centers`` float64 [P, 3], ``rotations`` float64 [P, 3, 3] (box-to-world), ``halves`` float64
    [P, 3], ``instance`` int32 [P], ``semantic`` int32 [P], ``colors`` uint8 [P, 3].
    """

    centers: np.ndarray
    rotations: np.ndarray
    halves: np.ndarray
    instance: np.ndarray
    semantic: np.ndarray
    colors: np.ndarray

    def __len__(self) -> int:
        return len(self.centers)

    def box(self, i: int) -> Box:
        return Box(self.centers[i], self.rotations[i], self.halves[i])


@dataclass(eq=False)
class World:
    """A synthetic world.

    Attributes:
        kind: "room" or "toy".
        seed: the seed it was made from (same seed and parameters: same world).
        class_names: class id -> name.
        background_classes: class ids that are stuff (instance 0).
        objects: the things, instance ids 1..N in order.
        stuff: floor and walls (or the toy plane), instance id 0.
        interior: (min [3], max [3]) of the space surfaces face into: the room's inside. Surface
            points outside it (the backs of walls, the underside of the floor) are never seen.
        params: the resolved generation parameters (after defaults and random draws).
    """

    kind: str
    seed: int
    class_names: tuple[str, ...]
    background_classes: tuple[int, ...]
    objects: list[SceneObject]
    stuff: list[SceneObject]
    interior: tuple[np.ndarray, np.ndarray]
    params: dict = field(default_factory=dict)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """World axis-aligned bounds of everything (min xyz [3], max xyz [3])."""
        lows, highs = zip(*(o.bounds() for o in self.stuff + self.objects), strict=True)
        return np.min(lows, 0), np.max(highs, 0)

    @cached_property
    def primitives(self) -> PrimitiveTable:
        """Every box of the world, stuff first, with its labels and colour."""
        boxes, inst, sem, cols = [], [], [], []
        for obj in self.stuff + self.objects:
            boxes += obj.primitives
            inst += [obj.instance_id] * len(obj.primitives)
            sem += [obj.class_id] * len(obj.primitives)
            cols.append(np.asarray(obj.colors, np.uint8).reshape(-1, 3))
        centers, rotations, halves = boxes_to_arrays(boxes)
        return PrimitiveTable(centers, rotations, halves, np.asarray(inst, np.int32),
                              np.asarray(sem, np.int32), np.concatenate(cols))

    def signed_distance(self, points: np.ndarray) -> np.ndarray:
        """Signed distance (metres) from ``points`` float [N, 3] to the world's surfaces.

        The union of all boxes: positive in free space (exact Euclidean distance to the nearest
        surface), 0 on a surface, negative inside furniture, floor or walls. Use it to measure
        how far reconstructed points or mesh vertices are from the truth.

        Returns:
            float32 [N].
        """
        pts = np.asarray(points, np.float64).reshape(-1, 3)
        table = self.primitives
        out = np.full(len(pts), np.inf)
        for start in range(0, len(pts), 1 << 16):
            p = pts[start:start + (1 << 16)]
            best = out[start:start + len(p)]
            for i in range(len(table)):
                q = np.abs((p - table.centers[i]) @ table.rotations[i]) - table.halves[i]
                d = np.linalg.norm(np.maximum(q, 0.0), axis=1) + np.minimum(q.max(axis=1), 0.0)
                np.minimum(best, d, out=best)
        return out.astype(np.float32)

    def surface_points(self, spacing: float = 0.02, seed: int = 0) -> LabelledPoints:
        """Points on the world's exposed surfaces, about ``spacing`` metres apart.

        Faces are sampled on a jittered grid (``seed`` picks the jitter). Samples inside or on
        another box (touching faces, legs under a seat, the floor under a cabinet) and samples
        outside :attr:`interior` (wall backs, the floor's underside) are dropped, so every point
        lies on a surface a camera inside the room could see. Colours are shaded as in rendered
        images.
        """
        if not spacing > 0:
            raise ValueError(f"spacing must be > 0 metres, got {spacing}")
        table = self.primitives
        rng = np.random.default_rng(seed)
        pos, nrm, owner = [], [], []
        eps = 1e-4
        lo, hi = self.interior
        for i in range(len(table)):
            p, n = table.box(i).sample_surface(spacing, rng, within=(lo - eps, hi + eps))
            pos.append(p)
            nrm.append(n)
            owner.append(np.full(len(p), i, np.int64))
        positions, normals, prim = np.concatenate(pos), np.concatenate(nrm), np.concatenate(owner)

        keep = np.all((positions >= lo - eps) & (positions <= hi + eps), axis=1)
        keep &= ~_covered(table, positions, prim, eps)
        positions, normals, prim = positions[keep], normals[keep], prim[keep]
        return LabelledPoints(
            positions=positions.astype(np.float32),
            colors=shade(table.colors[prim], normals),
            normals=normals.astype(np.float32),
            semantic=table.semantic[prim].astype(np.int32),
            instance=table.instance[prim].astype(np.int32),
        )


def _covered(table: PrimitiveTable, points: np.ndarray, owner: np.ndarray, eps: float
             ) -> np.ndarray:
    """bool [N]: points inside or on a box other than their own (grown by ``eps``)."""
    covered = np.zeros(len(points), bool)
    order = np.argsort(points[:, 0], kind="stable")
    xs = points[order, 0]
    for i in range(len(table)):
        box = table.box(i)
        lo, hi = box.aabb()
        a, b = np.searchsorted(xs, lo[0] - eps), np.searchsorted(xs, hi[0] + eps, side="right")
        cand = order[a:b]
        cand = cand[np.all((points[cand, 1:] >= lo[1:] - eps) & (points[cand, 1:] <= hi[1:] + eps),
                           axis=1)]
        cand = cand[owner[cand] != i]
        covered[cand[box.contains(points[cand], eps)]] = True
    return covered
