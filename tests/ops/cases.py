"""Input builders for the op tests and bench/bm_ops.py (one generator per op, seeded numpy),
and the comparison of any implementation's outputs with the op's PyTorch reference."""

from __future__ import annotations

import math

import numpy as np

#: (N points, K centres / H boxes / A rows, B rows) per size name; "typical" is 3D-BoNet's block
#: (4096 points, 24 boxes) and a Spherical Mask scene's superpoints x queries.
SIZES = {
    "small": (7, 3, 2),
    "typical": (4096, 24, 24),
    "large": (16384, 128, 64),
}


def make_inputs(op: str, n: int, k: int, b: int = 0, batch: int | None = None,
                dtype: str = "float32", seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs of ``op`` as numpy arrays (``batch`` adds a leading dimension)."""
    rng = np.random.default_rng(seed)
    lead = () if batch is None else (batch,)
    if op in ("SectorBin", "SectorMask"):
        points = rng.uniform(-1.0, 1.0, size=(*lead, n, 3))
        centers = rng.uniform(-0.8, 0.8, size=(*lead, k, 3))
        # Some centres sit exactly on a point: the r = 0 case appears in every matrix run.
        for i in range(min(k, n) // 2):
            centers[..., i, :] = points[..., i, :]
        out = {"points": points, "centers": centers}
        if op == "SectorMask":
            out["rays"] = rng.uniform(0.01, 1.5, size=(*lead, k, 25))
            out["migration"] = rng.normal(0.0, 0.1, size=(*lead, k, n))
    elif op == "PointInBoxProb":
        points = rng.uniform(0.0, 1.0, size=(*lead, n, 3))
        lo = rng.uniform(0.0, 0.8, size=(*lead, k, 3))
        size = rng.uniform(0.05, 0.5, size=(*lead, k, 3))
        out = {"points": points, "boxes": np.stack([lo, lo + size], axis=-2)}
    elif op == "SoftBoxIoU":
        out = {"prob_a": rng.uniform(0.0, 1.0, size=(*lead, k, n)),
               "prob_b": rng.uniform(0.0, 1.0, size=(*lead, b or k, n))}
    else:
        raise KeyError(op)
    return {name: a.astype(dtype) for name, a in out.items()}


def near_sector_edge(points: np.ndarray, centers: np.ndarray, n_azimuth: int = 5,
                     n_polar: int = 5, tol: float = 1e-5) -> np.ndarray:
    """[..., K, N] bool: the point's angles lie within ``tol`` rad of a bin edge (in float64).

    Different atan implementations may bin such points either way; everything else must agree.
    """
    d = points.astype(np.float64)[..., None, :, :] - centers.astype(np.float64)[..., :, None, :]
    theta = np.arctan2(np.hypot(d[..., 0], d[..., 1]), d[..., 2])
    phi = np.arctan2(d[..., 1], d[..., 0]) + math.pi

    def close(angle: np.ndarray, unit: float) -> np.ndarray:
        frac = angle / unit
        return np.abs(frac - np.round(frac)) * unit < tol

    return close(theta, math.pi / n_polar) | close(phi, 2 * math.pi / n_azimuth)


def kernel_name(op: str) -> str:
    """The op's function name (``soft_box_iou``): its reference, its C ABI launcher
    ``edge3d_<name>`` and its :class:`tests.plugins.kernel_lib.KernelLibrary` method."""
    from edge3d.ops import get_op

    return get_op(op).reference.partition(":")[2]


def assert_matches_reference(op: str, feeds: dict[str, np.ndarray], got: list[np.ndarray],
                             what: str = "") -> None:
    """``got`` (the op's outputs in order) equals the PyTorch reference on ``feeds``: integers
    exactly, floats within the op's tolerance for the inputs' dtype; for ops with
    ``sector_edges``, points within float error of a sector edge may differ."""
    import torch

    from edge3d.ops import get_op

    spec = get_op(op)
    with torch.no_grad():
        want = spec.reference_fn()(*(torch.from_numpy(a) for a in feeds.values()))
    want = [w.numpy() for w in (want if isinstance(want, tuple) else (want,))]
    tol = spec.tolerance[str(next(iter(feeds.values())).dtype)]
    edge = near_sector_edge(feeds["points"], feeds["centers"]) if spec.sector_edges else None
    for name, g, w in zip(spec.outputs, got, want, strict=True):
        assert g.shape == w.shape and g.dtype == w.dtype, (name, g.shape, w.shape)
        ok = (g == w) if g.dtype == np.int32 else np.isclose(
            g.astype(np.float64), w.astype(np.float64), rtol=tol.rtol, atol=tol.atol)
        if name in spec.sector_edges:
            ok |= edge
        assert ok.all(), f"{op}.{name} {what}: {(~ok).sum()} of {ok.size} differ"
