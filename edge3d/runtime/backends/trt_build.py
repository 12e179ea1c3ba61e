"""Building a TensorRT engine from an edge3d ONNX file, with the plugin-layer check.

The ``edge3d`` function bodies are stripped before parsing (whatever file is given), so the
parser can only turn ``edge3d`` nodes into plugin layers; afterwards every ``edge3d`` node must
be a ``PLUGIN_V3`` layer of namespace ``edge3d`` (a silent fallback is an error). Precision:
TensorRT 10.x takes FP16 through ``BuilderFlag.FP16``; TensorRT >= 11 builds strongly typed
networks only, so FP16 needs an FP16 ONNX (``edge3d.export.onnx_variants.to_fp16``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edge3d.errors import FormatError, MissingDependencyError
from edge3d.ops.registry import PLUGIN_NAMESPACE
from edge3d.package import sha256_file
from edge3d.runtime.backends.engine_cache import EngineKey, current_plugin_version

PRECISIONS = ("fp32", "fp16")
Shapes = Mapping[str, tuple[Sequence[int], Sequence[int], Sequence[int]]]


def tensorrt_major(trt: Any) -> int:
    return int(str(trt.__version__).split(".")[0])


def compute_capability(device: int = 0) -> str:
    """``"major.minor"`` of CUDA device ``device`` (through cuda-python)."""
    cudart = import_cudart()
    err, props = cudart.cudaGetDeviceProperties(device)
    check_cuda(cudart, err, "cudaGetDeviceProperties")
    return f"{props.major}.{props.minor}"


def import_cudart() -> Any:
    """cuda-python's runtime module (``cuda.bindings.runtime``, or ``cuda.cudart`` before 12.6)."""
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        try:
            from cuda import cudart
        except ImportError as exc:
            raise MissingDependencyError("cuda-python", "gpu", "The TensorRT backend") from exc
    return cudart


def check_cuda(cudart: Any, err: Any, what: str) -> None:
    if err != cudart.cudaError_t.cudaSuccess:
        _, text = cudart.cudaGetErrorString(err)
        raise RuntimeError(f"{what} failed: {text.decode() if isinstance(text, bytes) else text}")


def engine_key(trt: Any, onnx_path: Path, precision: str, shapes: Shapes | None,
               device: int = 0) -> EngineKey:
    profile = json.dumps(
        {k: [list(map(int, s)) for s in v] for k, v in sorted((shapes or {}).items())})
    return EngineKey(
        tensorrt_version=str(trt.__version__), compute_capability=compute_capability(device),
        precision=precision, plugin_version=current_plugin_version(),
        onnx_sha256=sha256_file(onnx_path), profile=profile)


def load_onnx_for_tensorrt(onnx_path: Path) -> tuple[bytes, Counter[str], list[Any]]:
    """The model with ``edge3d`` bodies removed (bytes), its ``edge3d`` node counts, its inputs."""
    try:
        import onnx
    except ImportError as exc:
        raise MissingDependencyError(
            "onnx", "export", "Checking that every edge3d node becomes a TensorRT plugin") from exc
    from edge3d.export.onnx_variants import count_edge3d_nodes, make_variants

    model = onnx.load(str(onnx_path), load_external_data=False)
    _, trt_model = make_variants(model)
    return trt_model.SerializeToString(), count_edge3d_nodes(trt_model), list(model.graph.input)


def plugin_layers(trt: Any, network: Any) -> Counter[str]:
    """``{op name: count}`` of the network's PLUGIN_V3 layers in the ``edge3d`` namespace."""
    found: Counter[str] = Counter()
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        if layer.type != trt.LayerType.PLUGIN_V3:
            continue
        layer.__class__ = trt.IPluginV3Layer  # the binding returns the base ILayer
        core = layer.plugin.get_capability_interface(trt.PluginCapabilityType.CORE)
        if core is not None and core.plugin_namespace == PLUGIN_NAMESPACE:
            found[core.plugin_name] += 1
    return found


def build_engine(trt: Any, onnx_path: Path, precision: str = "fp32",
                 shapes: Shapes | None = None, workspace_mb: int = 1024,
                 logger: Any = None) -> bytes:
    """Parse ``onnx_path`` (bodies stripped), check plugin layers, build a serialized engine.

    Args:
        trt: the imported tensorrt module, with the edge3d plugin library already loaded.
        onnx_path: ``model.trt.onnx`` (``model.portable.onnx`` works too: bodies are removed).
        precision: "fp32" or "fp16".
        shapes: optimisation profile ``{input: (min, opt, max)}``; required for every input with
            a dynamic dimension.
        workspace_mb: builder workspace limit.

    Raises:
        FormatError: the parser failed, an edge3d node did not become a plugin layer, a dynamic
            input has no profile, or FP16 on TensorRT >= 11 from an FP32 ONNX.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    model_bytes, expected, graph_inputs = load_onnx_for_tensorrt(onnx_path)
    logger = logger or trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    major = tensorrt_major(trt)
    fp16_onnx = _onnx_is_fp16(graph_inputs)
    # Strongly typed (types from the ONNX) on TensorRT >= 11, and for an FP16 ONNX on 10.x;
    # otherwise 10.x's weakly typed network with the FP16 builder flag.
    strongly_typed = major >= 11 or fp16_onnx
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if strongly_typed else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(model_bytes, str(onnx_path)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise FormatError(f"TensorRT could not parse {onnx_path.name}: {errors}. An 'edge3d' "
                          "node that is 'not found' means the plugin library was not loaded")
    found = plugin_layers(trt, network)
    if found != expected:
        raise FormatError(
            f"{onnx_path.name}: the ONNX has edge3d nodes {dict(expected)} but TensorRT made "
            f"edge3d plugin layers {dict(found)}; a node fell back to another implementation. "
            "Use the edge3d plugin library of this edge3d version")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mb << 20)
    if precision == "fp16" and not fp16_onnx:
        if strongly_typed:
            raise FormatError(
                f"TensorRT {trt.__version__} has no FP16 builder flag (strongly typed networks); "
                "build from an FP16 ONNX: edge3d.export.onnx_variants.to_fp16(model)")
        config.set_flag(trt.BuilderFlag.FP16)
    _add_profile(trt, builder, network, config, shapes or {}, onnx_path.name)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path.name}; "
                           "see the TensorRT log above")
    return bytes(serialized)


def _onnx_is_fp16(graph_inputs: list[Any]) -> bool:
    from onnx import TensorProto

    floats = [i.type.tensor_type.elem_type for i in graph_inputs
              if i.type.tensor_type.elem_type in (TensorProto.FLOAT, TensorProto.FLOAT16)]
    return bool(floats) and all(t == TensorProto.FLOAT16 for t in floats)


def _add_profile(trt: Any, builder: Any, network: Any, config: Any, shapes: Shapes,
                 name: str) -> None:
    dynamic = []
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        if any(d < 0 for d in tensor.shape):
            dynamic.append(tensor)
    if not dynamic:
        return
    lacking = [t.name for t in dynamic if t.name not in shapes]
    if lacking:
        described = {t.name: tuple(t.shape) for t in dynamic}
        raise FormatError(
            f"{name} has dynamic inputs {described}; give an optimisation profile for "
            f"{lacking}, e.g. shapes={{'{lacking[0]}': (min_shape, opt_shape, max_shape)}}")
    profile = builder.create_optimization_profile()
    for tensor in dynamic:
        low, opt, high = (tuple(int(d) for d in s) for s in shapes[tensor.name])
        profile.set_shape(tensor.name, low, opt, high)
    config.add_optimization_profile(profile)

