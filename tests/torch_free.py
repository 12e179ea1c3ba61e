"""Run a model package through ``edge3d.Segmenter`` in a fresh Python process and check that
torch was never imported there (the runtime's promise), returning labels and classes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np


def segment_without_torch(package: Path, points: np.ndarray, colors: np.ndarray,
                          workdir: Path, method: str, **options) -> tuple[np.ndarray, np.ndarray]:
    """(labels, classes) of ``edge3d.Segmenter(package, backend="ort", **options)``."""
    np.save(workdir / "points.npy", points)
    np.save(workdir / "colors.npy", colors)
    code = f"""
import sys, numpy as np, edge3d
seg = edge3d.Segmenter({str(package)!r}, backend="ort", **{options!r})
r = seg.segment(np.load({str(workdir / 'points.npy')!r}),
                np.load({str(workdir / 'colors.npy')!r}))
assert "torch" not in sys.modules, "torch was imported"
assert seg.method == {method!r} and r.timings["network"] > 0
np.save({str(workdir / 'labels.npy')!r}, r.labels)
np.save({str(workdir / 'classes.npy')!r}, r.classes)
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    return np.load(workdir / "labels.npy"), np.load(workdir / "classes.npy")
