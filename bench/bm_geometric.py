"""Geometric segmentation benchmark: accuracy against the Euclidean baseline on held-out rooms,
speed at 100k points on one core, and the native building blocks against the libraries they
replace. Writes ``docs/benchmarks/geometric.md``.

    EDGE3D_NUM_THREADS=1 .venv/bin/python bench/bm_geometric.py           # full run
    EDGE3D_NUM_THREADS=1 .venv/bin/python bench/bm_geometric.py --quick   # fewer rooms
    EDGE3D_NUM_THREADS=1 .venv/bin/python bench/bm_geometric.py --dev     # + development rooms

``EDGE3D_NUM_THREADS=1`` makes every native stage single-threaded, as the speed goal is stated
(the script refuses to time otherwise, and says so).

Held-out synthetic rooms: the subsets of ``bench/heldout.py`` as 2 cm surface samples (every
face, hidden ones included), and fused TSDF maps of rendered orbits (rooms 1010-1015 and
touching rooms 2000-2005; 40 frames at 320x240, 2 cm voxels; ground truth carried to each map
point from the nearest labelled surface sample). The segmenter was developed on rooms 0-149,
100-105 (fused), 3000-3005 (touching, fused) and on real frames; while debugging, held-out
rooms 1000, 2001 and 2003 were looked at once each, and nothing was tuned on the numbers below.

Accuracy is ScanNet-protocol AP / AP50 / AP25, class-agnostic.
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

import edge3d  # noqa: E402
from bench.bm_runtime import fused_map  # noqa: E402
from bench.heldout import SUBSETS  # noqa: E402
from edge3d import synth  # noqa: E402
from edge3d.eval import evaluate_segmentation  # noqa: E402
from edge3d.native import geoseg, voxelize  # noqa: E402

METHODS = ("geometric", "euclidean")
FUSED = {"rooms": range(1010, 1016), "touching": range(2000, 2006)}
# The fused maps the segmenter was developed on (--dev): not held out, listed for the size of
# the sample (six held-out fused rooms move a lot from room to room).
DEVELOPMENT = {"rooms": range(100, 140), "touching": range(3000, 3010)}


def accuracy(clouds, methods) -> dict[str, tuple[object, float]]:
    """``clouds``: (points, colors, gt ids); returns per method (evaluation, s per cloud)."""
    out = {}
    for name in methods:
        seg = edge3d.Segmenter(name)
        pairs, seconds = [], 0.0
        for pts, cols, gt in clouds:
            t = time.perf_counter()
            result = seg.segment(pts, cols)
            seconds += time.perf_counter() - t
            pairs.append((gt, result))
        ev = evaluate_segmentation(pairs, synth.CLASS_NAMES, synth.BACKGROUND_CLASSES,
                                   agnostic=True)
        out[name] = (ev, seconds / len(clouds))
    return out


def surface_clouds(seeds, params):
    for s in tqdm(list(seeds), desc="surfaces", leave=False):
        lp = synth.make_world(s, **params).surface_points(0.02)
        yield lp.positions, lp.colors, lp.gt_ids


def fused_clouds(seeds, params, frames):
    for s in tqdm(list(seeds), desc="fused maps", leave=False):
        yield fused_map(s, params, frames, 0.02)


def best_of(fn, repeat: int = 5) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def speed(pts: np.ndarray, cols: np.ndarray) -> dict[str, dict[str, tuple[float, float]]]:
    """Per-stage (best, median) times of both methods on one cloud, 9 interleaved runs each."""
    segs = {name: edge3d.Segmenter(name) for name in METHODS}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in METHODS}
    for _ in range(9):
        for name, seg in segs.items():
            runs[name].append(seg.segment(pts, cols).timings)
    return {name: {k: (float(np.min([r[k] for r in rs])), float(np.median([r[k] for r in rs])))
                   for k in rs[0]} for name, rs in runs.items()}


def building_blocks(pts: np.ndarray) -> list[tuple[str, float, float, str]]:
    """Native kNN graph and normals against scipy's cKDTree and Open3D on the same voxels."""
    from scipy.spatial import cKDTree

    pos = voxelize(pts, 0.03).centroids
    k, cap = 8, 0.12
    nbr, _ = geoseg.knn_graph(pos, k, cap)
    native_knn = best_of(lambda: geoseg.knn_graph(pos, k, cap))

    def tree_knn():
        return cKDTree(pos).query(pos, k + 1, distance_upper_bound=cap, workers=1)

    _, idx = tree_knn()
    same = np.mean(np.where(idx[:, 1:] == len(pos), -1, idx[:, 1:]) == nbr)
    rows = [("kNN graph, k=8 within 12 cm", native_knn, best_of(tree_knn),
             f"scipy cKDTree build + query (1 worker); same neighbours: {same * 100:.2f} %")]
    native_normals = best_of(lambda: geoseg.pca_normals(pos, nbr))
    try:
        import open3d as o3d

        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pos.astype(np.float64)))
        search = o3d.geometry.KDTreeSearchParamHybrid(radius=cap, max_nn=k + 1)

        def o3d_normals():
            cloud.estimate_normals(search)

        rows.append(("PCA normals from those neighbours", native_normals, best_of(o3d_normals),
                     "Open3D estimate_normals (hybrid search, 9 neighbours, its own kNN "
                     "included: compare with the sum of the two native rows)"))
    except ImportError:
        rows.append(("PCA normals from those neighbours", native_normals, float("nan"),
                     "Open3D not installed"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dev", action="store_true",
                    help="also the 50 fused development rooms (about 15 minutes more)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "geometric.md"))
    args = ap.parse_args()
    if os.environ.get("EDGE3D_NUM_THREADS") != "1":
        sys.exit("run with EDGE3D_NUM_THREADS=1: the speed goal is for one core")
    lines = ["# Geometric segmentation", "",
             f"Measured by `EDGE3D_NUM_THREADS=1 bench/bm_geometric.py"
             f"{' --quick' if args.quick else ''}{' --dev' if args.dev else ''}` on "
             f"{platform.machine()}, "
             f"{len(os.sched_getaffinity(0))} CPU cores, Python {platform.python_version()}, "
             f"{time.strftime('%Y-%m-%d')}, load average {os.getloadavg()[0]:.1f} at the start "
             "(a shared machine: ratios measured side by side hold, absolute times move). "
             "Subsets and seeds: the script's docstring.", "",
             "## Accuracy on held-out synthetic rooms (class-agnostic, ScanNet protocol)", "",
             "| subset | input | rooms | method | AP | AP50 | AP25 | s per room |",
             "|---|---|---|---|---|---|---|---|"]

    def add(subset, kind, n, results):
        for name, (ev, sec) in results.items():
            lines.append(f"| {subset} | {kind} | {n} | {name} | {ev.ap:.3f} | {ev.ap50:.3f} | "
                         f"{ev.ap25:.3f} | {sec:.2f} |")
            print(lines[-1], flush=True)

    for subset, (seeds, params) in SUBSETS.items():
        seeds = list(seeds)[: 4 if args.quick else None]
        add(subset, "surface samples, 2 cm", len(seeds),
            accuracy(list(surface_clouds(seeds, params)), METHODS))
    frames = 20 if args.quick else 40
    fused_100k = None
    for subset, seeds in FUSED.items():
        seeds = list(seeds)[: 2 if args.quick else None]
        clouds = list(fused_clouds(seeds, SUBSETS[subset][1], frames))
        if fused_100k is None:
            fused_100k = min(clouds, key=lambda c: abs(len(c[0]) - 100_000))
        add(subset, f"fused TSDF map, {frames} frames", len(seeds), accuracy(clouds, METHODS))
    if args.dev:
        for subset, seeds in DEVELOPMENT.items():
            clouds = list(fused_clouds(seeds, SUBSETS[subset][1], frames))
            add(f"{subset} (development)", f"fused TSDF map, {frames} frames", len(seeds),
                accuracy(clouds, METHODS))
    lines += ["", "Surface samples include the hidden faces of every box (a box's underside, the "
              "faces where two objects touch); fused maps have only what the camera saw, like "
              "a real scan.", ""]

    pts, cols, _ = fused_100k
    times = speed(pts, cols)
    geo, euc = times["geometric"], times["euclidean"]
    lines += ["## Speed: one core, one fused map", "",
              f"{len(pts)} points (a fused map of room {FUSED['rooms'][0]}, 2 cm voxels), 9 "
              "interleaved runs of each method, `EDGE3D_NUM_THREADS=1`: best and median. The "
              "best is what the code costs; the median moves with whatever else the shared "
              "machine runs.", "",
              "| stage | geometric best ms | geometric median ms | euclidean best ms | "
              "euclidean median ms |", "|---|---|---|---|---|"]

    def cell(t, k):
        return f"{t[k][0] * 1e3:.0f} | {t[k][1] * 1e3:.0f}" if k in t else "- | -"

    for k in sorted(set(geo) | set(euc), key=lambda k: (k == "total", k)):
        lines.append(f"| {k} | {cell(geo, k)} | {cell(euc, k)} |")
    best, median = (geo["total"][i] * 1e3 for i in (0, 1))
    lines += ["", f"Goal: 100k points in 100 ms on one core. Measured: **{best:.0f} ms** best, "
              f"{median:.0f} ms median, for {len(pts)} points "
              f"({geo['total'][0] / euc['total'][0]:.1f}x the Euclidean baseline's best time).",
              ""]
    sp_time = best_of(lambda: geoseg.superpoints(pts, cols.astype(np.float32) / 255, 0.03))
    lines += [f"Superpoints alone (`edge3d.native.geoseg.superpoints`, 3 cm voxels, the same "
              f"map): {sp_time * 1e3:.0f} ms.", ""]
    lines += ["## Native building blocks against libraries", "",
              "Same voxels (3 cm) of that map, best of 5, one thread each.", "",
              "| step | native ms | library ms | library, and check |", "|---|---|---|---|"]
    for name, nat, lib, note in building_blocks(pts):
        lines.append(f"| {name} | {nat * 1e3:.1f} | {lib * 1e3:.1f} | {note} |")
    lines.append("")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
