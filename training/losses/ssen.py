"""SSEN's loss and targets (``papers/ssen.md`` section III, Eq. 1-3; ``research/methods.md`` 4.3).

The discriminative loss exactly as the reference code computes it (its variable names are
swapped: its "inter_loss" is the pull term and its "intra_loss" the push term). Per scene, with
instances c = 1..C (0, background, excluded) of mean embedding mu_c:

- pull = sum_c w_c * mean_{i in c} relu(||e_i - mu_c|| - delta_pull), delta_pull = 0.1 (a
  hinge on the distance, not squared), with w_c proportional to N_c^p, p = 1 (the paper's
  Table I; with p = 1 the pull is the mean hinge over all instance voxels);
- push = sum over ordered pairs c != c' of relu(2 * delta_push - ||mu_c - mu_c'||) /
  (2 * C * (C - 1)), delta_push = 0.5 (margin 1.0); 0 when C <= 1. C is the largest instance
  id of the scene; targets number the instances present 1..C contiguously, so it is also their
  count;
- embedding loss = 1 * pull + 10 * push (the code's ``gamma_intra = 10``; the regulariser on
  ||mu_c|| has weight 0 there and is left out).

The semantic head adds the mean per-voxel cross-entropy (``semantic_weight``, 1 by default).
Every term is averaged per scene first, then over the batch's scenes (as the reference code).
The reference trains its semantic network separately and for long; in the hundred steps a CPU
run affords, plain cross-entropy learns floor and wall (80 % of the voxels of a room) and
hardly any object class, so the background removal removes everything. ``class_balance``
(default 0.5; 0 = plain cross-entropy) weights each class by ``frequency ** -class_balance``
within the batch, normalised to a mean weight of 1 per voxel.

Targets are per voxel of pyramid level 0, as the reference code keeps one point per voxel: each
voxel takes the most common (class, instance) pair of its points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from edge3d.tensor_spec import TensorSpec
from training.data.scenes import IGNORE, Scene
from training.losses import voxel_targets

DELTA_PULL = 0.1
DELTA_PUSH = 0.5
GAMMA_PUSH = 10.0
SIZE_POWER = 1.0


def target_spec(config: Mapping[str, Any]) -> list[TensorSpec]:
    """Per-voxel class and instance and ``point_map`` (:mod:`training.losses.voxel_targets`)."""
    return voxel_targets.target_spec(config)


def build_targets(scene: Scene, config: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per-voxel class and instance of ``scene`` (:mod:`training.losses.voxel_targets`)."""
    return voxel_targets.build_targets(scene, config)


def discriminative_loss(embedding: Tensor, instance: Tensor, scene: Tensor, scenes: int
                        ) -> tuple[Tensor, Tensor]:
    """Mean over scenes of SSEN's pull and push terms (module docstring).

    Args:
        embedding: float [M, D] per voxel.
        instance: int64 [M] instance per voxel, 1..C within each scene, 0 = none.
        scene: int64 [M] scene of each voxel, 0..scenes-1.
        scenes: number of scenes in the batch.

    Returns:
        (pull, push), each the mean over scenes of the per-scene value.
    """
    fg = instance > 0
    e, inst, sc = embedding[fg], instance[fg], scene[fg]
    zero = embedding.sum() * 0.0
    if len(e) == 0:
        return zero, zero
    width = int(inst.max()) + 1
    key = sc * width + inst
    ids, group = torch.unique(key, return_inverse=True)
    counts = torch.zeros(len(ids), dtype=e.dtype).index_add(0, group, torch.ones_like(inst,
                                                                                     dtype=e.dtype))
    means = torch.zeros(len(ids), e.shape[1], dtype=e.dtype).index_add(0, group, e)
    means = means / counts[:, None]
    dist = torch.sqrt(((e - means[group]) ** 2).sum(1).clamp_min(1e-12))
    hinge = torch.relu(dist - DELTA_PULL)
    # w_c ~ N_c^p, normalised per scene; with p = 1 this is the per-voxel mean hinge.
    group_scene = ids // width
    per_group = torch.zeros(len(ids), dtype=e.dtype).index_add(0, group, hinge) / counts
    weight = counts ** SIZE_POWER
    norm = torch.zeros(scenes, dtype=e.dtype).index_add(0, group_scene, weight)
    pull_scene = torch.zeros(scenes, dtype=e.dtype).index_add(0, group_scene, weight * per_group)
    pull = (pull_scene / norm.clamp_min(1e-12)).sum() / scenes
    push = zero
    for s in range(scenes):
        mu = means[group_scene == s]
        c = len(mu)
        if c <= 1:
            continue
        sq = ((mu[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
        off = ~torch.eye(c, dtype=torch.bool)
        d = torch.sqrt(torch.relu(sq[off]).clamp_min(1e-12))
        push = push + torch.relu(2.0 * DELTA_PUSH - d).sum() / (2.0 * c * (c - 1))
    return pull, push / scenes


class SSENLoss(nn.Module):
    """``pull + gamma * push + semantic_weight * cross-entropy`` (see the module docstring).

    Args:
        semantic_weight: weight of the semantic cross-entropy.
    """

    def __init__(self, semantic_weight: float = 1.0, class_balance: float = 0.5) -> None:
        super().__init__()
        self.semantic_weight = float(semantic_weight)
        self.class_balance = float(class_balance)

    def class_weights(self, target: Tensor, classes: int) -> Tensor:
        """Per-voxel weights ``freq(class) ** -class_balance`` with mean 1 over valid voxels."""
        valid = target != IGNORE
        counts = torch.bincount(target[valid], minlength=classes).to(torch.float32)
        per_class = counts.clamp_min(1.0) ** -self.class_balance
        w = torch.where(valid, per_class[target.clamp_min(0)], torch.zeros(()))
        return w * valid.sum().clamp_min(1) / w.sum().clamp_min(1e-12)

    def forward(self, outputs: Mapping[str, Tensor], batch: Mapping[str, Tensor]
                ) -> tuple[Tensor, dict[str, float]]:
        emb, logits = outputs["embedding"], outputs["semantic_logits"]
        scenes = int(batch["point_batch"].max()) + 1
        # The scene of each voxel: points carry it, and every voxel holds at least one point.
        scene = torch.zeros(len(emb), dtype=torch.long).index_put_(
            (batch["point_map"].long(),), batch["point_batch"].long())
        pull, push = discriminative_loss(emb, batch["voxel_instance"].long(), scene, scenes)
        target = batch["voxel_semantic"].long()
        per_voxel = nn.functional.cross_entropy(logits, target, ignore_index=IGNORE,
                                                reduction="none")
        valid = (target != IGNORE).to(logits.dtype)
        weight = self.class_weights(target, logits.shape[1]).to(logits.dtype)
        sums = torch.zeros(scenes, dtype=logits.dtype).index_add(0, scene, per_voxel * weight)
        n = torch.zeros(scenes, dtype=logits.dtype).index_add(0, scene, valid)
        ce = (sums / n.clamp_min(1.0)).mean()
        total = pull + GAMMA_PUSH * push + self.semantic_weight * ce
        with torch.no_grad():
            acc = float(((logits.argmax(1) == target).to(logits.dtype) * valid).sum()
                        / valid.sum().clamp_min(1.0))
        return total, {"pull": float(pull.detach()), "push": float(push.detach()),
                       "ce": float(ce.detach()), "accuracy": acc}


def build(config: Mapping[str, Any]) -> nn.Module:
    """The loss module of a training config (``method.semantic_weight``, default 1;
    ``method.class_balance``, default 0.5)."""
    return SSENLoss(float(config["method"].get("semantic_weight", 1.0)),
                    float(config["method"].get("class_balance", 0.5)))
