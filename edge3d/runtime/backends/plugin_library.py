"""Finding and loading libedge3d_plugins.so so TensorRT's registry knows the edge3d creators."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

from edge3d.ops.registry import PLUGIN_NAMESPACE, plugin_names
from edge3d.runtime.backends.base import BackendUnavailableError

STATIC_NAME = "libedge3d_plugins.so"
DYNAMIC_NAME = "libedge3d_plugins_dynamic.so"
#: Where a source checkout builds it (docs/tensorrt.md).
_SEARCH = ("build/plugins",)

_loaded: dict[str, Any] = {}


def find_plugin_library(path: str | Path | None = None) -> Path:
    """The self-registering plugin library: ``path``, ``$EDGE3D_PLUGIN_LIBRARY``, an installed
    copy in ``edge3d/lib/``, or a source checkout's ``build/plugins/``.

    Raises:
        BackendUnavailableError: none found; the message says how to build it.
    """
    if path is not None:
        if not Path(path).is_file():  # an explicit choice never falls back to another copy
            raise BackendUnavailableError(f"plugin library {path} does not exist")
        return Path(path)
    candidates: list[Path] = []
    if os.environ.get("EDGE3D_PLUGIN_LIBRARY"):
        candidates.append(Path(os.environ["EDGE3D_PLUGIN_LIBRARY"]))
    package = Path(__file__).resolve().parents[2]
    candidates.append(package / "lib" / STATIC_NAME)
    candidates.extend(package.parent / d / STATIC_NAME for d in _SEARCH)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise BackendUnavailableError(
        f"{STATIC_NAME} not found (looked at {[str(c) for c in candidates]}). Build it with "
        "`cmake -S plugins -B build/plugins -DTENSORRT_ROOT=<tensorrt prefix> && cmake --build "
        "build/plugins -j`, then pass plugin_library=... or set EDGE3D_PLUGIN_LIBRARY")


def load_plugins(trt: Any, path: str | Path | None = None) -> Path:
    """Load the plugin library once per process and check that every edge3d creator is there.

    ``trt`` is the imported ``tensorrt`` module (imported by the caller: it must be loaded before
    the library so libnvinfer's plugin registry exists).

    Raises:
        BackendUnavailableError: the library is missing or does not register every op.
    """
    library = find_plugin_library(path)
    key = str(library.resolve())
    if key not in _loaded:
        # RTLD_GLOBAL so later libraries (and TensorRT's lean runtime) see the same creators.
        _loaded[key] = ctypes.CDLL(key, mode=ctypes.RTLD_GLOBAL)
    registry = trt.get_plugin_registry()
    missing = [f"{PLUGIN_NAMESPACE}::{name} v{version}" for name, version in plugin_names().items()
               if registry.get_creator(name, version, PLUGIN_NAMESPACE) is None]
    if missing:
        raise BackendUnavailableError(
            f"{library} is loaded but TensorRT's registry lacks {missing}; the library is from "
            "another edge3d version or failed to register (see stderr). Rebuild plugins/")
    return library
