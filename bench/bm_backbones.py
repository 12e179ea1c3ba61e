"""Backbone inference speed: ONNX Runtime (CPU) against PyTorch eager, side by side in one run.

    .venv/bin/python bench/bm_backbones.py [--threads 2] [--repeats 7] [--profile]

Each backbone runs at its CPU default size on inputs built by ``edge3d.native`` from a
synthetic room (sparse UNet: 5 cm voxels; PointNet++: a 4096-point block as 3D-BoNet uses;
dense CNN: a 64 x 64 x 32 grid at 10 cm). PyTorch runs the model in eval mode (BatchNorm not
folded, as a user would run it) and folded; ONNX Runtime runs the exported graph with all graph
optimisations. Timings alternate between the runners and the fastest run of each is compared,
since these machines are shared and noisy. ``--profile`` adds ONNX Runtime's per-operator time
shares, which say what limits the speed-up. Prints Markdown for docs/benchmarks/backbones.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from edge3d.export.onnx_export import export_onnx, ort_session, run_onnx, to_torch
from edge3d.models.backbones import (
    DenseCNN,
    PointNet2,
    SparseUNet,
    fold_norms,
)
from edge3d.runtime import preprocess as model_inputs


def room_points(spacing: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    from edge3d.synth import make_world

    pts = make_world(0, kind="room").surface_points(spacing)
    return pts.positions, pts.colors.astype(np.float32) / 255.0 - 0.5


def cases() -> dict[str, tuple[torch.nn.Module, dict[str, np.ndarray], str]]:
    pos, rgb = room_points()
    feats = np.concatenate([rgb, pos - pos.mean(0)], axis=1).astype(np.float32)
    out = {}
    unet = SparseUNet()
    net = model_inputs.sparse_unet_inputs(pos, feats, 0.05, unet.config.levels)
    net.arrays.pop("point_map")
    out["sparse_unet"] = (unet, net.arrays, f"{len(net.arrays['features'])} voxels, "
                          f"channels {unet.config.channels}")
    rng = np.random.default_rng(0)
    block = np.flatnonzero(np.all(np.abs(pos[:, :2] - pos[:, :2].mean(0)) < 0.75, axis=1))
    block = np.sort(rng.choice(block, 4096, replace=len(block) < 4096))
    pn = PointNet2()
    c = pn.config
    net = model_inputs.pointnet2_inputs(pos[block], rgb[block], c.npoints, c.radii, c.nsamples)
    out["pointnet2"] = (pn, net.arrays, "4096 points, npoints " + str(c.npoints))
    dense = DenseCNN()
    inside, origin = model_inputs.grid_crop_mask(pos, 0.1, (64, 64, 32))
    net = model_inputs.dense_grid_inputs(pos[inside], rgb[inside], 0.1, (64, 64, 32), origin)
    net.arrays.pop("point_map")
    out["dense_cnn"] = (dense, net.arrays, f"64x64x32 grid, width {dense.config.width}")
    return out


def warm_norms(model: torch.nn.Module, x: dict[str, torch.Tensor]) -> None:
    """Non-trivial BatchNorm statistics, so folding changes the weights as after training."""
    model.train()
    with torch.no_grad():
        model(x)
    model.eval()


def best_times(runners: dict, repeats: int) -> dict[str, float]:
    """Fastest of ``repeats`` alternating runs per runner: on a shared machine other jobs only
    ever add time, so the minimum is the least disturbed measurement."""
    times = defaultdict(list)
    for fn in runners.values():
        fn()  # warm-up
    for _ in range(repeats):
        for name, fn in runners.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {k: float(np.min(v)) for k, v in times.items()}


def op_profile(path: Path, arrays: dict, threads: int, runs: int = 3) -> list[tuple[str, float]]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.enable_profiling = True
    opts.profile_file_prefix = str(path.with_suffix(""))
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    for _ in range(runs):
        run_onnx(sess, arrays)
    trace = json.loads(Path(sess.end_profiling()).read_text())
    per_op: dict[str, float] = defaultdict(float)
    for ev in trace:
        if ev.get("cat") == "Node" and ev["name"].endswith("_kernel_time"):
            per_op[ev["args"]["op_name"]] += ev["dur"]
    total = sum(per_op.values()) or 1.0
    return sorted(((k, v / total) for k, v in per_op.items()), key=lambda kv: -kv[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", nargs="*", help="backbones to run (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows, profiles = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (model, arrays, desc) in cases().items():
            if args.only and name not in args.only:
                continue
            torch.manual_seed(0)
            x = to_torch(arrays)
            warm_norms(model, x)
            folded = fold_norms(model)
            path = export_onnx(model, arrays, Path(tmp) / f"{name}.onnx")
            sess = ort_session(path, threads=args.threads)
            runners = {"ort": lambda s=sess, a=arrays: run_onnx(s, a)}
            with torch.no_grad():
                ref = model(x).numpy()
            err = float(np.abs(run_onnx(sess, arrays)[0] - ref).max())

            def eager(m=model, x=x):
                with torch.no_grad():
                    m(x)

            def eager_folded(m=folded, x=x):
                with torch.no_grad():
                    m(x)

            t = best_times({"eager": eager, "eager_folded": eager_folded, **runners},
                             args.repeats)
            rows.append((name, desc, t, err))
            if args.profile:
                profiles[name] = op_profile(path, arrays, args.threads)
    print(f"ONNX Runtime vs PyTorch eager, {args.threads} threads, fastest of {args.repeats} "
          f"alternating runs ({platform.processor() or platform.machine()}, torch "
          f"{torch.__version__}, onnxruntime {__import__('onnxruntime').__version__}).\n")
    print("| backbone | input | eager ms | eager folded ms | ORT ms | ORT / eager speed-up "
          "| max abs diff |")
    print("|---|---|---|---|---|---|---|")
    for name, desc, t, err in rows:
        print(f"| {name} | {desc} | {1e3 * t['eager']:.1f} | {1e3 * t['eager_folded']:.1f} | "
              f"{1e3 * t['ort']:.1f} | {t['eager'] / t['ort']:.2f}x | {err:.1e} |")
    for name, ops in profiles.items():
        print(f"\nONNX Runtime operator time, {name}: " + ", ".join(
            f"{op} {100 * share:.0f}%" for op, share in ops[:6]))


if __name__ == "__main__":
    main()
