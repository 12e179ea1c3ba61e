"""Loss and targets of the toy method (:mod:`edge3d.models.toy_semantic`): cross-entropy.

The loss is the mean over the batch's scenes of each scene's mean per-point cross-entropy
(points labelled :data:`~training.data.scenes.IGNORE` excluded), so every scene weighs the same
whatever its size, as SSEN averages its per-scene losses; this also makes DDP's gradient
average over processes equal to the single-process gradient.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from edge3d.tensor_spec import TensorSpec
from training.data.scenes import IGNORE, Scene


def target_spec(config: Mapping[str, Any]) -> list[TensorSpec]:
    """Targets: ``semantic`` int32 [P] class per point (:data:`IGNORE` = none)."""
    return [TensorSpec("semantic", "int32", ("P",), "class id per point, -100 = ignore")]


def build_targets(scene: Scene, config: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per-point class ids of ``scene``; ids outside ``method.num_classes`` are ignored."""
    k = int(config["method"]["num_classes"])
    sem = scene.semantic.astype(np.int32)
    return {"semantic": np.where((sem >= 0) & (sem < k), sem, IGNORE).astype(np.int32)}


class SceneMeanCrossEntropy(nn.Module):
    """Mean over scenes of the per-scene mean cross-entropy of ``semantic_logits``."""

    def forward(self, outputs: Mapping[str, Tensor], batch: Mapping[str, Tensor]
                ) -> tuple[Tensor, dict[str, float]]:
        logits = outputs["semantic_logits"]
        target = batch["semantic"].long()
        scene = batch["point_batch"]
        per_point = nn.functional.cross_entropy(logits, target, ignore_index=IGNORE,
                                                reduction="none")
        valid = (target != IGNORE).to(logits.dtype)
        scenes = int(scene.max()) + 1
        sums = torch.zeros(scenes, dtype=logits.dtype).index_add(0, scene, per_point * valid)
        counts = torch.zeros(scenes, dtype=logits.dtype).index_add(0, scene, valid)
        loss = (sums / counts.clamp_min(1.0)).mean()
        with torch.no_grad():
            correct = ((logits.argmax(1) == target).to(logits.dtype) * valid).sum()
            acc = float(correct / valid.sum().clamp_min(1.0))
        return loss, {"ce": float(loss.detach()), "accuracy": acc}


def build(config: Mapping[str, Any]) -> nn.Module:
    """The loss module of a training config."""
    return SceneMeanCrossEntropy()
