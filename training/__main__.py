"""``python -m training {train,resume,evaluate}``: the training command line.

    python -m training train --config training/configs/toy_semantic.yaml train.epochs=5
    python -m training resume --run runs/toy_semantic train.epochs=10
    python -m training evaluate --checkpoint runs/toy_semantic/best.pt
    torchrun --nproc_per_node 2 -m training train --config ...   # distributed (gloo on CPU)

Overrides are ``dotted.key=value`` (value parsed as YAML). See ``docs/training.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model from a config")
    train.add_argument("--config", required=True, help="YAML config file")
    train.add_argument("--run-dir", help="output folder (default: <output_dir>/<name>)")
    train.add_argument("overrides", nargs="*", help="dotted.key=value overrides")
    resume = sub.add_parser("resume", help="continue a run from its last checkpoint")
    resume.add_argument("--run", required=True, help="the run folder (has config.yaml, last.pt)")
    resume.add_argument("overrides", nargs="*", help="overrides, e.g. train.epochs=20")
    ev = sub.add_parser("evaluate", help="validate a checkpoint (ScanNet-protocol AP)")
    ev.add_argument("--checkpoint", required=True, help="a .pt checkpoint")
    ev.add_argument("--config", help="config to use instead of the checkpoint's own")
    ev.add_argument("overrides", nargs="*", help="overrides, e.g. data.val_seeds=[100,110]")
    return parser


def _json(metrics: dict) -> str:
    return json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v)
                       for k, v in metrics.items()}, indent=2)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from edge3d.models.checkpoint import load_checkpoint
    from training import distributed
    from training.config import DEFAULTS, apply_overrides, load_config, merge
    from training.trainer import Trainer

    if args.command == "train":
        config = load_config(args.config, args.overrides)
        run_dir = (Path(args.run_dir) if args.run_dir
                   else Path(config["output_dir"]) / config["name"])
        if (run_dir / "last.pt").exists():
            print(f"error: {run_dir} already holds a run; continue it with "
                  f"`python -m training resume --run {run_dir}` or choose another --run-dir "
                  "or name=...", file=sys.stderr)
            return 2
        trainer = Trainer(config, run_dir)
    elif args.command == "resume":
        run_dir = Path(args.run)
        config = load_config(run_dir / "config.yaml", args.overrides)
        trainer = Trainer(config, run_dir, resume=run_dir / "last.pt")
    else:
        import yaml

        state = load_checkpoint(args.checkpoint)
        if args.config:
            config = load_config(args.config, args.overrides)
        else:
            config = apply_overrides(merge(DEFAULTS, yaml.safe_load(state["config"])),
                                     args.overrides)
        trainer = Trainer(config, Path(args.checkpoint).parent, resume=args.checkpoint)
        if trainer.dist.main:
            print(_json(trainer.validate()))
        distributed.shutdown(trainer.dist)
        return 0
    metrics = trainer.fit()
    if trainer.dist.main:
        print(_json({"epoch": trainer.epoch, "step": trainer.step, **metrics}))
    distributed.shutdown(trainer.dist)
    return 0


if __name__ == "__main__":
    sys.exit(main())
