"""ONNX export of the backbones and method networks (opset 17, dynamic sizes).

Uses PyTorch's ``torch.export``-based exporter (``torch.onnx.export(dynamo=True)``, the default
since torch 2.9; the TorchScript exporter is deprecated). A model to export has
``input_spec()`` and ``output_spec()`` (lists of :class:`edge3d.tensor_spec.TensorSpec`) and a
``forward(inputs: Mapping[str, Tensor])``; every string dimension of the spec becomes a dynamic
ONNX dimension, and equal names become one dimension. BatchNorm is folded into the weights first
(:func:`edge3d.models.backbones.fold_norms`).
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from edge3d.models.backbones.layers import fold_norms
from edge3d.tensor_spec import TensorSpec

OPSET = 17

_DTYPES = {"float32": np.float32, "int32": np.int32}


class _Positional(nn.Module):
    """Calls ``model({name: arg})`` from positional arguments (the exporter's calling form)."""

    def __init__(self, model: nn.Module, names: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.names = tuple(names)

    def forward(self, *args: Tensor) -> Any:
        return self.model(dict(zip(self.names, args, strict=True)))


def check_inputs(specs: Sequence[TensorSpec], inputs: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first input that is missing or has a wrong dtype or rank."""
    sizes: dict[str, int] = {}
    for spec in specs:
        if spec.name not in inputs:
            raise ValueError(f"input '{spec.name}' is missing; the network needs "
                             f"{[s.name for s in specs]}")
        value = inputs[spec.name]
        dtype = str(value.dtype).replace("torch.", "")
        if dtype != spec.dtype:
            raise ValueError(f"input '{spec.name}' has dtype {dtype}, expected {spec.dtype}")
        if len(value.shape) != len(spec.shape):
            raise ValueError(f"input '{spec.name}' has shape {tuple(value.shape)}, expected "
                             f"rank {len(spec.shape)} {spec.shape}")
        for axis, dim in enumerate(spec.shape):
            size = int(value.shape[axis])
            if isinstance(dim, int) and size != dim:
                raise ValueError(f"input '{spec.name}' axis {axis} is {size}, expected {dim}")
            if isinstance(dim, str) and sizes.setdefault(dim, size) != size:
                raise ValueError(f"input '{spec.name}' axis {axis} ({dim}) is {size}, but "
                                 f"another input has {dim} = {sizes[dim]}")


def to_torch(inputs: Mapping[str, Any]) -> dict[str, Tensor]:
    """numpy arrays (or tensors) -> tensors, sharing memory where possible."""
    return {k: v if isinstance(v, Tensor) else torch.from_numpy(np.ascontiguousarray(v))
            for k, v in inputs.items()}


def export_onnx(model: nn.Module, example: Mapping[str, Any], path: str | os.PathLike,
                *, fold: bool = True, opset: int = OPSET) -> Path:
    """Export ``model`` to an ONNX file at ``path`` (written atomically) and return the path.

    Args:
        model: a backbone or method network with ``input_spec``/``output_spec``.
        example: one input of each name (numpy arrays or tensors); any sizes, but use distinct
            sizes for distinct symbolic dimensions and at least 2 rows each, so the exporter
            does not specialise a dimension to a constant.
        path: destination ``.onnx`` file.
        fold: fold BatchNorm into the weights (always wanted except to debug the folding).
        opset: default-domain opset (17; graphs with ``edge3d`` op bodies need >= 18).

    The graph uses standard ONNX ops (and ``edge3d`` ops where the model has them); every
    symbolic dimension of the spec is dynamic. The model is exported in eval mode and left
    unchanged.
    """
    import onnx

    specs: list[TensorSpec] = model.input_spec()
    outputs: list[TensorSpec] = model.output_spec()
    check_inputs(specs, example)
    net = fold_norms(model) if fold else copy.deepcopy(model).eval()
    tensors = to_torch(example)
    args = tuple(tensors[s.name] for s in specs)
    dims: dict[str, torch.export.Dim] = {}
    dynamic = tuple(
        {axis: dims.setdefault(name, torch.export.Dim(name, min=1))
         for axis, name in spec.dynamic_axes().items()} or None
        for spec in specs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The exporter prints progress and notes (opset conversion, torchvision) on stdout, stderr
    # and its loggers; keep them out of the user's output. Failures still raise.
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "onnxscript")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                _Positional(net, [s.name for s in specs]), args, None,
                input_names=[s.name for s in specs], output_names=[s.name for s in outputs],
                opset_version=opset, dynamo=True, dynamic_shapes=(dynamic,), verbose=False)
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    proto = program.model_proto
    proto = onnx.version_converter.convert_version(proto, opset) if _opset(proto) != opset \
        else proto
    _name_dims(proto, specs, outputs)
    _drop_index_casts(proto)
    onnx.checker.check_model(proto)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        onnx.save(proto, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _opset(proto: Any) -> int:
    return next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))


def _drop_index_casts(proto: Any) -> None:
    """Remove int32 -> int64 Casts that only feed Gather indices (Gather takes int32 as is).

    ``torch.index_select`` lowers to Cast + Gather; the cast costs a copy of every index table
    and puts int64 indices in TensorRT's path, which prefers int32.
    """
    import onnx

    inferred = onnx.shape_inference.infer_shapes(proto)
    int32 = {v.name for v in [*inferred.graph.input, *inferred.graph.value_info]
             if v.type.tensor_type.elem_type == onnx.TensorProto.INT32}
    consumers: dict[str, list[Any]] = {}
    for node in proto.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_outputs = {o.name for o in proto.graph.output}
    drop = []
    for node in proto.graph.node:
        if node.op_type != "Cast" or node.input[0] not in int32:
            continue
        to = next((a.i for a in node.attribute if a.name == "to"), None)
        users = consumers.get(node.output[0], [])
        if to != onnx.TensorProto.INT64 or node.output[0] in graph_outputs or not users or \
                any(u.op_type != "Gather" or list(u.input).index(node.output[0]) != 1
                    for u in users):
            continue
        for user in users:
            user.input[1] = node.input[0]
        drop.append(node)
    for node in drop:
        proto.graph.node.remove(node)


def _name_dims(proto: Any, inputs: list[TensorSpec], outputs: list[TensorSpec]) -> None:
    """Give the graph's dynamic input/output dimensions the spec's symbolic names."""
    for values, specs in ((proto.graph.input, inputs), (proto.graph.output, outputs)):
        by_name = {s.name: s for s in specs}
        for value in values:
            spec = by_name.get(value.name)
            if spec is None:
                continue
            for dim, want in zip(value.type.tensor_type.shape.dim, spec.shape, strict=False):
                if isinstance(want, str):
                    dim.dim_param = want


def ort_session(path: str | os.PathLike, threads: int = 0) -> Any:
    """An ONNX Runtime CPU session for ``path`` (``threads`` intra-op threads; 0 = default)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_onnx(session: Any, inputs: Mapping[str, Any]) -> list[np.ndarray]:
    """Run ``session`` on the inputs it declares (numpy arrays or tensors)."""
    feed = {}
    for node in session.get_inputs():
        value = inputs[node.name]
        feed[node.name] = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    return session.run(None, feed)
