"""TensorRT engine builds for ``edge3d-export --engine`` (the runtime builds lazily the same way).

``build_engine`` parses ``model.trt.onnx`` with the edge3d plugins loaded, checks that every
``edge3d`` node became a plugin layer, builds, and writes the engine and its cache key into the
package's ``engines/`` directory (docs/tensorrt.md). Engines are built on the target machine:
they depend on the TensorRT version and the GPU.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from edge3d.errors import MissingDependencyError
from edge3d.runtime.backends.trt_build import PRECISIONS, Shapes


def missing_for_engine_build(plugin_library: str | Path | None = None) -> list[str]:
    """What this machine lacks to build an engine (empty when it can), each with its fix."""
    missing = []
    if not _has("tensorrt"):
        missing.append("the Python module 'tensorrt' (pip install 'edge3d[tensorrt]', or "
                       "JetPack's python3-libnvinfer)")
    if not (_has("cuda.bindings") or _has("cuda.cudart")):
        missing.append("cuda-python (pip install 'edge3d[gpu]')")
    if not _has("onnx"):
        missing.append("the Python module 'onnx' (pip install 'edge3d[export]')")
    from edge3d.runtime.backends.base import BackendUnavailableError
    from edge3d.runtime.backends.plugin_library import find_plugin_library

    try:
        find_plugin_library(plugin_library)
    except BackendUnavailableError as exc:
        missing.append(str(exc))
    return missing


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package is missing
        return False


def build_engine(onnx_path: str | Path, precision: str = "fp32",
                 cache_dir: str | Path | None = None, shapes: Shapes | None = None,
                 plugin_library: str | Path | None = None, workspace_mb: int = 1024,
                 device: int = 0) -> Path:
    """Build (always anew) the engine of ``onnx_path`` and return its path.

    Args:
        onnx_path: ``model.trt.onnx`` of a package (the portable file works too).
        precision: "fp32" or "fp16" (TensorRT >= 11: FP16 needs an FP16 ONNX, see
            ``edge3d.export.onnx_variants.to_fp16``).
        cache_dir: default ``engines/`` beside the ONNX file.
        shapes: optimisation profile ``{input: (min, opt, max)}`` for dynamic inputs.
        plugin_library: ``libedge3d_plugins.so`` (default: see ``find_plugin_library``).

    Raises:
        MissingDependencyError: tensorrt, cuda-python or onnx is missing; the message lists
            everything missing.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    missing = missing_for_engine_build(plugin_library)
    if missing:
        module = "tensorrt" if "'tensorrt'" in missing[0] else "cuda-python"
        error = MissingDependencyError(module, "tensorrt", "Building a TensorRT engine")
        # ImportError prints .msg: replace the one-module text with the whole list.
        error.msg = f"Building a TensorRT engine needs: {'; '.join(missing)}"
        error.args = (error.msg,)
        raise error
    from edge3d.runtime.backends.tensorrt import TensorRTBackend

    backend = TensorRTBackend(onnx_path, precision=precision, cache_dir=cache_dir, shapes=shapes,
                              plugin_library=plugin_library, rebuild=True, device=device,
                              workspace_mb=workspace_mb)
    try:
        return backend.engine_path
    finally:
        backend.close()
