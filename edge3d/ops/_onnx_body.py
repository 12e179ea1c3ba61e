"""A small builder for the ops' ONNX function bodies (imports onnx; used only when building).

Bodies are rank-generic: every axis is negative, so one body serves ``[N, 3]`` and the batched
``[B, N, 3]`` form. Float inputs are cast to float32 first (FP32 accumulation for FP16 inputs)
and float outputs cast back with ``CastLike``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from edge3d.ops.registry import DOMAIN, PLUGIN_ATTRIBUTES, OpSpec


class BodyBuilder:
    """Collects the nodes of one function body, naming intermediate values uniquely."""

    def __init__(self, spec: OpSpec) -> None:
        self.spec = spec
        self.nodes: list[Any] = []
        self._count = 0

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attrs: Any) -> Any:
        """Append one default-domain node; returns its output name (or names if ``outputs>1``)."""
        from onnx import helper

        names = [self._fresh(op_type) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, **attrs))
        return names[0] if outputs == 1 else names

    def output(self, op_type: str, output: str, *inputs: str, **attrs: Any) -> None:
        """Append a node that writes the function output ``output``."""
        from onnx import helper

        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attrs))

    def const(self, value: float | int | Sequence[int]) -> str:
        """A constant: float -> float32 scalar, int -> int64 scalar, list -> int64 1-D."""
        from onnx import helper

        name = self._fresh("const")
        if isinstance(value, float):
            attr = {"value_float": value}
        elif isinstance(value, int):
            attr = {"value_int": value}
        else:
            attr = {"value_ints": list(value)}
        self.nodes.append(helper.make_node("Constant", [], [name], **attr))
        return name

    def attr(self, attribute: str) -> str:
        """A scalar constant holding the function attribute ``attribute`` (float32 or int64)."""
        from onnx import AttributeProto, helper

        default = self.spec.attributes[attribute]
        kind, key = (
            (AttributeProto.INT, "value_int") if isinstance(default, int)
            else (AttributeProto.FLOAT, "value_float")
        )
        name = self._fresh(attribute)
        node = helper.make_node("Constant", [], [name])
        node.attribute.append(helper.make_attribute_ref(key, kind, ref_attr_name=attribute))
        self.nodes.append(node)
        return name

    def float32(self, value: str) -> str:
        from onnx import TensorProto

        return self.op("Cast", value, to=TensorProto.FLOAT)

    def component(self, xyz: str, axis: int) -> str:
        """``xyz[..., axis]`` (drops the last axis)."""
        return self.op("Gather", xyz, self.const(axis), axis=-1)

    def atan2(self, y: str, x: str, y_nonnegative: bool = False) -> str:
        """``atan2(y, x)`` from Atan and Where, with atan2(0, 0) = 0 and signed zeros read as +0.

        ONNX has no Atan2. Branches: x > 0: atan(y/x); x < 0: atan(y/x) + pi if y >= 0 else
        - pi; x == 0: +-pi/2 by the sign of y, 0 when y == 0. The unselected branches may hold
        inf/NaN (0/0); Where discards them.
        """
        base = self.op("Atan", self.op("Div", y, x))
        zero = self.const(0.0)
        pi = self.const(math.pi)
        if y_nonnegative:
            x_negative_value = self.op("Add", base, pi)
            x_zero_value = self.op(
                "Where", self.op("Greater", y, zero), self.const(math.pi / 2), zero)
        else:
            shift = self.op("Where", self.op("GreaterOrEqual", y, zero), pi, self.op("Neg", pi))
            x_negative_value = self.op("Add", base, shift)
            half = self.const(math.pi / 2)
            x_zero_value = self.op(
                "Where", self.op("Greater", y, zero), half,
                self.op("Where", self.op("Less", y, zero), self.op("Neg", half), zero))
        return self.op(
            "Where", self.op("Greater", x, zero), base,
            self.op("Where", self.op("Less", x, zero), x_negative_value, x_zero_value))

    def finish(self, opset: int, doc: str = "") -> Any:
        """The ``FunctionProto`` (domain ``edge3d``) with attribute defaults declared."""
        from onnx import helper

        protos = [
            helper.make_attribute(key, value) for key, value in self.spec.attributes.items()
        ]
        return helper.make_function(
            DOMAIN, self.spec.name, list(self.spec.inputs), list(self.spec.outputs), self.nodes,
            [helper.make_opsetid("", opset)],
            attributes=list(PLUGIN_ATTRIBUTES), attribute_protos=protos,
            doc_string=doc or self.spec.doc,
        )

    def _fresh(self, stem: str) -> str:
        self._count += 1
        return f"_{stem}_{self._count}"


def offsets(b: BodyBuilder, points: str, centers: str) -> tuple[str, str, str]:
    """``points[..., n, :] - centers[..., k, :]`` as three float32 ``[..., K, N]`` components.

    Splitting first keeps the broadcast tensors 2-D (no [K, N, 3] intermediate and no Gathers
    on it).
    """
    p, c = b.float32(points), b.float32(centers)
    out = []
    for axis in range(3):
        pa = b.op("Unsqueeze", b.component(p, axis), b.const([-2]))   # [..., 1, N]
        ca = b.op("Unsqueeze", b.component(c, axis), b.const([-1]))   # [..., K, 1]
        out.append(b.op("Sub", pa, ca))
    return out[0], out[1], out[2]


def sector_index(b: BodyBuilder, dx: str, dy: str, dz: str) -> tuple[str, str]:
    """Sector index (int64) and radius (float32) of offsets (dx, dy, dz), each [..., K, N].

    Shared by SectorBin and SectorMask so both bin exactly alike (methods.md section 5.4).
    """
    rho_sq = b.op("Add", b.op("Mul", dx, dx), b.op("Mul", dy, dy))
    radius = b.op("Sqrt", b.op("Add", rho_sq, b.op("Mul", dz, dz)))
    theta = b.atan2(b.op("Sqrt", rho_sq), dz, y_nonnegative=True)
    phi = b.op("Add", b.atan2(dy, dx), b.const(math.pi))
    polar_bin = _bin(b, theta, math.pi, b.attr("n_polar"))
    azimuth_bin = _bin(b, phi, 2 * math.pi, b.attr("n_azimuth"))
    sector = b.op("Add", b.op("Mul", polar_bin, b.attr("n_azimuth")), azimuth_bin)
    return sector, radius


def _bin(b: BodyBuilder, angle: str, span: float, count: str) -> str:
    """``clamp(floor(angle / (span / count)), 0, count - 1)`` as int64, with float32 unit."""
    from onnx import TensorProto

    count_f = b.op("Cast", count, to=TensorProto.FLOAT)
    unit = b.op("Div", b.const(span), count_f)
    raw = b.op("Floor", b.op("Div", angle, unit))
    top = b.op("Sub", count_f, b.const(1.0))
    clipped = b.op("Clip", raw, b.const(0.0), top)
    return b.op("Cast", clipped, to=TensorProto.INT64)

