"""One export, two files: ``model.portable.onnx`` (edge3d function bodies attached) and
``model.trt.onnx`` (bodies of plugin-backed ops removed), design.md section 5.

Why two: ONNX Runtime inlines a model-local function that no execution provider claims, so the
portable file runs anywhere with no extra library; but TensorRT <= 10.6 (JetPack 6) always
prefers a local function over a plugin, and later versions changed the rule twice
(research/deploy-anchors.md sections 3.3 and 8.1), so the TensorRT file carries no bodies and the
engine build checks that every ``edge3d`` node became a plugin layer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edge3d.errors import FormatError
from edge3d.ops.registry import DOMAIN, DOMAIN_VERSION, MIN_OPSET, OPS, PLUGIN_NAMESPACE

PORTABLE_SUFFIX = ".portable.onnx"
TRT_SUFFIX = ".trt.onnx"


def make_variants(model: Any) -> tuple[Any, Any]:
    """Split one exported model into its portable and TensorRT variants.

    ``model`` is an ``onnx.ModelProto`` with ``edge3d`` nodes (e.g. from
    ``torch.onnx.export(..., dynamo=True).model_proto`` of a module calling ``edge3d.ops``).
    Every ``edge3d`` node must name a registered op; missing ``plugin_namespace`` /
    ``plugin_version`` attributes are added, wrong ones rejected. The input is not modified.

    Returns:
        ``(portable, trt)``: both with ``opset_import`` ``edge3d`` v1; ``portable`` holds one
        ``FunctionProto`` per used op (built for the model's default-domain opset), ``trt`` none.

    Raises:
        FormatError: an unknown ``edge3d`` op, a wrong plugin attribute, a wrong ``edge3d``
            domain version, or a default-domain opset below 18.
    """
    import onnx

    base = onnx.ModelProto()
    base.CopyFrom(model)
    used = _normalise_nodes(base)
    opset = default_opset(base)
    if used and opset < MIN_OPSET:
        raise FormatError(
            f"the model's default-domain opset is {opset}; edge3d function bodies need >= "
            f"{MIN_OPSET}. Export with torch.onnx.export(..., opset_version={MIN_OPSET}) or newer"
        )
    _set_domain_import(base, bool(used))
    kept = [f for f in base.functions if f.domain != DOMAIN]
    del base.functions[:]
    base.functions.extend(kept)

    trt = onnx.ModelProto()
    trt.CopyFrom(base)
    portable = base
    portable.functions.extend(OPS[name].function_proto(opset) for name in sorted(used))
    if used:
        portable.ir_version = max(portable.ir_version, 9)  # function attribute defaults
    return portable, trt


def save_variants(model: Any, directory: str | Path, stem: str = "model") -> tuple[Path, Path]:
    """Write ``<stem>.portable.onnx`` and ``<stem>.trt.onnx`` into ``directory``; returns
    (portable path, TensorRT path).

    A graph without edge3d ops has identical variants: it is written once, as
    ``<stem>.onnx``, and both paths name that file (a package then carries one copy).
    Both are checked with ``onnx.checker`` before anything is written; each file is written to
    a temporary name and renamed, so a failure never leaves a half-written model.
    """
    import onnx

    portable, trt = make_variants(model)
    onnx.checker.check_model(portable, full_check=False)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    if portable.SerializeToString() == trt.SerializeToString():
        path = out / f"{stem}.onnx"
        tmp = path.with_name(path.name + ".tmp")
        onnx.save(portable, str(tmp))
        tmp.replace(path)
        return path, path
    paths = (out / f"{stem}{PORTABLE_SUFFIX}", out / f"{stem}{TRT_SUFFIX}")
    for proto, path in zip((portable, trt), paths, strict=True):
        tmp = path.with_name(path.name + ".tmp")
        onnx.save(proto, str(tmp))
        tmp.replace(path)
    return paths


def to_fp16(model: Any) -> Any:
    """An FP16 copy of ``model`` for strongly typed TensorRT builds (TensorRT >= 11 has no FP16
    builder flag, so the precision must be in the ONNX types).

    Float32 graph inputs, outputs, value infos, initializers and constants become float16;
    ``Cast(to=FLOAT)`` becomes ``Cast(to=FLOAT16)``. Inputs that ONNX requires in float32
    (Resize/Upsample scales) keep their type. ``edge3d`` ops take FP16 I/O and accumulate in
    FP32 themselves (docs/ops.md). Run it on the model before ``make_variants``.
    """
    import numpy as np
    import onnx
    from onnx import AttributeProto, TensorProto, helper, numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    keep32 = {node.input[i] for node in _walk(graph) if node.op_type in ("Resize", "Upsample")
              for i in (1, 2) if i < len(node.input) and node.input[i]}

    def half(tensor: Any) -> Any:
        array = numpy_helper.to_array(tensor).astype(np.float16)
        return numpy_helper.from_array(array, tensor.name)

    for i, init in enumerate(graph.initializer):
        if init.data_type == TensorProto.FLOAT and init.name not in keep32:
            graph.initializer[i].CopyFrom(half(init))
    for value in (*graph.input, *graph.output, *graph.value_info):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT and value.name not in keep32:
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
    for node in _walk(graph):
        if node.op_type == "Constant" and node.output[0] in keep32:
            continue
        for attr in node.attribute:
            if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT:
                attr.i = TensorProto.FLOAT16
            elif attr.type == AttributeProto.TENSOR and attr.t.data_type == TensorProto.FLOAT:
                attr.t.CopyFrom(half(attr.t))
            elif node.op_type == "Constant" and attr.name == "value_float":
                value = np.array(attr.f, np.float16)
                node.attribute.remove(attr)
                node.attribute.append(helper.make_attribute(
                    "value", numpy_helper.from_array(value)))
                break
    return out


def edge3d_nodes(model: Any) -> Iterator[Any]:
    """Every ``edge3d`` node of the model, subgraphs (If/Loop/Scan bodies) included."""
    yield from (n for n in _walk(model.graph) if n.domain == DOMAIN)


def count_edge3d_nodes(model: Any) -> Counter[str]:
    """``{op type: count}`` of ``edge3d`` nodes; the TensorRT build expects as many plugins."""
    return Counter(n.op_type for n in edge3d_nodes(model))


def strip_edge3d_functions(model: Any) -> Any:
    """A copy of ``model`` without ``edge3d`` local functions (what the TensorRT parser gets)."""
    return make_variants(model)[1]


def default_opset(model: Any) -> int:
    """The model's default-domain (``ai.onnx``) opset version."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise FormatError("the model imports no default-domain opset; is it an ONNX model?")


def _walk(graph: Any) -> Iterator[Any]:
    from onnx import AttributeProto

    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == AttributeProto.GRAPH:
                yield from _walk(attr.g)
            elif attr.type == AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from _walk(sub)


def _normalise_nodes(model: Any) -> set[str]:
    from onnx import helper

    used: set[str] = set()
    for node in edge3d_nodes(model):
        spec = OPS.get(node.op_type)
        if spec is None:
            raise FormatError(
                f"node {node.name!r} is edge3d::{node.op_type}, which is not a registered edge3d "
                f"op (known: {sorted(OPS)}); was the model exported by a newer edge3d?"
            )
        used.add(spec.name)
        present = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        expected = {"plugin_namespace": PLUGIN_NAMESPACE, "plugin_version": spec.plugin_version}
        for key, value in expected.items():
            if key not in present:
                node.attribute.append(helper.make_attribute(key, value))
            elif _text(present[key]) != value:
                raise FormatError(
                    f"node {node.name!r} ({spec.name}) has {key}={_text(present[key])!r}; this "
                    f"edge3d provides {value!r}. Re-export the model with this edge3d version"
                )
    return used


def _set_domain_import(model: Any, needed: bool) -> None:
    from onnx import helper

    for entry in model.opset_import:
        if entry.domain == DOMAIN:
            if entry.version != DOMAIN_VERSION:
                raise FormatError(
                    f"the model imports edge3d domain version {entry.version}; this edge3d "
                    f"implements version {DOMAIN_VERSION}"
                )
            return
    if needed:
        model.opset_import.append(helper.make_opsetid(DOMAIN, DOMAIN_VERSION))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
