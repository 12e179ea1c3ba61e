"""The ScanNet benchmark's text format for instance ground truth and predictions.

- Ground truth: ``<gt_dir>/<scene>.txt``, one integer per line and vertex,
  ``class_id * 1000 + instance`` (0 = unannotated).
- Predictions: ``<pred_dir>/<scene>.txt``, one line per instance,
  ``<relative mask path> <label id> <confidence>`` separated by single spaces; the mask file
  (conventionally ``pred_mask/<name>.txt``, inside ``pred_dir``) has one integer per vertex line,
  non-zero = in the instance.

Reading follows the official script's parser (``util_3d.read_instance_prediction_file`` and
``load_ids``) rule for rule, so that both accept and reject the same files.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import numpy as np

from edge3d.errors import FormatError
from edge3d.eval.predictions import PredInstance

RESULT_FILE_NAME = "semantic_instance_evaluation.txt"
"""The official script's output file, skipped when listing a prediction folder."""

MASK_DIR = "pred_mask"


def read_ids(path: str | os.PathLike) -> np.ndarray:
    """One integer per line as int64 [V] (a ground-truth or mask file)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc}") from exc
    fast = _single_digit_lines(raw)
    if fast is not None:
        return fast
    try:
        with open(path) as f:  # text mode: universal newlines, as the official loader
            lines = f.read().splitlines()
        return np.array(lines, dtype=np.int64)
    except (ValueError, OverflowError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path} must hold one integer per line: {exc}") from exc


def _single_digit_lines(raw: bytes) -> np.ndarray | None:
    # Masks are 0/1 per line: parse "d\n" * V straight from the bytes, ~12x faster than int().
    if raw and not raw.endswith(b"\n"):
        raw += b"\n"
    b = np.frombuffer(raw, dtype=np.uint8)
    if b.size % 2 or not (b[1::2] == ord("\n")).all():
        return None
    digits = b[0::2]
    if not ((digits >= ord("0")) & (digits <= ord("9"))).all():
        return None
    return (digits - ord("0")).astype(np.int64)


def write_ids(path: str | os.PathLike, ids: np.ndarray) -> None:
    """Write one integer per line (``%d``)."""
    ids = np.asarray(ids).ravel().astype(np.int64)
    text = "\n".join(map(str, ids.tolist()))
    Path(path).write_text(text + "\n" if len(ids) else "")


def read_gt_dir(gt_dir: str | os.PathLike,
                scenes: Collection[str] | None = None) -> dict[str, np.ndarray]:
    """Ground truth as scene -> int64 [V] ids: every ``<scene>.txt`` of ``gt_dir`` (sorted by
    name), or only ``scenes`` (as the official script, which opens only the ground truth of
    scenes with predictions; a missing one is a :class:`FormatError`)."""
    gt_dir = Path(gt_dir)
    if not gt_dir.is_dir():
        raise FormatError(f"ground-truth folder {gt_dir} does not exist")
    if scenes is None:
        return {p.stem: read_ids(p) for p in sorted(gt_dir.glob("*.txt")) if p.is_file()}
    missing = [s for s in scenes if not (gt_dir / f"{s}.txt").is_file()]
    if missing:
        raise FormatError(f"{len(missing)} scene(s) have no ground truth in {gt_dir}, e.g. "
                          f"{missing[0]}.txt")
    return {s: read_ids(gt_dir / f"{s}.txt") for s in scenes}


def write_gt(scene: str, ids: np.ndarray, out_dir: str | os.PathLike) -> Path:
    """Write one scene's ground truth as ``<out_dir>/<scene>.txt``; returns the path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{scene}.txt"
    write_ids(path, ids)
    return path


def prediction_scenes(pred_dir: str | os.PathLike) -> list[str]:
    """Scenes with a prediction file, in ``os.listdir`` order as the official script takes
    them (the order only matters when scenes share mask files)."""
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise FormatError(f"prediction folder {pred_dir} does not exist")
    return [f[: -len(".txt")] for f in os.listdir(pred_dir)
            if f.endswith(".txt") and f != RESULT_FILE_NAME]


def read_pred_file(pred_dir: str | os.PathLike, scene: str,
                   label_ids: Collection[int] | None = None) -> list[PredInstance]:
    """One scene's predictions in file order.

    A mask file listed twice keeps its first position and its last label and confidence (the
    script keeps them in a dict keyed by the mask's absolute path). With ``label_ids``, lines
    with another label are dropped without reading their masks, as the script does.
    """
    abs_dir = os.path.abspath(pred_dir)
    filename = os.path.join(pred_dir, f"{scene}.txt")
    try:
        with open(filename) as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise FormatError(f"cannot read prediction file {filename}: {exc}") from exc
    entries: dict[str, tuple[int, float]] = {}
    for n, line in enumerate(lines, 1):
        parts = line.split(" ")
        where = f"{filename}, line {n}"
        if len(parts) != 3:
            raise FormatError(f"{where}: expected '<relative mask path> <label id> <confidence>' "
                              f"separated by single spaces, got {line!r}")
        if os.path.isabs(parts[0]):
            raise FormatError(f"{where}: the mask path must be relative, got {parts[0]!r}")
        mask_file = os.path.abspath(os.path.join(os.path.dirname(filename), parts[0]))
        # A string prefix, not a path test: the official script accepts and rejects the same.
        if os.path.commonprefix([mask_file, abs_dir]) != abs_dir:  # noqa: RUF071
            raise FormatError(f"{where}: mask {parts[0]!r} lies outside the prediction folder")
        try:
            entries[mask_file] = (int(float(parts[1])), float(parts[2]))
        except (ValueError, OverflowError) as exc:
            raise FormatError(f"{where}: label id and confidence must be numbers: {exc}") from exc
    return [PredInstance(mask=read_ids(mask_file), label_id=label, score=score, key=mask_file)
            for mask_file, (label, score) in entries.items()
            if label_ids is None or label in label_ids]


def read_pred_dir(pred_dir: str | os.PathLike,
                  label_ids: Collection[int] | None = None) -> dict[str, list[PredInstance]]:
    """scene -> predictions for every ``<scene>.txt`` in ``pred_dir`` (see
    :func:`read_pred_file`); each prediction's ``key`` is its mask file's absolute path."""
    return {s: read_pred_file(pred_dir, s, label_ids) for s in prediction_scenes(pred_dir)}


def write_predictions(scene: str, preds: Sequence[PredInstance],
                      out_dir: str | os.PathLike) -> Path:
    """Write one scene's predictions: ``<out_dir>/<scene>.txt`` and one
    ``pred_mask/<scene>_<k>.txt`` 0/1 file per instance. Scores are written with ``repr`` so
    they read back bit-exactly. Returns the scene file's path."""
    if not scene or any(ch.isspace() for ch in scene) or "/" in scene:
        raise ValueError(f"scene name {scene!r} must be non-empty, without spaces or slashes "
                         "(the benchmark format separates fields by spaces)")
    out_dir = Path(out_dir)
    (out_dir / MASK_DIR).mkdir(parents=True, exist_ok=True)
    lines = []
    for k, pred in enumerate(preds):
        rel = f"{MASK_DIR}/{scene}_{k:03d}.txt"
        write_ids(out_dir / rel, np.not_equal(np.asarray(pred.mask), 0))
        lines.append(f"{rel} {int(pred.label_id)} {float(pred.score)!r}")
    path = out_dir / f"{scene}.txt"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def write_scenes(gt: Mapping[str, np.ndarray] | None,
                 preds: Mapping[str, Sequence[PredInstance]] | None,
                 gt_dir: str | os.PathLike | None = None,
                 pred_dir: str | os.PathLike | None = None) -> None:
    """Write many scenes at once: ground truth to ``gt_dir``, predictions to ``pred_dir``."""
    for scene, ids in (gt or {}).items():
        write_gt(scene, ids, gt_dir)
    for scene, scene_preds in (preds or {}).items():
        write_predictions(scene, scene_preds, pred_dir)
