"""Small scene builders for hand-computed evaluation tests: vertices in ranges."""

from __future__ import annotations

import numpy as np

from edge3d.eval import PredInstance

CHAIR, TABLE, BED = 5, 7, 4  # ScanNet / NYU40 ids
CLASSES = dict(class_labels=["bed", "chair", "table"], valid_class_ids=[BED, CHAIR, TABLE])


def gt_scene(num_vertices: int, instances: dict[int, tuple[int, int]],
             fill: int = 0) -> np.ndarray:
    """Ground-truth ids: ``fill`` everywhere, ``id`` on each ``[start, stop)`` range."""
    ids = np.full(num_vertices, fill, dtype=np.int64)
    for gid, (a, b) in instances.items():
        ids[a:b] = gid
    return ids


def pred(num_vertices: int, ranges: list[tuple[int, int]], label: int, score: float,
         key: str | None = None) -> PredInstance:
    """A prediction covering the union of ``ranges``."""
    mask = np.zeros(num_vertices, dtype=bool)
    for a, b in ranges:
        mask[a:b] = True
    return PredInstance(mask=mask, label_id=label, score=score, key=key)
