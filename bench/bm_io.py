"""edge3d.io speed: RealSense .db3 recording vs a PNG folder, written and read side by side.

Frames are 640x480 scenes (a tilted floor, boxes, z-dependent noise, 1 mm units; a textured
colour image), so compression sees realistic data. Every variant runs in this one process on the
same frames; the table reports frames per second and ratios to the PNG folder, the baseline a
dataset user would otherwise use. Run: ``.venv/bin/python bench/bm_io.py [--frames 60]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from edge3d.io import open_source, write_recording
from edge3d.io.images import write_color, write_depth_png
from edge3d.types import Frame, Intrinsics


def scene_frames(n: int, seed: int = 0) -> list[Frame]:
    rng = np.random.default_rng(seed)
    k = Intrinsics(640, 480, 385.0, 385.0, 319.5, 239.5)
    v, u = np.mgrid[0:480, 0:640].astype(np.float32)
    out = []
    for i in range(n):
        z = 1.5 + 0.004 * (v - 240) + 0.001 * i * (u - 320) / 64  # a floor seen at an angle
        for _ in range(4):
            x0, y0 = rng.integers(0, 560), rng.integers(0, 400)
            z[y0:y0 + 80, x0:x0 + 80] = rng.uniform(0.8, 1.4)
        z += rng.normal(0, 1, z.shape).astype(np.float32) * 0.0008 * z**2
        depth = np.clip(z * 1000, 0, 65535).astype(np.uint16)
        depth[rng.random(depth.shape) < 0.02] = 0  # holes
        color = np.stack([(u / 2.5) % 256, (v / 1.9) % 256, (u + v + 8 * i) % 256], -1)
        color = (color + rng.integers(0, 12, color.shape)).astype(np.uint8)
        out.append(Frame(depth, 0.001, k, color, i / 30.0, i, np.eye(4)))
    return out


def write_folder(frames: list[Frame], folder: Path) -> None:
    (folder / "depth").mkdir(parents=True)
    (folder / "color").mkdir()
    for f in frames:
        write_depth_png(folder / "depth" / f"{f.index:06d}.png", f.depth)
        write_color(folder / "color" / f"{f.index:06d}.png", f.color)
    k = frames[0].intrinsics.to_dict() | {"depth_scale": frames[0].depth_scale}
    (folder / "intrinsics.json").write_text(json.dumps(k))


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def read_all(spec: Path) -> None:
    with open_source(spec) as src:
        n = sum(1 for _ in src)
    assert n > 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=60)
    args = ap.parse_args()
    frames = scene_frames(args.frames)
    n = len(frames)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "png"
        t_w = timed(lambda: write_folder(frames, folder))
        t_r = timed(lambda: read_all(folder))
        size = sum(p.stat().st_size for p in folder.rglob("*.png"))
        rows.append(("PNG folder (baseline)", t_w, t_r, size))
        for name, compress in (("RealSense .db3", False), ("RealSense .db3, compressed", True)):
            path = tmp / f"{compress}.db3"
            t_w = timed(lambda p=path, c=compress: write_recording(frames, p, compress=c))
            t_r = timed(lambda p=path: read_all(p))
            rows.append((name, t_w, t_r, path.stat().st_size))
    base_w, base_r = rows[0][1], rows[0][2]
    print(f"{n} frames, 640x480 depth z16 + colour rgb8, one process, same frames\n")
    print("| format | write fps | read fps | write vs PNG | read vs PNG | MB per frame |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, t_w, t_r, size in rows:
        print(f"| {name} | {n / t_w:.1f} | {n / t_r:.1f} | {base_w / t_w:.2f}x | "
              f"{base_r / t_r:.2f}x | {size / n / 1e6:.2f} |")


if __name__ == "__main__":
    main()
