"""S3DIS rooms (``Stanford3dDataset_v1.2_Aligned_Version/Area_N/<room>/``).

Each room has ``Annotations/<class>_<k>.txt``, one file per instance, each line ``x y z r g b``
(metres, colours 0-255). The class is the file name before the first ``_``; the 13 classes are
:data:`CLASS_NAMES`, and any other prefix (the dataset's misspelled ``staris``, for one) is
``clutter``, as the reference loaders do. Lines that are not six numbers (the dataset has some,
for example ``Area_5/hallway_6/Annotations/ceiling_1.txt`` row 180389) are skipped and counted.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from edge3d.errors import FormatError, SourceError

log = logging.getLogger(__name__)

CLASS_NAMES = ("ceiling", "floor", "wall", "beam", "column", "window", "door", "table", "chair",
               "sofa", "bookcase", "board", "clutter")
"""The 13 S3DIS classes; class id = index."""

MISSPELLINGS = {"staris": "clutter"}
"""Prefixes found in the dataset that are not class names, and the class they count as."""


class Room(NamedTuple):
    """All annotated points of a room: ``points`` float32 [N, 3] metres, ``colors`` uint8 [N, 3],
    ``semantic`` int32 [N] (index into :data:`CLASS_NAMES`), ``instance`` int32 [N] (1-based, one
    per annotation file, in sorted file order)."""

    points: np.ndarray
    colors: np.ndarray
    semantic: np.ndarray
    instance: np.ndarray


def class_of(filename: str) -> int:
    prefix = filename.split("_")[0]
    prefix = MISSPELLINGS.get(prefix, prefix)
    return CLASS_NAMES.index(prefix) if prefix in CLASS_NAMES else CLASS_NAMES.index("clutter")


def read_points_txt(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """``(float64 [N, 6] rows, number of malformed lines skipped)`` of an ``x y z r g b`` file."""
    path = Path(path)
    try:
        rows = np.loadtxt(path, dtype=np.float64, ndmin=2)
        if rows.size == 0:
            return np.zeros((0, 6)), 0
        if rows.shape[1] == 6:
            return rows, 0
    except ValueError:
        pass  # a malformed line: parse line by line below
    good: list[list[float]] = []
    bad = 0
    with path.open("rb") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                continue
            try:
                vals = [float(v) for v in parts]
            except ValueError:
                bad += 1
                continue
            if len(vals) != 6 or not all(np.isfinite(vals)):
                bad += 1
                continue
            good.append(vals)
    return np.asarray(good, np.float64).reshape(-1, 6), bad


def load_room(room_dir: str | os.PathLike) -> Room:
    """Load a room's annotated points with class and instance labels (see :class:`Room`).

    Malformed lines are skipped; their count is logged and emitted as a ``UserWarning``.
    """
    room_dir = Path(room_dir)
    ann = room_dir / "Annotations"
    if not ann.is_dir():
        raise SourceError(f"{room_dir}: no Annotations/ folder (not an S3DIS room)")
    files = sorted(ann.glob("*.txt"))
    if not files:
        raise FormatError(f"{ann}: no annotation files")
    parts, sem, inst = [], [], []
    bad_total = 0
    for k, f in enumerate(files, 1):
        rows, bad = read_points_txt(f)
        if bad:
            log.warning("%s: skipped %d malformed line(s)", f, bad)
        bad_total += bad
        parts.append(rows)
        sem.append(np.full(len(rows), class_of(f.stem), np.int32))
        inst.append(np.full(len(rows), k, np.int32))
    if bad_total:
        warnings.warn(f"{room_dir}: skipped {bad_total} malformed line(s) in its annotations",
                      stacklevel=2)
    rows = np.concatenate(parts)
    colors = np.clip(np.rint(rows[:, 3:6]), 0, 255).astype(np.uint8)
    return Room(rows[:, :3].astype(np.float32), colors, np.concatenate(sem),
                np.concatenate(inst))
