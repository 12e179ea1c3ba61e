"""Spherical Mask's losses and targets (``papers/spherical-mask.md`` 3.3-3.4, eq. 2-15;
``research/methods.md`` 5.5 and 5.7).

Per scene (one scene per batch: the query stage samples per scene), with ground-truth thing
instances g (voxels of one instance id and a thing class):

- **targets** (5.5): centre = mean of the instance's voxel positions; ray of sector s = largest
  distance from the centre of the instance's voxels in s, ``1e-6`` for an empty sector (paper
  3.3.1: "set to minimum"); box = the voxels' AABB.
- **matching** (3.4, eq. 14): Hungarian (``scipy.optimize.linear_sum_assignment``) on the
  paper's cost ``L_coarse + L_fine + L_cls`` per (query, instance) (``matching: paper``), or on
  the reference code's ``0.5 (-p_cls) + 0.2 (-conf) + 0.2 (-GIoU)`` (``matching: code``). As
  both the paper and ISBNet do, a second, one-to-many matching against the instances repeated
  ``aux_dup`` (4) times adds the same losses with weight ``aux_weight`` (2.0, as coded).
- **losses** of the matched queries (eq. 15, lambda = 0.5, 0.5, 1, 1):
  ``L_cls`` cross-entropy over all queries, unmatched ones to no-object with weight
  ``eos_coef`` 0.1; ``L_conf`` = MSE of the confidence to the IoU of the assembled mask
  (logits >= 0) with the instance; ``L_coarse`` = mean L1 of the rays + L1 of the centre (eq.
  2-4); ``L_fine = L_mc + L_sc`` (eq. 5-12, below); box L1 and 1 - GIoU (x 0.5, as coded);
  and, as the reference code does, dice + BCE on the migration read as mask logits
  (``mask_dice_bce``).
- **L_fine** with ``rho = r - 2 rpm`` (the migrated distance of the assembly, 5.6) and R the
  predicted ray of the voxel's sector (detached: "f_ray is only used for reference"), and the
  sphere centre detached (it is learned by L_coarse): false negatives (instance voxels with
  ``R < rho``) get ``log(1 + exp(-tanh(R - rho)))``, false positives (other voxels with
  ``R >= rho``) ``log(1 + exp(tanh(R - rho)))``, both averaged over the misclassified voxels
  (L_mc, eq. 7); true positives ``log(1 + exp(tanh(rho)))`` averaged over them (L_sc, eq. 11).
  Only the migration gets these gradients.
- **point-wise** (x ``point_weight`` 0.25 each, as coded): semantic cross-entropy, centroid
  offset L1, box-offset L1 and 1 - GIoU of the voxel's box, the last three on thing voxels.

The Table 5 ablation switches: ``use_rpm`` (model; False = "RID only"), ``l_mc``, ``l_sc``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from edge3d.tensor_spec import TensorSpec
from training.data.scenes import IGNORE, Scene
from training.losses import voxel_targets


def target_spec(config: Mapping[str, Any]) -> list[TensorSpec]:
    """Per-voxel class and instance and ``point_map`` (:mod:`training.losses.voxel_targets`)."""
    return voxel_targets.target_spec(config)


def build_targets(scene: Scene, config: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per-voxel class and instance, plus ``voxel_xyz`` (float32 [M0, 3] voxel centroids, a
    network input of the query stage) from the same voxelisation as the inputs."""
    from edge3d import native

    out = voxel_targets.build_targets(scene, config)
    grid = native.voxelize(scene.positions, float(config["data"]["voxel_size"]))
    out["voxel_xyz"] = np.ascontiguousarray(grid.centroids, np.float32)
    return out


def box_giou(a: Tensor, b: Tensor) -> Tensor:
    """GIoU of axis-aligned boxes ``[..., 6]`` (min then max), broadcast over leading axes."""
    lo = torch.maximum(a[..., :3], b[..., :3])
    hi = torch.minimum(a[..., 3:], b[..., 3:])
    inter = (hi - lo).clamp_min(0).prod(-1)
    vol_a = (a[..., 3:] - a[..., :3]).clamp_min(0).prod(-1)
    vol_b = (b[..., 3:] - b[..., :3]).clamp_min(0).prod(-1)
    union = vol_a + vol_b - inter
    hull = (torch.maximum(a[..., 3:], b[..., 3:]) - torch.minimum(a[..., :3], b[..., :3])
            ).clamp_min(0).prod(-1)
    iou = inter / union.clamp_min(1e-9)
    return iou - (hull - union) / hull.clamp_min(1e-9)


def instance_targets(xyz: Tensor, semantic: Tensor, instance: Tensor,
                     thing_classes: tuple[int, ...], n_azimuth: int, n_polar: int
                     ) -> dict[str, Tensor]:
    """Ground truth per thing instance (module docstring).

    Returns ``masks`` bool [G, M], ``labels`` int64 [G] (column of the class head), ``centers``
    [G, 3], ``rays`` [G, S], ``boxes`` [G, 6] and ``voxel_instance`` int64 [M] (row in G, -1).
    """
    from edge3d.ops import sector_bin

    size = max(max(thing_classes), int(semantic.max().clamp_min(0))) + 1
    col = torch.full((size,), -1, dtype=torch.long)
    col[list(thing_classes)] = torch.arange(len(thing_classes))
    voxel_col = torch.where(semantic >= 0, col[semantic.clamp_min(0)], -1)
    is_thing = (instance > 0) & (voxel_col >= 0)
    ids = torch.unique(instance[is_thing])
    g = len(ids)
    m = len(xyz)
    masks = torch.zeros(g, m, dtype=torch.bool)
    voxel_instance = torch.full((m,), -1, dtype=torch.long)
    labels = torch.zeros(g, dtype=torch.long)
    for i, iid in enumerate(ids.tolist()):
        sel = is_thing & (instance == iid)
        masks[i] = sel
        voxel_instance[sel] = i
        labels[i] = torch.mode(voxel_col[sel]).values
    s = n_azimuth * n_polar
    if g == 0:
        z = xyz.new_zeros
        return {"masks": masks, "labels": labels, "centers": z(0, 3), "rays": z(0, s),
                "boxes": z(0, 6), "voxel_instance": voxel_instance}
    w = masks.to(xyz.dtype)
    centers = (w @ xyz) / w.sum(1, keepdim=True)
    sector, radius = sector_bin(xyz, centers, n_azimuth, n_polar)
    rays = torch.full((g, s), 1e-6, dtype=xyz.dtype).scatter_reduce(
        1, sector.long(), radius * w, reduce="amax", include_self=True)
    big = torch.finfo(xyz.dtype).max
    lo = torch.where(masks[..., None], xyz[None], big).amin(1)
    hi = torch.where(masks[..., None], xyz[None], -big).amax(1)
    return {"masks": masks, "labels": labels, "centers": centers, "rays": rays,
            "boxes": torch.cat([lo, hi], 1), "voxel_instance": voxel_instance}


def _soft(x: Tensor) -> Tensor:
    """``log(1 + exp(x))`` (soft margin of eq. 7 and 11)."""
    return F.softplus(x)


class MigrationTerms:
    """Per (query, voxel) quantities of L_fine with gradients only into the migration.

    ``x = R - rho`` (>= 0: inside the assembled mask), ``rho = r - 2 rpm``.
    """

    def __init__(self, xyz: Tensor, centers: Tensor, rays: Tensor, migration: Tensor,
                 n_azimuth: int, n_polar: int) -> None:
        from edge3d.ops import sector_bin

        sector, radius = sector_bin(xyz, centers.detach(), n_azimuth, n_polar)
        ray = torch.gather(rays.detach().clamp_min(0.01), 1, sector.long())
        self.rho = radius.detach() - 2.0 * migration
        self.x = ray - self.rho
        self.inside = (self.x >= 0).detach()

    def pair_costs(self) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """Detached per-voxel loss values: (fn, fp, tp, outside, inside) as float [Q, M]."""
        x, rho = self.x.detach(), self.rho.detach()
        inside = self.inside.to(x.dtype)
        outside = 1.0 - inside
        return (outside * _soft(-torch.tanh(x)), inside * _soft(torch.tanh(x)),
                inside * _soft(torch.tanh(rho)), outside, inside)


def fine_cost(terms: MigrationTerms, masks: Tensor, l_mc: bool, l_sc: bool) -> Tensor:
    """L_fine(k, g) for every (query, instance) pair, detached -> [Q, G]."""
    fn, fp, tp, outside, inside = terms.pair_costs()
    fg = masks.to(fn.dtype).T                                     # [M, G]
    bg = 1.0 - fg
    cost = fn.new_zeros(fn.shape[0], fg.shape[1])
    if l_mc:
        n_miss = outside @ fg + inside @ bg
        cost = cost + (fn @ fg + fp @ bg) / n_miss.clamp_min(1.0)
    if l_sc:
        cost = cost + (tp @ fg) / (inside @ fg).clamp_min(1.0)
    return cost


def fine_loss(terms: MigrationTerms, query: Tensor, masks: Tensor, l_mc: bool, l_sc: bool
              ) -> tuple[Tensor, Tensor]:
    """(L_mc, L_sc) averaged over the matched pairs ``(query[i], masks[i])``."""
    x, rho, inside = terms.x[query], terms.rho[query], terms.inside[query]
    fg = masks
    zero = x.sum() * 0.0
    mc, sc = zero, zero
    if l_mc:
        fn, fp = fg & ~inside, ~fg & inside
        loss = _soft(-torch.tanh(x)) * fn + _soft(torch.tanh(x)) * fp
        mc = (loss.sum(1) / (fn | fp).sum(1).clamp_min(1)).mean()
    if l_sc:
        tp = fg & inside
        sc = ((_soft(torch.tanh(rho)) * tp).sum(1) / tp.sum(1).clamp_min(1)).mean()
    return mc, sc


def dice_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Mean over rows of ``1 - (2 |p t| + 1) / (|p| + |t| + 1)``, p = sigmoid (smooth 1)."""
    p = torch.sigmoid(logits)
    t = target.to(p.dtype)
    return (1 - (2 * (p * t).sum(1) + 1) / (p.sum(1) + t.sum(1) + 1)).mean()


class SphericalMaskLoss(nn.Module):
    """The total loss of the module docstring.

    Args:
        thing_classes, n_azimuth, n_polar, use_rpm: as the model's config.
        matching: ``"paper"`` (eq. 14) or ``"code"`` (5.7).
        l_mc, l_sc: the two migration losses (Table 5 switches).
        aux_dup, aux_weight: one-to-many matching (0 or 0.0 switch it off).
        eos_coef: no-object class weight.
        mask_dice_bce: dice + BCE on the migration as mask logits (reference code).
        point_weight: weight of each point-wise loss.
    """

    def __init__(self, thing_classes: tuple[int, ...], n_azimuth: int = 5, n_polar: int = 5,
                 use_rpm: bool = True, matching: str = "paper", l_mc: bool = True,
                 l_sc: bool = True, aux_dup: int = 4, aux_weight: float = 2.0,
                 eos_coef: float = 0.1, mask_dice_bce: bool = True,
                 point_weight: float = 0.25, semantic_weight: float | None = None) -> None:
        super().__init__()
        if matching not in ("paper", "code"):
            raise ValueError(f"matching must be 'paper' or 'code', got {matching!r}")
        self.thing_classes = tuple(int(c) for c in thing_classes)
        self.n_azimuth, self.n_polar = int(n_azimuth), int(n_polar)
        self.use_rpm = bool(use_rpm)
        self.matching = matching
        self.l_mc = bool(l_mc) and self.use_rpm
        self.l_sc = bool(l_sc) and self.use_rpm
        self.aux_dup, self.aux_weight = int(aux_dup), float(aux_weight)
        self.eos_coef = float(eos_coef)
        self.mask_dice_bce = bool(mask_dice_bce) and self.use_rpm
        self.point_weight = float(point_weight)
        self.semantic_weight = float(point_weight if semantic_weight is None
                                     else semantic_weight)

    # -- matching ------------------------------------------------------------------------------

    def cost(self, out: Mapping[str, Tensor], gt: Mapping[str, Tensor],
             terms: MigrationTerms) -> Tensor:
        """[Q, G] matching cost (detached)."""
        with torch.no_grad():
            logp = torch.log_softmax(out["cls_logits"], 1)[:, gt["labels"]]
            if self.matching == "code":
                giou = box_giou(out["query_box"][:, None], gt["boxes"][None])
                return (-0.5 * logp.exp() - 0.2 * out["confidence"][:, None] - 0.2 * giou)
            coarse = ((out["rays"][:, None] - gt["rays"][None]).abs().mean(-1)
                      + (out["centers"][:, None] - gt["centers"][None]).abs().sum(-1))
            cost = coarse - logp
            if self.use_rpm:
                cost = cost + fine_cost(terms, gt["masks"], self.l_mc, self.l_sc)
            return cost

    @staticmethod
    def assign(cost: Tensor, dup: int) -> tuple[Tensor, Tensor]:
        """Hungarian assignment on ``cost`` [Q, G] with the instances repeated ``dup`` times:
        (query rows, instance rows)."""
        from scipy.optimize import linear_sum_assignment

        c = cost.repeat(1, dup).numpy().astype(np.float64)
        c[~np.isfinite(c)] = 1e5
        rows, cols = linear_sum_assignment(c)
        g = cost.shape[1]
        return torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols % g,
                                                                        dtype=torch.long)

    # -- losses ------------------------------------------------------------------------------

    def matched_losses(self, out: Mapping[str, Tensor], gt: Mapping[str, Tensor],
                       terms: MigrationTerms, q: Tensor, g: Tensor) -> dict[str, Tensor]:
        """Losses of one assignment (queries ``q`` matched to instances ``g``)."""
        n_q = out["cls_logits"].shape[0]
        t = len(self.thing_classes)
        target = torch.full((n_q,), t, dtype=torch.long)
        target[q] = gt["labels"][g]
        weight = torch.ones(t + 1)
        weight[t] = self.eos_coef
        parts = {"cls": F.cross_entropy(out["cls_logits"], target, weight=weight)}
        n = max(len(q), 1)
        masks = gt["masks"][g]
        with torch.no_grad():
            pred = out["mask_logits"][q] >= 0
            inter = (pred & masks).sum(1).float()
            union = (pred | masks).sum(1).float().clamp_min(1)
            iou = inter / union
        parts["conf"] = F.mse_loss(out["confidence"][q], iou, reduction="sum") / n
        parts["coarse"] = ((out["rays"][q] - gt["rays"][g]).abs().mean(1).sum()
                           + (out["centers"][q] - gt["centers"][g]).abs().sum()) / n
        parts["box"] = 0.5 * (out["query_box"][q] - gt["boxes"][g]).abs().sum() / n \
            + 0.5 * (1 - box_giou(out["query_box"][q], gt["boxes"][g])).sum() / n
        mc, sc = fine_loss(terms, q, masks, self.l_mc, self.l_sc)
        parts["l_mc"], parts["l_sc"] = mc, sc
        if self.mask_dice_bce:
            mig = out["migration"][q]
            parts["mask"] = dice_loss(mig, masks) + F.binary_cross_entropy_with_logits(
                mig, masks.to(mig.dtype))
        return parts

    def combine(self, parts: Mapping[str, Tensor]) -> Tensor:
        total = 0.5 * parts["cls"] + 0.5 * parts["conf"] + parts["coarse"] + parts["box"]
        total = total + parts["l_mc"] + parts["l_sc"]
        return total + parts["mask"] if "mask" in parts else total

    def point_losses(self, out: Mapping[str, Tensor], batch: Mapping[str, Tensor],
                     gt: Mapping[str, Tensor]) -> dict[str, Tensor]:
        sem = batch["voxel_semantic"].long()
        parts = {"semantic": F.cross_entropy(out["semantic_logits"], sem, ignore_index=IGNORE)}
        inst = gt["voxel_instance"]
        fg = inst >= 0
        xyz = batch["voxel_xyz"]
        if fg.any():
            owner = inst[fg]
            parts["offset"] = (out["centroid_offset"][fg] - (gt["centers"][owner] - xyz[fg])
                               ).abs().sum(1).mean()
            target = gt["boxes"][owner] - xyz[fg].repeat(1, 2)
            pred = out["box_offsets"][fg]
            parts["box_offset"] = (pred - target).abs().sum(1).mean()
            parts["box_giou"] = (1 - box_giou(pred + xyz[fg].repeat(1, 2),
                                              gt["boxes"][owner])).mean()
        else:
            zero = out["centroid_offset"].sum() * 0.0
            parts.update(offset=zero, box_offset=zero, box_giou=zero)
        return parts

    def forward(self, outputs: Mapping[str, Tensor], batch: Mapping[str, Tensor]
                ) -> tuple[Tensor, dict[str, float]]:
        if "point_batch" in batch and int(batch["point_batch"].max()) > 0:
            raise ValueError("Spherical Mask samples its queries per scene: set "
                             "data.batch_size: 1")
        gt = instance_targets(batch["voxel_xyz"], batch["voxel_semantic"].long(),
                              batch["voxel_instance"].long(), self.thing_classes,
                              self.n_azimuth, self.n_polar)
        point = self.point_losses(outputs, batch, gt)
        total = self.semantic_weight * point["semantic"] + self.point_weight * (
            point["offset"] + point["box_offset"] + point["box_giou"])
        logs = {k: float(v.detach()) for k, v in point.items()}
        if len(gt["labels"]) == 0:
            # No instance: every query is no-object.
            n_q, t = outputs["cls_logits"].shape[0], len(self.thing_classes)
            weight = torch.ones(t + 1)
            weight[t] = self.eos_coef
            cls = F.cross_entropy(outputs["cls_logits"], torch.full((n_q,), t), weight=weight)
            total = total + 0.5 * cls
            logs["cls"] = float(cls.detach())
            return total, logs
        terms = MigrationTerms(batch["voxel_xyz"], outputs["centers"], outputs["rays"],
                               outputs["migration"], self.n_azimuth, self.n_polar)
        cost = self.cost(outputs, gt, terms)
        q, g = self.assign(cost, 1)
        parts = self.matched_losses(outputs, gt, terms, q, g)
        total = total + self.combine(parts)
        logs.update({k: float(v.detach()) for k, v in parts.items()})
        if self.aux_dup > 0 and self.aux_weight > 0:
            qa, ga = self.assign(cost, self.aux_dup)
            aux = self.combine(self.matched_losses(outputs, gt, terms, qa, ga))
            total = total + self.aux_weight * aux
            logs["aux"] = float(aux.detach())
        return total, logs


def build(config: Mapping[str, Any]) -> nn.Module:
    """The loss of a training config (``method`` keys: ``matching``, ``l_mc``, ``l_sc``,
    ``aux_dup``, ``aux_weight``, ``eos_coef``, ``mask_dice_bce``, ``point_weight``,
    ``semantic_weight``, plus the model's ``use_rpm`` and sector grid)."""
    from edge3d.io.class_sets import dataset_classes
    from edge3d.models.spherical_mask import SphericalMaskConfig

    _, background = dataset_classes(config)
    mcfg = SphericalMaskConfig.from_method(config["method"], background)
    m = config["method"]
    keys = ("matching", "l_mc", "l_sc", "aux_dup", "aux_weight", "eos_coef", "mask_dice_bce",
            "point_weight", "semantic_weight")
    return SphericalMaskLoss(mcfg.thing_classes, mcfg.n_azimuth, mcfg.n_polar, mcfg.use_rpm,
                             **{k: m[k] for k in keys if k in m})
