"""Spherical Mask in the runtime: two graphs with native sampling between them (no torch).

The inference of ``papers/spherical-mask.md`` 3.3 as the reference code runs it
(``research/methods.md`` 5.8), per call of :meth:`SphericalMaskSegmenter.segment`:

1. **Preprocessing** (``edge3d.native``): voxelise, pyramid, neighbour tables, per-voxel mean
   features and voxel centroids, exactly as the training data loader
   (:func:`edge3d.models.inputs.sparse_unet_inputs` + the ``voxel_xyz`` target).
2. **Graph ``points``**: backbone features, semantic logits, centroid and box offsets, mask
   features per voxel.
3. **Native sampling**: foreground voxels (some thing-class probability >= 0.1), farthest point
   sampling of ``n_seed`` seeds among them (``edge3d.native.fps``), ball queries
   (``edge3d.native.ball_query``).
4. **Iterative query sampling** (reference ``forward_test``): ``n = clip(N_fg / fg_per_query,
   n_min, n_max)``; for each round fraction ``a`` in ``(0.1, 0.2, 0.4)``, ``int(-n / 2 ln a)``
   queries by FPS among the seeds no earlier query covers (``rpm > 0`` on the seed), then graph
   ``queries`` (aggregators, heads, dynamic-convolution migration, ``SectorMask`` assembly).
   It stops early when no query's most likely class is a thing or every seed is covered.
5. **Scoring**: ``sqrt(softmax(cls)[:, thing] * clamp(conf, 0, 1))`` per (query, class); the
   ``top_k`` (90) pairs; mask = logits >= 0; masks under ``min_mask_voxels`` dropped; class-aware
   **matrix NMS** (``edge3d.native.matrix_nms``, sigma 2) decays the scores (nothing is removed,
   as ``topk = 200`` > 90 in the reference); devoxelised to points, masks under
   ``min_mask_points`` dropped.

Instances may overlap (as the reference's output). Each point's label is the highest-scored
instance containing it. With superpoints (a ScanNet mesh's segments; fused maps have none),
each devoxelised mask is aligned to them before the minimum size check, as the reference does
(:mod:`edge3d.runtime.methods.superpoints`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge3d.errors import PackageError
from edge3d.runtime.memory import check_fits
from edge3d.runtime.methods.package_method import (
    PackageMethod,
    open_graphs,
)
from edge3d.runtime.methods.param_types import check_types, field_values, to_json_dict
from edge3d.runtime.methods.softmax import softmax
from edge3d.runtime.methods.superpoints import Grouping, Superpoints
from edge3d.types import Instance, SegmentationResult


@dataclass(frozen=True)
class SphericalMaskParams:
    """Sampling and post-processing parameters (the package's ``postprocess`` section).

    Attributes:
        thing_classes: class ids the query classifier predicts (in its column order).
        n_azimuth, n_polar: the sector grid.
        n_seed, radii, nsamples: native sampling (as the model's config).
        fg_threshold: foreground: some thing-class probability >= this (reference 0.1).
        rounds: the iterative sampling fractions (reference 0.1, 0.2, 0.4).
        n_min, n_max, fg_per_query: ``n = clip(N_fg / fg_per_query, n_min, n_max)``
            (reference 150, 500, 300 at 2 cm voxels).
        top_k: (query, class) pairs kept by score (reference 90).
        min_mask_voxels: masks with fewer voxels are dropped (reference 100 at 2 cm).
        min_mask_points: instances with fewer points are dropped (reference 100).
        nms_sigma: matrix NMS Gaussian sigma (reference 2.0).
    """

    thing_classes: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 9)
    n_azimuth: int = 5
    n_polar: int = 5
    n_seed: int = 256
    radii: tuple[float, float, float] = (0.2, 0.4, 0.8)
    nsamples: tuple[int, int, int] = (16, 16, 16)
    fg_threshold: float = 0.1
    rounds: tuple[float, ...] = (0.1, 0.2, 0.4)
    n_min: int = 32
    n_max: int = 128
    fg_per_query: int = 300
    top_k: int = 90
    min_mask_voxels: int = 6
    min_mask_points: int = 20
    nms_sigma: float = 2.0

    def __post_init__(self) -> None:
        check_types(self)
        for key in ("thing_classes", "radii", "nsamples", "rounds"):
            object.__setattr__(self, key, tuple(getattr(self, key)))
        if not self.rounds or any(not 0.0 < a < 1.0 for a in self.rounds):
            raise ValueError(f"rounds must be fractions in (0, 1), got {self.rounds}")
        if self.top_k < 1 or self.n_min < 1 or self.n_max < self.n_min:
            raise ValueError("need top_k >= 1 and 1 <= n_min <= n_max")
        positive = ("n_azimuth", "n_polar", "n_seed", "fg_per_query", "nms_sigma")
        for key in positive:
            if getattr(self, key) <= 0:
                raise ValueError(f"SphericalMaskParams.{key} must be > 0, got "
                                 f"{getattr(self, key)!r}")
        if not self.thing_classes or min(self.thing_classes) < 0 or \
                len(set(self.thing_classes)) != len(self.thing_classes):
            raise ValueError(f"thing_classes must be distinct class ids, got {self.thing_classes}")
        if min(self.radii) <= 0 or min(self.nsamples) < 1:
            raise ValueError(f"radii must be > 0 and nsamples >= 1, got {self.radii}, "
                             f"{self.nsamples}")
        if not 0.0 <= self.fg_threshold <= 1.0 or min(self.min_mask_voxels,
                                                      self.min_mask_points) < 0:
            raise ValueError("need 0 <= fg_threshold <= 1 and min_mask_voxels, "
                             "min_mask_points >= 0")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SphericalMaskParams:
        return cls(**field_values(cls, values))

    def to_dict(self) -> dict[str, Any]:
        return to_json_dict(self)


def foreground_voxels(semantic_logits: np.ndarray, thing_classes: Sequence[int],
                      threshold: float) -> np.ndarray:
    """bool [M]: voxels where some thing-class probability is >= ``threshold`` (5.3)."""
    if len(semantic_logits) == 0:
        return np.zeros(0, bool)
    prob = softmax(semantic_logits)[:, list(thing_classes)]
    return (prob >= threshold).any(axis=1)


def sample_seeds(xyz: np.ndarray, foreground: np.ndarray, n_seed: int,
                 radii: Sequence[float], nsamples: Sequence[int]) -> dict[str, np.ndarray]:
    """FPS seeds among the foreground voxels and their groupings (aggregator 1 inputs).

    With no foreground voxel, every voxel is a candidate (so the graph always has queries).

    Returns:
        ``seed_index`` int32 [S] voxel rows in FPS order (starting at the first foreground
        voxel), ``seed_group`` int32 [S, k0] voxel rows within ``radii[0]`` (padding ``M``),
        ``seed_neighbors`` int32 [S, k1] seed rows within ``radii[1]`` (padding ``S``).
    """
    from edge3d import native

    pts = np.ascontiguousarray(xyz, np.float32)
    cand = np.flatnonzero(foreground).astype(np.int64)
    if len(cand) == 0:
        cand = np.arange(len(pts), dtype=np.int64)
    fg_xyz = np.ascontiguousarray(pts[cand])
    order = native.fps(fg_xyz, min(int(n_seed), len(cand)))
    seed_index = cand[order]
    group = native.ball_query(fg_xyz, pts[seed_index], float(radii[0]), int(nsamples[0]))
    # Rows of the foreground subset -> voxel rows; the subset's padding value -> M.
    lookup = np.append(cand, len(pts))
    s_xyz = np.ascontiguousarray(pts[seed_index])
    return {"seed_index": seed_index.astype(np.int32),
            "seed_group": lookup[group].astype(np.int32),
            "seed_neighbors": native.ball_query(s_xyz, s_xyz, float(radii[1]),
                                                int(nsamples[1]))}


def group_queries(xyz: np.ndarray, seed_index: np.ndarray, query_index: np.ndarray,
                  radii: Sequence[float], nsamples: Sequence[int]) -> dict[str, np.ndarray]:
    """Aggregator 2 inputs for queries ``query_index`` (int32 [Q] seed rows).

    Returns ``query_index``, ``query_group`` int32 [Q, k1] (seed rows within ``radii[1]``) and
    ``query_neighbors`` int32 [Q, k2] (query rows within ``radii[2]``).
    """
    from edge3d import native

    s_xyz = np.ascontiguousarray(np.asarray(xyz, np.float32)[seed_index])
    q = np.ascontiguousarray(query_index, np.int32)
    q_xyz = np.ascontiguousarray(s_xyz[q])
    return {"query_index": q,
            "query_group": native.ball_query(s_xyz, q_xyz, float(radii[1]), int(nsamples[1])),
            "query_neighbors": native.ball_query(q_xyz, q_xyz, float(radii[2]),
                                                 int(nsamples[2]))}


def round_sizes(n_foreground: int, params: SphericalMaskParams) -> list[int]:
    """Queries per round: ``int(-n / 2 * ln a)`` for each fraction ``a`` (5.8)."""
    n = min(max(params.n_min, n_foreground / params.fg_per_query), params.n_max)
    return [int(-n / 2.0 * math.log(a)) for a in params.rounds]


def run_queries(run_graph: Any, stage1: Mapping[str, np.ndarray], xyz: np.ndarray,
                params: SphericalMaskParams, max_pairs: int | None = None
                ) -> dict[str, np.ndarray]:
    """Step 3-4: native sampling and the iterative query rounds.

    Args:
        run_graph: ``feeds -> outputs`` of graph ``queries``.
        stage1: graph ``points``' outputs by name.
        xyz: float32 [M, 3] voxel centroids.
        params: the sampling parameters.
        max_pairs: at most this many (query, voxel) pairs per graph call (the graph's memory
            grows with them); a round over more voxels runs in voxel chunks
            (:func:`run_by_voxel_chunks`), with the same result. None: one call per round.

    Returns:
        graph ``queries``' outputs of every round but ``migration``, concatenated over the
        queries, plus ``query_voxel`` (int32 [Q], voxel row of each query); empty when there
        was nothing to query.
    """
    from edge3d import native

    fg = foreground_voxels(stage1["semantic_logits"], params.thing_classes,
                           params.fg_threshold)
    seeds = sample_seeds(xyz, fg, params.n_seed, params.radii, params.nsamples)
    s_idx = seeds["seed_index"]
    s_xyz = np.ascontiguousarray(xyz[s_idx])
    covered = np.zeros(len(s_idx), bool)
    no_object = len(params.thing_classes)
    parts: list[dict[str, np.ndarray]] = []
    for size in round_sizes(int(fg.sum()), params):
        free = np.flatnonzero(~covered)
        if len(free) == 0 or size <= 0:
            break
        chosen = free[native.fps(s_xyz[free], min(size, len(free)))].astype(np.int32)
        feeds = {"voxel_xyz": xyz, **{k: stage1[k] for k in
                                      ("voxel_features", "box_offsets", "mask_features")},
                 **seeds, **group_queries(xyz, s_idx, chosen, params.radii, params.nsamples)}
        chunk = len(xyz) if max_pairs is None else max(1, max_pairs // len(chosen))
        out = run_by_voxel_chunks(run_graph, feeds, chunk)
        # Only the seeds' migration is needed again (coverage); the rest is not kept.
        covered |= (out.pop("migration")[:, s_idx] > 0).any(axis=0)
        out["query_voxel"] = s_idx[chosen]
        parts.append(out)
        if not np.any(out["cls_logits"].argmax(axis=1) != no_object):
            break
    if not parts:
        return {}
    return {k: np.concatenate([p[k] for p in parts], axis=0) for k in parts[0]}


# Peak memory (measured; runtime/memory.py): graph ``points`` per voxel, graph ``queries`` per
# (query, voxel) pair of one call, and at most this many pairs in one call (about 1 GiB).
POINTS_BYTES_PER_VOXEL = 8_000
QUERY_BYTES_PER_PAIR = 650
MAX_PAIRS_PER_CALL = 2_000_000


def plan_memory(n_voxels: int, params: SphericalMaskParams, budget: int) -> int:
    """(query, voxel) pairs per call of graph ``queries`` that fit ``budget`` bytes next to
    graph ``points`` and the mask logits kept from every round (at most
    ``MAX_PAIRS_PER_CALL``); CapacityError when not even chunks of 1024 voxels would fit."""
    sizes = round_sizes(params.n_max * params.fg_per_query, params)  # the most queries
    fixed = n_voxels * (POINTS_BYTES_PER_VOXEL + 4 * sum(sizes))
    smallest = QUERY_BYTES_PER_PAIR * max(sizes, default=1) * min(n_voxels, 1024)
    check_fits(fixed + smallest, budget, "Spherical Mask",
               f"{sum(sizes)} queries over {n_voxels:,} voxels")
    return int(min((budget - fixed) // QUERY_BYTES_PER_PAIR, MAX_PAIRS_PER_CALL))


PER_VOXEL_INPUTS = ("voxel_xyz", "voxel_features", "box_offsets", "mask_features")
PER_VOXEL_OUTPUTS = ("migration", "mask_logits")


def run_by_voxel_chunks(run_graph: Any, feeds: Mapping[str, np.ndarray], chunk: int
                        ) -> dict[str, np.ndarray]:
    """Graph ``queries`` over every voxel, ``chunk`` voxels per call.

    A (query, voxel) output depends on that voxel and the query alone, and the aggregators read
    only the seeds and their groups; so each call gets the seeds' voxels plus one chunk, with
    the voxel indices renumbered, and the outputs are those of one call over all the voxels (to
    float rounding: 2e-5 in mask logits), at the memory of a chunk.
    """
    m = len(feeds["voxel_xyz"])
    if m <= chunk:
        return dict(run_graph(feeds))
    group = feeds["seed_group"]
    base = np.unique(np.concatenate([feeds["seed_index"], group[group < m]]))
    out: dict[str, np.ndarray] = {}
    for start in range(0, m, chunk):
        own = np.arange(start, min(start + chunk, m))
        rows = np.union1d(base, own)
        renumber = np.full(m + 1, len(rows), np.int64)  # padding (m) -> the new padding
        renumber[rows] = np.arange(len(rows))
        sub = dict(feeds)
        for k in PER_VOXEL_INPUTS:
            sub[k] = np.ascontiguousarray(feeds[k][rows])
        sub["seed_index"] = renumber[feeds["seed_index"]].astype(np.int32)
        sub["seed_group"] = renumber[group].astype(np.int32)
        res = run_graph(sub)
        if not out:
            out = {k: v for k, v in res.items() if k not in PER_VOXEL_OUTPUTS}
            for k in PER_VOXEL_OUTPUTS:
                out[k] = np.empty((len(res[k]), m), res[k].dtype)
        for k in PER_VOXEL_OUTPUTS:
            out[k][:, own] = res[k][:, renumber[own]]
    return out


def assemble_instances(outputs: Mapping[str, np.ndarray], point_to_voxel: np.ndarray,
                       positions: np.ndarray, class_names: Sequence[str],
                       params: SphericalMaskParams,
                       timings: dict[str, float] | None = None,
                       superpoints: Superpoints | None = None) -> SegmentationResult:
    """Step 5: score, top-k, minimum sizes, matrix NMS, devoxelise, superpoint alignment
    (module docstring)."""
    from edge3d import native

    prob = softmax(outputs["cls_logits"])[:, :len(params.thing_classes)]
    conf = np.clip(np.asarray(outputs["confidence"], np.float64), 0.0, 1.0)
    scores = np.sqrt(prob * conf[:, None])                         # [Q, T]
    flat = scores.reshape(-1)
    k = min(params.top_k, len(flat))
    # Stable descending order: ties keep the lower (query, class) index.
    top = np.argsort(-flat, kind="stable")[:k]
    query, column = np.divmod(top, scores.shape[1])
    masks = np.asarray(outputs["mask_logits"])[query] >= 0.0
    keep = masks.sum(axis=1) >= params.min_mask_voxels
    query, column, masks, cand_scores = query[keep], column[keep], masks[keep], flat[top][keep]
    t = time.perf_counter()
    _, decayed = native.matrix_nms(masks, column, cand_scores, params.nms_sigma)
    if timings is not None:
        timings["matrix_nms"] = time.perf_counter() - t
    n = len(point_to_voxel)
    labels = np.full(n, -1, np.int32)
    classes = np.full(n, -1, np.int32)
    pts = np.asarray(positions)
    # A mask's points are gathered from its voxels only.
    by_voxel = Grouping(point_to_voxel, masks.shape[1])
    kept: list[tuple[float, int, np.ndarray]] = []
    for c in np.argsort(-decayed.astype(np.float64), kind="stable"):
        idx = by_voxel.members(np.flatnonzero(masks[c]))
        if superpoints is not None:
            idx = superpoints.align(idx)
        if len(idx) < params.min_mask_points:
            continue
        kept.append((float(decayed[c]), int(params.thing_classes[column[c]]), idx))
    instances = []
    # Lowest score first, so each point ends with the highest-scored instance containing it.
    for new_id in range(len(kept), 0, -1):
        score, cls, idx = kept[new_id - 1]
        labels[idx] = new_id
        classes[idx] = cls
    for new_id, (score, cls, idx) in enumerate(kept, start=1):
        instances.append(Instance.from_points(new_id, cls, class_names[cls], score, idx, pts))
    return SegmentationResult(labels=labels, classes=classes, instances=instances,
                              class_names=list(class_names))


def voxel_centroids(points: np.ndarray, voxel_size: float) -> np.ndarray:
    """float32 [M, 3]: the mean position of each level-0 voxel's points (the row order of
    graph ``points``)."""
    from edge3d import native

    return np.ascontiguousarray(native.voxelize(points, voxel_size).centroids, np.float32)


def check_query_graph(package: Any, net: Any, params: SphericalMaskParams) -> None:
    """The query graph's class and sector columns agree with the parameters: one classifier
    column per thing class plus "no object", one ray per sector."""
    out = {t.name: t.shape for t in net.outputs}
    if max(params.thing_classes) >= len(package.class_names):
        raise PackageError(f"{package.path}: thing_classes {list(params.thing_classes)} name "
                           f"classes beyond the {len(package.class_names)} class names")
    for name, want, what in (("cls_logits", len(params.thing_classes) + 1, "thing_classes"),
                             ("rays", params.n_azimuth * params.n_polar, "n_azimuth * n_polar")):
        got = out.get(name, (None,))[-1]
        if isinstance(got, int) and got != want:
            raise PackageError(f"{package.path}: the query graph's {name} has {got} columns, "
                               f"but {what} makes {want}; the parameters do not fit the network")


class SphericalMaskSegmenter(PackageMethod):
    """Spherical Mask from a model package with graphs ``points`` and ``queries``.

    Registered as method ``"spherical_mask"`` in :mod:`edge3d.methods`; keyword
    options override :class:`SphericalMaskParams` fields (``top_k=50``, ...).
    """

    name = "spherical_mask"

    @classmethod
    def create(cls, package: Any, backend: str = "auto", device: str = "auto",
               **options: Any) -> SphericalMaskSegmenter:
        """Registry factory: open both graphs with ``backend`` on ``device``."""
        params = cls.parameters(package, options, SphericalMaskParams.from_dict)
        nets = open_graphs(package, cls.name, backend, device)
        check_query_graph(package, nets["queries"], params)
        return cls(package, nets, params)

    def infer(self, points: np.ndarray, colors: np.ndarray | None,
              timings: dict[str, float]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Steps 1-4: (graph ``queries`` outputs of all rounds + ``query_voxel``, p2v)."""
        t0 = time.perf_counter()
        feeds, p2v = self.build_inputs(points, colors)
        xyz = voxel_centroids(points, self.voxel_size)
        max_pairs = plan_memory(len(xyz), self.params, self.memory_budget)
        t1 = time.perf_counter()
        stage1 = self.backends["points"].run(feeds)
        t2 = time.perf_counter()
        graph_time = [0.0]

        def run_graph(f: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            t = time.perf_counter()
            out = self.backends["queries"].run(f)
            graph_time[0] += time.perf_counter() - t
            return out

        out = run_queries(run_graph, stage1, xyz, self.params, max_pairs=max_pairs)
        timings["preprocess"] = t1 - t0
        timings["network_points"] = t2 - t1
        timings["network_queries"] = graph_time[0]
        timings["sampling"] = time.perf_counter() - t2 - graph_time[0]
        return out, p2v

    def segment(self, points: np.ndarray, colors: np.ndarray | None = None,
                superpoints: np.ndarray | None = None) -> SegmentationResult:
        """Segment float32 [N, 3] points (metres, z up) with float32 [N, 3] colours in [0, 1];
        ``superpoints`` (integer [N]), when given, align each mask (module docstring)."""
        timings: dict[str, float] = {}
        spp = None if superpoints is None else Superpoints(superpoints, len(points))
        if len(points) == 0:
            return SegmentationResult(np.zeros(0, np.int32), np.zeros(0, np.int32), [],
                                      list(self.class_names), timings)
        outputs, p2v = self.infer(points, colors, timings)
        if not outputs:  # no foreground: no query, no instance
            return SegmentationResult(np.full(len(points), -1, np.int32),
                                      np.full(len(points), -1, np.int32), [],
                                      list(self.class_names), timings)
        t = time.perf_counter()
        result = assemble_instances(outputs, p2v, points, self.class_names, self.params, timings,
                                    spp)
        timings["postprocess"] = time.perf_counter() - t
        result.timings = timings
        return result
