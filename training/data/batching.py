"""Batches by concatenation: samples' rows are stacked and their index tensors re-offset.

Sparse backbones have no batch axis: a batch is one big scene whose index tables point into the
concatenated rows. For each :class:`edge3d.tensor_spec.TensorSpec`, data tensors are
concatenated along axis 0; index tensors get the row offset of their ``index_of`` dimension
(times ``index_scale``), and padding entries (value = the sample's row count) become the
batch's row count, so padding still reads the one appended zero row. Dense grids stack along
their batch axis the same way (``index_of="CELLS"`` offsets by ``D * H * W`` per sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge3d.tensor_spec import TensorSpec


@dataclass
class Sample:
    """One scene's network inputs and targets (numpy), ready to batch.

    ``arrays``: name -> array; ``sizes``: symbolic sizes no array shows (see
    :class:`edge3d.runtime.preprocess.NetworkInputs`); ``scene``: the (augmented) scene, kept for
    validation post-processing and evaluation.
    """

    arrays: dict[str, np.ndarray]
    sizes: dict[str, int] = field(default_factory=dict)
    scene: Any = None


def sample_sizes(sample: Sample, specs: Sequence[TensorSpec]) -> dict[str, int]:
    """Every symbolic dimension's size in ``sample`` (from array shapes and ``sample.sizes``)."""
    sizes = dict(sample.sizes)
    for spec in specs:
        arr = sample.arrays[spec.name]
        for axis, dim in enumerate(spec.shape):
            if isinstance(dim, str):
                size = int(arr.shape[axis])
                if sizes.setdefault(dim, size) != size:
                    raise ValueError(f"'{spec.name}' axis {axis} ({dim}) is {size} but another "
                                     f"array has {dim} = {sizes[dim]}")
    return sizes


def concat_samples(samples: Sequence[Sample], specs: Sequence[TensorSpec],
                   point_dim: str = "P") -> dict[str, np.ndarray]:
    """Concatenate ``samples`` into one batch following ``specs`` (see the module docstring).

    Also returns ``point_batch`` (int64 [sum P]): the sample index of each point, where
    ``point_dim`` names the per-point dimension.
    """
    if not samples:
        raise ValueError("cannot batch zero samples")
    sizes = [sample_sizes(s, specs) for s in samples]
    out: dict[str, np.ndarray] = {}
    for spec in specs:
        parts = [s.arrays[spec.name] for s in samples]
        if spec.index_of is None:
            out[spec.name] = np.concatenate(parts, axis=0)
            continue
        if spec.padded and spec.index_scale != 1:
            raise ValueError(f"'{spec.name}': padded index tensors must have index_scale 1")
        total = sum(sz[spec.index_of] for sz in sizes)
        offset = 0
        shifted = []
        for part, sz in zip(parts, sizes, strict=True):
            v = part.astype(np.int64)
            new = v + offset * spec.index_scale
            if spec.padded:
                new = np.where(v == sz[spec.index_of], total, new)
            shifted.append(new.astype(np.int32))
            offset += sz[spec.index_of]
        out[spec.name] = np.concatenate(shifted, axis=0)
    counts = [sz[point_dim] for sz in sizes]
    out["point_batch"] = np.repeat(np.arange(len(samples), dtype=np.int64), counts)
    return out
