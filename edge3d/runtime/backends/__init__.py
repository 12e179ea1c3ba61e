"""Inference backends: ONNX Runtime (CPU / CUDA) and TensorRT, behind one ``Backend`` interface.

``create_backend(onnx_path, backend="auto"|"ort"|"tensorrt", device="auto"|"cpu"|"cuda")``
opens a model; ``Backend.run({name: array}) -> {name: array}``. Never imports torch; TensorRT,
cuda-python and onnx are imported only by the backends that need them. See docs/tensorrt.md.
"""

from __future__ import annotations

from edge3d.runtime.backends.base import Backend, BackendUnavailableError, TensorInfo
from edge3d.runtime.backends.factory import create_backend

__all__ = ["Backend", "BackendUnavailableError", "TensorInfo", "create_backend"]
