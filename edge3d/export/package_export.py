"""Training checkpoint -> ONNX -> model package, validated against PyTorch (``edge3d-export``).

:func:`export_package` is what ``edge3d-export CHECKPOINT --out DIR`` runs:

1. read the checkpoint with ``torch.load(weights_only=True)`` (no code runs from the file) and
   rebuild the network from the config stored in it (the method description's ``model``);
2. build sample inputs with the runtime's own preprocessing on synthetic rooms that no training
   config uses (seeds from :data:`VALIDATION_SEEDS`), and export the network to ONNX (opset 17,
   BatchNorm folded, every voxel count dynamic; :func:`edge3d.export.onnx_export.export_onnx`), as
   ``model.portable.onnx`` and ``model.trt.onnx``
   (:func:`edge3d.export.onnx_variants.save_variants`);
3. write a staging package (``edge3d.json`` with method, classes, voxel size, input spec, pre-
   and post-processing parameters, hashes and provenance) and load it as the robot would;
4. segment every sample twice with the method's runtime segmenter, once with ONNX Runtime and
   once with the PyTorch network in its place (same preprocessing, same post-processing), and
   require identical instances: the same partition of the points into instances and the same
   class per point. Otherwise :class:`ExportValidationError` reports the measured difference
   (largest output difference, points whose instance differs), and nothing is written;
5. write the package to ``out`` atomically (:func:`edge3d.package.write_package`).

A method plugs in through its description (:mod:`edge3d.methods`): its ``graphs`` (one or
more; each the whole network or one ``stage`` attribute of it, with its opset), ``model``
(``build(config)``), ``sections`` (manifest sections) and ``examples`` (every graph's inputs for
one cloud, built as the runtime builds them). The same steps export every method: a graph per
entry, one validation of the whole method, one atomic write. A single-graph package names its
files ``model.*``, a multi-graph one names them after the graphs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge3d.errors import Edge3DError, FormatError
from edge3d.package import sha256_file

VALIDATION_SEEDS = (900001, 900002)
"""Synthetic rooms used to export and validate (training configs use seeds below 10000)."""
VALIDATION_SPACING = 0.02


class ExportValidationError(Edge3DError, RuntimeError):
    """The exported graph does not give the same instances as the PyTorch network."""


@dataclass
class ValidationReport:
    """PyTorch vs ONNX Runtime on the validation samples.

    Attributes:
        samples: number of point clouds compared.
        points: total points.
        max_abs_diff: output name -> largest absolute difference over all samples.
        differing_points: points whose instance or class differ (0 when identical).
        instances: instances per sample (ONNX Runtime path).
    """

    samples: int = 0
    points: int = 0
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    differing_points: int = 0
    instances: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "points": self.points,
                "max_abs_diff": dict(self.max_abs_diff),
                "differing_points": self.differing_points, "instances": list(self.instances)}


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A training checkpoint (:func:`edge3d.models.checkpoint.load_checkpoint`), with its
    ``config`` parsed from YAML.

    Raises:
        FileNotFoundError: no file.
        FormatError: not a readable edge3d training checkpoint of a supported version, or one
            whose config names no method.
    """
    import yaml

    from edge3d.models.checkpoint import load_checkpoint

    state = load_checkpoint(path)
    config = yaml.safe_load(state.get("config") or "")
    if not isinstance(config, dict) or not config.get("method", {}).get("name"):
        raise FormatError(f"{path} carries no training config naming its method")
    state["config"] = config
    return state


def load_model(build: Any, state: Mapping[str, Any], checkpoint: str | os.PathLike) -> Any:
    """The method's network (``build(config)``) from the checkpoint's config, with its weights,
    in eval mode."""
    model = build(state["config"])
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise FormatError(f"{checkpoint}: the weights do not fit the network its config "
                          f"describes ({exc})") from exc
    return model.eval()


def exportable_description(name: str) -> Any:
    """The description of method ``name``; FormatError if edge3d-export cannot package it."""
    from edge3d import methods

    try:
        description = methods.describe(name)
    except methods.UnknownMethodError as exc:
        raise FormatError(f"edge3d-export cannot package method {name!r}: {exc}") from exc
    if not description.exportable:
        can = [d.name for d in methods.descriptions() if d.exportable]
        raise FormatError(f"edge3d-export cannot package method {name!r}: it has no network "
                          f"graphs to export (methods it can package: {', '.join(can)})")
    return description


class TorchBackend:
    """The PyTorch network behind the runtime's ``Backend.run`` interface (validation only)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.output_names = [s.name for s in model.output_spec()]

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        from edge3d.export.onnx_export import to_torch

        with torch.no_grad():
            out = self.model(to_torch({s.name: feeds[s.name] for s in self.model.input_spec()}))
        if isinstance(out, torch.Tensor):
            out = (out,)
        return {n: t.numpy() for n, t in zip(self.output_names, out, strict=True)}


class _Recording:
    """Wraps a backend and keeps its last outputs (to measure output differences)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.last: dict[str, np.ndarray] = {}

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.last = self.inner.run(feeds)
        return self.last


def validation_clouds(seeds: Sequence[int] = VALIDATION_SEEDS,
                      spacing: float = VALIDATION_SPACING
                      ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(points float32 [N, 3], colours float32 [N, 3] in [0, 1]) of synthetic rooms."""
    from edge3d import synth

    clouds = []
    for seed in seeds:
        lp = synth.make_world(int(seed)).surface_points(spacing, seed=int(seed))
        clouds.append((lp.positions.astype(np.float32),
                       lp.colors.astype(np.float32) / np.float32(255.0)))
    return clouds


def canonical(labels: np.ndarray) -> np.ndarray:
    """Instance labels renumbered by first appearance (-1 kept), so equal partitions compare
    equal whatever the ids."""
    labels = np.asarray(labels)
    out = np.full(len(labels), -1, np.int64)
    fg = labels >= 0
    _, first, inverse = np.unique(labels[fg], return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    out[fg] = rank[inverse.reshape(-1)]
    return out


def compare(segmenter: Any, torch_backends: Mapping[str, Any],
            clouds: Sequence[tuple[np.ndarray, np.ndarray]]) -> ValidationReport:
    """Segment each cloud with the package's graphs (``segmenter.backends``) and with the
    PyTorch stages in their place (module docstring)."""
    report = ValidationReport()
    ort = dict(segmenter.backends)
    rec_ort = {g: _Recording(b) for g, b in ort.items()}
    rec_torch = {g: _Recording(b) for g, b in torch_backends.items()}
    single = len(ort) == 1
    try:
        for points, colors in clouds:
            segmenter.backends = rec_ort
            a = segmenter.segment(points, colors)
            segmenter.backends = rec_torch
            b = segmenter.segment(points, colors)
            for g in ort:
                for name, value in rec_ort[g].last.items():
                    other = rec_torch[g].last[name]
                    if value.shape != other.shape:
                        continue  # different query rounds: the instances will differ too
                    diff = float(np.abs(value - other).max(initial=0.0))
                    key = name if single else f"{g}/{name}"
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
                   spacing: float = VALIDATION_SPACING,
                   provenance: Mapping[str, Any] | None = None,
                   params: Mapping[str, Any] | None = None,
                   progress: bool = True) -> tuple[Path, ValidationReport | None]:
    """Export ``checkpoint`` as a model package at ``out`` (see the module docstring).

    Args:
        checkpoint: a ``.pt`` file written by ``python -m training train``.
        out: the package directory (created; an existing package there is replaced only once
            the new one is complete and validated).
        validate: compare PyTorch and ONNX Runtime instances (on by default).
        seeds: synthetic rooms for the example input and the validation.
        spacing: their surface point spacing, metres.
        provenance: extra provenance fields (e.g. the training command).
        params: post-processing parameters that replace the training config's (fields of the
            method's parameters class, e.g. a threshold fitted on validation data after
            training); recorded in the provenance as ``postprocess_overrides``.
        progress: show a progress bar.

    Returns:
        (package path, validation report or None).

    Raises:
        FormatError: unreadable checkpoint or a method edge3d-export cannot package.
        ExportValidationError: the instances differ; the message gives the measured difference.
    """
    from tqdm import tqdm

    from edge3d import methods
    from edge3d.export.onnx_export import export_onnx

    state = read_checkpoint(checkpoint)
    config = state["config"]
    method = str(config["method"]["name"])
    description = exportable_description(method)
    if params:
        from edge3d.runtime.methods.param_types import check_options

        try:
            check_options(params, description.part("params"), method)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        config = {**config, "method": {**config["method"], **params}}
        provenance = {**(provenance or {}), "postprocess_overrides": dict(params)}
    bar = tqdm(total=5, desc=f"edge3d-export {method}", disable=not progress, leave=False)
    model = load_model(description.part("model"), state, checkpoint)
    sections = description.part("sections")(config)
    clouds = validation_clouds(seeds, spacing)
    bar.update()
    with tempfile.TemporaryDirectory(prefix="edge3d-export-") as tmp:
        tmp_path = Path(tmp)
        examples = description.part("examples")(model, sections, *clouds[0])
        stages = {g.name: getattr(model, g.stage) if g.stage else model
                  for g in description.graphs}
        graphs, files = {}, {}
        for g in description.graphs:
            stem = "model" if len(description.graphs) == 1 else g.name
            raw = export_onnx(stages[g.name], examples[g.name], tmp_path / f"{stem}.onnx",
                              opset=g.opset)
            graphs[g.name], graph_file_paths = graph_files(g.name, stages[g.name], raw,
                                                           tmp_path / "onnx", stem)
            files.update(graph_file_paths)
        bar.update()

        def check(package: Any) -> ValidationReport:
            segmenter = methods.runtime_class(method).create(package, "ort", "cpu")
            return compare(segmenter, {g: TorchBackend(s) for g, s in stages.items()}, clouds)

        path, report = finish_package(
            out, tmp_path, method=method, graphs=graphs, files=files,
            sections={**sections, "params_version": description.params_version},
            provenance=checkpoint_provenance(checkpoint, state, provenance),
            check=check if validate else None, bar=bar)
    bar.close()
    return path, report


def graph_files(name: str, stage: Any, raw: Path, directory: Path, stem: str
                ) -> tuple[Any, dict[str, Path]]:
    """Save the portable and TensorRT variants of the exported graph ``raw`` as ``stem`` in
    ``directory``: (the package's :class:`~edge3d.package.GraphSpec` named ``name`` for
    ``stage``'s inputs and outputs, {file name in the package: path})."""
    import onnx

    from edge3d.export.onnx_variants import save_variants
    from edge3d.package import GraphSpec

    portable, trt = save_variants(onnx.load(str(raw)), directory, stem=stem)
    spec = GraphSpec(
        name, {"portable": portable.name, "trt": trt.name},
        tuple(stage.input_spec()), tuple(stage.output_spec()))
    return spec, {portable.name: portable, trt.name: trt}


def checkpoint_provenance(checkpoint: str | os.PathLike, state: Mapping[str, Any],
                          extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a package records of the checkpoint it came from, plus ``extra`` fields."""
    return {"checkpoint": Path(checkpoint).name,
            "checkpoint_sha256": sha256_file(Path(checkpoint)),
            "seed": state["config"].get("seed"), "epoch": state.get("epoch"),
            "step": state.get("step"), "training_metrics": state.get("metrics", {}),
            "training_config": state["config"], **dict(extra or {})}


def finish_package(out: str | os.PathLike, tmp_path: Path, *, method: str,
                   graphs: Mapping[str, Any], files: Mapping[str, Path],
                   sections: Mapping[str, Any], provenance: dict[str, Any],
                   check: Callable[[Any], ValidationReport] | None, bar: Any
                   ) -> tuple[Path, ValidationReport | None]:
    """Validate the exported graphs and write the package atomically.

    With ``check``, a staging package is written under ``tmp_path`` and loaded as the robot
    would; ``check(package)`` segments the validation rooms with it and with PyTorch, and any
    differing point raises :class:`ExportValidationError` before ``out`` is touched.
    """
    from edge3d.package import load_package, write_package

    manifest = {"method": method, "graphs": dict(graphs), "files": dict(files),
                **{k: sections[k] for k in ("class_names", "background_classes", "voxel_size",
                                            "preprocess", "postprocess", "params_version")}}
    report = None
    if check is not None:
        staging = write_package(tmp_path / "staging", provenance=provenance, **manifest)
        bar.update()
        report = check(load_package(staging))
        if report.differing_points:
            diffs = ", ".join(f"{k} {v:.3g}" for k, v in report.max_abs_diff.items())
            what = "graph's" if len(graphs) == 1 else "graphs'"
            raise ExportValidationError(
                f"the exported {what} instances differ from PyTorch's on "
                f"{report.differing_points} of {report.points} points (largest output "
                f"difference: {diffs}); nothing was written to {out}")
        provenance["export_validation"] = report.to_dict()
    bar.update()
    path = write_package(out, provenance=provenance, **manifest)
    bar.update()
    return path, report
