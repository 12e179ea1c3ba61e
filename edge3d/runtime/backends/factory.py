"""``create_backend``: pick and open a backend ("auto": TensorRT, then ORT CUDA, then ORT CPU)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from edge3d.errors import Edge3DError
from edge3d.runtime.backends.base import Backend, BackendUnavailableError

log = logging.getLogger("edge3d.runtime.backends")

BACKENDS = ("auto", "ort", "tensorrt")
DEVICES = ("auto", "cpu", "cuda")


def create_backend(onnx_path: str | Path, backend: str = "auto", device: str = "auto",
                   **options: Any) -> Backend:
    """Open ``onnx_path`` with a backend.

    Args:
        onnx_path: for "ort", ``model.portable.onnx``; for "tensorrt", ``model.trt.onnx``. With
            "auto" pass either: the sibling variant (same stem, other suffix) is used where it
            exists.
        backend: "ort", "tensorrt" or "auto" (TensorRT, then ONNX Runtime CUDA, then CPU).
        device: "cpu", "cuda" or "auto" (TensorRT always runs on CUDA).
        **options: passed to the backend (ORT: ``threads``, ``device_id``, ``optimization``;
            TensorRT: ``precision``, ``cache_dir``, ``shapes``, ``plugin_library``, ``rebuild``,
            ``device``, ``workspace_mb``).

    Returns:
        The opened backend; ``backend.selection`` says why it was picked (and why the others
        were not) when ``backend="auto"``.

    Raises:
        BackendUnavailableError / MissingDependencyError: an explicit choice cannot run here;
            with "auto", only when not even ONNX Runtime on the CPU works.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    path = Path(onnx_path)
    if backend == "tensorrt":
        if device == "cpu":
            raise ValueError("the TensorRT backend runs on CUDA; use device='cuda' or 'auto'")
        return _tensorrt(_variant(path, ".trt.onnx"), options)
    if backend == "ort":
        return _ort(_variant(path, ".portable.onnx"), "cpu" if device == "auto" else device,
                    options, allow_cpu_fallback=device == "auto")
    reasons: list[str] = []
    if device in ("auto", "cuda"):
        try:
            chosen = _tensorrt(_variant(path, ".trt.onnx"), _only(options, _TRT_OPTIONS))
            return _explain(chosen, "TensorRT", reasons)
        except (Edge3DError, ImportError, OSError) as exc:
            reasons.append(f"TensorRT: {exc}")
        try:
            chosen = _ort(_variant(path, ".portable.onnx"), "cuda", _only(options, _ORT_OPTIONS))
            return _explain(chosen, "ONNX Runtime CUDA", reasons)
        except (Edge3DError, ImportError, OSError) as exc:
            reasons.append(f"ONNX Runtime CUDA: {exc}")
    chosen = _ort(_variant(path, ".portable.onnx"), "cpu", _only(options, _ORT_OPTIONS))
    return _explain(chosen, "ONNX Runtime CPU", reasons)


_TRT_OPTIONS = {"precision", "cache_dir", "shapes", "plugin_library", "rebuild", "device",
                "workspace_mb"}
_ORT_OPTIONS = {"threads", "device_id", "optimization"}


def _only(options: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k in allowed}


def _variant(path: Path, suffix: str) -> Path:
    """``path``, or its sibling with ``suffix`` when ``path`` is the other variant."""
    for other in (".trt.onnx", ".portable.onnx"):
        if path.name.endswith(other) and other != suffix:
            sibling = path.with_name(path.name[: -len(other)] + suffix)
            return sibling if sibling.exists() else path
    return path


def _tensorrt(path: Path, options: dict[str, Any]) -> Backend:
    from edge3d.runtime.backends.tensorrt import TensorRTBackend

    return TensorRTBackend(path, **options)


def _ort(path: Path, device: str, options: dict[str, Any],
         allow_cpu_fallback: bool = False) -> Backend:
    from edge3d.runtime.backends.ort import OrtBackend

    try:
        return OrtBackend(path, device=device, **options)
    except BackendUnavailableError:
        if not allow_cpu_fallback:
            raise
        return OrtBackend(path, device="cpu", **options)


def _explain(chosen: Backend, label: str, reasons: list[str]) -> Backend:
    text = f"picked {label} ({chosen.name})"
    if reasons:
        text += "; not available: " + " | ".join(reasons)
    chosen.selection = text  # type: ignore[attr-defined]
    log.info("edge3d backend: %s", text)
    return chosen
