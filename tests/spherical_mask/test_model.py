"""Spherical Mask network and losses: shapes, gradients, ablation switches, learning."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.spherical_mask.conftest import tiny_config
from training.trainer import named_outputs


def _forward(model, batch):
    return named_outputs(model, model({s.name: batch[s.name] for s in model.input_spec()}))


def test_output_shapes(make_batch) -> None:
    cfg = tiny_config()
    model, _, batch = make_batch(cfg)
    out = _forward(model, batch)
    m = batch["features"].shape[0]
    q = out["cls_logits"].shape[0]
    assert q == min(8, 32)
    things = len(model.cfg.thing_classes)
    assert out["semantic_logits"].shape == (m, 10)
    assert out["box_offsets"].shape == (m, 6)
    assert out["cls_logits"].shape == (q, things + 1)
    assert out["rays"].shape == (q, 25) and out["centers"].shape == (q, 3)
    assert out["migration"].shape == (q, m) and out["mask_logits"].shape == (q, m)
    # The query's voxel is its position: the box offsets and centres are relative to it.
    assert out["query_voxel"].dtype == torch.int32


def test_mask_logits_are_the_sector_assembly(make_batch) -> None:
    """mask = ray[sector] - r + 2 rpm with the rays clamped at 0.01 and the centre not (5.6)."""
    from edge3d.ops import sector_bin

    model, _, batch = make_batch(tiny_config())
    model.eval()
    with torch.no_grad():
        out = _forward(model, batch)
    sector, radius = sector_bin(batch["voxel_xyz"], out["centers"])
    ray = torch.gather(out["rays"].clamp_min(0.01), 1, sector.long())
    expected = ray - radius + 2 * out["migration"]
    torch.testing.assert_close(out["mask_logits"], expected, rtol=1e-5, atol=1e-5)


def test_gradients_reach_every_part(make_batch) -> None:
    model, loss_fn, batch = make_batch(tiny_config())
    out = _forward(model, batch)
    loss, parts = loss_fn(out, batch)
    loss.backward()
    assert math.isfinite(float(loss.detach()))
    for name in ("semantic", "offset", "box_offset", "box_giou", "cls", "conf", "coarse",
                 "box", "l_mc", "l_sc", "mask", "aux"):
        assert name in parts, name
    groups = {"points.backbone": 0.0, "points.semantic": 0.0, "points.box": 0.0,
              "points.mask_tower": 0.0, "queries.agg1": 0.0, "queries.agg2": 0.0,
              "queries.rays": 0.0, "queries.center": 0.0, "queries.controller": 0.0,
              "queries.cls": 0.0, "queries.conf": 0.0}
    for name, p in model.named_parameters():
        for g in groups:
            if name.startswith(g) and p.grad is not None:
                groups[g] += float(p.grad.abs().sum())
    assert all(v > 0 for v in groups.values()), groups


def test_fine_loss_only_moves_the_migration(make_batch) -> None:
    """L_fine's gradient goes to the migration only (rays and centre are references)."""
    from training.losses.spherical_mask import MigrationTerms, fine_loss

    model, _, batch = make_batch(tiny_config())
    out = _forward(model, batch)
    rays = out["rays"].detach().requires_grad_(True)
    centers = out["centers"].detach().requires_grad_(True)
    mig = out["migration"].detach().requires_grad_(True)
    terms = MigrationTerms(batch["voxel_xyz"], centers, rays, mig, 5, 5)
    masks = torch.zeros(2, mig.shape[1], dtype=torch.bool)
    masks[0, :50] = True
    masks[1, 50:90] = True
    mc, sc = fine_loss(terms, torch.tensor([0, 1]), masks, True, True)
    (mc + sc).backward()
    assert rays.grad is None and centers.grad is None
    assert float(mig.grad.abs().sum()) > 0


def test_fine_loss_worked_example() -> None:
    """Eq. 7 and 11 on four voxels with hand-set rays and migrations."""
    from training.losses.spherical_mask import MigrationTerms, fine_cost, fine_loss

    # Centre at the origin, all rays 1; voxels on +x at r = 0.5, 0.5, 2, 2.
    xyz = torch.tensor([[0.5, 0, 0], [0.5, 0, 0], [2.0, 0, 0], [2.0, 0, 0]])
    centers = torch.zeros(1, 3)
    rays = torch.ones(1, 25)
    mig = torch.tensor([[0.1, 0.0, 0.0, 0.75]])
    terms = MigrationTerms(xyz, centers, rays, mig, 5, 5)
    # rho = r - 2 rpm = 0.3, 0.5, 2, 0.5; x = 1 - rho = 0.7, 0.5, -1, 0.5
    gt = torch.tensor([[True, False, True, False]])
    mc, sc = fine_loss(terms, torch.tensor([0]), gt, True, True)
    sp = torch.nn.functional.softplus
    # misclassified: voxel 1 (FP, x 0.5), voxel 2 (FN, x -1), voxel 3 (FP, x 0.5)
    want_mc = (sp(torch.tanh(torch.tensor(0.5))) * 2 + sp(-torch.tanh(torch.tensor(-1.0)))) / 3
    want_sc = sp(torch.tanh(torch.tensor(0.3)))               # TP: voxel 0, rho 0.3
    torch.testing.assert_close(mc, want_mc)
    torch.testing.assert_close(sc, want_sc)
    cost = fine_cost(terms, gt, True, True)
    torch.testing.assert_close(cost[0, 0], want_mc + want_sc)


def test_instance_targets_rays_are_max_radius_per_sector() -> None:
    from edge3d.ops import sector_bin
    from training.losses.spherical_mask import instance_targets

    rng = np.random.default_rng(0)
    xyz = torch.from_numpy(rng.normal(size=(60, 3)).astype(np.float32))
    sem = torch.full((60,), 2)
    sem[40:] = 0
    inst = torch.zeros(60, dtype=torch.long)
    inst[:40] = 1
    gt = instance_targets(xyz, sem, inst, (2, 3), 5, 5)
    assert gt["labels"].tolist() == [0]
    torch.testing.assert_close(gt["centers"][0], xyz[:40].mean(0))
    sector, radius = sector_bin(xyz[:40], gt["centers"])
    for s in range(25):
        sel = sector[0] == s
        want = float(radius[0][sel].max()) if sel.any() else 1e-6
        assert float(gt["rays"][0, s]) == pytest.approx(want, rel=1e-6)
    torch.testing.assert_close(gt["boxes"][0, :3], xyz[:40].min(0).values)


@pytest.mark.parametrize("overrides,absent", [
    (["method.use_rpm=false"], ("l_mc", "l_sc", "mask")),
    (["method.l_sc=false"], ()),
    (["method.l_mc=false"], ()),
])
def test_ablation_switches(make_batch, overrides, absent) -> None:
    """Table 5: RID only (no migration), + L_mc, + L_sc."""
    cfg = tiny_config(*overrides)
    model, loss_fn, batch = make_batch(cfg)
    out = _forward(model, batch)
    _loss, parts = loss_fn(out, batch)
    for name in absent:
        assert parts.get(name, 0.0) == 0.0 or name not in parts
    if "method.use_rpm=false" in overrides:
        assert float(out["migration"].abs().max()) == 0.0
        assert not loss_fn.l_mc and not loss_fn.l_sc
    if "method.l_sc=false" in overrides:
        assert parts["l_sc"] == 0.0 and loss_fn.l_mc
    if "method.l_mc=false" in overrides:
        assert parts["l_mc"] == 0.0 and loss_fn.l_sc


def test_code_matching_cost(make_batch) -> None:
    model, loss_fn, batch = make_batch(tiny_config("method.matching=code"))
    loss, _parts = loss_fn(_forward(model, batch), batch)
    assert math.isfinite(float(loss.detach()))
    with pytest.raises(ValueError, match="matching"):
        make_batch(tiny_config("method.matching=other"))


def test_batch_of_two_scenes_is_refused(make_batch) -> None:
    model, loss_fn, batch = make_batch(tiny_config())
    out = _forward(model, batch)
    batch = dict(batch)
    batch["point_batch"] = batch["point_batch"].clone()
    batch["point_batch"][-1] = 1
    with pytest.raises(ValueError, match="batch_size: 1"):
        loss_fn(out, batch)


def test_loss_decreases_on_a_tiny_room(make_batch) -> None:
    model, loss_fn, batch = make_batch(tiny_config())
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss, _ = loss_fn(_forward(model, batch), batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-3:]) < 0.6 * losses[0], losses
