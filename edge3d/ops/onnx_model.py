"""Single-node ONNX models of one edge3d op, with its function body: the portable form of one op."""

from __future__ import annotations

from typing import Any

from edge3d.ops.registry import DOMAIN, DOMAIN_VERSION, get_op

_DTYPES = ("float32", "float16")


def onnx_model(
    name: str, *, opset: int = 20, dtype: str = "float32", batched: bool = False, **attributes: Any
) -> Any:
    """A model with one ``edge3d`` node ``name`` and its function body attached.

    Inputs and outputs are named as in the registry, with symbolic dims (``N``, ``K``, ...;
    ``S = n_azimuth * n_polar`` is concrete), and a leading ``batch`` dim when ``batched``.
    ONNX Runtime runs it with no extra library (it inlines the function).

    Args:
        name: op type, e.g. ``"SectorBin"``.
        opset: default-domain opset of the model and the body (>= 18).
        dtype: ``"float32"`` or ``"float16"``: the float inputs' and outputs' element type.
        batched: add a leading batch dimension to every input and output.
        **attributes: op attributes (defaults from the registry).

    Returns:
        A checked ``onnx.ModelProto``.
    """
    import onnx
    from onnx import TensorProto, helper

    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
    spec = get_op(name)
    attrs = spec.resolve_attributes(attributes)
    float_type = TensorProto.FLOAT if dtype == "float32" else TensorProto.FLOAT16

    def value_info(tensor: str, elem: int) -> Any:
        dims: list[Any] = [attrs["n_azimuth"] * attrs["n_polar"] if d == "S" else d
                           for d in spec.shapes[tensor]]
        return helper.make_tensor_value_info(tensor, elem, (["batch"] if batched else []) + dims)

    inputs = [value_info(t, float_type) for t in spec.inputs]
    outputs = [
        value_info(t, TensorProto.INT32 if kind == "int32" else float_type)
        for t, kind in zip(spec.outputs, spec.output_dtypes, strict=True)
    ]
    node = helper.make_node(
        spec.name, list(spec.inputs), list(spec.outputs), domain=DOMAIN,
        **spec.node_attributes(attrs))
    graph = helper.make_graph([node], f"edge3d_{spec.name}", inputs, outputs)
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid(DOMAIN, DOMAIN_VERSION)]
    model = helper.make_model(
        graph, opset_imports=opsets, functions=[spec.function_proto(opset)],
        producer_name="edge3d",
        # The lowest IR version that knows the opset, and >= 9 for function attribute defaults:
        # a newer IR than needed is refused by older ONNX Runtimes.
        ir_version=max(9, helper.find_min_ir_version_for(opsets, ignore_unknown=True)),
    )
    onnx.checker.check_model(model, full_check=True)
    return model
