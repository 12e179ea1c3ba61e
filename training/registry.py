"""The method registry: one entry per method, naming its four parts.

Each part is a ``"module:attribute"`` string, imported only when the method is used:

- ``model``: ``build(config) -> nn.Module`` in ``edge3d/models/<method>.py`` (``config`` is
  the whole training config); the module has
  ``input_spec()``, ``output_spec()`` and ``forward(inputs)`` returning the outputs in
  ``output_spec()`` order (one tensor or a tuple), like every exportable network here.
- ``loss``: ``build(config) -> nn.Module`` in ``training/losses/<method>.py``, called as
  ``loss(outputs: dict[str, Tensor], batch: dict[str, Tensor]) -> (total, {name: value})``.
- ``targets``: ``(scene, config) -> dict[str, np.ndarray]`` in the same loss module: per-point
  training targets (e.g. ``semantic`` [P]) computed in the data loader workers; their specs
  come from ``target_spec(config)`` next to it.
- ``postprocess``: ``(outputs: dict[str, np.ndarray], scene, config) -> SegmentationResult``
  for validation, where ``scene`` is a :class:`training.data.scenes.Scene`; for the real
  methods a thin adapter over ``edge3d/runtime/postprocess/<method>.py`` (torch-free), so
  validation measures what the robot runs.

Adding a method: its model module, its loss module, one line in :data:`METHODS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MethodEntry:
    """Where the four parts of a method live (``"module:attribute"`` each)."""

    model: str
    loss: str
    targets: str
    target_spec: str
    postprocess: str


METHODS: dict[str, MethodEntry] = {
    "toy_semantic": MethodEntry(
        "edge3d.models.toy_semantic:build", "training.losses.toy_semantic:build",
        "training.losses.toy_semantic:build_targets", "training.losses.toy_semantic:target_spec",
        "edge3d.models.toy_semantic:postprocess_scene"),
    "ssen": MethodEntry(
        "edge3d.models.ssen:build", "training.losses.ssen:build",
        "training.losses.ssen:build_targets", "training.losses.ssen:target_spec",
        "edge3d.models.ssen:postprocess_scene"),
    "spherical_mask": MethodEntry(
        "edge3d.models.spherical_mask:build", "training.losses.spherical_mask:build",
        "training.losses.spherical_mask:build_targets",
        "training.losses.spherical_mask:target_spec",
        "edge3d.models.spherical_mask:postprocess_scene"),
}


def resolve(ref: str) -> Any:
    """Import ``"module:attribute"``."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class Method:
    """A method's parts, imported."""

    name: str
    build_model: Any
    build_loss: Any
    build_targets: Any
    target_spec: Any
    postprocess: Any


def get_method(name: str) -> Method:
    """The registered method ``name``; ValueError listing the registered ones otherwise."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; registered: {', '.join(sorted(METHODS))} "
                         "(add one in training/registry.py)")
    e = METHODS[name]
    return Method(name, resolve(e.model), resolve(e.loss), resolve(e.targets),
                  resolve(e.target_spec), resolve(e.postprocess))
