"""Spherical Mask benchmark: accuracy on held-out rooms next to the other methods, runtime per
stage, ONNX Runtime / PyTorch ratio. Writes ``docs/benchmarks/spherical_mask.md``.

    .venv/bin/python bench/bm_spherical_mask.py --checkpoint runs/spherical_mask_synthetic/last.pt
    .venv/bin/python bench/bm_spherical_mask.py --quick      # 4 rooms

Held-out rooms: the ``rooms`` subset of ``bench/heldout.py`` (seeds 1000-1019), ground-truth
surface samples at 2 cm.
AP / AP50 / AP25 follow the ScanNet protocol (``edge3d.eval``), with ``min_region_size`` 100
points, class-aware for the learned methods and class-agnostic for all (the geometric
baseline has one class). The bundled Spherical Mask package (or ``--package``), the bundled
SSEN package when there is one (or ``--ssen``), and ``edge3d.Segmenter("geometric")`` run on
the same clouds in one process.

Ablation (``--ablation LABEL=CHECKPOINT``, repeatable): the paper's Table 5 at small scale.
Each checkpoint (``training/configs/spherical_mask_synthetic.yaml`` with ``method.use_rpm``,
``method.l_mc`` and ``method.l_sc`` switched, the same seed and steps) is exported without
validation into a temporary package and evaluated on the same rooms through the same runtime.

Runtime: the segmenter's per-stage timings (preprocessing, graph ``points``, native sampling,
graph ``queries`` over all rounds, post-processing with matrix NMS) averaged over the rooms;
with ``--checkpoint`` the same clouds also run with the PyTorch stages in place of the ONNX
Runtime graphs (same native code), giving the ORT / PyTorch ratio per graph.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import edge3d  # noqa: E402
from bench.heldout import SUBSETS  # noqa: E402
from edge3d import synth  # noqa: E402
from edge3d.eval import evaluate_segmentation  # noqa: E402

STAGES = ("preprocess", "network_points", "sampling", "network_queries", "postprocess")


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _evaluate(pairs, agnostic: bool):
    return evaluate_segmentation(pairs, synth.CLASS_NAMES, synth.BACKGROUND_CLASSES,
                                 agnostic=agnostic, min_region_size=100)


def draw_room(points: np.ndarray, gt_ids: np.ndarray, result, path: str) -> None:
    """Top view of a room: ground-truth instances | predicted instances (random colours,
    floor and walls grey)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    gt = np.where(np.isin(gt_ids // 1000, synth.BACKGROUND_CLASSES), 0, gt_ids)
    fig, axes = plt.subplots(1, 2, figsize=(10, 5), sharex=True, sharey=True)
    order = np.argsort(points[:, 2])            # higher points drawn last (top view)
    for ax, labels, title in ((axes[0], gt, "ground truth"),
                              (axes[1], result.labels, "Spherical Mask")):
        ids, inv = np.unique(labels, return_inverse=True)
        palette = rng.random((len(ids), 3)) * 0.8 + 0.1
        colours = palette[inv.reshape(-1)]
        colours[labels <= 0] = 0.85
        ax.scatter(points[order, 0], points[order, 1], c=colours[order], s=0.2, linewidths=0)
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ablation_segmenters(items: list[str], tmp: str) -> dict[str, tuple]:
    """``{label: (segmenter, checkpoint)}``, each checkpoint exported into ``tmp``."""
    from edge3d.export.package_export import export_package

    out = {}
    for k, item in enumerate(items):
        label, sep, ckpt = item.partition("=")
        if not sep:
            raise SystemExit(f"--ablation {item!r} is not LABEL=CHECKPOINT")
        path, _ = export_package(ckpt, Path(tmp) / f"ablation{k}", validate=False,
                                 progress=False)
        out[label] = (edge3d.Segmenter(str(path), backend="ort", device="cpu"), ckpt)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rooms", type=int, default=None, help="number of rooms (default 20)")
    ap.add_argument("--package", default="spherical_mask", help="Spherical Mask package")
    ap.add_argument("--ssen", default=None, help="SSEN package (default: bundled, if any)")
    ap.add_argument("--checkpoint", default=None, help="checkpoint for the PyTorch ratio")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "spherical_mask.md"))
    ap.add_argument("--ablation", action="append", default=[], metavar="LABEL=CHECKPOINT",
                    help="also evaluate this training checkpoint (Table 5 rows), repeatable")
    ap.add_argument("--figure", default=None,
                    help="also draw the first room (ground truth | prediction) to this PNG")
    args = ap.parse_args()
    from edge3d.package import bundled_packages

    seeds = list(SUBSETS["rooms"][0])[: args.rooms or (4 if args.quick else None)]
    load = _load()
    methods = {"Spherical Mask": edge3d.Segmenter(args.package, backend="ort", device="cpu")}
    ssen = args.ssen or ("ssen" if "ssen" in bundled_packages() else None)
    if ssen:
        methods["SSEN"] = edge3d.Segmenter(ssen, backend="ort", device="cpu")
    methods["geometric"] = edge3d.Segmenter("geometric")
    tmp = tempfile.TemporaryDirectory(prefix="bm-spherical-mask-")
    ablation = ablation_segmenters(args.ablation, tmp.name)
    runners = {**methods, **{label: seg for label, (seg, _) in ablation.items()}}
    sm = methods["Spherical Mask"]._method
    torch_backends = None
    if args.checkpoint:
        from edge3d.export.package_export import TorchBackend, read_checkpoint
        from edge3d.models import spherical_mask as sm_model

        state = read_checkpoint(args.checkpoint)
        model = sm_model.build(state["config"])
        model.load_state_dict(state["model"])
        model.eval()
        torch_backends = {"points": TorchBackend(model.points),
                          "queries": TorchBackend(model.queries)}
    pairs = {name: [] for name in runners}
    stages: dict[str, list[float]] = {k: [] for k in STAGES}
    torch_stages: dict[str, list[float]] = {k: [] for k in STAGES}
    points, instances = [], []
    for seed in tqdm(seeds, desc="rooms"):
        lp = synth.make_world(seed).surface_points(0.02)
        pts = lp.positions.astype(np.float32)
        cols = lp.colors.astype(np.float32) / np.float32(255.0)
        points.append(len(pts))
        for name, seg in runners.items():
            result = seg.segment(pts, cols)
            pairs[name].append((lp.gt_ids, result))
            if args.figure and name == "Spherical Mask" and seed == seeds[0]:
                draw_room(pts, lp.gt_ids, result, args.figure)
            if name == "Spherical Mask":
                instances.append(len(result.instances))
                for k in STAGES:
                    stages[k].append(result.timings[k])
        if torch_backends is not None:
            ort = sm.backends
            sm.backends = torch_backends
            try:
                result = sm.segment(pts, cols)
            finally:
                sm.backends = ort
            for k in STAGES:
                torch_stages[k].append(result.timings[k])
    lines = ["# Spherical Mask", "",
             f"Measured by `bench/bm_spherical_mask.py{' --quick' if args.quick else ''}` on "
             f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
             f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}, load average {load} "
             "at the start (a shared machine: compare ratios within this run, not absolute "
             "times across runs).", "",
             f"## Accuracy on held-out synthetic rooms (seeds {seeds[0]}-{seeds[-1]}, "
             f"{len(seeds)} rooms, surface samples 2 cm, mean {int(np.mean(points))} points)",
             "",
             "| method | AP | AP50 | AP25 | agnostic AP | agnostic AP50 |",
             "|---|---|---|---|---|---|"]
    for name in methods:
        p = pairs[name]
        ag = _evaluate(p, agnostic=True)
        if name == "geometric":
            lines.append(f"| {name} | - | - | - | {ag.ap:.3f} | {ag.ap50:.3f} |")
            continue
        ev = _evaluate(p, agnostic=False)
        lines.append(f"| {name} | {ev.ap:.3f} | {ev.ap50:.3f} | {ev.ap25:.3f} | {ag.ap:.3f} | "
                     f"{ag.ap50:.3f} |")
    if ablation:
        lines += ["", "## Ablation (the paper's Table 5 at small scale)", "",
                  "Same config, seed and number of steps; only the switches differ. RID only: "
                  "masks from the rays alone (no radial point migration); + L_mc: migration "
                  "trained with the mask-coverage margin loss; + L_sc: and the sector-consistency "
                  "loss (the full model).", "",
                  "| row | checkpoint | AP | AP50 | AP25 |", "|---|---|---|---|---|"]
        for label, (_, ckpt) in ablation.items():
            ev = _evaluate(pairs[label], agnostic=False)
            lines.append(f"| {label} | `{ckpt}` | {ev.ap:.3f} | {ev.ap50:.3f} | {ev.ap25:.3f} |")
    prov = dict(sm.package.provenance)
    lines += ["", f"Spherical Mask package: `{sm.package.path.name}`, trained by "
              f"`{prov.get('command', '?')}` (seed {prov.get('seed')}, epoch "
              f"{prov.get('epoch')}); {np.mean(instances):.1f} instances per room on average.",
              "", "## Runtime per stage (seconds per room, mean)", ""]
    header = "| stage | ONNX Runtime |" + (" PyTorch | ORT / PyTorch |" if torch_backends
                                           else "")
    lines += [header, "|---|---|" + ("---|---|" if torch_backends else "")]
    for k in STAGES:
        a = float(np.mean(stages[k]))
        row = f"| {k} | {a:.3f} |"
        if torch_backends:
            b = float(np.mean(torch_stages[k]))
            row += f" {b:.3f} | {a / b:.2f} |"
        lines.append(row)
    total = sum(float(np.mean(stages[k])) for k in STAGES)
    row = f"| total | {total:.3f} |"
    if torch_backends:
        tt = sum(float(np.mean(torch_stages[k])) for k in STAGES)
        row += f" {tt:.3f} | {total / tt:.2f} |"
    lines += [row, ""]
    tmp.cleanup()
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
