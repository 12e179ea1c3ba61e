"""SSEN benchmark: accuracy against the geometric baseline, per-stage runtime, ORT vs PyTorch.
Writes ``docs/benchmarks/ssen.md``.

    .venv/bin/python bench/bm_ssen.py                      # the bundled model ("ssen")
    .venv/bin/python bench/bm_ssen.py --model DIR --checkpoint runs/ssen_synthetic/last.pt
    .venv/bin/python bench/bm_ssen.py --quick              # 4 rooms per subset

Held-out synthetic rooms: the subsets of ``bench/heldout.py``, shared with
``bench/bm_runtime.py`` so the tables compare.

Input: each room's ground-truth surface samples at 2 cm (``World.surface_points(0.02)``).
Accuracy: ScanNet-protocol AP / AP50 / AP25 (``edge3d.eval.evaluate_segmentation``),
class-agnostic for both methods (the baseline has one class), and class-aware for SSEN.

Runtime: per-stage seconds of ``edge3d.Segmenter`` (preprocessing, network, HDBSCAN, the rest
of post-processing) averaged over the ``rooms`` subset; and the network alone in ONNX Runtime
vs PyTorch eager on the same inputs, interleaved room by room (best of 3 each). PyTorch uses the
checkpoint's weights when ``--checkpoint`` is given (and the outputs are compared), otherwise
the same architecture with fresh weights (the speed does not depend on the values).
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
from bench.heldout import SUBSETS, evaluate_rooms  # noqa: E402
from bench.network_ratio import markdown, ort_vs_torch  # noqa: E402
from edge3d import synth  # noqa: E402

STAGES = ("preprocess", "network", "hdbscan", "postprocess", "total")


def torch_model(package, checkpoint):
    import torch

    from edge3d.models.ssen import build

    torch.manual_seed(0)
    model = build(package.provenance["training_config"])
    if checkpoint:
        from edge3d.export.package_export import read_checkpoint

        model.load_state_dict(read_checkpoint(checkpoint)["model"])
    return model.eval()


def clustering_choice(seg, seeds):
    """Native HDBSCAN vs the ``hdbscan`` package the reference code uses, on the real foreground
    embeddings of SSEN: mean seconds per room (best of 3) and ARI of the labels."""
    import hdbscan as hdbscan_pkg
    from sklearn.metrics import adjusted_rand_score

    from edge3d import native
    from edge3d.runtime.methods.softmax import softmax

    inner = seg._method
    p = inner.params
    t_nat, t_pkg, aris, sizes = [], [], [], []
    for s in tqdm(list(seeds), desc="hdbscan", leave=False):
        lp = synth.make_world(s).surface_points(0.02)
        out, _ = inner.infer(lp.positions, lp.colors.astype(np.float32) / 255, {})
        fg = ~np.isin(softmax(out["semantic_logits"]).argmax(1), p.background_classes)
        emb = np.ascontiguousarray(out["embedding"][fg], np.float32)
        sizes.append(len(emb))
        best = {"native": np.inf, "package": np.inf}
        for _ in range(3):
            t = time.perf_counter()
            a = native.hdbscan(emb, p.min_cluster_size, p.min_samples,
                               p.allow_single_cluster).labels
            best["native"] = min(best["native"], time.perf_counter() - t)
            t = time.perf_counter()
            b = hdbscan_pkg.HDBSCAN(min_cluster_size=p.min_cluster_size,
                                    min_samples=p.min_samples,
                                    allow_single_cluster=p.allow_single_cluster).fit(emb).labels_
            best["package"] = min(best["package"], time.perf_counter() - t)
        t_nat.append(best["native"])
        t_pkg.append(best["package"])
        aris.append(adjusted_rand_score(a, b))
    return (float(np.mean(t_nat)), float(np.mean(t_pkg)), float(np.mean(aris)),
            int(np.mean(sizes)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="ssen", help="bundled name or package directory")
    ap.add_argument("--checkpoint", default=None, help="the package's training checkpoint")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "ssen.md"))
    args = ap.parse_args()
    from edge3d.package import load_package

    ssen = edge3d.Segmenter(args.model, backend="ort", device="cpu")
    package = load_package(ssen.model)
    geo = edge3d.Segmenter("geometric")
    prov = package.provenance
    lines = ["# SSEN", "",
             f"Measured by `bench/bm_ssen.py{' --quick' if args.quick else ''}` on "
             f"{platform.machine()}, {_cpus()} CPU cores, Python {platform.python_version()}, "
             f"{time.strftime('%Y-%m-%d')}, load average {os.getloadavg()[0]:.1f} at the start "
             "(a shared machine: absolute times are inflated by other work, ratios measured "
             "side by side are not). Model: "
             f"`{args.model}` ({package.voxel_size * 100:g} cm voxels, "
             f"trained {prov.get('step')} steps, seed {prov.get('seed')}; "
             f"`{prov.get('command', '?')}`). Seeds and subsets: the script's docstring "
             "(the same held-out rooms as `bench/bm_runtime.py`).", "",
             "## Accuracy on held-out synthetic rooms (ScanNet protocol)", "",
             "| subset | rooms | method | AP | AP50 | AP25 | class-aware AP | class-aware AP50 "
             "| instances found / GT per room |",
             "|---|---|---|---|---|---|---|---|---|"]
    rooms_timing = None
    for name, (seeds, params) in SUBSETS.items():
        seeds = list(seeds)[: 4 if args.quick else None]
        res, npts, gt = evaluate_rooms(seeds, params, {"geometric": geo, "ssen": ssen})
        for method, (agn, cls, _, found) in res.items():
            aware = (f"{cls.ap:.3f} | {cls.ap50:.3f}" if method == "ssen" else "- | -")
            lines.append(f"| {name} | {len(seeds)} | {method} | {agn.ap:.3f} | {agn.ap50:.3f} "
                         f"| {agn.ap25:.3f} | {aware} | {found:.1f} / {gt:.1f} |")
            print(lines[-1], flush=True)
        if name == "rooms":
            rooms_timing = (res["ssen"][2], res["geometric"][2], npts)
    timing, geo_timing, npts = rooms_timing
    lines += ["", "Class-agnostic columns compare the two methods (the baseline has one "
              "class); the class-aware columns need SSEN's class vote to be right too.", "",
              "## Runtime per stage (`rooms`, mean per room)", "",
              f"{npts} points per room (2 cm surface samples), ONNX Runtime on the CPU.", "",
              "| stage | SSEN ms | share |", "|---|---|---|"]
    for k in STAGES:
        if k in timing:
            lines.append(f"| {k} | {timing[k] * 1e3:.0f} | "
                         f"{timing[k] / timing['total'] * 100:.0f} % |")
    lines += ["", f"`postprocess` includes `hdbscan`. The geometric baseline takes "
              f"{geo_timing['total'] * 1e3:.0f} ms per room on the same points in the same run.",
              ""]
    seeds = list(SUBSETS["rooms"][0])[: 3 if args.quick else 6]
    nat, pkg, ari, fg = clustering_choice(ssen, seeds)
    lines += ["## Clustering: native HDBSCAN vs the `hdbscan` package", "",
              f"SSEN's own foreground voxel embeddings ({fg} per room on average, 8-D, "
              f"{len(seeds)} rooms, best of 3, min_cluster_size "
              f"{ssen._method.params.min_cluster_size}): the reference code's library with its "
              "defaults (approximate spanning tree) against `edge3d.native.hdbscan` (exact).", "",
              "| implementation | ms per room |", "|---|---|",
              f"| edge3d.native.hdbscan (used) | {nat * 1e3:.1f} |",
              f"| hdbscan package | {pkg * 1e3:.1f} |", "",
              f"Speed-up {pkg / nat:.1f}x; label agreement (ARI) {ari:.4f}.", ""]
    ratio = ort_vs_torch(ssen._method, torch_model(package, args.checkpoint), seeds,
                         args.checkpoint is not None)
    lines += markdown(ratio, "voxels")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {args.out}")


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    main()
