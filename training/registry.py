"""The trainable methods, read from the one method registry (:mod:`edge3d.methods`).

Each method's description names its training parts by ``"module:attribute"``:

- ``model``: ``build(config) -> nn.Module`` in ``edge3d/models/<method>.py`` (``config`` is
  the whole training config); the module has ``input_spec()``, ``output_spec()`` and
  ``forward(inputs)`` returning the outputs in ``output_spec()`` order (one tensor or a
  tuple), like every exportable network here.
- ``loss``: ``build(config) -> nn.Module`` in ``training/losses/<method>.py``, called as
  ``loss(outputs: dict[str, Tensor], batch: dict[str, Tensor]) -> (total, {name: value})``.
- ``targets``: ``(scene, config) -> dict[str, np.ndarray]`` in the same loss module: per-point
  training targets (e.g. ``semantic`` [P]) computed in the data loader workers; their specs
  come from ``target_spec(config)`` next to it.
- ``validate``: ``(outputs: dict[str, np.ndarray], scene, config) -> SegmentationResult`` for
  validation, where ``scene`` is a :class:`training.data.scenes.Scene`; for the real methods a
  thin adapter over ``edge3d/runtime/methods/<method>.py`` (torch-free), so validation
  measures what the robot runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Method:
    """A method's training parts, imported."""

    name: str
    build_model: Any
    build_loss: Any
    build_targets: Any
    target_spec: Any
    postprocess: Any


def trainable_methods() -> list[str]:
    """Registered methods that ``python -m training train`` can train."""
    from edge3d import methods

    return [d.name for d in methods.descriptions() if d.trainable]


def get_method(name: str) -> Method:
    """The registered method ``name``; ValueError listing the trainable ones otherwise."""
    from edge3d import methods

    try:
        d = methods.describe(name)
    except methods.UnknownMethodError:
        d = None
    if d is None or not d.trainable:
        raise ValueError(f"unknown method {name!r}; registered: "
                         f"{', '.join(sorted(trainable_methods()))} (register one in "
                         "edge3d/methods/__init__.py)")
    return Method(name, d.part("model"), d.part("loss"), d.part("targets"),
                  d.part("target_spec"), d.part("validate"))
