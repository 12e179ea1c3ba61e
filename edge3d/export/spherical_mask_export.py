"""Spherical Mask checkpoint -> two-graph model package, validated against PyTorch.

The same steps as :mod:`edge3d.export.package_export` (SSEN's single-graph exporter), for the
two graphs of ``design.md`` section 4:

1. read the checkpoint (``weights_only=True``) and rebuild :class:`SphericalMask`;
2. run the runtime's preprocessing on synthetic validation rooms; export graph ``points``
   (:class:`PointStage`, standard ops) and graph ``queries`` (:class:`QueryStage`, with the
   ``edge3d::SectorMask`` node) with :func:`edge3d.models.export.export_onnx` at opset
   :data:`OPSET` (the op bodies need >= 18), BatchNorm folded, every size dynamic; each as
   ``<graph>.portable.onnx`` (function bodies: any ONNX Runtime) and ``<graph>.trt.onnx``
   (plugin nodes: TensorRT with ``libedge3d_plugins.so``);
3. write a staging package and segment every room twice with
   :class:`~edge3d.runtime.postprocess.spherical_mask.SphericalMaskSegmenter`: ONNX Runtime
   graphs vs the PyTorch stages in their place (same native sampling, same post-processing);
   the instances (partition and class per point) must be identical, or
   :class:`~edge3d.export.package_export.ExportValidationError` names the difference;
4. write the package atomically.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge3d.errors import FormatError
from edge3d.export.package_export import (
    VALIDATION_SEEDS,
    VALIDATION_SPACING,
    TorchBackend,
    ValidationReport,
    canonical,
    checkpoint_provenance,
    finish_package,
    graph_files,
    load_model,
    read_checkpoint,
    validation_clouds,
)

OPSET = 20
"""Default-domain opset of both graphs (torch 2.13's default; ``edge3d`` bodies need >= 18)."""
GRAPHS = ("points", "queries")


def stage_examples(model: Any, sections: Mapping[str, Any], points: np.ndarray,
                   colors: np.ndarray | None) -> dict[str, dict[str, np.ndarray]]:
    """Example feeds of both graphs for one cloud: the runtime's preprocessing, the PyTorch
    point stage, the native sampling and the first query round."""
    from edge3d.runtime.postprocess.spherical_mask import (
        SphericalMaskParams,
        foreground_voxels,
        group_queries,
        round_sizes,
        sample_seeds,
        voxel_inputs,
    )

    pre = sections["preprocess"]
    params = SphericalMaskParams.from_dict(sections["postprocess"])
    feeds, xyz, _ = voxel_inputs(points, colors, float(sections["voxel_size"]),
                                 int(pre["levels"]), int(pre["kernel_size"]), pre["features"])
    stage1 = TorchBackend(model.points).run(feeds)
    fg = foreground_voxels(stage1["semantic_logits"], params.thing_classes, params.fg_threshold)
    seeds = sample_seeds(xyz, fg, params.n_seed, params.radii, params.nsamples)
    n_seed = len(seeds["seed_index"])
    # Distinct from every other size, so the exporter keeps Q a dynamic dimension of its own.
    taken = {n_seed, *params.nsamples, 1, 3, 6}
    n_q = max(2, min(round_sizes(int(fg.sum()), params)[0], n_seed - 1))
    while n_q in taken and n_q > 2:
        n_q -= 1
    queries = {"voxel_xyz": xyz, **{k: stage1[k] for k in
                                    ("voxel_features", "box_offsets", "mask_features")},
               **seeds, **group_queries(xyz, seeds["seed_index"],
                                        np.arange(n_q, dtype=np.int32), params.radii,
                                        params.nsamples)}
    return {"points": feeds, "queries": queries}


def compare(segmenter: Any, torch_backends: Mapping[str, Any],
            clouds: Sequence[tuple[np.ndarray, np.ndarray]]) -> ValidationReport:
    """Segment each cloud with the package's graphs and with the PyTorch stages."""
    from edge3d.export.package_export import _Recording

    report = ValidationReport()
    ort = dict(segmenter.backends)
    rec_ort = {g: _Recording(b) for g, b in ort.items()}
    rec_torch = {g: _Recording(b) for g, b in torch_backends.items()}
    try:
        for points, colors in clouds:
            segmenter.backends = rec_ort
            a = segmenter.segment(points, colors)
            segmenter.backends = rec_torch
            b = segmenter.segment(points, colors)
            for g in GRAPHS:
                for name, value in rec_ort[g].last.items():
                    other = rec_torch[g].last[name]
                    if value.shape != other.shape:
                        continue  # different query rounds: the instances will differ too
                    diff = float(np.abs(value - other).max(initial=0.0))
                    key = f"{g}/{name}"
                    report.max_abs_diff[key] = max(report.max_abs_diff.get(key, 0.0), diff)
            differ = (canonical(a.labels) != canonical(b.labels)) | (a.classes != b.classes)
            if len(a.instances) != len(b.instances):
                differ[:] = True
            report.differing_points += int(differ.sum())
            report.samples += 1
            report.points += len(points)
            report.instances.append(len(a.instances))
    finally:
        segmenter.backends = ort
    return report


def export_package(checkpoint: str | os.PathLike, out: str | os.PathLike, *,
                   validate: bool = True, seeds: Sequence[int] = VALIDATION_SEEDS,
                   provenance: Mapping[str, Any] | None = None,
                   progress: bool = True, spacing: float = VALIDATION_SPACING
                   ) -> tuple[Path, ValidationReport | None]:
    """Export a Spherical Mask ``checkpoint`` as a two-graph package at ``out``.

    Same arguments, return value and errors as
    :func:`edge3d.export.package_export.export_package`; ``spacing`` is the surface point
    spacing (metres) of the validation rooms.
    """
    from tqdm import tqdm

    from edge3d.models import spherical_mask as sm
    from edge3d.models.export import export_onnx
    from edge3d.runtime.postprocess.spherical_mask import SphericalMaskSegmenter

    bar = tqdm(total=5, desc="edge3d-export spherical_mask", disable=not progress, leave=False)
    state = read_checkpoint(checkpoint)
    config = state["config"]
    if config["method"]["name"] != "spherical_mask":
        raise FormatError(f"{checkpoint} holds method {config['method']['name']!r}, not "
                          "spherical_mask")
    model = load_model(sm, state, checkpoint)
    sections = sm.package_sections(config)
    clouds = validation_clouds(seeds, spacing)
    bar.update()
    with tempfile.TemporaryDirectory(prefix="edge3d-export-") as tmp:
        tmp_path = Path(tmp)
        examples = stage_examples(model, sections, *clouds[0])
        stages = {"points": model.points, "queries": model.queries}
        graphs, files = {}, {}
        for name, stage in stages.items():
            raw = export_onnx(stage, examples[name], tmp_path / f"{name}.onnx", opset=OPSET)
            graphs[name], stage_files = graph_files(name, stage, raw, tmp_path / "onnx", name)
            files.update(stage_files)
        bar.update()

        def check(package: Any) -> ValidationReport:
            segmenter = SphericalMaskSegmenter.create(package, "ort", "cpu")
            return compare(segmenter, {g: TorchBackend(s) for g, s in stages.items()}, clouds)

        path, report = finish_package(
            out, tmp_path, method="spherical_mask", graphs=graphs, files=files,
            sections=sections, provenance=checkpoint_provenance(checkpoint, state, provenance),
            check=check if validate else None, bar=bar)
    bar.close()
    return path, report
