"""Speed of the synthetic renderer: one 640x480 D435-like frame, on one core and on all cores.

Usage (from the repository root)::

    .venv/bin/python bench/bm_render.py                       # 5 rooms x 20 frames
    .venv/bin/python bench/bm_render.py --rooms 2 --frames 5  # a quick look
    .venv/bin/python bench/bm_render.py --out docs/benchmarks/synth.md

Each configuration runs in its own process (``EDGE3D_NUM_THREADS`` is read once per process)
on the same rooms and walk-through poses: the native renderer on one thread and on all cores,
split into ray casting and the full frame (ray cast + sensor model + labels), and the numpy
reference on a few frames, so the rows are ratios measured side by side in one run. Times are
medians per frame; single-thread rows also give CPU time, which shared machines distort less
than wall time. ``World.surface_points`` (2 cm) is timed per room.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _worker(rooms: int, frames: int, backend: str) -> dict:
    from edge3d import synth

    cam = synth.VirtualCamera(backend=backend)
    out = {"full_wall": [], "full_cpu": [], "raycast_wall": [], "raycast_cpu": [], "boxes": [],
           "points_cpu": [], "points": []}
    for seed in range(rooms):
        world = synth.make_world(seed)
        table = world.primitives
        out["boxes"].append(len(table))
        poses = synth.trajectories.walkthrough(world, frames)
        cam.render(world, poses[0])  # warm up: first call loads the extension
        for pose in poses:
            for key in ("raycast", "full"):
                w0, c0 = time.perf_counter(), time.process_time()
                if key == "raycast":
                    cam.raycast(world, pose)
                else:
                    cam.render(world, pose)
                out[f"{key}_wall"].append(time.perf_counter() - w0)
                out[f"{key}_cpu"].append(time.process_time() - c0)
        if backend != "numpy":
            c0 = time.process_time()
            out["points"].append(len(world.surface_points(0.02)))
            out["points_cpu"].append(time.process_time() - c0)
    return out


def _run(rooms: int, frames: int, backend: str, threads: str | None) -> dict:
    env = dict(os.environ)
    if threads is not None:
        env["EDGE3D_NUM_THREADS"] = threads
    else:
        env.pop("EDGE3D_NUM_THREADS", None)
    cmd = [sys.executable, __file__, "--worker", "--rooms", str(rooms), "--frames", str(frames),
           "--backend", backend]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rooms", type=int, default=5)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--reference-frames", type=int, default=3)
    ap.add_argument("--out", type=Path, help="write the markdown table here")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--backend", default="native", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.rooms, args.frames, args.backend)))
        return 0

    cores = os.cpu_count() or 1
    configs = [("native, 1 thread", "native", "1", args.frames),
               (f"native, all cores ({cores})", "native", None, args.frames),
               ("numpy reference, 1 thread", "numpy", "1", args.reference_frames)]
    results = {}
    for name, backend, threads, frames in tqdm(configs, desc="configurations"):
        results[name] = _run(args.rooms, frames, backend, threads)

    med = lambda v: 1e3 * float(np.median(v))  # noqa: E731
    base = med(results["native, 1 thread"]["full_wall"])
    lines = [
        "# Synthetic rendering speed",
        "",
        f"`bench/bm_render.py --rooms {args.rooms} --frames {args.frames}`: a 640x480 D435-like "
        "frame (`edge3d.synth.VirtualCamera.render`: ray casting + sensor model + labels) of "
        f"{args.rooms} random rooms ({min(results['native, 1 thread']['boxes'])}-"
        f"{max(results['native, 1 thread']['boxes'])} boxes each) along walk-through poses. "
        f"Median per frame; {platform.machine()}, {cores} cores "
        f"({platform.processor() or 'cpu'}), load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} during the run.",
        "",
        "| renderer | ray cast, CPU ms | full frame, CPU ms | full frame, wall ms | "
        "wall time vs native 1 thread |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        single = "1 thread" in name
        cpu = (f"{med(r['raycast_cpu']):.1f} | {med(r['full_cpu']):.1f}" if single
               else "(all threads) | (all threads)")
        lines.append(f"| {name} | {cpu} | {med(r['full_wall']):.1f} | "
                     f"{med(r['full_wall']) / base:.2f}x |")
    pts = results["native, 1 thread"]
    lines += [
        "",
        f"Target: well under 100 ms per frame on one core. `World.surface_points(0.02)`: "
        f"{med(pts['points_cpu']):.0f} ms CPU per room for "
        f"{int(np.median(pts['points'])):,} labelled points (numpy).",
        "",
        "CPU time counts only this process's work; wall time also counts waiting for the CPU "
        "when other jobs share the machine, so on a loaded machine wall > CPU.",
    ]
    if os.getloadavg()[0] > cores:
        lines += ["", f"This run shared an oversubscribed machine (load above {cores} cores): "
                  "its wall times, and the all-cores row, mostly measure waiting; the CPU "
                  "times are the single-core figures to trust."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
