"""Index builder: everything coordinate-dependent that the exportable backbones need as inputs.

The sparse voxel UNet runs as Gather + MatMul over tables built here (``voxelize``,
``voxel_pyramid``, ``neighbor_table``; see ``research/backbones.md`` sections 2 and 7.0), and
PointNet++ (Qi et al. 2017, sections 3.2 and 3.4) runs over precomputed sampling and grouping
indices (``fps``, ``ball_query``, ``knn``, ``three_nn_weights``). The C++ core is multithreaded
(``EDGE3D_NUM_THREADS``), releases the GIL, and gives bit-identical results for any thread
count. Every function here checks its inputs and raises ``TypeError`` (wrong dtype) or
``ValueError`` (wrong shape, non-finite values, out-of-range arguments) naming the argument.

Padding conventions (also in ``docs/native.md``):

- ``neighbor_table``: absent neighbours and rows beyond ``valid`` hold ``M`` (the number of
  voxels). Append one zero row to the features before ``Gather``.
- ``voxel_pyramid``: empty child slots hold ``M_l`` (the finer level's voxel count); the top
  level's ``parent`` is ``-1``.
- ``ball_query``: slots after the hits repeat the first hit; a centre with no hit is ``N`` in
  every slot.
- ``three_nn_weights``: with fewer than 3 points the missing neighbours repeat the nearest index
  with weight 0.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from edge3d.native._loader import load_extension

__all__ = [
    "PyramidLevel",
    "VoxelGrid",
    "ball_query",
    "fps",
    "knn",
    "neighbor_table",
    "three_nn_weights",
    "voxel_pyramid",
    "voxelize",
]

_INT32_MAX = np.iinfo(np.int32).max


@functools.cache
def _ext() -> ModuleType:
    return load_extension("index")


@dataclass(frozen=True, eq=False)
class VoxelGrid:
    """Unique voxels of a point cloud and the maps between points and voxels.

    Attributes:
        coords: int32 [M, 3], ``floor(points / voxel_size)``, unique, sorted lexicographically
            (x, then y, then z).
        features: float32 [M, C], mean of the features of each voxel's points (C = 0 without
            features).
        centroids: float32 [M, 3], mean of each voxel's points (metres, like the input).
        point_to_voxel: int32 [N], the voxel of each point (devoxelize with
            ``voxel_values[point_to_voxel]``).
        voxel_offsets: int64 [M + 1], CSR row pointers into ``voxel_points``.
        voxel_points: int32 [N], the points of voxel ``i`` are
            ``voxel_points[voxel_offsets[i]:voxel_offsets[i + 1]]``, ascending.
    """

    coords: np.ndarray
    features: np.ndarray
    centroids: np.ndarray
    point_to_voxel: np.ndarray
    voxel_offsets: np.ndarray
    voxel_points: np.ndarray

    @property
    def num_voxels(self) -> int:
        """M, the number of voxels (also the padding row index of neighbour tables)."""
        return int(self.coords.shape[0])


@dataclass(frozen=True, eq=False)
class PyramidLevel:
    """One level ``l`` of a stride-2 voxel pyramid.

    Attributes:
        coords: int32 [M_l, 3] voxel coordinates at this level (stride ``2**l`` in level-0 units).
        parent: int32 [M_l], index of each voxel's parent in level ``l + 1``; ``-1`` at the top.
        children: int32 [M_{l+1}, 8], for each voxel of level ``l + 1`` the index (into this
            level) of its child at offset ``(dx, dy, dz)`` in ``{0, 1}^3``, slot
            ``4 * dx + 2 * dy + dz`` (x slowest); ``M_l`` where there is no child. Empty
            ``[0, 8]`` at the top level.
    """

    coords: np.ndarray
    parent: np.ndarray
    children: np.ndarray

    @property
    def octant(self) -> np.ndarray:
        """int32 [M_l], each voxel's slot in its parent's ``children`` row:
        ``4 * (x & 1) + 2 * (y & 1) + (z & 1)``; ``parent * 8 + octant`` addresses a transposed
        convolution's ``[M_{l+1} * 8, C]`` output."""
        bits = (self.coords & 1).astype(np.int32)
        return bits[:, 0] * 4 + bits[:, 1] * 2 + bits[:, 2]


def _float_array(name: str, value: object, columns: int | None) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise TypeError(
            f"{name} must be a floating-point array (float32 preferred); got dtype {array.dtype}"
        )
    if array.ndim != 2 or (columns is not None and array.shape[1] != columns):
        want = f"[N, {columns}]" if columns is not None else "[N, C]"
        raise ValueError(f"{name} must have shape {want}; got {array.shape}")
    array = np.ascontiguousarray(array, dtype=np.float32)
    finite = np.isfinite(array)
    if not finite.all():
        row = int(np.argmin(finite.all(axis=1)))
        raise ValueError(
            f"{name} row {row} is not finite ({array[row].tolist()} as float32); "
            "drop invalid points (NaN/inf, or float64 values beyond float32 range) first"
        )
    return array


def _points(name: str, value: object) -> np.ndarray:
    return _float_array(name, value, 3)


# Squared distances between points within this bound stay finite in float32 (3 * (2e18)^2).
_MAX_QUERY_COORD = 1e18


def _query_points(name: str, value: object) -> np.ndarray:
    """Points for distance queries: finite, and small enough that squared distances are too."""
    array = _points(name, value)
    if array.size and np.abs(array).max() > _MAX_QUERY_COORD:
        raise ValueError(
            f"{name} has coordinates beyond ±{_MAX_QUERY_COORD:g}, where float32 squared "
            "distances overflow; rescale or recentre the points"
        )
    return array


def _coords(name: str, value: object) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must be an integer array (int32 preferred); got dtype {array.dtype}"
        )
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"{name} must have shape [M, 3]; got {array.shape}")
    if array.dtype != np.int32 and array.size and (
        array.min() < np.iinfo(np.int32).min or array.max() > _INT32_MAX
    ):
        raise ValueError(f"{name} has values outside the int32 range; recentre the coordinates")
    return np.ascontiguousarray(array, dtype=np.int32)


def _count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def _positive(name: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number; got {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return number


def _check_rows(name: str, n: int) -> None:
    if n >= _INT32_MAX:
        raise ValueError(f"{name} has {n} rows; int32 indices allow at most {_INT32_MAX - 1}")


def voxelize(
    points: np.ndarray, voxel_size: float, features: np.ndarray | None = None
) -> VoxelGrid:
    """Group points into cubic voxels of edge ``voxel_size`` (metres).

    A point's voxel is ``floor(points / voxel_size)`` computed in float64 from the float32
    points (floor, not truncation: ``-0.1`` is in voxel ``-1``). Voxels are unique and sorted
    lexicographically (x, then y, then z), so the output does not depend on the point order
    except through the point indices. Means are summed in float64 in ascending point order and
    rounded once to float32.

    Args:
        points: float [N, 3] positions (cast to float32; must be finite).
        voxel_size: edge length, > 0, in the units of ``points``.
        features: optional float [N, C] per-point features, averaged per voxel.

    Returns:
        A :class:`VoxelGrid`. N = 0 gives M = 0 (``voxel_offsets == [0]``).

    Raises:
        TypeError, ValueError: bad dtype, shape, non-finite values, ``voxel_size <= 0``, or a
            voxel coordinate beyond the int32 range.
    """
    pts = _points("points", points)
    size = _positive("voxel_size", voxel_size)
    _check_rows("points", pts.shape[0])
    feats = None
    if features is not None:
        feats = _float_array("features", features, None)
        if feats.shape[0] != pts.shape[0]:
            raise ValueError(
                f"features has {feats.shape[0]} rows but points has {pts.shape[0]}; "
                "give one feature row per point"
            )
    coords, mean_features, centroids, p2v, offsets, members = _ext().voxelize(pts, size, feats)
    if feats is None:
        mean_features = np.zeros((coords.shape[0], 0), np.float32)
    return VoxelGrid(coords, mean_features, centroids, p2v, offsets, members)


def voxel_pyramid(coords: np.ndarray, levels: int) -> list[PyramidLevel]:
    """Build a stride-2 pyramid over unique voxel coordinates.

    Level 0 keeps ``coords`` in the given order (so indices from :func:`voxelize` stay valid);
    level ``l + 1`` is ``unique(floor_div(coords_l, 2))`` sorted lexicographically. The tables
    feed strided convolution and pooling (``Gather(F_pad, children)``) and transposed
    convolution (``parent`` plus the child slot ``4 * (x & 1) + 2 * (y & 1) + (z & 1)``).

    Args:
        coords: int [M, 3] unique voxel coordinates (duplicates are an error).
        levels: number of levels returned, >= 1.

    Returns:
        ``levels`` :class:`PyramidLevel` objects, finest first. Padding: ``children`` holds
        ``M_l`` for absent children; the top level's ``parent`` is ``-1`` and its ``children``
        is ``[0, 8]``.
    """
    c = _coords("coords", coords)
    n_levels = _count("levels", levels, 1)
    _check_rows("coords", c.shape[0])
    raw = _ext().voxel_pyramid(c, n_levels)
    return [PyramidLevel(coords=lc, parent=lp, children=lch) for lc, lp, lch in raw]


def neighbor_table(
    coords: np.ndarray,
    kernel_size: int = 3,
    dilation: int = 1,
    query: np.ndarray | None = None,
    capacity: int | None = None,
) -> tuple[np.ndarray, int]:
    """Neighbour table of a sparse convolution, for ``Gather(F_pad, table) -> MatMul``.

    ``table[q, j]`` is the row in ``coords`` of the voxel at ``query[q] + offset_j * dilation``,
    or ``M = len(coords)`` when there is none. Offsets enumerate ``{first, ..., first + k - 1}^3``
    with ``first = -((k - 1) // 2)`` (``-1..1`` for k = 3, ``0..1`` for k = 2), x slowest and z
    fastest: ``j = (ox - first) * k*k + (oy - first) * k + (oz - first)``.

    Args:
        coords: int [M, 3] unique voxel coordinates of the input features.
        kernel_size: k >= 1; the table has ``k**3`` columns.
        dilation: >= 1, spacing of the kernel taps in voxels.
        query: int [Q, 3] output voxel coordinates; defaults to ``coords`` (submanifold).
        capacity: if given, the table has exactly ``capacity`` rows (static shapes for a
            runtime engine); rows ``Q..capacity-1`` are all ``M``. ``Q > capacity`` is an error.

    Returns:
        ``(table, valid)``: int32 ``[Q or capacity, k**3]`` and ``valid = Q``. Padding value
        ``M``: callers append one zero row to the ``[M, C]`` features.
    """
    c = _coords("coords", coords)
    k = _count("kernel_size", kernel_size, 1)
    d = _count("dilation", dilation, 1)
    q = c if query is None else _coords("query", query)
    _check_rows("coords", c.shape[0])
    rows = q.shape[0]
    if capacity is not None:
        cap = _count("capacity", capacity, 0)
        if q.shape[0] > cap:
            raise ValueError(
                f"{q.shape[0]} query voxels exceed capacity={cap}; raise the capacity "
                "or crop the scene"
            )
        rows = cap
    if rows * k**3 >= 2**62:
        raise ValueError(f"a [{rows}, {k**3}] table is too large; lower kernel_size")
    return _ext().neighbor_table(c, q, k, d, rows), int(q.shape[0])


def fps(points: np.ndarray, n: int, start: int = 0) -> np.ndarray:
    """Farthest point sampling (PointNet++ section 3.2).

    Starts at ``start``; each next sample is the point with the largest squared distance
    (float32, ``(dx*dx + dy*dy) + dz*dz``) to the samples so far, ties going to the lowest
    index. A taken point is never taken again, so the ``n`` indices are distinct even with
    duplicate points (duplicates are taken last, lowest index first).

    Args:
        points: float [N, 3].
        n: number of samples, ``0 <= n <= N``.
        start: index of the first sample, ``0 <= start < N`` (ignored when n = 0).

    Returns:
        int32 [n] point indices in sampling order.
    """
    pts = _query_points("points", points)
    count = _count("n", n, 0)
    first = _count("start", start, 0)
    _check_rows("points", pts.shape[0])
    if count > pts.shape[0]:
        raise ValueError(f"fps: cannot take n={count} samples from {pts.shape[0]} points")
    if count > 0 and first >= pts.shape[0]:
        raise ValueError(f"fps: start={first} is not a point index (N = {pts.shape[0]})")
    return _ext().fps(pts, count, first)


def ball_query(points: np.ndarray, centers: np.ndarray, radius: float, k: int) -> np.ndarray:
    """Group up to ``k`` points within ``radius`` of each centre (PointNet++ section 3.2).

    A point is inside when its squared distance (float32, ``(dx*dx + dy*dy) + dz*dz``) is
    strictly less than ``float32(radius) * float32(radius)``, as in PointNet++'s CUDA kernel.
    The first ``k`` inside points by ascending index are kept, in ascending order.

    Args:
        points: float [N, 3].
        centers: float [C, 3] (usually ``points[fps(points, C)]``).
        radius: > 0.
        k: >= 1 slots per centre.

    Returns:
        int32 [C, k]. Padding: with fewer than ``k`` hits the remaining slots repeat the first
        hit (so ``ReduceMax`` over the group needs no mask); a centre with no hit (only possible
        when it is not one of the points) gets ``N`` in every slot, a padding row to append.
    """
    pts = _query_points("points", points)
    ctr = _query_points("centers", centers)
    r = _positive("radius", radius)
    slots = _count("k", k, 1)
    _check_rows("points", pts.shape[0])
    with np.errstate(over="ignore"):
        r2 = np.float32(r) * np.float32(r)
    if not np.isfinite(r2):
        raise ValueError(f"radius={radius} squared overflows float32; use a smaller radius")
    return _ext().ball_query(pts, ctr, r, slots)


def knn(points: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest points of each query, exact.

    Args:
        points: float [N, 3].
        queries: float [Q, 3].
        k: ``1 <= k <= N``.

    Returns:
        ``(idx, dist2)``: int32 [Q, k] and float32 [Q, k] squared distances (float32,
        ``(dx*dx + dy*dy) + dz*dz``), sorted by distance, ties by ascending index. No padding.
    """
    pts = _query_points("points", points)
    qry = _query_points("queries", queries)
    count = _count("k", k, 1)
    _check_rows("points", pts.shape[0])
    if count > pts.shape[0]:
        raise ValueError(f"knn: k={count} exceeds the number of points N={pts.shape[0]}")
    return _ext().knn(pts, qry, count)


def three_nn_weights(points: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feature-propagation interpolation weights (PointNet++ section 3.4, Eq. 2 with p = 1).

    For each query, its 3 nearest points (as :func:`knn`) and weights
    ``w_j = r_j / ((r_0 + r_1) + r_2)`` with ``r_j = 1 / (sqrt(dist2_j) + 1e-8)`` in float32.
    Interpolate with ``(features[idx] * weight[..., None]).sum(1)``.

    Args:
        points: float [N, 3] with N >= 1, the coarse points that carry features.
        queries: float [Q, 3] the fine points to interpolate to.

    Returns:
        ``(idx, weight)``: int32 [Q, 3] and float32 [Q, 3]. With N < 3 the missing
        neighbours repeat the nearest index with weight 0, so the weights still sum to 1.
    """
    pts = _query_points("points", points)
    qry = _query_points("queries", queries)
    _check_rows("points", pts.shape[0])
    if pts.shape[0] == 0:
        raise ValueError("three_nn_weights: points is empty; there is nothing to interpolate from")
    return _ext().three_nn_weights(pts, qry)
