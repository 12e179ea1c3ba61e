"""Random inputs that satisfy an input spec (for export checks, tests and benchmarks).

Indices are uniform over their valid range, including the padding value where the spec allows
padding, so every gather path (real rows and the padding row) is exercised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from edge3d.tensor_spec import TensorSpec


def random_inputs(specs: Sequence[TensorSpec], sizes: Mapping[str, int],
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One array per spec; ``sizes`` gives every symbolic dimension (e.g. ``{"M0": 500}``).

    Float inputs are standard normal, except ``interp_weight_*`` style inputs whose doc says the
    rows sum to 1 (then positive and normalised); int32 index inputs lie in
    ``[0, size(index_of)]`` when padded, ``[0, size(index_of))`` otherwise, times
    ``index_scale`` plus a random slot below it.
    """
    out: dict[str, np.ndarray] = {}
    for spec in specs:
        shape = tuple(d if isinstance(d, int) else int(sizes[d]) for d in spec.shape)
        if spec.dtype == "float32":
            if "sum to 1" in spec.doc:
                w = rng.random(shape, dtype=np.float32) + 0.1
                out[spec.name] = w / w.sum(axis=-1, keepdims=True)
            else:
                out[spec.name] = rng.standard_normal(shape, dtype=np.float32)
        elif spec.index_of is not None:
            rows = int(sizes[spec.index_of])
            high = rows + 1 if spec.padded else rows
            idx = rng.integers(0, high, shape) * spec.index_scale
            if spec.index_scale > 1:
                idx += rng.integers(0, spec.index_scale, shape)
            out[spec.name] = idx.astype(np.int32)
        else:
            raise ValueError(f"cannot make a random '{spec.name}': int32 input without index_of")
    return out
