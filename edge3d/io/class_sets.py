"""The class names of each training data source, so every method trained on a source shares
its heads, label maps and the evaluator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dataset_classes(config: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(class names, background class ids) of a training config's ``data`` source:
    ``synthetic`` (``kind: toy`` for the toy worlds), ``scannet`` (wall, floor and the 18
    benchmark classes) or ``s3dis``."""
    data = config["data"]
    if data["source"] == "synthetic":
        from edge3d import synth

        if data.get("kind") == "toy":
            return tuple(synth.TOY_CLASS_NAMES), tuple(synth.TOY_BACKGROUND_CLASSES)
        return tuple(synth.CLASS_NAMES), tuple(synth.BACKGROUND_CLASSES)
    if data["source"] == "scannet":
        from edge3d.io import scannet

        return ("wall", "floor", *scannet.BENCHMARK_CLASS_NAMES), (0, 1)
    from edge3d.io import s3dis

    return tuple(s3dis.CLASS_NAMES), ()
