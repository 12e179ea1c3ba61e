"""The Euclidean baseline: remove floor, ceiling and walls, then cluster what is left.

This is the segmenter robotics engineers already run (PCL's plane removal + Euclidean cluster
extraction) and the connected-components baseline of the MTML paper (``papers/mtml.md`` §4): no
network, one class ``"object"``. It was edge3d's ``"geometric"`` method until the
superpoint-based segmenter (:mod:`edge3d.runtime.methods.geometric`) replaced it; it stays,
as ``"euclidean"``, for comparison. On real scans it merges whatever touches.

The map is gravity-aligned with z up (the fusion guarantees it), which turns plane removal into
three cheap, robust steps instead of generic RANSAC over all orientations:

1. **Floor** (and ceiling): the lowest (highest) height band whose horizontal area exceeds
   ``floor_min_area``; a least-squares plane through that band tolerates a slight tilt. Points
   on it or below it are floor.
2. **Walls**: vertical planes found by RANSAC on the x-y footprint of *tall* columns (cells in
   which points cover at least ``0.6 * wall_min_height`` of height). A candidate line is a wall
   when its inliers span ``wall_min_length`` and it *bounds the map*: at most
   ``wall_max_behind`` of the other points lie behind it. The last test is what keeps the front
   of a bookshelf standing against a wall from being mistaken for the wall.
3. **Objects**: Euclidean clustering of the remaining points as connected components of an
   occupancy grid with cells of ``cluster_distance`` and 26-connectivity
   (``scipy.ndimage.label``; points closer than ``cluster_distance`` always join, points up to
   ``2·sqrt(3)·cluster_distance`` apart may). Measured against a cKDTree radius graph
   (``bench/bm_runtime.py``): the grid is about 8x faster at equal output on fused maps. A
   map whose bounding grid would exceed ``max_grid_cells`` is labelled from its occupied
   cells only (sorted keys + ``scipy.sparse.csgraph``), which is slower but bounded in memory.

Score (documented, used to rank instances for AP): ``1 - exp(-area / 0.25 m²)`` where ``area``
is the cluster's occupied surface, ``cells · cluster_distance²``. Larger surfaces are more likely
real objects; small fragments (noise, leftovers of planes) rank last.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components

from edge3d.geometry import point_spacing
from edge3d.runtime.methods.params_method import ParamsMethod
from edge3d.types import Instance, SegmentationResult

CLASS_NAMES = ("object", "floor", "wall", "ceiling")
OBJECT, FLOOR, WALL, CEILING = range(4)
SCORE_AREA = 0.25  # m²: a cluster of this much surface scores 1 - 1/e
_FIT_POINTS = 50_000  # plane fits use about this many points
_REFERENCE_SPACING = 0.02  # m: ``min_points`` is meant at this point spacing
_BEHIND_MARGIN = 0.1  # m beyond a wall's noise band before a point counts as behind it


@dataclass(frozen=True)
class EuclideanParams:
    """Parameters of the Euclidean baseline (metres unless stated).

    Attributes:
        plane_threshold: distance from a floor, ceiling or wall plane counted as on it (the
            least; a noisy plane gets 2.5 x the RMS of its noise, up to ``max_plane_band``).
        max_plane_band: the widest a plane's band gets.
        floor_min_area: horizontal area a height band needs to be the floor or ceiling (m²).
        ceiling_min_height: a ceiling is at least this far above the floor.
        wall_min_height: walls are at least this tall where visible (or 80 % of the map's
            height, when the map is lower: a camera looking down sees walls only in part).
        wall_min_length: a wall's inliers span at least this much along the floor.
        wall_max_behind: points allowed behind a wall (beyond its noise), as a fraction of
            the points in front of it along its span.
        max_walls: at most this many walls are removed.
        ransac_iterations: line hypotheses per wall search.
        cluster_distance: clustering distance (grid cell edge); at least 1.5 x the cloud's
            point spacing is used.
        min_points: smallest cluster kept, in input points at 2 cm spacing (scaled by
            (2 cm / spacing)² for sparser clouds).
        min_cells: smallest cluster kept, in occupied grid cells (density-independent).
        max_grid_cells: beyond this many cells, clustering uses the sparse path.
        seed: RANSAC seed; the result is deterministic for a given input.
    """

    plane_threshold: float = 0.03
    max_plane_band: float = 0.2
    floor_min_area: float = 1.0
    ceiling_min_height: float = 1.8
    wall_min_height: float = 1.2
    wall_min_length: float = 1.0
    wall_max_behind: float = 0.1
    max_walls: int = 12
    ransac_iterations: int = 300
    cluster_distance: float = 0.03
    min_points: int = 50
    min_cells: int = 8
    max_grid_cells: int = 60_000_000
    seed: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not np.isfinite(v) or v < 0 or (v == 0 and f.name.endswith(("threshold",
                                                                          "distance"))):
                raise ValueError(f"EuclideanParams.{f.name} must be a positive number, got {v!r}")


class EuclideanSegmenter(ParamsMethod):
    """Plane removal + Euclidean clustering (see the module docstring).

    Registered as method ``"euclidean"`` in :mod:`edge3d.runtime.methods`; use it through
    ``edge3d.Segmenter("euclidean", cluster_distance=0.05, ...)`` (keyword options are
    :class:`EuclideanParams` fields).
    """

    name = "euclidean"
    class_names: tuple[str, ...] = CLASS_NAMES
    bytes_per_point = 1000

    def segment(self, points: np.ndarray, colors: np.ndarray | None = None) -> SegmentationResult:
        """Segment a gravity-aligned map.

        Args:
            points: float32 [N, 3], metres, z up (validated by :class:`edge3d.Segmenter`).
            colors: ignored: the baseline is purely geometric.

        Returns:
            Instances of class 0 (``"object"``) sorted by score, ids 1..K in that order;
            per-point classes also mark floor (1), wall (2) and ceiling (3), -1 for
            points left unclustered.
        """
        p = self.params
        n = len(points)
        timings: dict[str, float] = {}
        classes = np.full(n, -1, np.int32)
        labels = np.full(n, -1, np.int32)
        if n == 0:
            return SegmentationResult(labels, classes, [], list(CLASS_NAMES), {"planes": 0.0,
                                                                               "cluster": 0.0})
        self.check_memory(n)
        t0 = time.perf_counter()
        # Sparser clouds (a map averaged to 8 cm, a far scan) need coarser cells: distances
        # below the point spacing would cut every object into single points.
        spacing = point_spacing(points)
        dist = max(p.cluster_distance, 1.5 * spacing)
        min_points = max(3, round(p.min_points * min(1.0, (_REFERENCE_SPACING / spacing) ** 2)))
        floor, ceiling = _floor_and_ceiling(points, p)
        classes[floor] = FLOOR
        classes[ceiling] = CEILING
        rest = np.flatnonzero(classes < 0)
        walls = _walls(points[rest], p, max(p.plane_threshold, spacing))
        classes[rest[walls]] = WALL
        t1 = time.perf_counter()
        timings["planes"] = t1 - t0

        rest = np.flatnonzero(classes < 0)
        comp, cells_per_comp = _voxel_components(points[rest], dist, p.max_grid_cells)
        instances: list[Instance] = []
        if len(rest):
            counts = np.bincount(comp, minlength=len(cells_per_comp))
            keep = np.flatnonzero((counts >= min_points) & (cells_per_comp >= p.min_cells))
            area = cells_per_comp[keep] * dist ** 2
            scores = 1.0 - np.exp(-area / SCORE_AREA)
            order = np.argsort(-scores, kind="stable")
            keep, scores = keep[order], scores[order]
            new_id = np.full(len(cells_per_comp), -1, np.int32)
            new_id[keep] = np.arange(1, len(keep) + 1, dtype=np.int32)
            labels[rest] = new_id[comp]
            classes[rest[labels[rest] > 0]] = OBJECT
            # One stable sort groups point indices per instance without a pass per instance.
            lab = labels[rest]
            sel = np.flatnonzero(lab > 0)
            by = sel[np.argsort(lab[sel], kind="stable")]
            bounds = np.searchsorted(lab[by], np.arange(1, len(keep) + 2))
            for k, score in enumerate(scores):
                idx = rest[by[bounds[k]:bounds[k + 1]]]
                instances.append(Instance.from_points(k + 1, OBJECT, CLASS_NAMES[OBJECT],
                                                      float(score), idx, points))
        timings["cluster"] = time.perf_counter() - t1
        return SegmentationResult(labels, classes, instances, list(CLASS_NAMES), timings)


def _floor_and_ceiling(points: np.ndarray, p: EuclideanParams) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of floor and ceiling points (everything below the floor and above the
    ceiling included: nothing real is there, only sensor noise)."""
    n = len(points)
    none = np.zeros(n, bool)
    z = points[:, 2]
    band, cell = p.plane_threshold, 0.05
    zi = np.floor((z - z.min()) / band).astype(np.int64)
    xy = np.floor(points[:, :2] / cell).astype(np.int64)
    xy -= xy.min(0)
    col = xy[:, 0] * (xy[:, 1].max() + 1) + xy[:, 1]
    # The floor is where most x-y columns start, the ceiling where most end: the mode of the
    # column minima (maxima) over a 3-band window, which a thick, noisy floor does not blur.
    order = np.lexsort((zi, col))
    first = np.r_[True, col[order][1:] != col[order][:-1]]
    last = np.r_[first[1:], True]
    lowest, highest = zi[order][first], zi[order][last]
    cell_area = cell * cell
    low_area = _window3(np.bincount(lowest, minlength=zi.max() + 1)) * cell_area
    f = int(np.argmax(low_area))
    if low_area[f] < p.floor_min_area:
        return none, none
    floor = _plane_mask(points, z.min() + f * band, band, p, below=True)
    ceiling = none
    high_area = _window3(np.bincount(highest, minlength=zi.max() + 1)) * cell_area
    above = f + int(np.ceil(p.ceiling_min_height / band))
    if above < len(high_area):
        c = above + int(np.argmax(high_area[above:]))
        if high_area[c] >= max(p.floor_min_area, 0.25 * low_area[f]):
            ceiling = _plane_mask(points, z.min() + c * band, band, p, below=False)
    return floor, ceiling


def _window3(counts: np.ndarray) -> np.ndarray:
    """``out[b] = counts[b] + counts[b + 1] + counts[b + 2]``: a plane straddles bands."""
    return counts + np.r_[counts[1:], 0] + np.r_[counts[2:], 0, 0]


def _plane_mask(points: np.ndarray, z0: float, band: float, p: EuclideanParams, below: bool
                ) -> np.ndarray:
    """Points on the near-horizontal plane in [z0, z0 + 3 band), and beyond it (below a
    floor, above a ceiling), with a band fitted to the plane's own noise."""
    z = points[:, 2]
    sel = (z >= z0 - band) & (z < z0 + 4 * band)
    q = points[sel][:: max(1, int(sel.sum()) // _FIT_POINTS)].astype(np.float64)
    # Least squares z = a x + b y + c; a slightly tilted map still loses its whole floor.
    a = np.c_[q[:, :2], np.ones(len(q))]
    coef, *_ = np.linalg.lstsq(a, q[:, 2], rcond=None)
    if np.hypot(coef[0], coef[1]) > 0.1:  # more than ~6 degrees: not a floor, keep it flat
        coef = np.array([0.0, 0.0, np.median(q[:, 2])])
    resid = z - (points[:, 0] * coef[0] + points[:, 1] * coef[1] + coef[2])
    width = _noise_band(-resid if below else resid, p)
    return resid < width if below else resid > -width


def _noise_band(d: np.ndarray, p: EuclideanParams) -> float:
    """Half-width of a plane's band from its outer side (``d > 0``: behind a wall, below a
    floor), where only the plane's own noise lies: 2.5 x its RMS, between ``plane_threshold``
    and ``max_plane_band``. Fused maps of far surfaces are thick (stereo noise grows with z²)."""
    outer = d[(d > 0) & (d < 2 * p.max_plane_band)]
    if len(outer) < 20:
        return p.plane_threshold
    return float(np.clip(2.5 * np.sqrt(np.mean(outer * outer)), p.plane_threshold,
                         p.max_plane_band))


def _walls(points: np.ndarray, p: EuclideanParams, cell: float) -> np.ndarray:
    """Boolean mask of points on vertical planes that bound the map; ``cell``: the x-y grid
    of the column analysis (at least the point spacing)."""
    n = len(points)
    out = np.zeros(n, bool)
    if n == 0:
        return out
    origin = points.min(0)
    ij = np.floor((points[:, :2] - origin[:2]) / cell).astype(np.int64)
    ny = int(ij[:, 1].max()) + 1
    cols, inv = np.unique(ij[:, 0] * ny + ij[:, 1], return_inverse=True)
    # Tall columns: their points span most of a wall's height (gaps, from furniture in front,
    # do not matter).
    zmin = np.full(len(cols), np.inf, np.float32)
    zmax = np.full(len(cols), -np.inf, np.float32)
    np.minimum.at(zmin, inv, points[:, 2])
    np.maximum.at(zmax, inv, points[:, 2])
    # A map seen only from above reaches less high: walls then rise to the top of what was seen.
    min_height = min(p.wall_min_height, 0.8 * float(points[:, 2].max() - points[:, 2].min()))
    tall = cols[zmax - zmin >= 0.6 * min_height]
    if len(tall) < 2:
        return out
    cand = (np.c_[tall // ny, tall % ny] + 0.5) * cell + origin[:2]
    # Fitting and the bounds test use an even subsample; only accepted walls touch every point.
    xy = points[:: max(1, n // _FIT_POINTS), :2].astype(np.float64)
    rng = np.random.default_rng(p.seed)
    min_cells = p.wall_min_length / cell
    thr = p.plane_threshold
    thr_c = max(thr, cell / 2)  # cell centres sit up to half a cell off a diagonal wall
    for _ in range(p.max_walls):
        if len(cand) < min_cells:
            break
        line = _ransac_line(cand, thr_c, p.ransac_iterations, rng)
        if line is None:
            break
        normal, offset = _refine_line(xy, *line, thr_c)
        inl = np.abs(cand @ normal - offset) < thr_c
        if inl.sum() < 2:
            cand = cand[np.abs(cand @ line[0] - line[1]) >= thr_c]
            continue
        direction = np.array([-normal[1], normal[0]])
        t = cand[inl] @ direction
        if inl.sum() < min_cells or t.max() - t.min() < p.wall_min_length:
            break
        d = xy @ normal - offset
        along = xy @ direction
        in_span = (along > t.min() - thr) & (along < t.max() + thr)
        # The room is on the side with more points: turn the normal to face it.
        if np.count_nonzero(d[in_span] > thr) < np.count_nonzero(d[in_span] < -thr):
            normal, offset, d = -normal, -offset, -d
        width = _noise_band(-d[in_span], p)
        # A wall bounds the map: next to nothing lies behind it, beyond its own noise. This is
        # what keeps the front of a bookshelf standing against a wall from passing as a wall.
        behind = np.count_nonzero(in_span & (d < -(width + _BEHIND_MARGIN)))
        front = np.count_nonzero(in_span & (d > width))
        if behind <= p.wall_max_behind * max(front, 1):
            d_all = points[:, :2] @ normal.astype(np.float32) - np.float32(offset)
            along_all = points[:, :2] @ direction.astype(np.float32)
            out |= (d_all < width) & (along_all > t.min() - width) & \
                (along_all < t.max() + width)
            # The whole thickness of a noisy wall goes, or it is found again, shifted.
            ta = cand @ direction
            inl |= (cand @ normal - offset < width) & (ta > t.min() - width) & \
                (ta < t.max() + width)
        cand = cand[~inl]
    return out


def _ransac_line(xy: np.ndarray, thr: float, iterations: int, rng: np.random.Generator
                 ) -> tuple[np.ndarray, float] | None:
    """Best 2-D line (unit normal, offset) through ``xy`` [M, 2] by MSAC: each point scores
    ``1 - (d / thr)²`` within ``thr``, so among lines with similar support the one that passes
    closest wins (plain inlier counting prefers a line tilted to catch a parallel surface)."""
    m = len(xy)
    i = rng.integers(0, m, iterations)
    j = rng.integers(0, m, iterations)
    d = xy[j] - xy[i]
    length = np.linalg.norm(d, axis=1)
    ok = length > 4 * thr
    if not ok.any():
        return None
    normals = np.c_[-d[ok, 1], d[ok, 0]] / length[ok, None]
    offsets = np.einsum("ij,ij->i", normals, xy[i[ok]])
    # All hypotheses at once: [M, H] distances; H = a few hundred, M = tall columns only.
    r = (xy @ normals.T - offsets) / thr
    score = np.maximum(1.0 - r * r, 0.0).sum(0)
    h = int(np.argmax(score))
    return normals[h], float(offsets[h])


def _refine_line(xy: np.ndarray, normal: np.ndarray, offset: float, thr: float
                 ) -> tuple[np.ndarray, float]:
    """Least-squares refit of a line to the points near it, shrinking the band to ``thr / 2``
    so that a parallel surface a few cm away (a bookshelf against the wall) cannot tilt it."""
    band = thr
    for _ in range(3):
        q = xy[np.abs(xy @ normal - offset) < band]
        if len(q) < 2:
            break
        c = q.mean(0)
        _, vecs = np.linalg.eigh(np.cov((q - c).T))
        normal = vecs[:, 0]  # the direction of least spread
        offset = float(normal @ c)
        band = thr / 2
    return normal, offset


def _voxel_components(points: np.ndarray, cell: float, max_cells: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Connected components (26-connectivity) of the occupancy grid with edge ``cell``.

    Returns (component per point int64 [N], occupied cells per component int64 [K]).
    """
    if len(points) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ijk = np.floor((points - points.min(0)) / cell).astype(np.int64)
    dims = ijk.max(0) + 1
    if int(np.prod(dims)) <= max_cells:
        grid = np.zeros(dims, bool)
        grid[ijk[:, 0], ijk[:, 1], ijk[:, 2]] = True
        lab, k = ndimage.label(grid, structure=np.ones((3, 3, 3), bool))
        comp = lab[ijk[:, 0], ijk[:, 1], ijk[:, 2]].astype(np.int64) - 1
        cells = np.bincount(lab[grid] - 1, minlength=k)
        return comp, cells
    return _sparse_components(ijk, dims)


def _sparse_components(ijk: np.ndarray, dims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same components from the occupied cells only: memory grows with the surface, not
    with the bounding box."""
    ijk = ijk + 1  # a margin so that neighbour offsets never wrap around an axis
    d1, d2 = int(dims[1] + 2), int(dims[2] + 2)
    key = (ijk[:, 0] * d1 + ijk[:, 1]) * d2 + ijk[:, 2]
    cells, inv = np.unique(key, return_inverse=True)
    rows, cols = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            for dz in (-1, 0, 1):
                off = (dx * d1 + dy) * d2 + dz
                if off <= 0:  # each unordered neighbour pair once
                    continue
                j = np.searchsorted(cells, cells + off)
                j[j == len(cells)] = 0
                hit = cells[j] == cells + off
                rows.append(np.flatnonzero(hit))
                cols.append(j[hit])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = sparse.coo_matrix((np.ones(len(r), np.int8), (r, c)), shape=(len(cells),) * 2)
    k, comp_of_cell = connected_components(graph, directed=False)
    return comp_of_cell[inv].astype(np.int64), np.bincount(comp_of_cell, minlength=k)
