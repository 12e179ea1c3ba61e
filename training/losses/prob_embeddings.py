"""Probabilistic Embeddings' loss and targets (``papers/probabilistic-embeddings.md``, section 3).

Per scene, over its rows i (points, or voxels with ``voxelize``) with a valid class, and its
ground-truth instances k = 1..K:

- **Instance embedding** (section 3.3): ``c_k`` is the Gaussian of instance k's mean embedding
  as the paper writes it, mean ``mu_k`` = the mean of its rows' ``mu`` (Eq. 4b) and covariance
  the mean of their ``Sigma`` (Eq. 4c; the exact covariance of a mean of independent Gaussians
  would be divided by the row count, the paper's choice is kept);
- **Similarity** ``kappa(e_i, c_k)``: the Bhattacharyya kernel of two diagonal Gaussians,
  Eq. 1, computed in log space (:func:`log_similarity`);
- ``L_InsCE`` (Eq. 5): the binary cross-entropy of ``kappa(e_i, c_k)`` against ``[z_i = k]``,
  averaged over the N x K pairs; ``L_Ins = L_InsCE - ln Dice`` (Eq. 6), the Dice over all pairs;
- ``L_Score`` (Eq. 12): ``-1/(N L) sum_i sum_l Q[i, l] ln P[i, l]`` with ``P`` the softmax of
  the class logits and the fixed target ``Q[i, l] = kappa(e_i, c_{z_i})`` for l = the class of
  i's instance (Eq. 11), 0 elsewhere. The paper's shapes have no background; here rows of a
  background class (floor, wall) have ``Q = 1`` at their class, so the score map learns them as
  plain classification and they never seed;
- ``L_Reg`` (Eq. 8): the summed entropy of the rows' Gaussians,
  ``sum_i 3/2 ln(2 pi e) + sum_d ln sigma_i^(d)``;
- ``L = L_Ins + L_Score + 0.001 L_Reg`` (Eq. 17).

``score_loss: mse`` replaces Eq. 12 by the squared error ``1/(N L) sum_i sum_l (P[i, l] -
Q[i, l])^2`` with the same target, the MSE seed loss of Neven et al. that section 4.2 compares
the centre-aware loss against.

Every term is computed per scene, then averaged over the batch's scenes. Eq. 8 sums over the
rows while Eq. 5 and 12 average: the regulariser's weight per row grows with the row count
(``reg_reduction: sum``, as written). ``reg_reduction: mean`` averages it instead
(``docs/prob_embeddings.md`` reports both).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from edge3d.tensor_spec import TensorSpec
from training.data.scenes import IGNORE, Scene
from training.losses import voxel_targets

REG_WEIGHT = 0.001
"""The weight of the entropy regulariser in Eq. 17."""
ENTROPY_CONSTANT = 1.5 * math.log(2.0 * math.pi * math.e)
"""``3/2 ln(2 pi e)``, the part of a trivariate Gaussian's entropy that does not depend on it."""
EPS = 1e-6


def target_spec(config: Mapping[str, Any]) -> list[TensorSpec]:
    """Per-row class and instance and ``point_map`` (:mod:`training.losses.voxel_targets`;
    with ``voxelize`` the rows are the voxels, otherwise each point is its own row)."""
    def rows(dim: str | int | None) -> str | int | None:
        return "N0" if dim == "M0" else dim

    return [replace(s, shape=tuple(rows(d) for d in s.shape), index_of=rows(s.index_of))
            for s in voxel_targets.target_spec(config)]


def build_targets(scene: Scene, config: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per-row class and instance of ``scene`` (the rows of :func:`target_spec`)."""
    if (config["model"].get("backbone_config") or {}).get("voxelize"):
        return voxel_targets.build_targets(scene, config)
    k = int(config["method"]["num_classes"])
    sem = scene.semantic.astype(np.int64)
    sem = np.where((sem >= 0) & (sem < k), sem, IGNORE)
    inst = np.where(sem >= 0, scene.instance.astype(np.int64), 0)
    return {"voxel_semantic": sem.astype(np.int32),
            "voxel_instance": voxel_targets.contiguous_instances(inst),
            "point_map": np.arange(len(sem), dtype=np.int32)}


def log_similarity(mu_a: Tensor, sigma_a: Tensor, mu_b: Tensor, sigma_b: Tensor) -> Tensor:
    """``ln kappa`` of Eq. 1 for diagonal Gaussians (broadcasting over leading axes):
    ``-sum_d (mu_a - mu_b)^2 / (4 (sigma_a^2 + sigma_b^2))
    - 1/2 sum_d ln((sigma_a^2 + sigma_b^2) / (2 sigma_a sigma_b))``; the second sum is
    ``-ln beta``, with ``(sigma_a / sigma_b + sigma_b / sigma_a) / 2`` written over a common
    denominator."""
    va, vb = sigma_a * sigma_a, sigma_b * sigma_b
    spread = va + vb
    dist = ((mu_a - mu_b) ** 2 / (4.0 * spread)).sum(-1)
    scale = 0.5 * (torch.log(spread) - math.log(2.0) - torch.log(sigma_a) - torch.log(sigma_b))
    return -(dist + scale.sum(-1))


def scene_terms(mu: Tensor, sigma: Tensor, logits: Tensor, semantic: Tensor, instance: Tensor,
                background: Tensor, reg_reduction: str, score_loss: str = "center_aware"
                ) -> dict[str, Tensor]:
    """The loss terms of one scene (module docstring).

    Args:
        mu, sigma: float [N, 3] per row.
        logits: float [N, L] per row.
        semantic: int64 [N] class per row (:data:`IGNORE` = none).
        instance: int64 [N] instance per row, 1..K, 0 = none.
        background: bool [L], the background classes.
        reg_reduction: ``"sum"`` (Eq. 8) or ``"mean"`` over the rows.
        score_loss: ``"center_aware"`` (Eq. 12) or ``"mse"`` (module docstring).
    """
    valid = semantic != IGNORE
    mu, sigma, logits = mu[valid], sigma[valid], logits[valid]
    semantic, instance = semantic[valid], instance[valid]
    n, num_classes = len(mu), logits.shape[1]
    zero = mu.sum() * 0.0
    log_p = torch.log_softmax(logits, dim=1)
    entropy = ENTROPY_CONSTANT + torch.log(sigma).sum(1)
    reg = entropy.sum() if reg_reduction == "sum" else entropy.mean()
    if n == 0:
        return {"ins_ce": zero, "dice": zero, "score": zero, "reg": zero}
    ids, member = torch.unique(instance, return_inverse=True)
    has_zero = bool(ids[0] == 0)
    k = len(ids) - int(has_zero)
    q = torch.zeros(n, dtype=mu.dtype)
    ins_ce = dice = zero
    if k > 0:
        group = member - int(has_zero)            # -1: no instance
        inst_rows = group >= 0
        counts = torch.zeros(k, dtype=mu.dtype).index_add(
            0, group[inst_rows], torch.ones(int(inst_rows.sum()), dtype=mu.dtype))
        c_mu = torch.zeros(k, 3, dtype=mu.dtype).index_add(0, group[inst_rows],
                                                           mu[inst_rows]) / counts[:, None]
        c_var = torch.zeros(k, 3, dtype=mu.dtype).index_add(
            0, group[inst_rows], sigma[inst_rows] ** 2) / counts[:, None]
        log_k = log_similarity(mu[:, None, :], sigma[:, None, :], c_mu[None], c_var[None].sqrt())
        target = torch.zeros(n, k, dtype=torch.bool)
        target[inst_rows.nonzero()[:, 0], group[inst_rows]] = True
        kappa = log_k.exp()
        # -ln(1 - kappa), clamped: kappa is 1 only for identical Gaussians.
        neg = -torch.log1p(-kappa.clamp(max=1.0 - EPS))
        ins_ce = torch.where(target, -log_k, neg).mean()
        tgt = target.to(mu.dtype)
        dice = -torch.log((2.0 * (kappa * tgt).sum() + EPS) / (kappa.sum() + tgt.sum() + EPS))
        q[inst_rows] = kappa[inst_rows, group[inst_rows]].detach()
    q = torch.where(background[semantic], torch.ones_like(q), q)
    if score_loss == "mse":
        target_map = torch.zeros_like(log_p).scatter(1, semantic[:, None], q[:, None])
        score = ((log_p.exp() - target_map) ** 2).sum() / (n * num_classes)
    else:
        score = -(q * log_p.gather(1, semantic[:, None])[:, 0]).sum() / (n * num_classes)
    return {"ins_ce": ins_ce, "dice": dice, "score": score, "reg": reg}


class ProbEmbeddingsLoss(nn.Module):
    """``L_Ins + L_Score + 0.001 L_Reg`` (Eq. 17; module docstring).

    Args:
        background_classes: classes of no instance (floor, wall).
        reg_reduction: ``"sum"`` (Eq. 8 as written) or ``"mean"``.
        reg_weight: the regulariser's weight (Eq. 17: 0.001).
        score_loss: ``"center_aware"`` (Eq. 12) or ``"mse"``.
    """

    def __init__(self, background_classes: tuple[int, ...], num_classes: int,
                 reg_reduction: str = "sum", reg_weight: float = REG_WEIGHT,
                 score_loss: str = "center_aware") -> None:
        super().__init__()
        if reg_reduction not in ("sum", "mean"):
            raise ValueError(f"method.reg_reduction must be 'sum' or 'mean', got "
                             f"{reg_reduction!r}")
        if score_loss not in ("center_aware", "mse"):
            raise ValueError(f"method.score_loss must be 'center_aware' or 'mse', got "
                             f"{score_loss!r}")
        self.score_loss = score_loss
        bg = torch.zeros(num_classes, dtype=torch.bool)
        bg[list(background_classes)] = True
        self.register_buffer("background", bg)
        self.reg_reduction = reg_reduction
        self.reg_weight = float(reg_weight)

    def forward(self, outputs: Mapping[str, Tensor], batch: Mapping[str, Tensor]
                ) -> tuple[Tensor, dict[str, float]]:
        mu, sigma, logits = outputs["mu"], outputs["sigma"], outputs["semantic_logits"]
        scenes = int(batch["point_batch"].max()) + 1
        # The scene of each row: points carry it, and every row holds at least one point.
        scene = torch.zeros(len(mu), dtype=torch.long).index_put_(
            (batch["point_map"].long(),), batch["point_batch"].long())
        semantic, instance = batch["voxel_semantic"].long(), batch["voxel_instance"].long()
        sums: dict[str, Tensor] = {}
        for s in range(scenes):
            rows = scene == s
            terms = scene_terms(mu[rows], sigma[rows], logits[rows], semantic[rows],
                                instance[rows], self.background, self.reg_reduction,
                                self.score_loss)
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + value / scenes
        total = sums["ins_ce"] + sums["dice"] + sums["score"] + self.reg_weight * sums["reg"]
        with torch.no_grad():
            valid = semantic != IGNORE
            acc = float(((logits.argmax(1) == semantic) & valid).sum()
                        / valid.sum().clamp_min(1))
            log_sigma = float(torch.log(sigma).mean())
        return total, {**{k: float(v.detach()) for k, v in sums.items()},
                       "accuracy": acc, "mean_log_sigma": log_sigma}


def build(config: Mapping[str, Any]) -> nn.Module:
    """The loss module of a training config (``method.reg_reduction``, default ``sum``;
    ``method.score_loss``, default ``center_aware``)."""
    from edge3d.io.class_sets import dataset_classes

    _, background = dataset_classes(config)
    method = config["method"]
    return ProbEmbeddingsLoss(tuple(background), int(method["num_classes"]),
                              str(method.get("reg_reduction", "sum")),
                              float(method.get("reg_weight", REG_WEIGHT)),
                              str(method.get("score_loss", "center_aware")))
