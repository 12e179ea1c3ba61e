"""Training checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

Written by ``training/`` and read by it and by ``edge3d-export``, so the format lives here,
in the installed package.

A checkpoint is a dict of tensors and plain Python values only (no pickled classes), so loading
it never executes code from the file: ``format`` and ``version``, ``model`` (state dict),
``optimizer``, ``scheduler``, ``epoch`` (completed epochs), ``step`` (optimizer steps),
``best`` (best validation AP so far), ``metrics`` (the last validation) and ``config`` (the
run's config as YAML text).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from edge3d.errors import FormatError

FORMAT = "edge3d-training-checkpoint"
VERSION = 1


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus format and version) to ``path`` atomically (temp file + rename).

    A crash while saving leaves the previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"format": FORMAT, "version": VERSION, **state}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` onto the CPU.

    Raises:
        FileNotFoundError: no file at ``path``.
        FormatError: the file is not an edge3d training checkpoint of a supported version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise FormatError(f"{path} is not a readable checkpoint ({exc}); it may be truncated or "
                          "not a torch file") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise FormatError(f"{path} is not an edge3d training checkpoint (no format "
                          f"'{FORMAT}')")
    if state.get("version") != VERSION:
        raise FormatError(f"{path} is checkpoint version {state.get('version')}; this edge3d "
                          f"reads version {VERSION}")
    return state
