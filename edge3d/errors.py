"""Exceptions raised by edge3d. Every message names the problem and what to do about it."""

from __future__ import annotations


class Edge3DError(Exception):
    """Base class of every error edge3d raises on purpose."""


class FrameError(Edge3DError, ValueError):
    """A frame is malformed (wrong dtype or shape, inconsistent intrinsics, non-finite pose)."""


class SourceError(Edge3DError, OSError):
    """A frame source cannot be opened or read (missing file, unknown format, camera gone)."""


class FormatError(Edge3DError, ValueError):
    """A file is not in the format its name or caller claims, or is corrupt."""


class PackageError(Edge3DError, ValueError):
    """A model package is missing, corrupt, of the wrong method, or of an unsupported version."""


class MissingDependencyError(Edge3DError, ImportError):
    """An optional dependency is not installed; the message says which extra installs it."""

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the Python module '{module}', which is not installed. "
            f"Install it with: pip install 'edge3d[{extra}]'"
        )
        self.module = module
        self.extra = extra


class CapacityError(Edge3DError, MemoryError):
    """An input is larger than the memory budget allows; raised before allocating, with the
    estimate, the budget and what to do (downsample, crop, or raise the budget)."""
