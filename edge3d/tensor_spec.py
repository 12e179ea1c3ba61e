"""Input and output specifications of networks (names, dtypes, symbolic shapes), one class
for the PyTorch models, the training targets and the model package's manifest.

A :class:`TensorSpec` says what the preprocessing must build and what the network returns. Index
tensors also say which dimension their values index into and whether they are padded, so that
batches can be formed by concatenating samples (:func:`training.data.batching.concat_samples`)
and so that the runtime knows the padding convention. A manifest stores name, dtype and shape
(:meth:`TensorSpec.to_dict`). Pure Python: no torch, no numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge3d.errors import PackageError

DTYPES = ("float32", "float16", "int32", "int64", "bool", "uint8")


@dataclass(frozen=True)
class TensorSpec:
    """One named network input or output.

    Attributes:
        name: the ONNX input/output name.
        dtype: ``"float32"`` or ``"int32"``.
        shape: one entry per axis: an int (fixed) or a str (a symbolic, dynamic dimension such as
            ``"M0"``, the voxel count of pyramid level 0). Equal names mean equal sizes.
        doc: what the tensor holds (units, ranges, padding).
        index_of: for index tensors, the symbolic dimension whose rows the values point at
            (``"M0"``: values in ``[0, M0]``); None for data tensors.
        index_scale: values are ``row * index_scale + slot`` (8 for transposed-conv targets that
            index a flattened ``[rows, 8]`` array); 1 otherwise.
        padded: whether the value ``size(index_of)`` (one past the last row) marks padding; the
            network appends a zero row (or -inf for max pooling) so padding reads a neutral value.
    """

    name: str
    dtype: str
    shape: tuple[int | str, ...]
    doc: str = ""
    index_of: str | None = None
    index_scale: int = 1
    padded: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str) -> TensorSpec:
        """A spec from a manifest entry; PackageError naming ``where`` when it is malformed."""
        try:
            spec = cls(name=str(d["name"]), dtype=str(d["dtype"]), shape=tuple(d["shape"]))
        except (KeyError, TypeError) as exc:
            raise PackageError(
                f"{where}: a tensor spec needs name, dtype and shape ({exc})") from exc
        if spec.dtype not in DTYPES:
            raise PackageError(f"{where}: tensor {spec.name!r} has unknown dtype {spec.dtype!r}; "
                               f"expected one of {', '.join(DTYPES)}")
        for dim in spec.shape:
            if not (isinstance(dim, str) or (isinstance(dim, int) and dim >= 0)):
                raise PackageError(f"{where}: tensor {spec.name!r} has a bad dimension {dim!r}")
        return spec

    def to_dict(self) -> dict[str, Any]:
        """Name, dtype and shape, as a manifest stores them."""
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}

    def dynamic_axes(self) -> dict[int, str]:
        """Axis number -> symbolic name for the dynamic axes."""
        return {axis: dim for axis, dim in enumerate(self.shape) if isinstance(dim, str)}

    def describe(self) -> str:
        """One Markdown table row: name, dtype, shape, meaning."""
        shape = "[" + ", ".join(str(d) for d in self.shape) + "]"
        return f"| `{self.name}` | {self.dtype} | {shape} | {self.doc} |"


def spec_table(specs: list[TensorSpec]) -> str:
    """A Markdown table of ``specs`` (used by docs/backbones.md and by error messages)."""
    rows = ["| name | dtype | shape | meaning |", "|---|---|---|---|"]
    rows += [s.describe() for s in specs]
    return "\n".join(rows)
