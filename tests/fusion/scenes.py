"""Analytic depth images and exact surface distances for the fusion tests."""

from __future__ import annotations

import numpy as np

from edge3d.geometry import pixel_rays
from edge3d.types import Frame, Intrinsics

INTRINSICS = Intrinsics(width=160, height=120, fx=120.0, fy=120.0, cx=79.5, cy=59.5)
DEPTH_SCALE = 0.0005  # 0.5 mm units keep quantisation far below the tolerances


def box_distance(points: np.ndarray, centers: np.ndarray, rotations: np.ndarray,
                 halves: np.ndarray, chunk: int = 20000) -> np.ndarray:
    """Unsigned distance (float64 [N]) from points to the nearest box surface (boxes given as
    centres [B, 3], box-to-world rotations [B, 3, 3] and half extents [B, 3])."""
    out = np.empty(len(points))
    for s in range(0, len(points), chunk):
        p = points[s:s + chunk].astype(np.float64)
        q = np.einsum("nbj,bjk->nbk", p[:, None, :] - centers[None], rotations)
        d = np.abs(q) - halves[None]
        outside = np.linalg.norm(np.maximum(d, 0), axis=2)
        inside = np.minimum(d.max(axis=2), 0)
        out[s:s + chunk] = np.abs(outside + inside).min(axis=1)
    return out


class Scene:
    """Planes and spheres; ``depth(pose)`` ray-casts them exactly (float64 metres, 0 = miss)."""

    def __init__(self, planes: list[tuple[np.ndarray, float]] = (),
                 spheres: list[tuple[np.ndarray, float]] = ()) -> None:
        self.planes = [(np.asarray(n, float) / np.linalg.norm(n), float(d)) for n, d in planes]
        self.spheres = [(np.asarray(c, float), float(r)) for c, r in spheres]

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Unsigned distance from world points [N, 3] to the nearest primitive surface."""
        p = points.astype(np.float64)
        d = np.full(len(p), np.inf)
        for n, off in self.planes:
            d = np.minimum(d, np.abs(p @ n + off))
        for c, r in self.spheres:
            d = np.minimum(d, np.abs(np.linalg.norm(p - c, axis=1) - r))
        return d

    def depth(self, pose: np.ndarray, intrinsics: Intrinsics = INTRINSICS) -> np.ndarray:
        rays_c = pixel_rays(intrinsics).reshape(-1, 3).astype(np.float64)  # z = 1
        dirs = rays_c @ pose[:3, :3].T
        o = pose[:3, 3]
        t = np.full(len(dirs), np.inf)
        for n, off in self.planes:
            den = dirs @ n
            with np.errstate(divide="ignore", invalid="ignore"):
                tp = -(o @ n + off) / den
            t = np.where((tp > 0) & np.isfinite(tp), np.minimum(t, tp), t)
        for c, r in self.spheres:
            a = np.einsum("ij,ij->i", dirs, dirs)
            b = dirs @ (o - c)
            disc = b * b - a * ((o - c) @ (o - c) - r * r)
            ts = (-b - np.sqrt(np.maximum(disc, 0))) / a
            t = np.where((disc > 0) & (ts > 0), np.minimum(t, ts), t)
        z = np.where(np.isfinite(t), t, 0.0)  # ray z component is 1, so t is the depth
        return z.reshape(intrinsics.height, intrinsics.width)

    def frame(self, pose: np.ndarray, index: int = 0, with_pose: bool = True,
              intrinsics: Intrinsics = INTRINSICS) -> Frame:
        z = self.depth(pose, intrinsics)
        depth = np.round(z / DEPTH_SCALE).astype(np.uint16)
        depth[z > 30.0] = 0
        color = np.zeros((*depth.shape, 3), np.uint8)
        color[..., 0] = 200
        color[..., 1] = np.clip(z * 40, 0, 255).astype(np.uint8)
        return Frame(depth=depth, depth_scale=DEPTH_SCALE, intrinsics=intrinsics, color=color,
                     index=index, pose=pose.copy() if with_pose else None)


FLOOR_Z = -0.0071  # off the voxel grid: real surfaces never sit exactly on voxel centres


def corner_scene() -> Scene:
    """A floor, two walls (x = 2, y = 2) and a ball: constrains all six ICP dofs."""
    return Scene(planes=[((0, 0, 1), -FLOOR_Z), ((-1, 0, 0), 2.0113), ((0, -1, 0), 1.9937)],
                 spheres=[((1.2, 1.0, 0.4), 0.35)])


def camera_pose(eye, target) -> np.ndarray:
    from edge3d.geometry import look_at

    return look_at(np.asarray(eye, float), np.asarray(target, float))
