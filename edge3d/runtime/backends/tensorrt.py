"""TensorRT backend: engine from ``model.trt.onnx`` (built and cached on first use), run with
cuda-python device buffers on a CUDA stream (design.md section 5).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge3d.errors import MissingDependencyError, PackageError
from edge3d.runtime.backends.base import Backend, BackendUnavailableError, TensorInfo
from edge3d.runtime.backends.engine_cache import check_key, engine_path, save_engine
from edge3d.runtime.backends.plugin_library import load_plugins
from edge3d.runtime.backends.trt_build import (
    Shapes,
    build_engine,
    check_cuda,
    engine_key,
    import_cudart,
)


def import_tensorrt() -> Any:
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise MissingDependencyError("tensorrt", "tensorrt", "The TensorRT backend") from exc
    return trt


class TensorRTBackend(Backend):
    """A TensorRT engine with its execution context, stream and device buffers.

    Args:
        onnx_path: ``model.trt.onnx`` (or the portable file: its edge3d bodies are stripped).
        precision: "fp32" or "fp16".
        cache_dir: where engines are cached (default: ``engines/`` beside the ONNX file).
        shapes: optimisation profile ``{input: (min, opt, max)}`` for dynamic inputs.
        plugin_library: path of ``libedge3d_plugins.so`` (default: see ``find_plugin_library``).
        rebuild: build a new engine even when the cached one fits (and replace a stale one).
        device: CUDA device index.
        workspace_mb: builder workspace limit.

    Raises:
        MissingDependencyError: tensorrt or cuda-python is not installed.
        BackendUnavailableError: no GPU, or no plugin library.
        PackageError: the cached engine was built for another TensorRT, GPU, precision, plugin
            version, ONNX file or profile (the message names the field and how to rebuild).
    """

    name = "tensorrt"

    def __init__(self, onnx_path: str | Path, precision: str = "fp32",
                 cache_dir: str | Path | None = None, shapes: Shapes | None = None,
                 plugin_library: str | Path | None = None, rebuild: bool = False,
                 device: int = 0, workspace_mb: int = 1024) -> None:
        super().__init__()
        trt = import_tensorrt()
        self._cudart = cudart = import_cudart()
        err, count = cudart.cudaGetDeviceCount()
        count = count if err == cudart.cudaError_t.cudaSuccess else 0
        if count <= device:
            raise BackendUnavailableError(
                f"no CUDA device {device} for TensorRT ({count} devices visible)")
        check_cuda(cudart, cudart.cudaSetDevice(device)[0], "cudaSetDevice")
        self.plugin_library = load_plugins(trt, plugin_library)
        onnx_path = Path(onnx_path)
        if not onnx_path.is_file():
            raise FileNotFoundError(f"ONNX model not found: {onnx_path}")
        cache = Path(cache_dir) if cache_dir is not None else onnx_path.parent / "engines"
        self.engine_path = engine_path(cache, onnx_path, precision)
        key = engine_key(trt, onnx_path, precision, shapes, device)
        if self.engine_path.exists() and not rebuild:
            check_key(self.engine_path, key)
            engine_bytes = self.engine_path.read_bytes()
        else:
            engine_bytes = build_engine(trt, onnx_path, precision, shapes, workspace_mb)
            save_engine(self.engine_path, engine_bytes, key)
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self._engine = self._runtime.deserialize_cuda_engine(engine_bytes)
        if self._engine is None:
            raise PackageError(f"TensorRT {trt.__version__} could not deserialize "
                               f"{self.engine_path}; rebuild it with rebuild=True")
        self._context = self._engine.create_execution_context()
        self._trt = trt
        err, self._stream = cudart.cudaStreamCreate()
        check_cuda(cudart, err, "cudaStreamCreate")
        self._buffers: dict[str, tuple[int, int]] = {}  # name -> (device pointer, bytes)
        self._inputs, self._outputs = self._metadata(onnx_path)

    def _metadata(self, onnx_path: Path) -> tuple[list[TensorInfo], list[TensorInfo]]:
        import onnx

        graph = onnx.load(str(onnx_path), load_external_data=False).graph
        symbolic = {}
        for value in list(graph.input) + list(graph.output):
            dims = value.type.tensor_type.shape.dim
            symbolic[value.name] = [d.dim_param or None for d in dims]
        ins, outs = [], []
        for i in range(self._engine.num_io_tensors):
            name = self._engine.get_tensor_name(i)
            shape = tuple(self._engine.get_tensor_shape(name))
            names = symbolic.get(name, [None] * len(shape))
            dims = tuple(int(d) if d >= 0 else names[a] if a < len(names) else None
                         for a, d in enumerate(shape))
            info = TensorInfo(name, dims, np.dtype(self._trt.nptype(
                self._engine.get_tensor_dtype(name))))
            is_input = self._engine.get_tensor_mode(name) == self._trt.TensorIOMode.INPUT
            (ins if is_input else outs).append(info)
        return ins, outs

    @property
    def inputs(self) -> list[TensorInfo]:
        return list(self._inputs)

    @property
    def outputs(self) -> list[TensorInfo]:
        return list(self._outputs)

    def _buffer(self, name: str, nbytes: int) -> int:
        ptr, size = self._buffers.get(name, (0, -1))
        if size < nbytes:
            cudart = self._cudart
            if ptr:
                check_cuda(cudart, cudart.cudaFree(ptr)[0], "cudaFree")
            err, ptr = cudart.cudaMalloc(max(nbytes, 1))
            check_cuda(cudart, err, f"cudaMalloc({nbytes}) for {name}")
            ptr = int(ptr)
            self._buffers[name] = (ptr, max(nbytes, 1))
        return ptr

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        cudart = self._cudart
        h2d = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        d2h = cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        for name, array in feeds.items():
            if not self._context.set_input_shape(name, array.shape):
                raise ValueError(f"input {name!r} shape {array.shape} is outside the engine's "
                                 f"optimisation profile; rebuild with wider shapes=")
            ptr = self._buffer(name, array.nbytes)
            if array.nbytes:
                check_cuda(cudart, cudart.cudaMemcpyAsync(
                    ptr, array.ctypes.data, array.nbytes, h2d, self._stream)[0], "cudaMemcpyAsync")
            self._context.set_tensor_address(name, ptr)
        results = {}
        for info in self._outputs:
            shape = tuple(self._context.get_tensor_shape(info.name))
            out = np.empty(shape, info.dtype)
            ptr = self._buffer(info.name, out.nbytes)
            self._context.set_tensor_address(info.name, ptr)
            results[info.name] = (out, ptr)
        if not self._context.execute_async_v3(int(self._stream)):
            raise RuntimeError("TensorRT execute_async_v3 failed; see the TensorRT log")
        for out, ptr in results.values():
            if out.nbytes:
                check_cuda(cudart, cudart.cudaMemcpyAsync(
                    out.ctypes.data, ptr, out.nbytes, d2h, self._stream)[0], "cudaMemcpyAsync")
        check_cuda(cudart, cudart.cudaStreamSynchronize(self._stream)[0], "cudaStreamSynchronize")
        return {name: out for name, (out, _) in results.items()}

    def _close(self) -> None:
        cudart = self._cudart
        for ptr, _ in self._buffers.values():
            cudart.cudaFree(ptr)
        self._buffers.clear()
        cudart.cudaStreamDestroy(self._stream)
        del self._context, self._engine, self._runtime
