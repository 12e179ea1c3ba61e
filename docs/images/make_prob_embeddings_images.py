"""Re-makes the pictures in docs/prob_embeddings.md (run from the repository root):

    .venv/bin/python docs/images/make_prob_embeddings_images.py REALDATA [--model NAME|DIR]

REALDATA is the folder of public real RGB-D data that ``make_geometric_images.py`` describes
(TUM RGB-D fr1 desk from Open3D's test data, the rtabmap lab frame, SUN RGB-D views from
mmdetection3d's test data); edge3d does not ship it. Writes:

- ``prob_embeddings_room.png``: held-out synthetic room 1012 (2 cm surface samples) from a
  corner and from above: ground truth, the geometric segmenter, Probabilistic Embeddings;
- ``prob_embeddings_real.png``: real single RGB-D views, colour image, then the geometric
  segmenter's and Probabilistic Embeddings' instances from the same camera.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(OUT))
sys.path.insert(0, str(OUT.parents[1]))

from make_geometric_images import _three_views, rgbd_view, sunrgbd_view  # noqa: E402

import edge3d  # noqa: E402
from edge3d import synth  # noqa: E402
from edge3d.runtime.pictures import _compose, instance_point_colors, render_camera  # noqa: E402
from edge3d.types import Intrinsics, SegmentationResult  # noqa: E402


def room_picture(model: str) -> None:
    lp = synth.make_world(1012).surface_points(0.02)
    gt = lp.gt_ids
    keep = (gt % 1000 > 0) & ~np.isin(gt // 1000, synth.BACKGROUND_CLASSES)
    gt_labels = np.full(len(gt), -1, np.int32)
    gt_labels[keep] = np.unique(gt[keep], return_inverse=True)[1]
    cols = lp.colors
    results = [("ground truth", SegmentationResult(gt_labels, gt_labels, [], [])),
               ("geometric", edge3d.Segmenter("geometric").segment(lp.positions, cols)),
               ("prob_embeddings", edge3d.Segmenter(model).segment(lp.positions, cols))]
    _three_views(lp.positions, cols, results, "Held-out synthetic room 1012 (2 cm surface "
                 "samples)", "prob_embeddings_room.png")


def real_picture(root: Path, model: str) -> None:
    methods = {"geometric": edge3d.Segmenter("geometric"), "prob_embeddings":
               edge3d.Segmenter(model)}
    tum = Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)
    views = [("TUM fr1 desk", *rgbd_view(root / "RGBD/other_formats/TUM_color.png",
                                         root / "RGBD/other_formats/TUM_depth.png", 1 / 5000,
                                         tum), tum),
             ("rtabmap lab", *rgbd_view(root / "rtabmap_rgbd2/data/rgbd/rgb/154.jpg",
                                        root / "rtabmap_rgbd2/data/rgbd/depth/154.png",
                                        1 / 1000, tum), tum)]
    for name in ("000002", "000003"):
        pts, cols, pose, rgb, k = sunrgbd_view(root, name)
        views.append((f"SUN RGB-D {name}", pts, cols, pose, rgb, k))
    panels, titles = [], []
    for title, pts, cols, pose, rgb, k in views:
        column = []
        counts = []
        for seg in methods.values():
            r = seg.segment(pts, cols)
            column.append(render_camera(pts, instance_point_colors(r, cols, len(pts)), pose, k,
                                        width=360, point_size=0.012))
            counts.append(str(len(r.instances)))
        photo = np.asarray(Image.fromarray(rgb).resize((column[0].shape[1],
                                                        column[0].shape[0])))
        panels.append(np.concatenate([photo, *column], axis=0))
        titles.append(f"{title}: {' / '.join(counts)} instances")
    _compose(panels, titles, "Real single RGB-D views: colour (top), geometric (middle), "
             "Probabilistic Embeddings (bottom); floor and walls grey").save(
        OUT / "prob_embeddings_real.png")
    print(f"wrote {OUT / 'prob_embeddings_real.png'}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("realdata", type=Path)
    ap.add_argument("--model", default="prob_embeddings")
    args = ap.parse_args()
    room_picture(args.model)
    real_picture(args.realdata, args.model)
