"""Memory budgets: each method estimates what an input will take before it allocates it, and
refuses (:class:`edge3d.errors.CapacityError`) what does not fit, instead of being killed by
the kernel's OOM killer halfway through, which on a robot takes the rest of the process with it.

The per-voxel and per-point costs the methods use are peak resident memory measured on this
project's CPU runtime (ONNX Runtime 1.32, its default memory arena) over worst-case clouds
(points spread through a volume, one voxel each), rounded up; ``docs/reliability.md`` lists
them.
"""

from __future__ import annotations

import os

from edge3d.errors import CapacityError

_FALLBACK_BYTES = 4 << 30


def default_budget() -> int:
    """Half of the machine's physical memory (the rest for the OS, the map, the robot's own
    processes); 4 GiB where the size cannot be read."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return _FALLBACK_BYTES
    return int(total) // 2 if total > 0 else _FALLBACK_BYTES


def resolve_budget(max_memory_mb: float | None) -> int:
    """Bytes from a user's ``max_memory_mb`` (None: :func:`default_budget`)."""
    if max_memory_mb is None:
        return default_budget()
    if not (isinstance(max_memory_mb, (int, float)) and max_memory_mb > 0):
        raise ValueError(f"max_memory_mb must be a positive number of MiB, got {max_memory_mb!r}")
    return int(max_memory_mb * (1 << 20))


def check_fits(need: float, budget: int, method: str, what: str) -> None:
    """Raise CapacityError when ``need`` bytes (an estimate for ``what``) exceed ``budget``."""
    if need > budget:
        raise CapacityError(
            f"{method}: {what} needs about {need / (1 << 30):.1f} GiB, over the memory budget "
            f"of {budget / (1 << 30):.1f} GiB. Downsample the cloud (a coarser voxel, e.g. "
            "Stream's map_voxel) or crop it, or raise the budget with "
            "edge3d.Segmenter(..., max_memory_mb=...)")
