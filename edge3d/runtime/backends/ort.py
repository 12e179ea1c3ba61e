"""ONNX Runtime backend: CPU execution provider, or CUDA when onnxruntime-gpu provides it.

Runs ``model.portable.onnx``: ORT inlines the ``edge3d`` function bodies, so no extra library
is needed (research/deploy-anchors.md section 4.3).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from edge3d.errors import FormatError, MissingDependencyError
from edge3d.runtime.backends.base import Backend, BackendUnavailableError, TensorInfo

_ORT_TYPES = {
    "tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
    "tensor(int32)": np.int32, "tensor(int64)": np.int64, "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_, "tensor(int16)": np.int16,
    "tensor(uint16)": np.uint16,
}


def ort_providers() -> list[str]:
    """Execution providers this onnxruntime build offers ([] when onnxruntime is missing)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    return list(ort.get_available_providers())


class OrtBackend(Backend):
    """An ``onnxruntime.InferenceSession`` on ``device`` ("cpu" or "cuda").

    Args:
        onnx_path: the model (normally ``model.portable.onnx``).
        device: "cpu" or "cuda" (CUDA EP, device ``device_id``).
        threads: intra-op threads (default: all cores, at most 8; inter-op is 1 since edge3d
            graphs are sequential and the runtime runs stages in their own threads).
        device_id: CUDA device index.
        optimization: ORT graph optimisation level name ("all", "extended", "basic", "none").
    """

    def __init__(self, onnx_path: str | Path, device: str = "cpu", threads: int | None = None,
                 device_id: int = 0, optimization: str = "all") -> None:
        super().__init__()
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise MissingDependencyError("onnxruntime", "gpu" if device == "cuda" else "runtime",
                                         "The ONNX Runtime backend") from exc
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
        path = Path(onnx_path)
        if not path.is_file():
            raise FileNotFoundError(f"ONNX model not found: {path}")
        if device == "cuda" and "CUDAExecutionProvider" not in ort.get_available_providers():
            raise BackendUnavailableError(
                "ONNX Runtime has no CUDAExecutionProvider here (providers: "
                f"{ort.get_available_providers()}); install onnxruntime-gpu "
                "(pip install 'edge3d[gpu]') or use device='cpu'")
        levels = {"all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
                  "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                  "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                  "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL}
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 8)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = levels[optimization]
        providers: list[Any] = ["CPUExecutionProvider"]
        if device == "cuda":
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": device_id}))
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:
            if "edge3d" in str(exc):
                raise FormatError(
                    f"{path.name} has edge3d nodes without function bodies (a TensorRT file?); "
                    f"ONNX Runtime needs the portable variant (*.portable.onnx). ({exc})"
                ) from exc
            raise
        if device == "cuda" and self.session.get_providers()[0] != "CUDAExecutionProvider":
            raise BackendUnavailableError(
                "ONNX Runtime could not start the CUDA execution provider (CUDA/cuDNN libraries "
                f"missing?); session providers: {self.session.get_providers()}")
        self.name = f"ort-{device}"
        self.device = device
        self._inputs = [_info(i) for i in self.session.get_inputs()]
        self._outputs = [_info(o) for o in self.session.get_outputs()]

    @property
    def inputs(self) -> list[TensorInfo]:
        return list(self._inputs)

    @property
    def outputs(self) -> list[TensorInfo]:
        return list(self._outputs)

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        values = self.session.run(self.output_names, feeds)
        return dict(zip(self.output_names, values, strict=True))

    def _close(self) -> None:
        del self.session


def _info(arg: Any) -> TensorInfo:
    if arg.type not in _ORT_TYPES:
        raise FormatError(f"tensor {arg.name!r} has type {arg.type}, which edge3d does not feed")
    shape = tuple(d if isinstance(d, int | str) else None for d in arg.shape)
    return TensorInfo(arg.name, shape, np.dtype(_ORT_TYPES[arg.type]))
