"""TSDF fusion speed and surface error: edge3d against Open3D's VoxelBlockGrid (CPU), side by side.

Usage (from the repository root; Open3D is an optional benchmark dependency)::

    .venv/bin/pip install -c constraints.txt open3d
    .venv/bin/python bench/bm_fusion.py                           # 2 cm and 5 cm voxels
    .venv/bin/python bench/bm_fusion.py --voxels 0.02 --frames 20
    .venv/bin/python bench/bm_fusion.py --out docs/benchmarks/fusion_table.md

Both fuse the same synthetic RGB-D frames (``edge3d.synth``, a D435-like 640x480 camera on an
orbit through a furnished room, exact host poses) at the same voxel size, truncation (4 voxels),
8^3-voxel blocks and depth range, with colour. Per frame the two are run back to back (this
machine is shared; interleaving keeps the load the same for both); the table reports the
median time per frame of the whole integration step (Open3D: ``compute_unique_block_coordinates``
+ ``integrate``; edge3d: ``TSDFVolume.integrate``, which includes its block allocation), the
time to extract the surface points once at the end, and the RMS distance of those points to
the true box surfaces, for clean and for noisy depth. Neither smooths the depth first, except
in the last rows, where edge3d applies its bilateral filter (``smooth_depth=True``, as
``Fusion`` does by default; its time included) and Open3D fuses the raw depth.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge3d.runtime.fusion import TSDFVolume  # noqa: E402
from edge3d.synth import VirtualCamera, d435_intrinsics, make_world, trajectories  # noqa: E402
from edge3d.types import Frame  # noqa: E402

TRUNCATION_VOXELS = 4.0
DEPTH_MAX = 5.0


def box_distance(points: np.ndarray, world) -> np.ndarray:
    """Unsigned distance from points to the nearest true box surface of a synthetic world."""
    t = world.primitives
    out = np.empty(len(points))
    for s in range(0, len(points), 20000):
        p = points[s:s + 20000].astype(np.float64)
        q = np.einsum("nbj,bjk->nbk", p[:, None, :] - t.centers[None], t.rotations)
        d = np.abs(q) - t.halves[None]
        outside = np.linalg.norm(np.maximum(d, 0), axis=2)
        inside = np.minimum(d.max(axis=2), 0)
        out[s:s + 20000] = np.abs(outside + inside).min(axis=1)
    return out


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x ** 2))) if len(x) else float("nan")


class Open3DFusion:
    """Open3D's tensor VoxelBlockGrid on the CPU, configured like edge3d's volume."""

    def __init__(self, o3d, voxel: float, blocks: int) -> None:
        self.o3d, self.core = o3d, o3d.core
        self.device = self.core.Device("CPU:0")
        self.vbg = o3d.t.geometry.VoxelBlockGrid(
            attr_names=("tsdf", "weight", "color"),
            attr_dtypes=(self.core.float32, self.core.float32, self.core.float32),
            attr_channels=((1), (1), (3)), voxel_size=voxel, block_resolution=8,
            block_count=blocks, device=self.device)

    def integrate(self, frame: Frame) -> None:
        o3d, core = self.o3d, self.core
        k = frame.intrinsics
        intrinsic = core.Tensor(k.K, core.float64)
        extrinsic = core.Tensor(np.linalg.inv(frame.pose), core.float64)  # world -> camera
        depth = o3d.t.geometry.Image(core.Tensor(frame.depth))
        color = o3d.t.geometry.Image(core.Tensor(frame.color))
        scale = 1.0 / frame.depth_scale  # Open3D: depth units per metre
        frustum = self.vbg.compute_unique_block_coordinates(
            depth, intrinsic, extrinsic, scale, DEPTH_MAX, TRUNCATION_VOXELS)
        self.vbg.integrate(frustum, depth, color, intrinsic, intrinsic, extrinsic, scale,
                           DEPTH_MAX, TRUNCATION_VOXELS)

    def points(self) -> np.ndarray:
        pcd = self.vbg.extract_point_cloud(weight_threshold=1.0)
        return pcd.point.positions.numpy()


def run(voxel: float, frames: list[Frame], world, o3d, smooth: bool = False) -> dict:
    ours = TSDFVolume(voxel, TRUNCATION_VOXELS * voxel, depth_max=DEPTH_MAX, smooth_depth=smooth)
    theirs = Open3DFusion(o3d, voxel, blocks=60000) if o3d else None
    t_ours, t_theirs = [], []
    for frame in tqdm(frames, desc=f"fusing at {voxel * 100:.0f} cm", leave=False):
        t0 = time.perf_counter()
        ours.integrate(frame)
        t_ours.append(time.perf_counter() - t0)
        if theirs is not None:
            t0 = time.perf_counter()
            theirs.integrate(frame)
            t_theirs.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    points, _, _ = ours.extract_points()
    x_ours = time.perf_counter() - t0
    row = {"voxel": voxel, "ours_ms": 1e3 * np.median(t_ours), "ours_extract_ms": 1e3 * x_ours,
           "ours_rms_mm": 1e3 * rms(box_distance(points, world)), "ours_points": len(points),
           "blocks": ours.stats.blocks}
    if theirs is not None:
        t0 = time.perf_counter()
        p3d = theirs.points()
        row.update(o3d_ms=1e3 * np.median(t_theirs),
                   o3d_extract_ms=1e3 * (time.perf_counter() - t0),
                   o3d_rms_mm=1e3 * rms(box_distance(p3d, world)), o3d_points=len(p3d))
    return row


def picture(path: Path, frames: int) -> None:
    """docs/images/fusion_top_view.png: a walk-through fused by Fusion with ICP tracking and
    floor gravity (no poses given), seen from above coloured by height, and from the side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edge3d.runtime.fusion import Fusion

    world = make_world(0)
    camera = VirtualCamera(d435_intrinsics(640, 480), noise=True)
    fusion = Fusion(0.02, tracking="icp")
    poses = trajectories.walkthrough(world, frames)
    for i, pose in enumerate(tqdm(poses, desc="fusing the picture", leave=False)):
        frame = camera.render(world, pose, index=i).frame
        frame.pose = None
        fusion.add(frame)
    points, colors, _ = fusion.extract_points()
    cam = np.array([p[:3, 3] for p in fusion.trajectory])
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    order = np.argsort(points[:, 2])
    sc = axes[0].scatter(points[order, 0], points[order, 1], c=points[order, 2], s=0.3,
                         cmap="viridis", vmin=0, vmax=2.0)
    axes[0].plot(cam[:, 0], cam[:, 1], "r-", lw=1.5, label="ICP camera path")
    axes[0].set_aspect("equal")
    axes[0].set_title("top view, coloured by height (z up, floor at z = 0)")
    axes[0].set_xlabel("x (m)")
    axes[0].set_ylabel("y (m)")
    axes[0].legend(loc="upper right", fontsize=8)
    fig.colorbar(sc, ax=axes[0], label="height (m)", shrink=0.8)
    axes[1].remove()
    ax = fig.add_subplot(1, 2, 2, projection="3d")
    keep = points[:, 2] < 1.2  # cut the walls to see in
    keep &= np.random.default_rng(0).random(len(points)) < 60000 / max(1, keep.sum())
    ax.scatter(points[keep, 0], points[keep, 1], points[keep, 2], c=colors[keep] / 255.0,
               s=0.4, depthshade=False)
    ax.view_init(elev=35, azim=-60)
    ax.set_box_aspect(np.ptp(points[keep], axis=0))
    ax.set_title("fused colour, walls cut at 1.2 m")
    ax.set_axis_off()
    fig.suptitle(f"edge3d fusion: {frames} noisy D435-like frames, 2 cm voxels, "
                 f"gravity from the {fusion.gravity_source}, {len(points)} surface points")
    fig.tight_layout()
    fig.subplots_adjust(bottom=0.1)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voxels", type=float, nargs="+", default=[0.02, 0.05])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--out", type=Path, help="write the markdown table here too")
    parser.add_argument("--picture", type=Path,
                        help="only draw the docs picture (docs/images/fusion_top_view.png)")
    args = parser.parse_args()
    if args.picture:
        picture(args.picture, args.frames)
        return 0
    try:
        import open3d as o3d
    except ImportError:
        print("open3d is not installed (pip install open3d): timing edge3d alone")
        o3d = None

    world = make_world(0)
    poses = trajectories.orbit(world, args.frames)
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs "
        f"(EDGE3D_NUM_THREADS={os.environ.get('EDGE3D_NUM_THREADS', 'all')}); "
        f"Open3D {o3d.__version__ if o3d else 'not installed'}; {args.frames} frames 640x480.",
        "",
        "| depth | voxel | edge3d ms/frame | Open3D ms/frame | speed-up | edge3d extract ms | "
        "Open3D extract ms | edge3d RMS mm | Open3D RMS mm | edge3d points | Open3D points |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for noise, smooth in ((False, False), (True, False), (True, True)):
        camera = VirtualCamera(d435_intrinsics(640, 480), noise=noise)
        frames = [camera.render(world, p, index=i).frame
                  for i, p in enumerate(tqdm(poses, desc="rendering", leave=False))]
        for voxel in args.voxels:
            r = run(voxel, frames, world, o3d, smooth)
            o = (f"{r['o3d_ms']:.1f} | {r['o3d_ms'] / r['ours_ms']:.2f}x | "
                 f"{r['ours_extract_ms']:.0f} | {r['o3d_extract_ms']:.0f} | "
                 f"{r['ours_rms_mm']:.1f} | {r['o3d_rms_mm']:.1f} | {r['ours_points']} | "
                 f"{r['o3d_points']}") if o3d else (
                f"- | - | {r['ours_extract_ms']:.0f} | - | {r['ours_rms_mm']:.1f} | - | "
                f"{r['ours_points']} | -")
            depth = ("noisy, edge3d smooths" if smooth else "noisy") if noise else "clean"
            lines.append(f"| {depth} | {voxel * 100:.0f} cm | "
                         f"{r['ours_ms']:.1f} | {o} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
