"""The paper's ablation (section 4.2, Table 4) at CPU scale: the embedding and the score loss.
Writes ``docs/benchmarks/prob_embeddings_ablation.md``.

    .venv/bin/python bench/bm_prob_embeddings_ablation.py            # 4 epochs per variant
    .venv/bin/python bench/bm_prob_embeddings_ablation.py --epochs 1 # a quick look

Each variant trains ``training/configs/prob_embeddings_synthetic.yaml`` from the same seed on
the same rooms for the same steps, changing one thing:

- ``full``: anisotropic heteroscedastic Gaussians and the centre-aware loss (the paper's model);
- ``isotropic``: one sigma per row (Table 4's isotropic heteroscedastic);
- ``deterministic``: sigma fixed at 0.1 m for every row, the RBF kernel of Eq. 2 on the means
  (Table 4's deterministic reference, with the bandwidth set for rooms in metres);
- ``mse``: the full embedding with the MSE seed loss instead of the centre-aware loss (Table
  4's "Loss" row).

Then each is evaluated with the runtime's grouping (``tau`` 0.35, ``min_instance_rows`` 30) on
validation rooms 500-511 (2 cm surface samples, neither trained on nor held out for the other
benchmarks): class-agnostic and class-aware AP / AP50.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIANTS = {
    "full": [],
    "isotropic": ["method.embedding=isotropic"],
    "deterministic": ["method.embedding=deterministic"],
    "mse": ["method.score_loss=mse"],
}
ROOMS = range(500, 512)


def train(name: str, overrides: list[str], epochs: int, out: Path) -> Path:
    from training.config import load_config
    from training.trainer import Trainer

    config = load_config(str(ROOT / "training/configs/prob_embeddings_synthetic.yaml"),
                         [*overrides, f"name=ablation_{name}", f"train.epochs={epochs}",
                          "train.val_every=0", "train.progress=false",
                          f"data.cache_dir={ROOT / 'runs' / 'cache'}"])
    Trainer(config, out / name).fit()
    return out / name / "last.pt"


def evaluate(checkpoint: Path) -> tuple:
    import torch

    from edge3d import synth
    from edge3d.eval import evaluate_segmentation
    from edge3d.export.onnx_export import to_torch
    from edge3d.export.package_export import read_checkpoint
    from edge3d.models.prob_embeddings import build, package_sections
    from edge3d.runtime.input_builders import input_builder, runtime_inputs
    from edge3d.runtime.methods.prob_embeddings import ProbEmbeddingsParams, group_instances
    from edge3d.runtime.segmenter import validate_points

    state = read_checkpoint(checkpoint)
    config = state["config"]
    model = build(config)
    model.load_state_dict(state["model"])
    model.eval()
    sections = package_sections(config)
    params = ProbEmbeddingsParams.from_config({**config["method"], "min_instance_rows": 30},
                                             synth.BACKGROUND_CLASSES)
    pairs = []
    for seed in ROOMS:
        lp = synth.make_world(seed).surface_points(0.02)
        points, colors = validate_points(lp.positions, lp.colors)
        feeds, p2r = runtime_inputs(input_builder("pointnet2"), points, colors,
                                    float(sections["voxel_size"]), sections["preprocess"])
        with torch.no_grad():
            mu, sigma, logits = (t.numpy() for t in model(to_torch(feeds)))
        pairs.append((lp.gt_ids, group_instances(mu, sigma, logits, p2r, points,
                                                 synth.CLASS_NAMES, params)))
    agn = evaluate_segmentation(pairs, synth.CLASS_NAMES, synth.BACKGROUND_CLASSES,
                                agnostic=True)
    cls = evaluate_segmentation(pairs, synth.CLASS_NAMES, synth.BACKGROUND_CLASSES)
    return agn, cls, float(np.mean([len(r.instances) for _, r in pairs])), state.get("step")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" /
                                         "prob_embeddings_ablation.md"))
    args = ap.parse_args()
    lines = ["# Probabilistic Embeddings: the paper's ablation at CPU scale", "",
             f"Measured by `bench/bm_prob_embeddings_ablation.py --epochs {args.epochs}` on "
             f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPU cores, Python "
             f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}. Variants and rooms: "
             "the script's docstring.", "",
             "| variant | steps | AP | AP50 | class-aware AP | class-aware AP50 | instances "
             "per room | training minutes |", "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="pe-ablation-") as tmp:
        for name, overrides in VARIANTS.items():
            t = time.perf_counter()
            checkpoint = train(name, overrides, args.epochs, Path(tmp))
            minutes = (time.perf_counter() - t) / 60
            agn, cls, found, steps = evaluate(checkpoint)
            lines.append(f"| {name} | {steps} | {agn.ap:.3f} | {agn.ap50:.3f} | {cls.ap:.3f} "
                         f"| {cls.ap50:.3f} | {found:.1f} | {minutes:.1f} |")
            print(lines[-1], flush=True)
    lines.append("")
    Path(args.out).write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
