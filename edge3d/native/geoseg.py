"""Geometric segmentation core: surface graphs, normals and superpoints of point clouds.

The building blocks of edge3d's zero-shot segmenter (``edge3d.Segmenter("geometric")``) and of
superpoints for fused maps (Spherical Mask aligns its masks to them, as it does to a ScanNet
mesh's segments):

- :func:`knn_graph`: the ``k`` nearest neighbours of every point within a radius. A radius cap
  and a neighbour count together adapt to density: on a dense fused map the neighbours are a
  few centimetres away, on a decimated mesh's flat regions they reach further, and nothing
  bridges a gap wider than the cap.
- :func:`pca_normals`: normals and surface variation from those neighbourhoods.
- :func:`felzenszwalb`: Felzenszwalb-Huttenlocher graph segmentation (IJCV 2004), the algorithm
  of ScanNet's mesh segmentator (``research/geometric-and-sim2real.md`` A1).
- :func:`superpoints`: the three together on a voxelised cloud, with edge weights from normals
  and colour: an over-segmentation into small, planar, uniformly coloured patches.

The C++ core releases the GIL, runs on ``EDGE3D_NUM_THREADS`` threads and gives the same result
for any thread count.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from edge3d.geometry import column_bounds
from edge3d.native._loader import load_extension
from edge3d.native.index import voxelize

__all__ = ["SurfaceGraph", "edge_weights", "felzenszwalb", "knn_graph", "pca_normals",
           "superpoints", "surface_graph"]


@functools.cache
def _ext() -> ModuleType:
    return load_extension("geoseg")


def _points(points: object, name: str = "points") -> np.ndarray:
    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"{name} must have shape [N, 3], got {pts.shape}")
    if not np.issubdtype(pts.dtype, np.floating):
        raise TypeError(f"{name} must be floating point, got {pts.dtype}")
    pts = np.ascontiguousarray(pts, dtype=np.float32)
    if not np.isfinite(pts).all():
        raise ValueError(f"{name} must be finite (drop NaN and infinite rows first)")
    if len(pts) >= np.iinfo(np.int32).max:
        raise ValueError(f"{name}: at most {np.iinfo(np.int32).max - 1} points")
    return pts


def knn_graph(points: np.ndarray, k: int, max_distance: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other points of every point within ``max_distance``.

    Args:
        points: float [N, 3] positions (metres).
        k: neighbours per point, 1 to 64.
        max_distance: the radius cap, > 0 (metres).

    Returns:
        ``(nbr, dist)``: int32 [N, k] neighbour indices, nearest first (ties by index), and
        float32 [N, k] their distances; rows with fewer than ``k`` points that close are padded
        with -1 and +inf. Not symmetric: j may list i without i listing j.

    Raises:
        TypeError, ValueError: bad dtype or shape, non-finite points, ``k`` or
            ``max_distance`` out of range, or a cloud spanning more than two million cells of
            ``max_distance / 2`` along an axis.
    """
    pts = _points(points)
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= 64):
        raise ValueError(f"knn_graph: k must be an integer in [1, 64], got {k!r}")
    if not (np.isfinite(max_distance) and max_distance > 0):
        raise ValueError(f"knn_graph: max_distance must be > 0, got {max_distance!r}")
    return _ext().knn_graph(pts, int(k), float(max_distance))


def pca_normals(points: np.ndarray, nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normals and surface variation of every point from itself and its graph neighbours.

    Args:
        points: float [N, 3].
        nbr: int [N, k] neighbour indices as :func:`knn_graph` returns them (-1 = none).

    Returns:
        ``(normals, variation)``: float32 [N, 3] unit normals, the direction of least spread,
        turned up (``n_z >= 0``; ``n_x >= 0`` when horizontal), and float32 [N] surface
        variation ``l0 / (l0 + l1 + l2)`` of the covariance's eigenvalues (0 on a plane, 1/3
        on an isotropic blob). Points with fewer than two neighbours get normal (0, 0, 0) and
        variation 1.
    """
    pts = _points(points)
    table = np.ascontiguousarray(nbr, dtype=np.int32)
    if table.ndim != 2 or table.shape[0] != len(pts):
        raise ValueError(f"pca_normals: nbr must be [N={len(pts)}, k], got {table.shape}")
    if table.size and (table.min() < -1 or table.max() >= len(pts)):
        raise ValueError("pca_normals: nbr holds indices outside [-1, N)")
    return _ext().pca_normals(pts, table)


def felzenszwalb(n: int, edges: np.ndarray, weights: np.ndarray, k: float,
                 min_size: int = 1) -> np.ndarray:
    """Felzenszwalb-Huttenlocher segmentation of a weighted graph.

    Edges are taken in ascending weight (ties in the given order); components A and B joined by
    an edge of weight w merge when ``w <= tau(A)`` and ``w <= tau(B)``, where
    ``tau(C) = w_last(C) + k / |C|`` (``k`` for a single node). Then each edge joining a
    component smaller than ``min_size`` nodes to another merges them, in the same order.

    Args:
        n: number of nodes.
        edges: int [E, 2] node pairs.
        weights: float [E], >= 0 (dissimilarities).
        k: the scale parameter, > 0: larger gives larger segments.
        min_size: smallest component kept on its own where an edge allows merging it.

    Returns:
        int32 [n]: the segment of each node, numbered from 0 in order of each segment's first
        node.
    """
    e = np.ascontiguousarray(edges, dtype=np.int32).reshape(-1, 2)
    w = np.ascontiguousarray(weights, dtype=np.float32).reshape(-1)
    if len(w) != len(e):
        raise ValueError(f"felzenszwalb: {len(e)} edges but {len(w)} weights")
    if not (np.isfinite(k) and k > 0):
        raise ValueError(f"felzenszwalb: k must be > 0, got {k!r}")
    if len(w) and not (np.isfinite(w).all() and w.min() >= 0):
        raise ValueError("felzenszwalb: weights must be finite and >= 0")
    a, b = np.ascontiguousarray(e[:, 0]), np.ascontiguousarray(e[:, 1])
    return _ext().felzenszwalb(int(n), a, b, w, float(k), int(min_size))


@dataclass(frozen=True, eq=False)
class SurfaceGraph:
    """A voxelised cloud with its surface graph, normals and colours.

    Attributes:
        voxel_size: edge of the voxels (metres).
        origin: float64 [3], where the graph's frame starts in the input's (an integer
            position at or below the cloud's minimum): positions are ``input - origin``, so
            that clouds far from the origin (map or GNSS frames) keep their precision.
        positions: float32 [M, 3] voxel centroids, in the graph's frame.
        colors: float32 [M, 3] mean colour in [0, 1], or None.
        normals: float32 [M, 3] unit normals turned up (zero where undefined).
        variation: float32 [M] surface variation (0 on a plane).
        edges: int32 [E, 2] each undirected graph edge once, ``i < j``; the mutual ones
            first.
        mutual_count: how many edges are mutual (each end is among the other's nearest
            neighbours). Mutual edges join surfaces; a one-sided edge often reaches from the
            rim of one surface across a gap to a denser one nearby.
        point_to_voxel: int32 [N] the voxel of each input point.
        spacing: typical distance between neighbouring input points (metres): from how many
            points share a voxel where they do, else from the distance between voxels.
    """

    voxel_size: float
    origin: np.ndarray
    positions: np.ndarray
    colors: np.ndarray | None
    normals: np.ndarray
    variation: np.ndarray
    edges: np.ndarray
    mutual_count: int
    point_to_voxel: np.ndarray
    spacing: float

    @property
    def mutual_edges(self) -> np.ndarray:
        """int32 [E', 2]: the mutual edges alone (a view)."""
        return self.edges[: self.mutual_count]

    @property
    def mutual(self) -> np.ndarray:
        """bool [E]: whether each edge is mutual."""
        return np.arange(len(self.edges)) < self.mutual_count


def surface_graph(points: np.ndarray, colors: np.ndarray | None = None,
                  voxel_size: float = 0.02, k: int = 10,
                  max_distance: float | None = None) -> SurfaceGraph:
    """Voxelise a cloud and build its surface graph (see :class:`SurfaceGraph`).

    Args:
        points: float [N, 3] metres.
        colors: None or float [N, 3] in [0, 1].
        voxel_size: voxel edge (metres), > 0.
        k: graph neighbours per voxel.
        max_distance: longest graph edge; default ``4 * voxel_size``, which bridges the
            sparse flat regions of decimated meshes and never a gap of that width.
    """
    pts = _points(points)
    if not (np.isfinite(voxel_size) and voxel_size > 0):
        raise ValueError(f"voxel_size must be > 0, got {voxel_size!r}")
    origin = np.floor(column_bounds(pts)[0].astype(np.float64)) if len(pts) else np.zeros(3)
    # Sterbenz: x - floor(min) is exact in float32 wherever it matters (x within twice the
    # origin); elsewhere the rounding is below the input's own.
    grid = voxelize(pts - origin.astype(np.float32), voxel_size, None if colors is None else
                    np.ascontiguousarray(colors, dtype=np.float32))
    pos = grid.centroids
    nbr, dist = knn_graph(pos, k, 4 * voxel_size if max_distance is None else max_distance)
    normals, variation = pca_normals(pos, nbr)
    edges, mutual_count = _ext().unique_edges(nbr)
    return SurfaceGraph(voxel_size, origin, pos, None if colors is None else grid.features,
                        normals, variation, edges, int(mutual_count), grid.point_to_voxel,
                        _spacing(voxel_size, grid.voxel_offsets, dist))


def _spacing(voxel_size: float, offsets: np.ndarray, dist: np.ndarray) -> float:
    """Point spacing: a surface crossing a voxel holds about (voxel / spacing)² points, so
    where the fuller voxels hold several, ``voxel / sqrt(count)``; where they hold one, the
    points are at least a voxel apart and the nearest-neighbour distance tells."""
    counts = np.diff(offsets)
    if len(counts) == 0:
        return voxel_size
    full = float(np.percentile(counts, 75))
    if full >= 2:
        return voxel_size / float(np.sqrt(full))
    nearest = dist[:, 0][np.isfinite(dist[:, 0])]
    return float(np.median(nearest)) if len(nearest) else voxel_size


def superpoints(points: np.ndarray, colors: np.ndarray | None = None, voxel_size: float = 0.02,
                k: float = 0.05, min_size: int = 20, color_weight: float = 0.5,
                graph: SurfaceGraph | None = None) -> np.ndarray:
    """Over-segment a cloud into superpoints: small patches of one orientation and colour.

    Felzenszwalb-Huttenlocher on the voxelised surface graph, as ScanNet's mesh segmentator
    runs it on mesh vertices (``research/geometric-and-sim2real.md`` A1), with a colour term:
    an edge weighs ``1 - |n_a . n_b|`` (normals need no orientation) plus ``color_weight``
    times the RGB distance of its voxels, so a poster flush with a wall still gets its own
    superpoints.

    Args:
        points: float [N, 3] metres (any frame).
        colors: None or float [N, 3] in [0, 1].
        voxel_size: the graph's voxel edge (metres).
        k: Felzenszwalb's scale: larger gives larger superpoints.
        min_size: smallest superpoint, in voxels.
        color_weight: weight of the colour distance against the normal term.
        graph: a :func:`surface_graph` of the same cloud, to reuse.

    Returns:
        int32 [N]: the superpoint of each point, numbered from 0.
    """
    g = graph if graph is not None else surface_graph(points, colors, voxel_size)
    w = edge_weights(g, color_weight)
    labels = felzenszwalb(len(g.positions), g.edges, w, k, min_size)
    return labels[g.point_to_voxel]


def edge_weights(g: SurfaceGraph, color_weight: float,
                 edges: np.ndarray | None = None) -> np.ndarray:
    """``1 - |n_a . n_b|`` plus ``color_weight`` times the RGB distance, per edge of ``edges``
    (default: every graph edge); float32, >= 0."""
    e = np.ascontiguousarray(g.edges if edges is None else edges, dtype=np.int32)
    colors = None if g.colors is None or color_weight <= 0 else \
        np.ascontiguousarray(g.colors, dtype=np.float32)
    return _ext().edge_weights(g.normals, colors, e, float(color_weight))
