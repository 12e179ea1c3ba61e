"""The backend interface: tensor metadata, feed validation, timing, lifetime.

Modelled on Polygraphy's runners (style.md section 3): the public ``run`` checks the feed
against the input metadata and records the inference time; subclasses implement ``_run``.
Never imports torch.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge3d.errors import Edge3DError, FormatError

Dim = int | str | None


class BackendUnavailableError(Edge3DError, RuntimeError):
    """The requested backend cannot run here (no GPU, no TensorRT, no CUDA provider...)."""


@dataclass(frozen=True)
class TensorInfo:
    """One network input or output.

    Attributes:
        name: tensor name in the ONNX graph / engine.
        shape: per dimension an int (fixed), a str (symbolic, e.g. ``"N"``; all tensors with
            the same symbol must agree within one feed) or None (unknown).
        dtype: numpy dtype the backend takes or returns (no silent casting).
    """

    name: str
    shape: tuple[Dim, ...]
    dtype: np.dtype

    def describe(self) -> str:
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        return f"{self.name}: {self.dtype.name}[{dims}]"


class Backend(ABC):
    """A loaded network that maps named numpy inputs to named numpy outputs.

    Use as a context manager or call ``close()``. ``inference_time`` holds the last ``run``'s
    wall time in seconds (transfers included), ``total_time`` and ``runs`` the totals.
    """

    #: e.g. "ort-cpu", "ort-cuda", "tensorrt".
    name: str = "backend"

    def __init__(self) -> None:
        self.inference_time = 0.0
        self.total_time = 0.0
        self.runs = 0
        self._closed = False

    @property
    @abstractmethod
    def inputs(self) -> list[TensorInfo]:
        """Input metadata, in the network's order."""

    @property
    @abstractmethod
    def outputs(self) -> list[TensorInfo]:
        """Output metadata, in the network's order."""

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the network once.

        Args:
            feeds: one array per input name, with the exact dtype and a shape that matches the
                input metadata (fixed dims equal, one size per symbolic dim).

        Returns:
            ``{output name: array}`` for every output.

        Raises:
            FormatError: a missing or unknown input, a wrong dtype, rank or size.
            RuntimeError: the backend was closed, or the run itself failed.
        """
        if self._closed:
            raise RuntimeError(f"the {self.name} backend is closed; create a new one")
        arrays = validate_feeds(self.inputs, feeds)
        start = time.perf_counter()
        out = self._run(arrays)
        self.inference_time = time.perf_counter() - start
        self.total_time += self.inference_time
        self.runs += 1
        return out

    @abstractmethod
    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run validated, C-contiguous feeds."""

    def close(self) -> None:
        """Release the session / engine and device memory (idempotent)."""
        if not self._closed:
            self._closed = True
            self._close()

    def _close(self) -> None:  # noqa: B027 - optional hook
        """Subclass hook for ``close``."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        ins = "; ".join(t.describe() for t in self.inputs)
        outs = "; ".join(t.describe() for t in self.outputs)
        return f"{self.name}: inputs {ins} -> outputs {outs}"


def validate_feeds(inputs: Sequence[TensorInfo], feeds: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Check ``feeds`` against ``inputs``; returns C-contiguous arrays in input order.

    Raises:
        FormatError: naming the input and what is wrong with it.
    """
    expected = {t.name for t in inputs}
    missing = sorted(expected - set(feeds))
    unknown = sorted(set(feeds) - expected)
    if missing or unknown:
        raise FormatError(
            f"feed mismatch: missing inputs {missing}, unknown inputs {unknown}; the network "
            f"takes {[t.describe() for t in inputs]}"
        )
    symbols: dict[str, tuple[int, str]] = {}
    out: dict[str, np.ndarray] = {}
    for info in inputs:
        array = feeds[info.name]
        if not isinstance(array, np.ndarray):
            raise FormatError(f"input {info.name!r} must be a numpy array, got "
                              f"{type(array).__name__}")
        if array.dtype != info.dtype:
            raise FormatError(f"input {info.name!r} must be {info.dtype.name}, got "
                              f"{array.dtype.name} (cast it explicitly: no silent conversion)")
        if array.ndim != len(info.shape):
            raise FormatError(f"input {info.name!r} must have rank {len(info.shape)} "
                              f"({info.describe()}), got shape {array.shape}")
        for axis, (dim, size) in enumerate(zip(info.shape, array.shape, strict=True)):
            if isinstance(dim, int) and dim >= 0 and dim != size:
                raise FormatError(f"input {info.name!r} dim {axis} must be {dim} "
                                  f"({info.describe()}), got shape {array.shape}")
            if isinstance(dim, str):
                seen = symbols.setdefault(dim, (size, info.name))
                if seen[0] != size:
                    raise FormatError(
                        f"inputs disagree on dim {dim!r}: {seen[1]!r} has {seen[0]}, "
                        f"{info.name!r} has {size}")
        out[info.name] = np.ascontiguousarray(array)
    return out
