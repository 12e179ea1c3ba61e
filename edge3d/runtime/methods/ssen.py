"""SSEN in the runtime: voxelise, run the network, drop background, cluster embeddings (no torch).

The inference of ``papers/ssen.md`` section III and of the reference ``eval.py``
(``research/methods.md`` 4.5), per call of :meth:`SSENSegmenter.segment`:

1. **Preprocessing** (``edge3d.native``): voxelise the points at the package's voxel size, the
   per-voxel mean features (RGB - 0.5, and centred xyz if the model was trained with them), the
   voxel pyramid and the submanifold neighbour tables, exactly as the training data loader does
   (:mod:`edge3d.runtime.preprocess`, the builder the training data loader uses too).
2. **Network** (ONNX Runtime or TensorRT through :func:`edge3d.runtime.backends.create_backend`):
   per-voxel 8-D embeddings and class logits.
3. **Background removal**: voxels whose background classes (floor, wall) hold more than half
   of the softmax probability are not clustered (the reference code drops the voxels its
   semantic network labels floor or wall). Summing the probabilities, rather than taking the
   arg-max class, matters when the object classes split the foreground probability among
   themselves: each may be below floor or wall while their sum is not.
4. **Clustering**: HDBSCAN on the foreground voxels' embeddings with ``allow_single_cluster``
   as in the reference; ``min_cluster_size`` is the reference's 200 voxels at 2 cm scaled by the
   surface area of a voxel, ``200 * (0.02 / voxel_size)^2`` (32 at 5 cm), and ``min_samples``
   defaults to it as in the ``hdbscan`` package. The implementation is edge3d's native one
   (:func:`edge3d.native.hdbscan`): the same labels as the ``hdbscan`` package, measured 1.5x
   faster than the best library in 8-D and 5x in 3-D (``bench/bm_hdbscan.py``,
   ``docs/benchmarks/hdbscan.md``). Noise voxels get no instance.
5. **Class and confidence**: each cluster's class is the majority vote of its voxels'
   predicted foreground classes (the arg-max over the non-background classes). Its
   confidence (the AP ranking score) is
   ``min(persistence, 1) * agreement``: HDBSCAN's cluster persistence (how clearly the
   cluster stands out of the density hierarchy; in [0, 1] except for a whole-data cluster)
   times the mean softmax probability of the majority class over the cluster's voxels (how
   sure the semantic head is of its class).
   The released code has neither step (4.5 item 4); both are documented in ``docs/ssen.md``.

Points take their voxel's cluster and class.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge3d.runtime.memory import check_fits
from edge3d.runtime.methods.package_method import (
    PackageMethod,
    open_graphs,
)
from edge3d.runtime.methods.param_types import check_types, field_values, to_json_dict
from edge3d.runtime.methods.softmax import softmax
from edge3d.types import Instance, SegmentationResult

REFERENCE_MIN_CLUSTER = 200
"""The reference code's ``min_cluster_size`` (voxels), meant at its 2 cm voxels."""
REFERENCE_VOXEL = 0.02
BYTES_PER_VOXEL = 18_500  # the network's peak per input voxel (measured; runtime/memory.py)


def scaled_min_cluster_size(voxel_size: float) -> int:
    """The reference's 200 voxels at 2 cm, scaled by voxel surface area (at least 5)."""
    return max(5, round(REFERENCE_MIN_CLUSTER * (REFERENCE_VOXEL / voxel_size) ** 2))


@dataclass(frozen=True)
class SSENParams:
    """Post-processing parameters (stored in the package's ``postprocess`` section).

    Attributes:
        min_cluster_size: HDBSCAN's smallest cluster, in voxels (see the module docstring).
        min_samples: HDBSCAN's core-distance neighbour count; None = ``min_cluster_size``.
        allow_single_cluster: let HDBSCAN return one cluster (True in the reference code).
        background_classes: classes removed before clustering (floor, wall).
        min_instance_voxels: clusters with fewer voxels are dropped (0: keep all).
    """

    min_cluster_size: int = 32
    min_samples: int | None = None
    allow_single_cluster: bool = True
    background_classes: tuple[int, ...] = ()
    min_instance_voxels: int = 0

    def __post_init__(self) -> None:
        check_types(self)
        if int(self.min_cluster_size) < 2:
            raise ValueError(f"SSENParams.min_cluster_size must be >= 2, got "
                             f"{self.min_cluster_size}")
        if self.min_samples is not None and int(self.min_samples) < 1:
            raise ValueError(f"SSENParams.min_samples must be >= 1, got {self.min_samples}")
        if self.min_instance_voxels < 0 or any(c < 0 for c in self.background_classes):
            raise ValueError("SSENParams.min_instance_voxels and background_classes must be "
                             ">= 0")
        object.__setattr__(self, "background_classes",
                           tuple(int(c) for c in self.background_classes))

    @classmethod
    def from_config(cls, method: Mapping[str, Any], voxel_size: float,
                    background_classes: Sequence[int] = ()) -> SSENParams:
        """From a training config's ``method`` section (or a package's ``postprocess``)."""
        values = field_values(cls, method)
        values.setdefault("min_cluster_size", scaled_min_cluster_size(voxel_size))
        values.setdefault("background_classes", tuple(background_classes))
        if "min_samples" in method:
            values["min_samples"] = method["min_samples"]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return to_json_dict(self)


def cluster_instances(embedding: np.ndarray, logits: np.ndarray, point_to_voxel: np.ndarray,
                      positions: np.ndarray, class_names: Sequence[str],
                      background_classes: Sequence[int], params: SSENParams,
                      timings: dict[str, float] | None = None) -> SegmentationResult:
    """Steps 3-5 of the module docstring: background removal, HDBSCAN, class vote, score.

    Args:
        embedding: float [M, D] per-voxel embeddings.
        logits: float [M, K] per-voxel class logits.
        point_to_voxel: int [P] voxel of each point.
        positions: float [P, 3] metres (instance boxes and centroids).
        class_names: the K class names.
        background_classes: classes never clustered (overrides ``params`` when non-empty).
        params: clustering parameters.
        timings: if given, ``"hdbscan"`` (seconds) is added.

    Returns:
        Per-point instance labels (-1 = none) and classes (the voxel's predicted class, or its
        instance's class), instances with ids 1..K in descending score.
    """
    from edge3d import native

    emb = np.ascontiguousarray(embedding, np.float32)
    prob = softmax(logits)
    background = list(tuple(background_classes) or params.background_classes)
    voxel_class = prob.argmax(axis=1).astype(np.int32)
    is_fg = prob[:, background].sum(axis=1) < 0.5
    if background and is_fg.any():
        fg_prob = prob[is_fg].copy()
        fg_prob[:, background] = -1.0
        voxel_class[is_fg] = fg_prob.argmax(axis=1)
    fg = np.flatnonzero(is_fg)
    voxel_label = np.full(len(emb), -1, np.int64)
    voxel_out_class = voxel_class.copy()
    clusters: list[tuple[float, int, np.ndarray]] = []
    t = time.perf_counter()
    if len(fg) >= max(2, params.min_cluster_size):
        res = native.hdbscan(emb[fg], params.min_cluster_size, params.min_samples,
                             params.allow_single_cluster)
        if timings is not None:
            timings["hdbscan"] = time.perf_counter() - t
        order = np.argsort(res.labels, kind="stable")
        counts = np.bincount(res.labels[res.labels >= 0], minlength=res.num_clusters)
        start = int(np.searchsorted(res.labels[order], 0))
        for c in range(res.num_clusters):
            members = fg[order[start:start + counts[c]]]
            start += counts[c]
            if len(members) == 0 or len(members) < params.min_instance_voxels:
                continue
            cls = int(np.bincount(voxel_class[members], minlength=prob.shape[1]).argmax())
            agreement = float(prob[members, cls].mean())
            # A whole-data cluster (allow_single_cluster) can exceed 1, in the hdbscan
            # package too; clipping keeps the score in [0, 1].
            persistence = min(float(res.persistence[c]), 1.0)
            clusters.append((persistence * agreement, cls, members))
    if timings is not None:
        timings.setdefault("hdbscan", 0.0)
    clusters.sort(key=lambda x: -x[0])
    for new_id, (_, cls, members) in enumerate(clusters, start=1):
        voxel_label[members] = new_id
        voxel_out_class[members] = cls
    p2v = np.asarray(point_to_voxel, np.int64)
    labels = voxel_label[p2v].astype(np.int32)
    classes = voxel_out_class[p2v].astype(np.int32)
    pts = np.asarray(positions)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    instances = []
    for new_id, (score, cls, _) in enumerate(clusters, start=1):
        lo, hi = np.searchsorted(sorted_labels, [new_id, new_id + 1])
        idx = np.sort(order[lo:hi])
        if len(idx) == 0:
            continue
        instances.append(Instance.from_points(new_id, cls, class_names[cls], score, idx, pts))
    return SegmentationResult(labels=labels, classes=classes, instances=instances,
                              class_names=list(class_names))


class SSENSegmenter(PackageMethod):
    """SSEN from a model package (see the module docstring).

    Registered as method ``"ssen"`` in :mod:`edge3d.methods`; use it through
    ``edge3d.Segmenter("ssen")`` (the bundled model) or ``edge3d.Segmenter(DIR)``. Keyword
    options override :class:`SSENParams` fields (``min_cluster_size=20``, ...).
    """

    name = "ssen"

    @classmethod
    def create(cls, package: Any, backend: str = "auto", device: str = "auto",
               **options: Any) -> SSENSegmenter:
        """Registry factory: open the package's graph with ``backend`` on ``device``."""
        def build(values: Mapping[str, Any]) -> SSENParams:
            return SSENParams.from_config(values, package.voxel_size, package.background_classes)

        params = cls.parameters(package, options, build)
        return cls(package, open_graphs(package, cls.name, backend, device), params)

    def infer(self, points: np.ndarray, colors: np.ndarray | None,
              timings: dict[str, float]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Steps 1-2: (network outputs by name, point_to_voxel)."""
        t0 = time.perf_counter()
        feeds, p2v = self.build_inputs(points, colors)
        m0 = len(feeds["features"])
        check_fits(m0 * BYTES_PER_VOXEL, self.memory_budget, "SSEN",
                   f"the network over {m0:,} voxels")
        t1 = time.perf_counter()
        outputs = self.backends["main"].run(feeds)
        timings["preprocess"] = t1 - t0
        timings["network"] = time.perf_counter() - t1
        return outputs, p2v

    def segment(self, points: np.ndarray, colors: np.ndarray | None = None) -> SegmentationResult:
        """Segment float32 [N, 3] points (metres, z up) with float32 [N, 3] colours in [0, 1]."""
        timings: dict[str, float] = {}
        if len(points) == 0:
            return SegmentationResult(np.zeros(0, np.int32), np.zeros(0, np.int32), [],
                                      list(self.class_names), timings)
        outputs, p2v = self.infer(points, colors, timings)
        t = time.perf_counter()
        result = cluster_instances(outputs["embedding"], outputs["semantic_logits"], p2v, points,
                                   self.class_names, self.params.background_classes,
                                   self.params, timings)
        timings["postprocess"] = time.perf_counter() - t
        result.timings = timings
        return result
