"""Re-makes the pictures in docs/geometric.md (run from the repository root):

    .venv/bin/python docs/images/make_geometric_images.py REALDATA

REALDATA is a folder holding public real RGB-D data that edge3d does not ship (their licences
are their owners'); each input below names where it comes from. The synthetic picture needs
nothing else. Writes:

- ``geometric_real_frames.png``: single real RGB-D views, the colour image beside the geometric
  segmenter's instances seen from the same camera (floor and walls in dimmed grey);
- ``geometric_real_kitchen.png``: a real fused map (7-Scenes "redkitchen", 250 frames fused
  with the dataset's poses by edge3d's own TSDF at 2 cm), from above and from a corner;
- ``geometric_synthetic.png``: held-out synthetic room 1012 fused from a rendered orbit: ground
  truth, the Euclidean baseline and the geometric segmenter.

Inputs under REALDATA (paths as the sources lay them out):

- ``RGBD/other_formats/TUM_{color,depth}.png``: TUM RGB-D fr1 (desk), from Open3D's test data
  (isl-org/Open3D ``examples/TestData``); depth scale 1/5000, intrinsics 525/525/319.5/239.5.
- ``rtabmap_rgbd2/data/rgbd/{rgb,depth}/154.*``: a lab (introlab/rtabmap ``data/rgbd``);
  depth in mm, intrinsics 525/525/319.5/239.5.
- ``sunrgbd_mmdet3d/tests/data/sunrgbd/sunrgbd_trainval/{depth,image,calib}/00000N.*``: SUN
  RGB-D bedrooms (open-mmlab/mmdetection3d test data): the upright point cloud of each view,
  with the camera tilt and intrinsics of its calib file.
- ``7scenes_1000/data/frame-NNNNNN.{color.jpg,depth.png,pose.txt}``: 7-Scenes redkitchen
  (andyzeng/tsdf-fusion-python ``data``), Kinect v1, depth in mm, intrinsics 585/585/320/240,
  camera-to-world poses.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

import edge3d
from edge3d import synth
from edge3d.geometry import look_at
from edge3d.runtime.fusion import Fusion
from edge3d.runtime.fusion.gravity import fit_floor, rotation_between
from edge3d.runtime.pictures import _compose, instance_point_colors, render_camera, render_top
from edge3d.types import Frame, Intrinsics, SegmentationResult

OUT = Path(__file__).resolve().parent
UP = np.array([0.0, 0.0, 1.0])


def rgbd_view(color: Path, depth: Path, scale: float, k: Intrinsics
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points (gravity-aligned by the floor in view), colours, the camera pose in that frame,
    and the colour image."""
    rgb = np.asarray(Image.open(color).convert("RGB"))
    d = np.asarray(Image.open(depth)).astype(np.float64) * scale
    v, u = np.nonzero((d > 0.2) & (d < 6.0))
    z = d[v, u]
    cam = np.c_[(u - k.cx) * z / k.fx, (v - k.cy) * z / k.fy, z]
    floor = fit_floor(cam, np.array([0.0, -1.0, 0.0]), threshold=0.03, max_tilt_deg=60)
    if floor is None:
        raise SystemExit(f"{depth}: no floor in view to align gravity with")
    normal, height = floor
    pose = np.eye(4)
    pose[:3, :3] = rotation_between(normal, UP)
    pose[2, 3] = height
    world = cam @ pose[:3, :3].T + pose[:3, 3]
    return world.astype(np.float32), rgb[v, u], pose, rgb


def sunrgbd_view(root: Path, name: str):
    """SUN RGB-D's own upright cloud (x right, y forward, z up) and its camera."""
    from scipy.io import loadmat

    base = root / "sunrgbd_mmdet3d/tests/data/sunrgbd/sunrgbd_trainval"
    cloud = loadmat(base / "depth" / f"{name}.mat")["instance"]
    lines = (base / "calib" / f"{name}.txt").read_text().split("\n")
    tilt = np.array(lines[0].split(), float).reshape(3, 3, order="F")
    kk = np.array(lines[1].split(), float).reshape(3, 3, order="F")
    rgb = np.asarray(Image.open(base / "image" / f"{name}.jpg").convert("RGB"))
    k = Intrinsics(rgb.shape[1], rgb.shape[0], kk[0, 0], kk[1, 1], kk[0, 2], kk[1, 2])
    to_camera = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]) @ tilt.T  # upright -> OpenCV
    pose = np.eye(4)
    pose[:3, :3] = to_camera.T
    pts = cloud[:, :3].astype(np.float32)
    return pts, (cloud[:, 3:6] * 255).clip(0, 255).astype(np.uint8), pose, rgb, k


def frames_picture(root: Path) -> None:
    seg = edge3d.Segmenter("geometric")
    tum = Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)
    views = [("TUM RGB-D fr1 desk",
              *rgbd_view(root / "RGBD/other_formats/TUM_color.png",
                         root / "RGBD/other_formats/TUM_depth.png", 1 / 5000, tum), tum),
             ("rtabmap lab",
              *rgbd_view(root / "rtabmap_rgbd2/data/rgbd/rgb/154.jpg",
                         root / "rtabmap_rgbd2/data/rgbd/depth/154.png", 1 / 1000, tum), tum)]
    for name in ("000002", "000003"):
        pts, cols, pose, rgb, k = sunrgbd_view(root, name)
        views.append((f"SUN RGB-D {name}", pts, cols, pose, rgb, k))
    panels, titles = [], []
    for title, pts, cols, pose, rgb, k in views:
        r = seg.segment(pts, cols)
        c = instance_point_colors(r, cols, len(pts))
        width = 420
        cam = render_camera(pts, c, pose, k, width=width, point_size=0.012)
        photo = np.asarray(Image.fromarray(rgb).resize((cam.shape[1], cam.shape[0])))
        panels.append(np.concatenate([photo, cam], axis=0))
        titles.append(f"{title}: {len(r.instances)} instances, "
                      f"{r.timings['total'] * 1e3:.0f} ms")
    _compose(panels, titles, "Real single RGB-D views: colour image (top), geometric "
             "instances from the same camera (bottom; floor and walls grey)").save(
        OUT / "geometric_real_frames.png")
    print(f"wrote {OUT / 'geometric_real_frames.png'}")


def kitchen_picture(root: Path) -> None:
    data = root / "7scenes_1000/data"
    k = Intrinsics(640, 480, 585.0, 585.0, 320.0, 240.0)
    fusion = Fusion(voxel_size=0.02, tracking="host", depth_max=4.0)
    up = None
    for i in range(0, 1000, 4):
        depth = np.asarray(Image.open(data / f"frame-{i:06d}.depth.png")).astype(np.uint16)
        depth[depth == 65535] = 0
        color = np.asarray(Image.open(data / f"frame-{i:06d}.color.jpg").convert("RGB"))
        pose = np.loadtxt(data / f"frame-{i:06d}.pose.txt")
        u, _, vt = np.linalg.svd(pose[:3, :3])  # the dataset's rotations drift off orthonormal
        pose[:3, :3] = u @ vt
        if up is None:
            v, uu = np.nonzero(depth)
            z = depth[v, uu] / 1000.0
            cam = np.c_[(uu - k.cx) * z / k.fx, (v - k.cy) * z / k.fy, z]
            floor = fit_floor(cam, np.array([0.0, -1.0, 0.0]), threshold=0.03)
            up = pose[:3, :3] @ (floor[0] if floor is not None else np.array([0, -1.0, 0]))
        fusion.add(Frame(depth, 0.001, k, color, index=i, pose=pose))
    pts, cols, _ = fusion.extract_points()
    pts = pts @ rotation_between(up, UP).T.astype(np.float32)
    pts[:, 2] -= np.percentile(pts[:, 2], 0.5)
    results = [("colour", SegmentationResult(np.full(len(pts), -1, np.int32),
                                             np.full(len(pts), -1, np.int32), [], [])),
               ("euclidean baseline", edge3d.Segmenter("euclidean").segment(pts, cols)),
               ("geometric", edge3d.Segmenter("geometric").segment(pts, cols))]
    _three_views(pts, cols, results, "Real fused map: 7-Scenes redkitchen, 250 Kinect frames "
                 "fused at 2 cm with the dataset's poses", "geometric_real_kitchen.png")


def synthetic_picture() -> None:
    sys.path.insert(0, str(OUT.parents[1]))
    from bench.bm_runtime import fused_map

    pts, cols, gt = fused_map(1012, {}, 40, 0.02)
    keep = (gt % 1000 > 0) & ~np.isin(gt // 1000, synth.BACKGROUND_CLASSES)
    gt_labels = np.full(len(gt), -1, np.int32)
    gt_labels[keep] = np.unique(gt[keep], return_inverse=True)[1]
    results = [("ground truth", SegmentationResult(gt_labels, gt_labels, [], [])),
               ("euclidean baseline", edge3d.Segmenter("euclidean").segment(pts, cols)),
               ("geometric", edge3d.Segmenter("geometric").segment(pts, cols))]
    _three_views(pts, cols, results, "Held-out synthetic room 1012, fused from a rendered orbit "
                 "(40 frames, 2 cm)", "geometric_synthetic.png")


def _three_views(pts, cols, results, header: str, name: str) -> None:
    lo, hi = pts.min(0), pts.max(0)
    centre = (lo + hi) / 2
    size = hi - lo
    pose = look_at(np.array([centre[0] - 0.35 * size[0], centre[1] - 0.75 * size[1],
                             hi[2] + 1.6]), np.array([centre[0], centre[1] + 0.1 * size[1], 0.3]))
    k = Intrinsics(width=640, height=480, fx=330.0, fy=330.0, cx=320.0, cy=240.0)
    low = pts[:, 2] < 1.6  # from above without the upper walls
    panels, titles = [], []
    for title, r in results:
        c = cols if title == "colour" else instance_point_colors(r, cols, len(pts))
        cam = render_camera(pts, c, pose, k, width=420)
        top, _ = render_top(pts[low], c[low], 420, 320)
        panels.append(np.concatenate([cam, top], axis=0))
        count = len(np.unique(r.labels[r.labels >= 0]))
        titles.append(title if title == "colour" else f"{title}: {count} instances")
    _compose(panels, titles, header).save(OUT / name)
    print(f"wrote {OUT / name}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    root = Path(sys.argv[1])
    frames_picture(root)
    kitchen_picture(root)
    synthetic_picture()
