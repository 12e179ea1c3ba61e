"""What a method is, in one torch-free record: :class:`MethodDescription`.

A description names every part of a method by ``"module:attribute"`` reference, imported only
when that part is used, so reading the registry never imports torch, a backend or native code.
Training (:mod:`training.registry`), ``edge3d-export`` (:mod:`edge3d.export.package_export`),
the runtime (:class:`edge3d.Segmenter`), the tests and the docs all read the same record.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GraphDescription:
    """One exported network of a method (a package holds one ONNX pair per graph).

    Attributes:
        name: the graph's name in the package manifest (``"main"``, ``"points"``, ...).
        stage: the attribute of the PyTorch model exported as this graph; ``""`` exports the
            whole model.
        opset: the default-domain ONNX opset (graphs with ``edge3d`` op bodies need >= 18).
        custom_ops: the ``edge3d`` ops in the graph (names in :data:`edge3d.ops.OPS`), so tests
            and docs know which plugins the TensorRT variant needs.
    """

    name: str
    stage: str = ""
    opset: int = 17
    custom_ops: tuple[str, ...] = ()


@dataclass(frozen=True)
class MethodDescription:
    """Every part of one segmentation method.

    Attributes:
        name: the registered name (``edge3d.Segmenter(name)``, a manifest's ``method``, a
            training config's ``method.name``).
        summary: one line for listings and error messages.
        runtime: the class that segments with it (implements
            :class:`edge3d.methods.protocol.Method`); None for a training-only method.
        params: the dataclass of its parameters; for a learned method it *is* the schema of
            the manifest's ``postprocess`` section (validated on load, field by field).
        params_version: the version of that schema, recorded in every package as
            ``params_version``. Bump it when a field changes meaning, or a new one has no
            default that reproduces old packages: a package of another version is refused
            with what to do (upgrade edge3d, or re-export).
        backbone: the backbone whose input builder prepares the network's inputs
            (:data:`edge3d.runtime.input_builders.INPUT_BUILDERS`); None without a network.
        graphs: the networks a model package holds, in the order they run; empty for a method
            that runs from its name alone.
        superpoints: whether ``segment`` takes ``superpoints=`` to align its masks.
        model: ``build(config) -> nn.Module`` (torch).
        loss: ``build(config) -> nn.Module`` computing ``(total, {term: value})``.
        targets: ``(scene, config) -> {name: array}``, per-sample training targets.
        target_spec: ``(config) -> [TensorSpec]`` of those targets.
        validate: ``(outputs, scene, config) -> SegmentationResult``, the runtime
            post-processing on the network's outputs, for validation during training.
        sections: ``(config) -> dict``, the manifest sections ``edge3d-export`` writes
            (``class_names``, ``background_classes``, ``voxel_size``, ``preprocess``,
            ``postprocess``).
        examples: ``(model, sections, points, colors) -> {graph: {input: array}}``, example
            inputs of every graph for one cloud, built as the runtime builds them.
    """

    name: str
    summary: str
    runtime: str | None = None
    params: str | None = None
    params_version: int = 1
    backbone: str | None = None
    graphs: tuple[GraphDescription, ...] = ()
    superpoints: bool = False
    model: str | None = None
    loss: str | None = None
    targets: str | None = None
    target_spec: str | None = None
    validate: str | None = None
    sections: str | None = None
    examples: str | None = None

    @property
    def needs_package(self) -> bool:
        """Whether it runs from a model package (a network) rather than its name alone."""
        return bool(self.graphs)

    @property
    def trainable(self) -> bool:
        """Whether ``python -m training train`` can train it."""
        return all((self.model, self.loss, self.targets, self.target_spec, self.validate))

    @property
    def exportable(self) -> bool:
        """Whether ``edge3d-export`` can package a trained checkpoint of it."""
        return bool(self.graphs and self.runtime and self.sections and self.examples
                    and self.model)

    def part(self, field: str) -> Any:
        """Import the part named by ``field`` (``"runtime"``, ``"model"``, ...).

        Raises:
            LookupError: the method has no such part (a training-only method has no
                ``runtime``; a packageless one no ``model``).
        """
        ref = getattr(self, field)
        if not isinstance(ref, str) or not ref:
            raise LookupError(f"method {self.name!r} has no {field}")
        return resolve(ref)


def resolve(ref: str) -> Any:
    """Import ``"module:attribute"``."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)
