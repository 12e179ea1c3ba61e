"""Small hand-built point-cloud scenes whose answer is known exactly: boxes in a walled room."""

from __future__ import annotations

import numpy as np

ROOM = (5.0, 4.0, 2.5)
# (min corner, max corner) of the objects; the third stands 5 cm from the x=0 wall.
BOXES = (
    ((1.0, 1.0, 0.0), (1.8, 1.6, 0.75)),
    ((3.0, 1.0, 0.0), (3.5, 1.5, 0.45)),
    ((0.05, 2.5, 0.0), (0.45, 3.5, 2.0)),
    ((3.5, 3.0, 0.0), (4.5, 3.6, 1.0)),
    ((2.0, 2.5, 0.0), (2.4, 2.9, 0.9)),
)


def box_surface(lo, hi, spacing: float) -> np.ndarray:
    """Points on the six faces of an axis-aligned box, on a grid of ``spacing``."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    faces = []
    for ax in range(3):
        a, b = [i for i in range(3) if i != ax]
        ga = np.linspace(lo[a], hi[a], max(round((hi[a] - lo[a]) / spacing), 1) + 1)
        gb = np.linspace(lo[b], hi[b], max(round((hi[b] - lo[b]) / spacing), 1) + 1)
        ua, ub = (g.ravel() for g in np.meshgrid(ga, gb))
        for side in (lo[ax], hi[ax]):
            f = np.empty((len(ua), 3))
            f[:, a], f[:, b], f[:, ax] = ua, ub, side
            faces.append(f)
    return np.concatenate(faces)


def room_scene(spacing: float = 0.02, noise: float = 0.003, seed: int = 0,
               boxes=BOXES, offset=(0.0, 0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """Floor, four walls and ``boxes``: float32 [N, 3] points and int [N] ground truth
    (0 for floor and walls, k for the k-th box, from 1)."""
    sx, sy, sz = ROOM
    parts = [box_surface((0, 0, 0), (sx, sy, 0), spacing)]
    g = np.arange(0, sz, spacing)
    for (x0, y0), (x1, y1) in (((0, 0), (sx, 0)), ((0, sy), (sx, sy)), ((0, 0), (0, sy)),
                               ((sx, 0), (sx, sy))):
        t = np.arange(0, 1, spacing / max(abs(x1 - x0), abs(y1 - y0)))
        tt, zz = (v.ravel() for v in np.meshgrid(t, g))
        parts.append(np.c_[x0 + (x1 - x0) * tt, y0 + (y1 - y0) * tt, zz])
    labels = [0] * len(parts)
    for k, (lo, hi) in enumerate(boxes):
        parts.append(box_surface(lo, hi, spacing))
        labels.append(k + 1)
    gt = np.concatenate([np.full(len(p), lab) for p, lab in zip(parts, labels, strict=True)])
    pts = np.concatenate(parts)
    pts += np.random.default_rng(seed).normal(0, noise, pts.shape)
    return (pts + np.asarray(offset)).astype(np.float32), gt
