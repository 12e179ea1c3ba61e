"""Zero-shot geometric segmentation: structure out, superpoints in, objects where support ends.

What a robot gets without a trained model, and what every learned method must beat. It works
on gravity-aligned clouds (z up) of any density: fused maps, mesh vertices, single RGB-D views.
``docs/geometric.md`` shows it on real data.

1. **Surface graph** (native, :mod:`edge3d.native.geoseg`): the cloud is voxelised at
   ``voxel_size``; each voxel links to its ``neighbors`` nearest within ``max_edge`` and gets a
   PCA normal. The radius cap adapts the graph to density: a decimated mesh's sparse flat
   regions stay connected, and no gap wider than the cap is bridged. Only mutual edges (each
   end among the other's nearest) join objects: a one-sided edge usually reaches from the rim
   of one surface across a gap to a denser one.
2. **Floor and ceiling**: the floor is the lowest horizontal band of at least
   ``floor_min_area`` with next to nothing below it (a desk top seen from above has its legs
   below), fitted as a plane that may tilt slightly; the ceiling the highest such band well
   above the floor.
3. **Walls**: a Hough transform on the voxels' own normals (each vertical voxel votes for the
   one line through it that its normal allows); a peak is a wall when the largest connected
   piece of its coverage (10 cm cells, so that sparse mesh vertices count like dense ones) is
   large (``wall_min_area``), long (``wall_min_length``) and tall (``wall_min_height``). Then
   every sizeable piece along it is wall too (a wall is seen in pieces behind furniture). A
   plane standing in front of a larger parallel one (a wardrobe's front) is furniture. Only a
   thin band is removed, and in it only what faces the wall: a picture off the wall or a desk
   top against it stays.
4. **Objects on walls**: the wall voxels' colour segments of ``wall_object_area`` that fill
   half their rectangle, other than each wall's largest, are objects (doors, pictures).
5. **Superpoints**: Felzenszwalb-Huttenlocher on the remaining voxels, edges weighted by normal
   change and colour difference (ScanNet's mesh segmentator with a colour term,
   ``research/geometric-and-sim2real.md`` A1). Flat superpoints of one plane join into it, and
   so do the small seam superpoints where an object meets a horizontal plane.
6. **Support**: superpoints join along the graph unless one *rests on* a horizontal plane that
   surrounds it (rays in eight directions find the surface at the plane's height beyond it on
   six): a monitor on a desk, a box on a shelf, a pillow on a bed. A chair's back stands on the
   seat's edge, not inside it, so the chair stays whole.
7. **Stacked pieces**: a low piece on the floor right under another object joins it (a swivel
   chair's base under its seat, where the scan missed the column). Components with fewer than
   ``min_points`` points at 2 cm spacing (scaled for sparser clouds) are left unlabelled.

Score (used to rank instances for AP): ``1 - exp(-area / 0.25 m²)`` from the instance's voxel
count, times 0.5 when the instance is a single flat patch (leftovers of walls and floors rank
below things with volume), times ``exp(-(d - 2.5 m))`` when its horizontal extent ``d`` is
beyond what one piece of furniture spans (such an instance is more likely several merged).
Objects carved from walls by colour score a third of that.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components

from edge3d.native import geoseg
from edge3d.runtime.methods.params_method import ParamsMethod
from edge3d.types import Instance, SegmentationResult

CLASS_NAMES = ("object", "floor", "wall", "ceiling")
OBJECT, FLOOR, WALL, CEILING = range(4)
SCORE_AREA = 0.25  # m²: an instance of this much surface scores 1 - 1/e
_REFERENCE_SPACING = 0.02  # m: ``min_points`` is meant at this point spacing
_HORIZONTAL = 0.9  # |n_z| above this: a horizontal surface
_VERTICAL = 0.3  # |n_z| below this: a vertical surface
_COVER_CELL = 0.1  # m: wall area is counted in cells of this size on the wall
_WALL_PIECE = 0.1  # m²: a piece of a wall's plane this large belongs to the wall
_HOUGH_ANGLE = np.deg2rad(2.0)  # angle bins of the wall search
_SIDE_SAMPLE = 20_000  # voxels that tell a wall's room side and noise
_DIRECTIONS = 8  # rays cast to test whether a plane surrounds what rests on it
_RAY_STEPS = 8  # probes along each ray
_JUNCTION_VOXELS = 40  # superpoints smaller than this may be the seam of an object and a plane
_STACK_GAP = 0.3  # m: a piece this low, this far under another object, is part of it
_STACK_CELL = 0.05  # m: footprint cells of the stacking test
_FURNITURE_SPAN = 2.5  # m: scores fall by e per metre of horizontal extent beyond this


@dataclass(frozen=True)
class GeometricParams:
    """Parameters of the geometric segmenter (metres unless stated).

    Attributes:
        voxel_size: edge of the voxels the surface graph is built on.
        neighbors: graph neighbours per voxel.
        max_edge: longest graph edge (at least 2.5 x the cloud's point spacing is used).
        floor_min_area: horizontal area a band needs to be the floor or ceiling (m²).
        ceiling_min_height: a ceiling is at least this far above the floor.
        plane_band: half-width of the band removed around the floor, walls and ceiling (the
            least; a noisy plane gets 2.5 x its noise RMS, up to ``max_plane_band``).
        max_plane_band: the widest a plane's band gets.
        wall_min_height: walls rise at least this far above the floor where seen (or 80 % of
            the cloud's height when that is less: a low view sees walls only in part).
        wall_min_length: a wall is at least this long.
        wall_min_area: a wall covers at least this much (m², counted in 10 cm cells).
        max_walls: at most this many walls are removed.
        superpoint_k: Felzenszwalb's scale for the object superpoints.
        superpoint_min_size: smallest superpoint, in voxels.
        color_weight: weight of RGB distance against normal change in superpoint edges.
        wall_color_k: Felzenszwalb's scale for the colour segments of walls.
        wall_object_area: (least, most) area of a colour segment of a wall taken as an object
            on it (m²): a door, a picture, a whiteboard.
        min_points: smallest instance, in input points at 2 cm spacing (scaled by
            (2 cm / spacing)² for sparser clouds).
    """

    voxel_size: float = 0.03
    neighbors: int = 8
    max_edge: float = 0.12
    floor_min_area: float = 0.5
    ceiling_min_height: float = 1.8
    plane_band: float = 0.03
    max_plane_band: float = 0.1
    wall_min_height: float = 1.8
    wall_min_length: float = 1.0
    wall_min_area: float = 1.0
    max_walls: int = 12
    superpoint_k: float = 0.05
    superpoint_min_size: int = 10
    color_weight: float = 0.5
    wall_color_k: float = 1.0
    wall_object_area: tuple[float, float] = (0.1, 4.0)
    min_points: int = 100

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            try:
                values = np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):
                values = np.array(np.nan)
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                raise ValueError(f"GeometricParams.{f.name} must be a non-negative number, "
                                 f"got {v!r}")
        for name in ("voxel_size", "max_edge", "plane_band", "superpoint_k"):
            if getattr(self, name) <= 0:
                raise ValueError(f"GeometricParams.{name} must be > 0, got "
                                 f"{getattr(self, name)!r}")
        if not 1 <= self.neighbors <= 64:
            raise ValueError(f"GeometricParams.neighbors must be 1 to 64, got {self.neighbors}")


class GeometricSegmenter(ParamsMethod):
    """Structure removal, superpoints and support-aware merging (see the module docstring).

    Registered as method ``"geometric"`` in :mod:`edge3d.runtime.methods`; use it through
    ``edge3d.Segmenter("geometric", voxel_size=0.02, ...)`` (keyword options are
    :class:`GeometricParams` fields).
    """

    name = "geometric"
    class_names: tuple[str, ...] = CLASS_NAMES
    bytes_per_point = 400

    def segment(self, points: np.ndarray, colors: np.ndarray | None = None) -> SegmentationResult:
        """Segment a gravity-aligned cloud.

        Args:
            points: float32 [N, 3], metres, z up (validated by :class:`edge3d.Segmenter`).
            colors: None, or float32 [N, 3] in [0, 1]; used to separate superpoints.

        Returns:
            Instances of class 0 (``"object"``) sorted by score, ids 1..K in that order;
            per-point classes also mark floor (1), wall (2) and ceiling (3), -1 for points
            left unlabelled.
        """
        p = self.params
        n = len(points)
        labels = np.full(n, -1, np.int32)
        classes = np.full(n, -1, np.int32)
        timings = {"graph": 0.0, "structure": 0.0, "objects": 0.0}
        if n == 0:
            return SegmentationResult(labels, classes, [], list(CLASS_NAMES), timings)
        self.check_memory(n)
        t0 = time.perf_counter()
        # The graph is built in a local frame (SurfaceGraph.origin): clouds in map or GNSS
        # coordinates keep their precision.
        g = geoseg.surface_graph(points, colors, p.voxel_size, p.neighbors, p.max_edge)
        spacing = g.spacing
        if 2.5 * spacing > p.max_edge:  # a sparse cloud: let the graph reach its neighbours
            g = geoseg.surface_graph(points, colors, p.voxel_size, p.neighbors, 2.5 * spacing)
        t1 = time.perf_counter()
        structure, floor_z = find_structure(g, p)
        t2 = time.perf_counter()
        min_points = max(3, round(p.min_points * min(1.0, (_REFERENCE_SPACING / spacing) ** 2)))
        voxel_object, scores = find_objects(g, structure < 0, floor_z, p, min_points)
        on_wall, wall_scores = find_wall_attached(g, structure == WALL, p)
        voxel_object = np.where(on_wall >= 0, on_wall + len(scores), voxel_object)
        structure = np.where(on_wall >= 0, -1, structure).astype(np.int8)
        scores = np.concatenate([scores, wall_scores])
        t3 = time.perf_counter()
        timings.update(graph=t1 - t0, structure=t2 - t1, objects=t3 - t2)

        v2p = g.point_to_voxel
        point_struct = structure[v2p]
        classes[point_struct > 0] = point_struct[point_struct > 0]
        order = np.argsort(-scores, kind="stable")
        new_id = np.full(len(scores) + 1, -1, np.int32)
        new_id[order + 1] = np.arange(1, len(order) + 1, dtype=np.int32)
        labels[:] = new_id[voxel_object[v2p] + 1]
        labelled = labels > 0
        classes[labelled] = OBJECT
        instances: list[Instance] = []
        sel = np.flatnonzero(labelled)
        # int16 ids sort by radix: a third of the time of an int32 sort.
        small = labels[sel].astype(np.int16) if len(order) < 2 ** 15 else labels[sel]
        by = sel[np.argsort(small, kind="stable")]
        bounds = np.searchsorted(labels[by], np.arange(1, len(order) + 2))
        for k, obj in enumerate(order):
            idx = by[bounds[k]:bounds[k + 1]]
            instances.append(Instance.from_points(k + 1, OBJECT, CLASS_NAMES[OBJECT],
                                                  float(scores[obj]), idx, points))
        return SegmentationResult(labels, classes, instances, list(CLASS_NAMES), timings)


# ---------------------------------------------------------------------------------------------
# Structure: floor, ceiling, walls


def find_structure(g: geoseg.SurfaceGraph, p: GeometricParams
                   ) -> tuple[np.ndarray, float | None]:
    """Per voxel -1 (not structure), FLOOR, WALL or CEILING; and the floor's height (None when
    no floor was found)."""
    pos, nrm = g.positions, g.normals
    out = np.full(len(pos), -1, np.int8)
    floor_z, floor_mask, ceiling_mask = _floor_and_ceiling(pos, nrm, p)
    out[floor_mask] = FLOOR
    out[ceiling_mask] = CEILING
    free = out < 0
    out[free & _walls(pos, nrm, free, floor_z, p)] = WALL
    return out, floor_z


def _floor_and_ceiling(pos: np.ndarray, nrm: np.ndarray, p: GeometricParams
                       ) -> tuple[float | None, np.ndarray, np.ndarray]:
    """(floor height at the cloud's centre or None, floor mask, ceiling mask) over voxels."""
    n = len(pos)
    none = np.zeros(n, bool)
    z = pos[:, 2]
    horizontal = np.abs(nrm[:, 2]) > _HORIZONTAL
    band = p.plane_band
    z0 = float(z.min())
    bins = np.floor((z - z0) / band).astype(np.int64)
    cell_area = p.voxel_size ** 2
    area = _window3(np.bincount(bins[horizontal], minlength=bins.max() + 1)) * cell_area
    below = np.cumsum(np.bincount(bins, minlength=bins.max() + 1))  # voxels in bins <= b
    floor_bin = None
    for b in np.flatnonzero(area >= p.floor_min_area):
        # The floor has next to nothing below it: what lies lower than one band under it is
        # noise or a stairwell, not the legs of a table whose top we are looking at.
        lower = below[b - 2] if b >= 2 else 0
        if lower <= 0.03 * n:
            floor_bin = int(b)
            break
    if floor_bin is None:
        return None, none, none
    floor, floor_z = _plane_mask(pos, horizontal, z0 + floor_bin * band, p, below=True)
    ceiling = none
    top = int(bins.max())
    above_floor = floor_bin + int(np.ceil(p.ceiling_min_height / band))
    for b in np.flatnonzero(area >= p.floor_min_area)[::-1]:
        if b < above_floor:
            break
        higher = n - below[min(b + 3, top)]
        if higher <= 0.03 * n:
            ceiling, _ = _plane_mask(pos, horizontal, z0 + b * band, p, below=False)
            break
    return floor_z, floor, ceiling


def _window3(counts: np.ndarray) -> np.ndarray:
    """``out[b] = counts[b] + counts[b + 1] + counts[b + 2]``: a plane straddles bands."""
    return counts + np.r_[counts[1:], 0] + np.r_[counts[2:], 0, 0]


def _plane_mask(pos: np.ndarray, horizontal: np.ndarray, z0: float, p: GeometricParams,
                below: bool) -> tuple[np.ndarray, float]:
    """Voxels on the near-horizontal plane found in [z0, z0 + 3 band) and beyond it (below a
    floor, above a ceiling), and the plane's height at the cloud's centre."""
    z = pos[:, 2]
    sel = horizontal & (z >= z0 - p.plane_band) & (z < z0 + 4 * p.plane_band)
    q = pos[sel].astype(np.float64)
    # Least squares z = a x + b y + c: a slightly tilted map still loses its whole floor.
    a = np.c_[q[:, :2], np.ones(len(q))]
    coef, *_ = np.linalg.lstsq(a, q[:, 2], rcond=None)
    if np.hypot(coef[0], coef[1]) > 0.1:  # more than ~6 degrees: not one plane, keep it flat
        coef = np.array([0.0, 0.0, np.median(q[:, 2])])
    resid = z - (pos[:, 0] * coef[0] + pos[:, 1] * coef[1] + coef[2])
    width = _noise_band(-resid if below else resid, p)
    centre = pos[:, :2].mean(0)
    height = float(coef[0] * centre[0] + coef[1] * centre[1] + coef[2])
    return (resid < width if below else resid > -width), height


def _noise_band(d: np.ndarray, p: GeometricParams) -> float:
    """Half-width of a plane's band from its outer side (``d > 0``: behind a wall, below a
    floor), where only the plane's own noise lies: 2.5 x its RMS, between ``plane_band`` and
    ``max_plane_band``."""
    outer = d[(d > 0) & (d < 2 * p.max_plane_band)]
    if len(outer) < 20:
        return p.plane_band
    return float(np.clip(2.5 * np.sqrt(np.mean(outer * outer)), p.plane_band, p.max_plane_band))


@dataclass
class _Wall:
    normal: np.ndarray  # unit, horizontal, towards the room
    offset: float  # normal . xy = offset on the wall
    along: tuple[float, float]  # extent along the wall direction
    area: float  # covered area, m²
    band: float  # half-width of the removed band


def _walls(pos: np.ndarray, nrm: np.ndarray, free: np.ndarray, floor_z: float | None,
           p: GeometricParams) -> np.ndarray:
    """Mask over voxels of the bands around the walls found among ``free`` voxels."""
    out = np.zeros(len(pos), bool)
    z = pos[:, 2]
    base = float(z[free].min()) if floor_z is None else floor_z
    top = float(z[free].max()) if free.any() else base
    min_height = min(p.wall_min_height, 0.8 * (top - base))
    cand = np.flatnonzero(free & (np.abs(nrm[:, 2]) < _VERTICAL))
    if len(cand) < 10 or min_height <= 0:
        return out
    xy = pos[:, :2].astype(np.float64)
    nxy = nrm[:, :2].astype(np.float64)
    nxy /= np.maximum(np.linalg.norm(nxy, axis=1, keepdims=True), 1e-9)
    fit_band = max(p.plane_band, 1.5 * p.voxel_size)
    # Hough transform on the voxels' own normals: each vertical voxel votes for the one line
    # through it that its normal allows, (angle mod 180 degrees, offset). Peaks are wall
    # candidates, tried in order of votes; a candidate's inliers are taken exactly (near the
    # line, normal aligned) and leave the vote for later candidates.
    theta = np.mod(np.arctan2(nxy[cand, 1], nxy[cand, 0]), np.pi)
    unit = np.c_[np.cos(theta), np.sin(theta)]
    rho = np.einsum("ij,ij->i", unit, xy[cand])
    t_bins = int(np.ceil(np.pi / _HOUGH_ANGLE))
    ti = np.minimum((theta / _HOUGH_ANGLE).astype(np.int64), t_bins - 1)
    r0 = rho.min()
    ri = ((rho - r0) / fit_band).astype(np.int64)
    r_bins = int(ri.max()) + 1
    alive = np.ones(len(cand), bool)
    key = ti * r_bins + ri
    raw = np.bincount(key, minlength=t_bins * r_bins)

    def spend(mask: np.ndarray) -> None:
        """Voxels of ``mask`` (over the candidates) vote no more."""
        gone = mask & alive
        raw[:] -= np.bincount(key[gone], minlength=len(raw))
        alive[gone] = False

    walls: list[_Wall] = []
    min_votes = max(10.0, 0.05 * p.wall_min_area / p.voxel_size ** 2)
    side_sample = xy[np.flatnonzero(free)[:: max(1, int(free.sum()) // _SIDE_SAMPLE)]]
    for _ in range(3 * p.max_walls):
        if len(walls) >= p.max_walls:
            break
        votes = ndimage.uniform_filter(raw.reshape(t_bins, r_bins).astype(np.float64), 3,
                                       mode="wrap") * 9
        peak = int(np.argmax(votes))
        if votes.flat[peak] < min_votes:
            break
        pt, pr = divmod(peak, r_bins)
        # The line of the peak: the mean over the voxels voting in its window, not the bin's
        # centre (a smoothed peak can sit a bin off, and a bin is 2 degrees wide).
        dt = np.abs(ti - pt)
        dt = np.minimum(dt, t_bins - dt)
        window = alive & (dt <= 1) & (np.abs(ri - pr) <= 1)
        if window.sum() < 3:
            spend(window)
            continue
        angle = 0.5 * np.arctan2(np.sin(2 * theta[window]).sum(), np.cos(2 * theta[window]).sum())
        normal = np.array([np.cos(angle), np.sin(angle)])
        offset = float(np.median(xy[cand[window]] @ normal))
        # Inliers lie in bins around the peak (the refit moves the line by less than that);
        # across the wrap of the angle the offsets change sign.
        local = np.flatnonzero(alive & (dt <= 4) & (np.minimum(np.abs(rho - offset),
                                                              np.abs(rho + offset)) <
                                                   5 * fit_band))
        near = local[(np.abs(xy[cand[local]] @ normal - offset) < fit_band) &
                     (np.abs(nxy[cand[local]] @ normal) > 0.9)]
        if len(near) < 3:
            spend(window)
            continue
        # Refit on the voxels closest to the line: a parallel surface a few centimetres in
        # front (a wardrobe's back against the wall) would otherwise tilt it.
        for band in (fit_band, 0.5 * fit_band):
            close = near[np.abs(xy[cand[near]] @ normal - offset) < band]
            if len(close) >= 3:
                normal, offset = _refine_line(xy[cand[close]], normal, offset)
        taken = np.zeros(len(cand), bool)
        taken[near] = True
        taken[local[(np.abs(xy[cand[local]] @ normal - offset) < fit_band) &
                    (np.abs(nxy[cand[local]] @ normal) > 0.9)]] = True
        near = np.flatnonzero(taken)
        spend(taken)
        if any(_same_plane(w, normal, offset) for w in walls):
            continue  # the rim of a wall already found (its corners, its noisy fringe)
        wall = _accept_wall(pos, xy, side_sample, cand[near], normal, offset, base, min_height,
                            p)
        if wall is not None:
            walls.append(wall)
            # Everything vertical in the wall's band is spent, so it is not found again.
            d = xy[cand] @ wall.normal - wall.offset
            t = xy[cand] @ np.array([-wall.normal[1], wall.normal[0]])
            spend((np.abs(d) < wall.band + fit_band) & (t > wall.along[0] - fit_band) &
                  (t < wall.along[1] + fit_band))
    for wall in _drop_fronts(walls):
        d = xy @ wall.normal - wall.offset
        t = xy @ np.array([-wall.normal[1], wall.normal[0]])
        # The ends reach into the corners, where voxels spanning two walls lean halfway.
        reach = wall.band + 2 * p.voxel_size
        # Within the band, a surface that faces elsewhere (a desk top against the wall) is not
        # the wall, unless it is right on the plane or in the seam with the floor.
        facing = (np.abs(nrm[:, :2] @ wall.normal) > 0.5) | (np.abs(d) < 0.5 * p.plane_band) | \
            (z < base + 2 * p.plane_band)
        out |= free & (np.abs(d) < wall.band) & facing & (t > wall.along[0] - reach) & \
            (t < wall.along[1] + reach)
    return out


def _same_plane(wall: _Wall, normal: np.ndarray, offset: float) -> bool:
    """Whether the line (normal, offset) lies along ``wall``: within 5 degrees and, at the
    wall's ends, within its band plus 10 cm."""
    cos = float(wall.normal @ normal)
    if abs(cos) < np.cos(np.deg2rad(5.0)):
        return False
    direction = np.array([-wall.normal[1], wall.normal[0]])
    sign = 1.0 if cos > 0 else -1.0
    for t in wall.along:
        q = wall.offset * wall.normal + t * direction  # a point of the wall
        if abs(sign * (q @ normal) - sign * offset) > wall.band + 0.1:
            return False
    return True


def _refine_line(xy: np.ndarray, normal: np.ndarray, offset: float) -> tuple[np.ndarray, float]:
    """Least-squares line through ``xy`` [M, 2]: the direction of least spread (the 2x2
    covariance's eigenvector, in closed form), turned like ``normal``."""
    if len(xy) < 3:
        return normal, offset
    c = xy.mean(0)
    d = xy - c
    sxx, syy, sxy = float(d[:, 0] @ d[:, 0]), float(d[:, 1] @ d[:, 1]), float(d[:, 0] @ d[:, 1])
    along = 0.5 * np.arctan2(2 * sxy, sxx - syy)  # direction of most spread
    n = np.array([-np.sin(along), np.cos(along)])
    if n @ normal < 0:
        n = -n
    return n, float(n @ c)


def _accept_wall(pos: np.ndarray, xy: np.ndarray, sample: np.ndarray, inl: np.ndarray,
                 normal: np.ndarray, offset: float, base: float, min_height: float,
                 p: GeometricParams) -> _Wall | None:
    """The wall through voxels ``inl`` if it is tall, long and large enough, else None;
    ``sample``: x-y of free voxels that tell which side the room is on and how noisy the
    wall is (a sample is enough)."""
    direction = np.array([-normal[1], normal[0]])
    # The wall is the largest connected piece of the plane's coverage, in 10 cm cells of
    # (along, height): vertical faces of several objects that happen to line up cover cells
    # too, in separate pieces.
    t = xy[inl] @ direction
    ti = np.floor((t - t.min()) / _COVER_CELL).astype(np.int64)
    zi = np.floor((pos[inl, 2] - pos[inl, 2].min()) / _COVER_CELL).astype(np.int64)
    grid = np.zeros((ti.max() + 1, zi.max() + 1), bool)
    grid[ti, zi] = True
    comp, k = ndimage.label(grid, structure=np.ones((3, 3), bool))
    if k == 0:
        return None
    sizes = np.bincount(comp.ravel())[1:]
    big = comp == 1 + int(np.argmax(sizes))
    area = float(sizes.max()) * _COVER_CELL ** 2
    rows, cols = np.nonzero(big)
    lo = t.min() + rows.min() * _COVER_CELL
    hi = t.min() + (rows.max() + 1) * _COVER_CELL
    top = pos[inl, 2].min() + (cols.max() + 1) * _COVER_CELL
    if area < p.wall_min_area or hi - lo < p.wall_min_length or top - base < min_height:
        return None
    # A wall furniture stands in front of is seen in pieces; once the largest piece shows the
    # plane is a wall, every piece of some size along it belongs to it.
    pieces = np.flatnonzero(sizes * _COVER_CELL ** 2 >= _WALL_PIECE) + 1
    rows = np.nonzero(np.isin(comp, pieces))[0]
    lo = min(lo, t.min() + rows.min() * _COVER_CELL)
    hi = max(hi, t.min() + (rows.max() + 1) * _COVER_CELL)
    d = sample @ normal - offset
    along = sample @ direction
    span = (along > lo) & (along < hi)
    # The room is on the side with more of the cloud: turn the normal to face it.
    if np.count_nonzero(span & (d > 0.1)) < np.count_nonzero(span & (d < -0.1)):
        normal, offset, d = -normal, -offset, -d
        direction = -direction
        lo, hi = -hi, -lo
    band = _noise_band(-d[span], p)
    return _Wall(normal, offset, (float(lo), float(hi)), area, band)


def _drop_fronts(walls: list[_Wall]) -> list[_Wall]:
    """Walls minus planes that stand in front of a larger parallel wall, overlapping it: the
    fronts of wardrobes, fridges and bookshelves against a wall."""
    keep = []
    for a in walls:
        front = False
        for b in walls:
            if b is a or a.normal @ b.normal < 0.97:
                continue
            gap = a.offset - b.offset * float(a.normal @ b.normal)  # > 0: a is nearer the room
            overlap = min(a.along[1], b.along[1]) - max(a.along[0], b.along[0])
            if 0.1 < gap < 1.5 and overlap > 0.5 * (a.along[1] - a.along[0]) and \
                    b.area > a.area:
                front = True
                break
        if not front:
            keep.append(a)
    return keep


# ---------------------------------------------------------------------------------------------
# Objects: superpoints merged unless one rests on the other


def find_objects(g: geoseg.SurfaceGraph, keep: np.ndarray, floor_z: float | None,
                 p: GeometricParams, min_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Objects among the voxels ``keep``; ``floor_z`` is the floor's height, if known.

    Returns ``(object per voxel, -1 for none; score per object)``.
    """
    m = len(g.positions)
    none = np.full(m, -1, np.int64)
    e = g.mutual_edges
    e = e[keep[e[:, 0]] & keep[e[:, 1]]]
    if len(e) == 0:
        return none, np.zeros(0)
    w = geoseg.edge_weights(g, p.color_weight, e)
    sp = geoseg.felzenszwalb(m, e, w, p.superpoint_k, p.superpoint_min_size).astype(np.int64)
    ids, dense = np.unique(sp[keep], return_inverse=True)
    sp = np.full(m, -1, np.int64)
    sp[keep] = dense
    r = len(ids)
    a, b = sp[e[:, 0]], sp[e[:, 1]]
    cross = a != b
    pair = np.unique(np.minimum(a[cross], b[cross]) * r + np.maximum(a[cross], b[cross]))
    pa, pb = pair // r, pair % r
    stats = _region_stats(g.positions, sp, r)
    # Superpoints of one plane (a table top is dozens of them) join first, so that the support
    # test sees the whole plane around what rests on it.
    plane = _coplanar(stats, pa, pb, p)
    planes = _region_stats(g.positions, np.where(sp >= 0, plane[np.maximum(sp, 0)], -1),
                           int(plane.max()) + 1)
    plane = _absorb_junctions(stats, plane, planes, pa, pb, p)
    planes = _region_stats(g.positions, np.where(sp >= 0, plane[np.maximum(sp, 0)], -1),
                           int(plane.max()) + 1)
    cut = _rests_on(g.positions, g.normals, sp, plane, stats, planes, pa, pb, p) | \
        _rests_on(g.positions, g.normals, sp, plane, stats, planes, pb, pa, p)
    graph = sparse.coo_matrix((np.ones(int((~cut).sum())), (pa[~cut], pb[~cut])), shape=(r, r))
    k, comp = connected_components(graph, directed=False)
    obj = np.where(sp >= 0, comp[np.maximum(sp, 0)], -1)
    if floor_z is not None:
        obj = _join_stacked(g.positions, obj, k, floor_z)
    counts = np.bincount(obj[obj >= 0], minlength=k)
    # Points per object, not voxels: the size filter is in input points.
    pts_per_voxel = np.bincount(g.point_to_voxel, minlength=m)
    npts = np.bincount(obj[obj >= 0], weights=pts_per_voxel[obj >= 0], minlength=k)
    ok = (npts >= min_points) & (counts >= 3)
    remap = np.full(k, -1, np.int64)
    remap[ok] = np.arange(int(ok.sum()))
    obj = np.where(obj >= 0, remap[np.maximum(obj, 0)], -1)
    return obj, _scores(g.positions, obj, int(ok.sum()), p)


def _join_stacked(pos: np.ndarray, obj: np.ndarray, k: int, floor_z: float) -> np.ndarray:
    """A low piece on the floor right under another object joins it: a swivel chair's base
    under its seat, where the scan missed the thin column between them.

    Low: within ``_STACK_GAP`` of the floor. Under: the other object starts at most
    ``_STACK_GAP`` above the piece's top, and covers a fifth of the piece's footprint (5 cm
    cells, grown by one). A box on the floor under a table does not join it: the table top is
    higher than that above the box."""
    sel = obj >= 0
    o = obj[sel]
    zmin, zmax = _group_extrema(o, pos[sel, 2], k)
    low = np.flatnonzero((zmax <= floor_z + _STACK_GAP) & (zmin <= floor_z + 0.1))
    if len(low) == 0:
        return obj
    ij = np.floor(pos[sel, :2] / _STACK_CELL).astype(np.int64)
    ij -= ij.min(0) - 1
    width = int(ij[:, 1].max()) + 2
    cell = ij[:, 0] * width + ij[:, 1]
    target = np.arange(k)
    for a in low:
        cells = np.unique(cell[o == a])
        above = (zmin > zmax[a]) & (zmin <= zmax[a] + _STACK_GAP)
        above[a] = False
        if not above.any():
            continue
        grown = np.unique((cells[:, None] + np.array([0, 1, -1, width, -width])).ravel())
        cover = np.isin(cell, grown) & above[o]
        if not cover.any():
            continue
        counts = np.bincount(o[cover], minlength=k)
        b = int(np.argmax(counts))
        covered = np.unique(cell[(o == b)])
        if np.isin(cells, np.unique((covered[:, None] + np.array([0, 1, -1, width, -width]))
                                    .ravel())).mean() >= 0.2:
            target[a] = b
    return np.where(obj >= 0, target[np.maximum(obj, 0)], -1)


def find_wall_attached(g: geoseg.SurfaceGraph, wall: np.ndarray, p: GeometricParams
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Objects flush with a wall, told apart by colour: a door, a picture, a whiteboard.

    Felzenszwalb segments of the wall voxels on colour alone; a segment of
    ``wall_object_area`` that fills at least half of its bounding rectangle on the wall, and
    is not the largest segment of its wall, is an object. Scores are a third of a free-standing
    object's: a colour patch may also be a shadow. Returns ``(object per voxel or -1, score per
    object)``.
    """
    m = len(g.positions)
    out = np.full(m, -1, np.int64)
    if g.colors is None or not wall.any():
        return out, np.zeros(0)
    # Work on the wall voxels alone, renumbered 0..W-1.
    ids = np.flatnonzero(wall)
    local = np.full(m, -1, np.int64)
    local[ids] = np.arange(len(ids))
    e = g.mutual_edges
    e = local[e[wall[e[:, 0]] & wall[e[:, 1]]]]
    if len(e) == 0:
        return out, np.zeros(0)
    cols = g.colors[ids]
    w = np.linalg.norm(cols[e[:, 0]] - cols[e[:, 1]], axis=1).astype(np.float32)
    v2 = p.voxel_size ** 2
    lo, hi = p.wall_object_area
    seg = geoseg.felzenszwalb(len(ids), e, w, p.wall_color_k, max(1, int(lo / v2)))
    counts = np.bincount(seg)
    # The largest colour segment of each connected wall is the wall itself.
    graph = sparse.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(len(ids),) * 2)
    piece = connected_components(graph, directed=False)[1]
    by_size = np.lexsort((-counts[seg], piece))
    first = np.r_[True, piece[by_size][1:] != piece[by_size][:-1]]
    largest = np.zeros(len(counts), bool)
    largest[seg[by_size][first]] = True
    cand = np.flatnonzero((counts * v2 >= lo) & (counts * v2 <= hi) & ~largest)
    scores = []
    members = _members(seg)
    for c in cand:
        idx = members(c)
        q = g.positions[ids[idx]].astype(np.float64)
        xy = q[:, :2] - q[:, :2].mean(0)
        _, vecs = np.linalg.eigh(xy.T @ xy)
        along = xy @ vecs[:, 1]
        box = (np.ptp(along) + p.voxel_size) * (np.ptp(q[:, 2]) + p.voxel_size)
        if len(idx) * v2 < 0.5 * box:
            continue
        out[ids[idx]] = len(scores)
        scores.append((1.0 - np.exp(-len(idx) * v2 / SCORE_AREA)) / 3)
    return out, np.asarray(scores, np.float64)


@dataclass
class _Regions:
    count: np.ndarray  # [R]
    centroid: np.ndarray  # [R, 3]
    normal: np.ndarray  # [R, 3], PCA, up
    thickness: np.ndarray  # [R], sqrt of the smallest eigenvalue
    width: np.ndarray  # [R], sqrt of the middle eigenvalue
    spread: np.ndarray  # [R], RMS horizontal distance from the centroid
    zmin: np.ndarray  # [R]
    zmax: np.ndarray  # [R]


def _group_extrema(labels: np.ndarray, values: np.ndarray, k: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum of ``values`` per label in ``[0, k)`` (+inf / -inf for an empty
    label), from one sort: ``np.minimum.at`` is several times slower."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    present = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]]) \
        if len(order) else np.zeros(0, np.int64)
    lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
    if len(order):
        v = values[order]
        lo[sorted_labels[present]] = np.minimum.reduceat(v, present)
        hi[sorted_labels[present]] = np.maximum.reduceat(v, present)
    return lo, hi


def _region_stats(pos: np.ndarray, sp: np.ndarray, r: int) -> _Regions:
    sel = sp >= 0
    lab = sp[sel]
    q = pos[sel].astype(np.float64)
    count = np.bincount(lab, minlength=r).astype(np.float64)
    c = np.stack([np.bincount(lab, q[:, i], r) for i in range(3)], 1) / \
        np.maximum(count, 1)[:, None]
    d = q - c[lab]
    cov = np.empty((r, 3, 3))
    for i in range(3):
        for j in range(i, 3):
            cov[:, i, j] = cov[:, j, i] = np.bincount(lab, d[:, i] * d[:, j], r)
    cov /= np.maximum(count, 1)[:, None, None]
    vals, vecs = np.linalg.eigh(cov)
    normal = vecs[:, :, 0]
    normal *= np.where(normal[:, 2:3] < 0, -1.0, 1.0)
    zmin, zmax = _group_extrema(lab, q[:, 2], r)
    return _Regions(count, c, normal, np.sqrt(np.maximum(vals[:, 0], 0)),
                    np.sqrt(np.maximum(vals[:, 1], 0)),
                    np.sqrt(np.maximum(cov[:, 0, 0] + cov[:, 1, 1], 0)), zmin, zmax)


def _coplanar(s: _Regions, pa: np.ndarray, pb: np.ndarray, p: GeometricParams) -> np.ndarray:
    """Plane id per region: adjacent flat regions whose normals agree within about 10 degrees
    and whose centroids lie within a voxel of each other's plane share one."""
    flat = s.thickness < p.voxel_size
    na, nb = s.normal[pa], s.normal[pb]
    d = s.centroid[pb] - s.centroid[pa]
    same = flat[pa] & flat[pb] & (np.abs(np.einsum("ij,ij->i", na, nb)) > 0.985) & \
        (np.abs(np.einsum("ij,ij->i", d, na)) < 0.5 * p.voxel_size) & \
        (np.abs(np.einsum("ij,ij->i", d, nb)) < 0.5 * p.voxel_size)
    r = len(s.count)
    graph = sparse.coo_matrix((np.ones(int(same.sum())), (pa[same], pb[same])), shape=(r, r))
    return connected_components(graph, directed=False)[1]


def _absorb_junctions(s: _Regions, plane: np.ndarray, planes: _Regions, pa: np.ndarray,
                      pb: np.ndarray, p: GeometricParams) -> np.ndarray:
    """Where an object meets a horizontal plane, the voxels' normals blend both surfaces and
    form small leaning superpoints at the plane's height; they join the plane (whatever their
    normal, if they start at its height and their centre is within two voxels of it), so that
    what stands on it touches the plane itself."""
    v = p.voxel_size
    out = plane.copy()
    for x, y in ((pa, pb), (pb, pa)):
        q = plane[y]
        horizontal = (planes.normal[q, 2] > 0.95) & (planes.thickness[q] < v) & \
            (planes.count[q] * v * v >= 0.05)
        h = planes.centroid[q, 2]
        junction = (s.count[x] < _JUNCTION_VOXELS) & (np.abs(s.zmin[x] - h) < v) & \
            (s.centroid[x, 2] < h + 2 * v) & (plane[x] != q)
        sel = horizontal & junction
        out[x[sel]] = q[sel]
    return out


def _rests_on(pos: np.ndarray, nrm: np.ndarray, sp: np.ndarray, plane: np.ndarray,
              s: _Regions, planes: _Regions, top: np.ndarray, base: np.ndarray,
              p: GeometricParams) -> np.ndarray:
    """For adjacent regions (top, base): does ``top`` rest on the horizontal plane that ``base``
    belongs to, inside it? It does when it stands above the plane and, looking out from it in
    ``_DIRECTIONS`` directions, the horizontal surface at the plane's height lies beyond it on
    all but two (a plane broken into several pieces still counts whole)."""
    v = p.voxel_size
    bp = plane[base]
    horizontal = (planes.normal[bp, 2] > 0.95) & (planes.thickness[bp] < v) & \
        (planes.count[bp] * v * v >= 0.05) & (plane[top] != bp)
    height = planes.centroid[bp, 2]
    above = (s.centroid[top, 2] > height + v) & (s.zmin[top] > height - 2 * v)
    out = np.zeros(len(top), bool)
    todo = np.flatnonzero(horizontal & above)
    if len(todo) == 0:
        return out
    cell = 2 * v
    ij = np.floor(pos[:, :2] / cell).astype(np.int64)
    lo = ij.min(0) - 64
    width = int(ij[:, 1].max() - lo[1]) + 128
    key = (ij[:, 0] - lo[0]) * width + (ij[:, 1] - lo[1])
    flat = (sp >= 0) & (np.abs(nrm[:, 2]) > _HORIZONTAL)
    angles = np.linspace(0, 2 * np.pi, _DIRECTIONS, endpoint=False)
    dirs = np.c_[np.cos(angles), np.sin(angles)]
    # Rays from each region's centre, from inside its rim (0.7 of its radius; the 90th
    # percentile of its points' distances is about 1.4 times their RMS) to 25 cm beyond it.
    t = top[todo]
    radius = 1.4 * s.spread[t]
    steps = radius[:, None] * np.linspace(0.7, 1.0, _RAY_STEPS) + \
        np.linspace(0.0, 0.25, _RAY_STEPS)
    probe = s.centroid[t, None, None, :2] + steps[:, None, :, None] * dirs[None, :, None, :]
    probe = np.floor(probe / cell).astype(np.int64)
    probe_key = (probe[..., 0] - lo[0]) * width + (probe[..., 1] - lo[1])  # [T, dirs, steps]
    level = np.round(height[todo] / v).astype(np.int64)
    for lv in np.unique(level):
        sel = level == lv
        h = float(height[todo[sel]].mean())
        surface = np.unique(key[flat & (np.abs(pos[:, 2] - h) < v)])
        hits = np.isin(probe_key[sel], surface).any(axis=2).sum(axis=1)
        out[todo[sel]] = hits >= _DIRECTIONS - 2
    return out


def _members(labels: np.ndarray):
    """A function giving the indices labelled ``k``, from one stable sort."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]

    def members(k: int) -> np.ndarray:
        lo, hi = np.searchsorted(sorted_labels, [k, k + 1])
        return order[lo:hi]

    return members


def _scores(pos: np.ndarray, obj: np.ndarray, k: int, p: GeometricParams) -> np.ndarray:
    """Instance scores (module docstring): surface area, discounted for a single flat patch and
    for a horizontal extent beyond what one piece of furniture spans."""
    if k == 0:
        return np.zeros(0)
    s = _region_stats(pos, obj, k)
    sel = obj >= 0
    (x0, x1), (y0, y1) = (_group_extrema(obj[sel], pos[sel, a], k) for a in range(2))
    lo, hi = np.c_[x0, y0], np.c_[x1, y1]
    diagonal = np.linalg.norm(hi - lo, axis=1)
    area = s.count * p.voxel_size ** 2
    return (1.0 - np.exp(-area / SCORE_AREA)) * \
        np.where(s.thickness < 0.5 * p.voxel_size, 0.5, 1.0) * \
        np.exp(-np.maximum(diagonal - _FURNITURE_SPAN, 0.0))
