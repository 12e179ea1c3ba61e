"""Re-makes the picture in docs/ssen.md (run from the repository root):

    .venv/bin/python docs/images/make_ssen_images.py [MODEL]     # default: the bundled "ssen"

Writes docs/images/ssen_instances.png: one held-out synthetic room with every floor object
touching another (``make_world(2003, touching_fraction=1.0)``, never used in training), seen
from a corner and from above: the ground-truth instances, the Euclidean baseline's, the
geometric segmenter's and the bundled SSEN model's (each instance in its own colour; floor and
walls grey).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import edge3d
from edge3d import synth
from edge3d.geometry import look_at
from edge3d.runtime.pictures import _compose, instance_point_colors, render_camera, render_top
from edge3d.types import Intrinsics, SegmentationResult

OUT = Path(__file__).resolve().parent
SEED = 2003


def main(model: str = "ssen") -> None:
    lp = synth.make_world(SEED, touching_fraction=1.0).surface_points(0.02)
    pts, cols = lp.positions, lp.colors
    gt_labels = np.where((lp.instance > 0) & ~np.isin(lp.semantic, synth.BACKGROUND_CLASSES),
                         lp.gt_ids, -1).astype(np.int64)
    _, gt_labels[gt_labels >= 0] = np.unique(gt_labels[gt_labels >= 0], return_inverse=True)
    gt = SegmentationResult(gt_labels.astype(np.int32), lp.semantic, [], list(synth.CLASS_NAMES))
    results = [("ground truth", gt),
               ("Euclidean baseline", edge3d.Segmenter("euclidean").segment(pts, cols)),
               ("geometric", edge3d.Segmenter("geometric").segment(pts, cols)),
               ("SSEN (bundled)", edge3d.Segmenter(model, backend="ort").segment(pts, cols))]
    lo, hi = pts.min(0), pts.max(0)
    centre = (lo + hi) / 2
    eye = np.array([lo[0] + 0.3, lo[1] + 0.3, hi[2] + 0.4])
    pose = look_at(eye, np.array([centre[0], centre[1], 0.3]))
    k = Intrinsics(width=640, height=480, fx=330.0, fy=330.0, cx=320.0, cy=240.0)
    # Ceiling-less rooms: drop the two walls nearest the camera from the corner view.
    near = (pts[:, 0] < lo[0] + 0.15) | (pts[:, 1] < lo[1] + 0.15)
    panels, titles = [], []
    for title, r in results:
        c = instance_point_colors(r, cols, len(pts), lp.normals)
        cam = render_camera(pts[~near], c[~near], pose, k, width=420)
        top, _ = render_top(pts[lp.semantic != 1], c[lp.semantic != 1], 420, 300)
        panels.append(np.concatenate([cam, top], axis=0))
        count = len(np.unique(r.labels[r.labels >= 0]))
        titles.append(f"{title}: {count} instances")
    img = _compose(panels, titles, f"Held-out room {SEED}, every floor object touching another "
                                   "(corner view, and from above without walls)")
    img.save(OUT / "ssen_instances.png")
    print(f"wrote {OUT / 'ssen_instances.png'}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
