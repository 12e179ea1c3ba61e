"""Oriented boxes: the one primitive synthetic worlds are built from.

Every piece of furniture, the floor and the walls are unions of oriented boxes. Boxes keep ray
casting exact and fast (a slab test per pixel) and make surface sampling and inside tests trivial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def yaw_matrix(yaw: float) -> np.ndarray:
    """Rotation about world z by ``yaw`` radians, float64 [3, 3]."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True, eq=False)
class Box:
    """An oriented box.

    Attributes:
        center: float64 [3], world metres.
        rotation: float64 [3, 3], box-to-world rotation; its columns are the box axes in the world.
        half: float64 [3], half extents along the box axes, metres (all > 0).
    """

    center: np.ndarray
    rotation: np.ndarray
    half: np.ndarray

    @staticmethod
    def from_extents(lo: np.ndarray, hi: np.ndarray, yaw: float = 0.0,
                     pivot: np.ndarray | None = None) -> Box:
        """Box spanning ``[lo, hi]`` in a local frame rotated by ``yaw`` about ``pivot`` (z axis).

        With ``pivot`` (float [3]) the local coordinates are relative to it, so furniture parts
        can be written in the object's own frame and rotated with the object.
        """
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        if np.any(hi <= lo):
            raise ValueError(f"box extents must be positive, got lo={lo}, hi={hi}")
        rot = yaw_matrix(yaw)
        centre_local = (lo + hi) / 2
        origin = np.zeros(3) if pivot is None else np.asarray(pivot, float)
        return Box(center=origin + rot @ centre_local, rotation=rot, half=(hi - lo) / 2)

    def corners(self) -> np.ndarray:
        """The 8 corners, float64 [8, 3], world."""
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
        return self.center + (signs * self.half) @ self.rotation.T

    def aabb(self) -> tuple[np.ndarray, np.ndarray]:
        """World axis-aligned bounds (min [3], max [3])."""
        ext = np.abs(self.rotation) @ self.half
        return self.center - ext, self.center + ext

    def to_local(self, points: np.ndarray) -> np.ndarray:
        """World points [N, 3] in the box frame (origin at the centre)."""
        return (np.asarray(points, float) - self.center) @ self.rotation

    def contains(self, points: np.ndarray, eps: float = 0.0) -> np.ndarray:
        """bool [N]: points inside the box grown by ``eps`` on every side (boundary included)."""
        local = self.to_local(points)
        return np.all(np.abs(local) <= self.half + eps, axis=1)

    def sample_surface(self, spacing: float, rng: np.random.Generator,
                       within: tuple[np.ndarray, np.ndarray] | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Jittered-grid samples on the six faces at about ``spacing`` metres.

        Each face gets ``ceil(side / spacing)`` cells per side (at least one) and one uniformly
        placed sample per cell, so density is even and no two faces share a sample. Faces whose
        bounds lie entirely outside ``within`` (min [3], max [3]) are skipped (the jitter of the
        other faces stays the same only for the same ``within``).

        Returns:
            positions float64 [N, 3] and outward unit normals float64 [N, 3], world frame.
        """
        positions, normals = [], []
        corners = self.corners()
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
        for axis in range(3):
            a, b = [k for k in range(3) if k != axis]
            na = max(1, int(np.ceil(2 * self.half[a] / spacing)))
            nb = max(1, int(np.ceil(2 * self.half[b] / spacing)))
            ia, ib = np.meshgrid(np.arange(na), np.arange(nb), indexing="ij")
            for sign in (-1.0, 1.0):
                if within is not None:
                    face = corners[signs[:, axis] == sign]
                    if np.any(face.max(0) < within[0] - 1e-6) or np.any(
                            face.min(0) > within[1] + 1e-6):
                        continue
                ja = (ia.ravel() + rng.random(ia.size)) / na
                jb = (ib.ravel() + rng.random(ib.size)) / nb
                local = np.empty((ja.size, 3))
                local[:, axis] = sign * self.half[axis]
                local[:, a] = (2 * ja - 1) * self.half[a]
                local[:, b] = (2 * jb - 1) * self.half[b]
                positions.append(self.center + local @ self.rotation.T)
                normals.append(np.broadcast_to(sign * self.rotation[:, axis], local.shape))
        if not positions:
            return np.zeros((0, 3)), np.zeros((0, 3))
        return np.concatenate(positions), np.concatenate(normals)


def boxes_to_arrays(boxes: list[Box]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack boxes as centres float64 [P, 3], rotations float64 [P, 3, 3], halves float64 [P, 3]."""
    if not boxes:
        return np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros((0, 3))
    return (np.stack([b.center for b in boxes]), np.stack([b.rotation for b in boxes]),
            np.stack([b.half for b in boxes]))


def boxes_within(a: Box, b: Box, distance: float = 0.0) -> bool:
    """Whether two boxes overlap, touch, or come within about ``distance`` metres.

    Separating-axis test over the 15 candidate axes, with the boxes grown by ``distance`` along
    each axis (so near corners the reach is slightly more than ``distance``, never less).
    """
    axes = [a.rotation[:, i] for i in range(3)] + [b.rotation[:, i] for i in range(3)]
    for i in range(3):
        for j in range(3):
            c = np.cross(a.rotation[:, i], b.rotation[:, j])
            n = np.linalg.norm(c)
            if n > 1e-9:
                axes.append(c / n)
    delta = b.center - a.center
    for axis in axes:
        ra = np.sum(np.abs(a.rotation.T @ axis) * a.half)
        rb = np.sum(np.abs(b.rotation.T @ axis) * b.half)
        if abs(delta @ axis) > ra + rb + distance:
            return False
    return True
