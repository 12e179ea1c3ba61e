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
               boxes=BOXES, offset=(0.0, 0.0, 0.0), size=ROOM) -> tuple[np.ndarray, np.ndarray]:
    """Floor, four walls and ``boxes``: float32 [N, 3] points and int [N] ground truth
    (0 for floor and walls, k for the k-th box, from 1)."""
    sx, sy, sz = size
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
    pts = np.concatenate(parts).astype(np.float64)
    pts += np.random.default_rng(seed).normal(0, noise, pts.shape)
    return (pts + np.asarray(offset)).astype(np.float32), gt


def purity(result, gt, pts):
    """For each ground-truth box: the instance holding most of its points above the floor
    (a box's bottom face lies in the floor plane), and the share."""
    found = {}
    for k in range(1, gt.max() + 1):
        lab = result.labels[(gt == k) & (pts[:, 2] > 0.05)]
        total = len(lab)
        lab = lab[lab >= 0]
        if len(lab) == 0:
            continue
        ids, counts = np.unique(lab, return_counts=True)
        found[k] = (int(ids[np.argmax(counts)]), counts.max() / total)
    return found


def scanned_boxes(boxes, spacing: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """The faces of ``boxes`` as a scan sees them: points inside or on another box (a face in
    contact, the underside on the floor) are not there. Returns points and the box index of
    each (from 0)."""
    pts, owner = [], []
    for k, (lo, hi) in enumerate(boxes):
        p = box_surface(lo, hi, spacing)
        p = p[p[:, 2] > 1e-6]  # the bottom face lies on the floor
        for j, (lo2, hi2) in enumerate(boxes):
            if j != k:
                p = p[~np.all((p > np.asarray(lo2) - 1e-3) & (p < np.asarray(hi2) + 1e-3), 1)]
        pts.append(p)
        owner.append(np.full(len(p), k))
    return np.concatenate(pts), np.concatenate(owner)


def floor_and_walls(size=ROOM, spacing: float = 0.02) -> np.ndarray:
    """A floor and four walls (without objects)."""
    pts, _ = room_scene(spacing=spacing, noise=0.0, boxes=(), size=size)
    return pts


def runnable_models() -> list[str]:
    """Every model a Segmenter opens by name: the registry's packageless methods and the
    bundled packages, so that a new method is covered by the runtime's class tests."""
    from edge3d import methods
    from edge3d.package import bundled_packages

    return methods.packageless_methods() + sorted(bundled_packages())
