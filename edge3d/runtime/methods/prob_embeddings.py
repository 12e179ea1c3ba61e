"""Probabilistic Embeddings in the runtime: PointNet++ rows, then greedy seed grouping (no torch).

Per call of :meth:`ProbEmbeddingsSegmenter.segment`:

1. **Preprocessing** (``edge3d.native``): the rows (voxel centroids at the package's voxel
   size when its ``preprocess`` says ``voxelize``, else the points), their features, and the
   PointNet++ sampling, grouping and interpolation indices, by the builder training used.
2. **Network** (ONNX Runtime or TensorRT): per row the Gaussian embedding ``mu``, ``sigma``
   and the class logits, whose softmax is the paper's score map ``P`` (section 3.4).
3. **Candidates**: rows whose background classes (floor, wall) hold less than half of the
   probability. The paper segments single objects (PartNet), where every point belongs to a
   part; in a room floor and walls are no instance, and SSEN's rule removes them.
4. **Greedy grouping** (Eq. 16, :func:`edge3d.native.seed_grouping`): the candidate with the
   highest foreground score ``max_l P[i, l]`` seeds an instance of that class; every unassigned
   candidate whose Bhattacharyya similarity (Eq. 1) to the seed is at least ``tau`` (0.35, the
   paper's) joins it; repeat until no candidate is left (the paper's stopping rule).
5. **Filter and confidence**: groups of fewer than ``min_instance_rows`` rows are dropped (the
   paper keeps all; a one-row seed is noise to a robot). The paper gives no confidence; an
   instance's (the AP ranking score) is its seed's score times its rows' mean similarity to
   the seed: how sure the network is that the seed is a centre of that class, and how tightly
   the instance gathers around it.

Points take their row's instance and class.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge3d.runtime.memory import check_fits
from edge3d.runtime.methods.package_method import PackageMethod, open_graphs
from edge3d.runtime.methods.param_types import check_types, field_values, to_json_dict
from edge3d.runtime.methods.softmax import softmax
from edge3d.types import Instance, SegmentationResult

PAPER_TAU = 0.35
"""The similarity threshold of the paper (section 3.4, fitted on PartNet's validation set)."""
BYTES_PER_ROW = 12_000  # measured 5.3 kB per row with its points (1.1 M points, 30 k rows), x2


@dataclass(frozen=True)
class ProbEmbeddingsParams:
    """Post-processing parameters (stored in the package's ``postprocess`` section).

    Attributes:
        tau: the similarity a row needs to the seed to join its instance (the paper's 0.35).
        min_seed_score: rows whose foreground score is below it join instances but never
            seed one (0: the paper's rule, every candidate may seed).
        min_instance_rows: instances with fewer rows are dropped (1: keep all, the paper).
        background_classes: classes that are never grouped (floor, wall).
    """

    tau: float = PAPER_TAU
    min_seed_score: float = 0.0
    min_instance_rows: int = 30
    background_classes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        check_types(self)
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"ProbEmbeddingsParams.tau must be in (0, 1], got {self.tau}")
        if not 0.0 <= self.min_seed_score <= 1.0:
            raise ValueError("ProbEmbeddingsParams.min_seed_score must be in [0, 1], got "
                             f"{self.min_seed_score}")
        if self.min_instance_rows < 1 or any(c < 0 for c in self.background_classes):
            raise ValueError("ProbEmbeddingsParams.min_instance_rows must be >= 1 and "
                             "background_classes >= 0")
        object.__setattr__(self, "background_classes",
                           tuple(int(c) for c in self.background_classes))

    @classmethod
    def from_config(cls, method: Mapping[str, Any], background_classes: Sequence[int] = ()
                    ) -> ProbEmbeddingsParams:
        """From a training config's ``method`` section (or a package's ``postprocess``)."""
        values = field_values(cls, method)
        values.setdefault("background_classes", tuple(background_classes))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return to_json_dict(self)


def group_instances(mu: np.ndarray, sigma: np.ndarray, logits: np.ndarray,
                    point_to_row: np.ndarray, positions: np.ndarray,
                    class_names: Sequence[str], params: ProbEmbeddingsParams,
                    timings: dict[str, float] | None = None) -> SegmentationResult:
    """Steps 3-5 of the module docstring on one cloud's network outputs.

    Args:
        mu: float [M, 3] embedding means per row.
        sigma: float [M, 3] embedding standard deviations per row.
        logits: float [M, K] class logits per row.
        point_to_row: int [P] row of each point.
        positions: float [P, 3] metres (instance boxes and centroids).
        class_names: the K class names.
        params: grouping parameters.
        timings: if given, ``"grouping"`` (seconds) is added.

    Returns:
        Per-point instance labels (-1 = none) and classes (the row's arg-max class, or its
        instance's class), instances with ids 1..K in descending confidence.
    """
    from edge3d import native

    prob = softmax(logits)
    background = list(params.background_classes)
    row_class = prob.argmax(axis=1).astype(np.int32)
    fg_prob = prob.copy()
    fg_prob[:, background] = -1.0
    fg_class = fg_prob.argmax(axis=1).astype(np.int32)
    seed_score = fg_prob.max(axis=1, initial=-1.0)
    candidates = prob[:, background].sum(axis=1) < 0.5
    t = time.perf_counter()
    groups = native.seed_grouping(mu, sigma, seed_score, candidates, params.tau,
                                  params.min_seed_score)
    if timings is not None:
        timings["grouping"] = time.perf_counter() - t
    kept = [(float(seed_score[s]) * float(sim), int(fg_class[s]), g)
            for g, (s, sim, size) in enumerate(zip(groups.seeds, groups.similarity,
                                                    groups.sizes, strict=True))
            if size >= params.min_instance_rows]
    kept.sort(key=lambda k: -k[0])
    row_label = np.full(len(mu), -1, np.int32)
    row_out_class = row_class.copy()
    new_id = np.full(len(groups.seeds), -1, np.int32)  # group -> instance id (-1: dropped)
    for i, (_, _, g) in enumerate(kept, start=1):
        new_id[g] = i
    in_group = groups.labels >= 0
    row_label[in_group] = new_id[groups.labels[in_group]]
    id_class = np.array([cls for _, cls, _ in kept], np.int32)
    labelled = row_label > 0
    row_out_class[labelled] = id_class[row_label[labelled] - 1]
    p2r = np.asarray(point_to_row, np.int64)
    labels, classes = row_label[p2r], row_out_class[p2r].astype(np.int32)
    pts = np.asarray(positions)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    instances = []
    for i, (score, cls, _g) in enumerate(kept, start=1):
        lo, hi = np.searchsorted(sorted_labels, [i, i + 1])
        if hi > lo:
            instances.append(Instance.from_points(i, cls, class_names[cls], score,
                                                  np.sort(order[lo:hi]), pts))
    return SegmentationResult(labels=labels, classes=classes, instances=instances,
                              class_names=list(class_names))


class ProbEmbeddingsSegmenter(PackageMethod):
    """Probabilistic Embeddings from a model package (see the module docstring).

    Registered as method ``"prob_embeddings"`` in :mod:`edge3d.methods`; use it through
    ``edge3d.Segmenter("prob_embeddings")`` (the bundled model) or ``edge3d.Segmenter(DIR)``.
    Keyword options override :class:`ProbEmbeddingsParams` fields (``tau=0.5``, ...).
    """

    name = "prob_embeddings"

    @classmethod
    def create(cls, package: Any, backend: str = "auto", device: str = "auto",
               **options: Any) -> ProbEmbeddingsSegmenter:
        """Registry factory: open the package's graph with ``backend`` on ``device``."""
        def build(values: Mapping[str, Any]) -> ProbEmbeddingsParams:
            return ProbEmbeddingsParams.from_config(values, package.background_classes)

        params = cls.parameters(package, options, build)
        return cls(package, open_graphs(package, cls.name, backend, device), params)

    def segment(self, points: np.ndarray, colors: np.ndarray | None = None) -> SegmentationResult:
        """Segment float32 [N, 3] points (metres, z up) with float32 [N, 3] colours in [0, 1]."""
        timings: dict[str, float] = {}
        if len(points) == 0:
            return SegmentationResult(np.zeros(0, np.int32), np.zeros(0, np.int32), [],
                                      list(self.class_names), timings)
        t0 = time.perf_counter()
        feeds, p2r = self.build_inputs(points, colors)
        rows = len(feeds["xyz"])
        check_fits(rows * BYTES_PER_ROW, self.memory_budget, "Probabilistic Embeddings",
                   f"the network over {rows:,} rows")
        t1 = time.perf_counter()
        out = self.backends["main"].run(feeds)
        t2 = time.perf_counter()
        result = group_instances(out["mu"], out["sigma"], out["semantic_logits"], p2r, points,
                                 self.class_names, self.params, timings)
        timings.update(preprocess=t1 - t0, network=t2 - t1,
                       postprocess=time.perf_counter() - t2)
        result.timings = timings
        return result
