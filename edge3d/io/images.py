"""Reading depth and colour images of folder datasets (Pillow), with errors that name the file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edge3d.errors import FormatError


def read_depth_png(path: str | os.PathLike) -> np.ndarray:
    """A 16-bit single-channel PNG as uint16 [H, W]; FormatError if unreadable or not 16-bit."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode not in ("I;16", "I;16B", "I;16L", "I"):
                raise FormatError(f"{path}: depth image must be a 16-bit single-channel PNG, got "
                                  f"Pillow mode {im.mode!r}")
            arr = np.asarray(im)
    except (OSError, ValueError, SyntaxError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"{path}: unreadable depth image ({exc})") from exc
    if arr.dtype != np.uint16:
        if arr.min() < 0 or arr.max() > 65535:
            raise FormatError(f"{path}: depth values outside the uint16 range")
        arr = arr.astype(np.uint16)
    return arr


def read_color(path: str | os.PathLike) -> np.ndarray:
    """A colour image (PNG, JPEG, ...) as uint8 RGB [H, W, 3]; FormatError if unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as exc:
        raise FormatError(f"{path}: unreadable colour image ({exc})") from exc


def write_depth_png(path: str | os.PathLike, depth: np.ndarray) -> None:
    """Write uint16 [H, W] as a 16-bit PNG (what TUM, Redwood and ScanNet exports use)."""
    from PIL import Image

    depth = np.ascontiguousarray(depth, dtype=np.uint16)
    Image.fromarray(depth).save(Path(path))


def write_color(path: str | os.PathLike, color: np.ndarray, quality: int = 95) -> None:
    """Write uint8 RGB [H, W, 3]; the format follows the suffix (.png lossless, .jpg lossy)."""
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(color, dtype=np.uint8)).save(Path(path), quality=quality)
