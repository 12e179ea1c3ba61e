"""``edge3d eval``: ScanNet-protocol instance AP of a prediction folder against a ground-truth
folder, both in the ScanNet benchmark's text format (``docs/evaluation.md``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CLASS_CHOICES = ("scannet", "synthetic", "toy", "agnostic")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval", help="ScanNet-protocol instance AP of benchmark-format predictions",
        description=(
            "Evaluate instance predictions with the ScanNet 3D instance benchmark protocol "
            "(AP over IoU 0.50:0.05:0.90, AP50, AP25). GT: <gt>/<scene>.txt, one "
            "class*1000+instance id per vertex line. Predictions: <pred>/<scene>.txt with lines "
            "'pred_mask/<file>.txt <label id> <confidence>'. Scenes are those with a prediction "
            "file, as in the official script."),
    )
    p.add_argument("--gt", required=True, type=Path, help="ground-truth folder")
    p.add_argument("--pred", required=True, type=Path, help="prediction folder")
    p.add_argument("--classes", default="scannet", metavar="SPEC",
                   help="scannet (the benchmark's 18 classes, default), synthetic "
                        "(edge3d.synth room classes without floor and wall), toy (the MTML toy "
                        "classes without the plane), agnostic (ScanNet's instances as one "
                        "class), or a text file with one 'id name' per line")
    p.add_argument("--agnostic", action="store_true",
                   help="class-agnostic evaluation over the chosen class list's instances")
    p.add_argument("--out", type=Path, help="write the results as JSON to this file")


def _class_list(spec: str) -> tuple[list[str], list[int], bool]:
    from edge3d.errors import FormatError
    from edge3d.eval import SCANNET_CLASS_LABELS, SCANNET_VALID_CLASS_IDS

    if spec in ("scannet", "agnostic"):
        return list(SCANNET_CLASS_LABELS), list(SCANNET_VALID_CLASS_IDS), spec == "agnostic"
    if spec in ("synthetic", "toy"):
        from edge3d.synth import classes

        if spec == "synthetic":
            names, background = classes.CLASS_NAMES, classes.BACKGROUND_CLASSES
        else:
            names, background = classes.TOY_CLASS_NAMES, classes.TOY_BACKGROUND_CLASSES
        # Stuff classes (floor, wall, the toy plane) are void, never instances.
        ids = [i for i in range(len(names)) if i not in background]
        return [names[i] for i in ids], ids, False
    path = Path(spec)
    if not path.is_file():
        raise FormatError(f"--classes {spec!r}: expected one of {', '.join(CLASS_CHOICES)} or a "
                          "class file with one 'id name' per line")
    names, ids = [], []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        try:
            ids.append(int(parts[0]))
        except ValueError:
            raise FormatError(f"{path}, line {n}: expected '<id> <name>', got {line!r}") from None
        names.append(parts[1].strip() if len(parts) > 1 else parts[0])
    return names, ids, False


def run(args: argparse.Namespace) -> int:
    import warnings

    from edge3d.errors import Edge3DError
    from edge3d.eval import evaluate_scannet, read_gt_dir, read_pred_dir

    try:
        names, ids, agnostic = _class_list(args.classes)
        agnostic = agnostic or args.agnostic
        preds = read_pred_dir(args.pred, label_ids=None if agnostic else set(ids))
        if not preds:
            print(f"error: no prediction files (<scene>.txt) in {args.pred}", file=sys.stderr)
            return 2
        gt = read_gt_dir(args.gt, scenes=list(preds))
        unevaluated = [p for p in args.gt.glob("*.txt") if p.stem not in preds]
        if unevaluated:
            print(f"note: {len(unevaluated)} ground-truth scene(s) have no prediction file and "
                  "are not evaluated (as in the official script)", file=sys.stderr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the notes above say it
            result = evaluate_scannet(gt, preds, names, ids, agnostic=agnostic, progress=True)
    except (Edge3DError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"evaluated {result.num_scenes} scene(s)")
    print(result.table())
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0
