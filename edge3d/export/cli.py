"""``edge3d-export CHECKPOINT --out DIR``: a training checkpoint as a validated model package.

    edge3d-export runs/ssen_synthetic/best.pt --out my_ssen
    edge3d-export runs/ssen_synthetic/best.pt --out my_ssen --note command="python -m ..."
    edge3d-export runs/ssen_synthetic/best.pt --out my_ssen --engine fp16   # on the target
    edge3d-export runs/ssen_synthetic/best.pt --out my_ssen --param min_instance_voxels=20

Writes ``edge3d.json``, ``model.portable.onnx`` and ``model.trt.onnx`` (docs/models.md), after
checking that ONNX Runtime and PyTorch give identical instances on sample rooms; exits 1 with
the measured difference if they do not. ``--engine`` also builds a TensorRT engine per graph
into the package's ``engines/`` cache (needs TensorRT, cuda-python and the edge3d plugins).
"""

from __future__ import annotations

import argparse
import json
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="edge3d-export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="a .pt checkpoint from `python -m training train`")
    p.add_argument("--out", required=True, help="package directory to write")
    p.add_argument("--no-validate", action="store_true",
                   help="skip the PyTorch vs ONNX Runtime comparison (not recommended)")
    p.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="synthetic room seeds for the example input and validation")
    p.add_argument("--spacing", type=float, default=None,
                   help="point spacing of those rooms in metres (default 0.02)")
    p.add_argument("--note", action="append", default=[], metavar="KEY=VALUE",
                   help="add a provenance field (e.g. command=..., metrics as JSON)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="set a post-processing parameter of the method in the package (e.g. "
                        "a threshold fitted on validation data after training)")
    p.add_argument("--engine", choices=("fp32", "fp16"), default=None,
                   help="also build a TensorRT engine of this precision (on the target)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _notes(items: list[str], flag: str = "--note") -> dict:
    notes = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} {item!r} is not KEY=VALUE")
        try:
            notes[key] = json.loads(value)
        except json.JSONDecodeError:
            notes[key] = value
    return notes


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from edge3d.errors import Edge3DError
    from edge3d.export.package_export import VALIDATION_SEEDS, VALIDATION_SPACING, export_package

    try:
        notes = _notes(args.note)
        spacing = VALIDATION_SPACING if args.spacing is None else args.spacing
        if not spacing > 0:
            raise ValueError(f"--spacing must be > 0, got {args.spacing}")
        path, report = export_package(args.checkpoint, args.out, validate=not args.no_validate,
                                      seeds=tuple(args.seeds or VALIDATION_SEEDS),
                                      spacing=spacing, provenance=notes,
                                      params=_notes(args.param, "--param"),
                                      progress=not args.quiet)
        if args.engine:
            from edge3d.export.engine import build_engine
            from edge3d.package import load_package

            package = load_package(path)
            for graph in package.graphs:  # Spherical Mask has two graphs, most methods one
                engine = build_engine(package.graph_file(graph, "trt"), args.engine)
                print(f"engine ({graph}): {engine}")
    except (Edge3DError, FileNotFoundError, ValueError) as exc:
        print(f"edge3d-export: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    if report is not None:
        diffs = ", ".join(f"{k} {v:.2e}" for k, v in report.max_abs_diff.items())
        print(f"validated on {report.samples} rooms ({report.points} points): identical "
              f"instances ({report.instances}); largest output difference {diffs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
