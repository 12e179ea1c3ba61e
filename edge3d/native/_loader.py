"""Imports the compiled parts of the native core with an error that says how to build them."""

from __future__ import annotations

import importlib
from types import ModuleType


def load_extension(name: str) -> ModuleType:
    """Import ``edge3d.native._<name>`` (built from ``edge3d/native/src/<name>/``)."""
    try:
        return importlib.import_module(f"edge3d.native._{name}")
    except ImportError as exc:
        raise ImportError(
            f"edge3d's native core module '_{name}' is not built or failed to load ({exc}). "
            "Build it with `scripts/setup.sh` from a source checkout, or reinstall edge3d "
            "(`pip install edge3d`)."
        ) from exc
