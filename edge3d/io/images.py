"""Reading depth and colour images of folder datasets (Pillow), with errors that name the file."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from edge3d.errors import FormatError

# No depth or colour camera comes near this (a 4K image is 8.3 M pixels); a header that claims
# more is a damaged or hostile file, refused before its pixels are decoded.
MAX_IMAGE_PIXELS = 40_000_000


@contextlib.contextmanager
def open_image(source: str | os.PathLike | IO[bytes], name: str, what: str) -> Iterator[Any]:
    """Open an image with Pillow (header only), refusing one whose header claims more than
    ``MAX_IMAGE_PIXELS`` pixels, and turning every decoding failure into a FormatError that
    names ``name`` and ``what`` ("depth image", "colour image")."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns or raises far above MAX_IMAGE_PIXELS; ours is stricter.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(source)
    except Image.DecompressionBombError as exc:
        raise FormatError(f"{name}: the {what} claims more pixels than any camera makes "
                          f"({exc}); the file is damaged") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise FormatError(f"{name}: unreadable {what} ({exc})") from exc
    with im:
        w, h = im.size
        if w * h > MAX_IMAGE_PIXELS:
            raise FormatError(f"{name}: the {what} claims {w}x{h} pixels, more than any camera "
                              f"makes ({MAX_IMAGE_PIXELS:,} at most); the file is damaged")
        try:
            yield im
        except (OSError, ValueError, SyntaxError) as exc:
            raise FormatError(f"{name}: unreadable {what} ({exc})") from exc


def read_depth_png(path: str | os.PathLike) -> np.ndarray:
    """A 16-bit single-channel PNG as uint16 [H, W]; FormatError if unreadable or not 16-bit."""
    with open_image(path, os.fspath(path), "depth image") as im:
        im.load()
        if im.mode not in ("I;16", "I;16B", "I;16L", "I"):
            raise FormatError(f"{path}: depth image must be a 16-bit single-channel PNG, got "
                              f"Pillow mode {im.mode!r}")
        arr = np.asarray(im)
    if arr.dtype != np.uint16:
        if arr.min() < 0 or arr.max() > 65535:
            raise FormatError(f"{path}: depth values outside the uint16 range")
        arr = arr.astype(np.uint16)
    return arr


def read_color(path: str | os.PathLike) -> np.ndarray:
    """A colour image (PNG, JPEG, ...) as uint8 RGB [H, W, 3]; FormatError if unreadable."""
    with open_image(path, os.fspath(path), "colour image") as im:
        return np.asarray(im.convert("RGB"))


def write_depth_png(path: str | os.PathLike, depth: np.ndarray) -> None:
    """Write uint16 [H, W] as a 16-bit PNG (what TUM, Redwood and ScanNet exports use)."""
    from PIL import Image

    depth = np.ascontiguousarray(depth, dtype=np.uint16)
    Image.fromarray(depth).save(Path(path))


def write_color(path: str | os.PathLike, color: np.ndarray, quality: int = 95) -> None:
    """Write uint8 RGB [H, W, 3]; the format follows the suffix (.png lossless, .jpg lossy)."""
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(color, dtype=np.uint8)).save(Path(path), quality=quality)
