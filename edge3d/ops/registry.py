"""The op registry: one entry per custom op, read by training, export, the runtime, tests and docs.

Importing this module never imports torch or onnx (the TensorRT backend in ``edge3d.runtime``
reads plugin names from it on a Jetson without PyTorch). Each entry points at its PyTorch
reference and its ONNX function-body builder by ``"module:attribute"`` path; they are imported
on first use.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The ONNX domain of every edge3d custom op, and its version (design.md section 5).
DOMAIN = "edge3d"
DOMAIN_VERSION = 1
#: Attributes every edge3d node carries so the TensorRT parser looks the plugin up (and, on
#: TensorRT >= 10.7, prefers it over a same-named local function).
PLUGIN_NAMESPACE = "edge3d"
PLUGIN_ATTRIBUTES = ("plugin_namespace", "plugin_version")
#: Lowest default-domain opset the function bodies are written for (ReduceMin/Max with axes as
#: an input, Clip with min/max inputs).
MIN_OPSET = 18


@dataclass(frozen=True)
class Tolerance:
    """Allowed difference between two implementations of an op: ``|a - b| <= atol + rtol*|b|``."""

    rtol: float
    atol: float


@dataclass(frozen=True)
class Range:
    """The values an attribute accepts: ``low`` and ``high`` (None: unbounded), each end closed
    or open. The TensorRT plugins check the same ranges (``plugins/src/ops/<op>/``)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def accepts(self, value: float) -> bool:
        """Whether ``value`` lies in the range (NaN never does)."""
        if math.isnan(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        opening = "(" if self.low_open or self.low is None else "["
        closing = ")" if self.high_open or self.high is None else "]"
        return f"{opening}{low}, {high}{closing}"


@dataclass(frozen=True)
class OpSpec:
    """Everything edge3d knows about one custom op.

    Attributes:
        name: ONNX op type, CamelCase, stable forever (semantics change => new version).
        inputs: Input names, in order (the shapes are documented in ``docs/ops.md``).
        outputs: Output names, in order.
        attributes: Attribute defaults; their Python type fixes the ONNX attribute type
            (int -> INT, float -> FLOAT).
        ranges: Per attribute, the values it accepts (unbounded when absent).
        sector_edges: Outputs that jump where a point crosses a sector edge: two correct
            implementations may bin a point within float error of an edge either way.
        output_dtypes: Per output, ``"int32"`` or ``"like:<input>"`` (that input's float dtype).
        reference: ``"module:function"`` of the PyTorch reference (autograd, batch dim).
        body: ``"module:function"`` building the ONNX ``FunctionProto`` for a given opset.
        plugin_name: TensorRT plugin name (equals ``name``; looked up in ``plugin_namespace``).
        plugin_version: TensorRT plugin version string, also written on every node.
        tolerance: Per float dtype name (``"float32"``, ``"float16"``), the tolerance between the
            reference and the ONNX body, CUDA kernel or plugin.
        differentiable: Input names the reference propagates gradients to.
        shapes: Unbatched shape of every input and output, symbolic dims by letter (every tensor
            may also carry one leading batch dimension, shared by all of them).
        since: ``edge3d`` domain version that introduced this op.
    """

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: Mapping[str, int | float]
    output_dtypes: tuple[str, ...]
    reference: str
    body: str
    tolerance: Mapping[str, Tolerance]
    differentiable: tuple[str, ...]
    shapes: Mapping[str, tuple[str | int, ...]] = field(default_factory=dict)
    ranges: Mapping[str, Range] = field(default_factory=dict)
    sector_edges: tuple[str, ...] = ()
    plugin_name: str = ""
    plugin_version: str = "1"
    since: int = DOMAIN_VERSION
    doc: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.plugin_name:
            object.__setattr__(self, "plugin_name", self.name)

    def resolve_attributes(self, given: Mapping[str, Any]) -> dict[str, int | float]:
        """Merge ``given`` over the defaults, checking names and types.

        Raises:
            ValueError: an unknown attribute name, a value of the wrong type, or one outside
                the attribute's range.
        """
        unknown = sorted(set(given) - set(self.attributes))
        if unknown:
            raise ValueError(
                f"{self.name} has no attribute(s) {unknown}; its attributes are "
                f"{sorted(self.attributes)}"
            )
        out: dict[str, int | float] = {}
        for key, default in self.attributes.items():
            value = given.get(key, default)
            if isinstance(default, int):
                if isinstance(value, bool) or int(value) != value:
                    raise ValueError(f"{self.name}.{key} must be an integer, got {value!r}")
                value = int(value)
            else:
                value = float(value)
            allowed = self.ranges.get(key)
            if allowed is not None and not allowed.accepts(value):
                raise ValueError(f"{self.name}.{key} = {value} is outside {allowed}")
            out[key] = value
        return out

    def node_attributes(self, given: Mapping[str, Any]) -> dict[str, int | float | str]:
        """All attributes of an ``edge3d`` node: the op's own plus the plugin lookup pair."""
        attrs: dict[str, int | float | str] = dict(self.resolve_attributes(given))
        attrs["plugin_namespace"] = PLUGIN_NAMESPACE
        attrs["plugin_version"] = self.plugin_version
        return attrs

    def reference_fn(self) -> Callable[..., Any]:
        """The PyTorch reference function (imports torch)."""
        return _resolve(self.reference)

    def function_proto(self, opset: int = 20) -> Any:
        """The op's ONNX ``FunctionProto`` for a model whose default-domain opset is ``opset``."""
        if opset < MIN_OPSET:
            raise ValueError(
                f"edge3d function bodies need default-domain opset >= {MIN_OPSET}, got {opset}; "
                f"export with opset_version={MIN_OPSET} or newer"
            )
        return _resolve(self.body)(opset)


def _resolve(path: str) -> Callable[..., Any]:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


_TOL32 = Tolerance(rtol=1e-4, atol=1e-5)

_SECTORS = Range(1, 1024)  # sectors per axis
_POSITIVE = Range(0.0, None, low_open=True)

OPS: dict[str, OpSpec] = {
    spec.name: spec
    for spec in (
        OpSpec(
            name="SectorBin",
            inputs=("points", "centers"),
            outputs=("sector", "radius"),
            attributes={"n_azimuth": 5, "n_polar": 5},
            output_dtypes=("int32", "like:points"),
            reference="edge3d.ops.sector_bin:sector_bin",
            body="edge3d.ops.sector_bin:function_body",
            tolerance={"float32": _TOL32, "float16": Tolerance(rtol=2e-3, atol=2e-3)},
            differentiable=("points", "centers"),
            shapes={"points": ("N", 3), "centers": ("K", 3), "sector": ("K", "N"),
                    "radius": ("K", "N")},
            ranges={"n_azimuth": _SECTORS, "n_polar": _SECTORS},
            sector_edges=("sector",),
            doc="Spherical Mask sector index and radius of every point around every centre.",
        ),
        OpSpec(
            name="SectorMask",
            inputs=("points", "centers", "rays", "migration"),
            outputs=("logits",),
            attributes={"n_azimuth": 5, "n_polar": 5},
            output_dtypes=("like:points",),
            reference="edge3d.ops.sector_mask:sector_mask",
            body="edge3d.ops.sector_mask:function_body",
            tolerance={"float32": _TOL32, "float16": Tolerance(rtol=5e-3, atol=5e-3)},
            differentiable=("points", "centers", "rays", "migration"),
            shapes={"points": ("N", 3), "centers": ("K", 3), "rays": ("K", "S"),
                    "migration": ("K", "N"), "logits": ("K", "N")},
            ranges={"n_azimuth": _SECTORS, "n_polar": _SECTORS},
            sector_edges=("logits",),
            doc="Spherical Mask mask logits rays[sector] - radius + 2 * migration.",
        ),
        OpSpec(
            name="PointInBoxProb",
            inputs=("points", "boxes"),
            outputs=("prob",),
            attributes={"theta1": 100.0, "theta2": 20.0},
            output_dtypes=("like:points",),
            reference="edge3d.ops.point_in_box:point_in_box_prob",
            body="edge3d.ops.point_in_box:function_body",
            tolerance={"float32": _TOL32, "float16": Tolerance(rtol=2e-3, atol=2e-3)},
            differentiable=("points", "boxes"),
            shapes={"points": ("N", 3), "boxes": ("H", 2, 3), "prob": ("H", "N")},
            ranges={"theta2": _POSITIVE},
            doc="3D-BoNet Algorithm 1: soft probability that a point lies inside a box.",
        ),
        OpSpec(
            name="SoftBoxIoU",
            inputs=("prob_a", "prob_b"),
            outputs=("iou",),
            attributes={"eps": 1e-6},
            output_dtypes=("like:prob_a",),
            reference="edge3d.ops.soft_box_iou:soft_box_iou",
            body="edge3d.ops.soft_box_iou:function_body",
            tolerance={"float32": _TOL32, "float16": Tolerance(rtol=2e-3, atol=2e-3)},
            differentiable=("prob_a", "prob_b"),
            shapes={"prob_a": ("A", "N"), "prob_b": ("B", "N"), "iou": ("A", "B")},
            ranges={"eps": _POSITIVE},
            doc="3D-BoNet eq. 3: soft IoU of two sets of per-point box probabilities.",
        ),
    )
}


def get_op(name: str) -> OpSpec:
    """The registry entry of op ``name`` (ONNX op type, e.g. ``"SectorBin"``).

    Raises:
        KeyError: no such op; the message lists the known ones.
    """
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no edge3d op named {name!r}; known ops: {sorted(OPS)}") from None


def plugin_names() -> dict[str, str]:
    """``{op name: plugin version}`` of every op a TensorRT build must turn into a plugin layer."""
    return {spec.plugin_name: spec.plugin_version for spec in OPS.values()}
