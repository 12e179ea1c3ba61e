"""SSEN's loss and targets against hand-computed values (research/methods.md 4.3)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.losses.ssen import (  # noqa: E402
    DELTA_PULL,
    SSENLoss,
    discriminative_loss,
)


def test_pull_is_the_point_weighted_mean_hinge():
    # Instance 1: two voxels at distance 0.5 from their mean; instance 2: one voxel, distance 0.
    emb = torch.tensor([[0.5, 0.0], [-0.5, 0.0], [10.0, 0.0]])
    inst = torch.tensor([1, 1, 2])
    pull, _ = discriminative_loss(emb, inst, torch.zeros(3, dtype=torch.long), 1)
    # Weights N_c / sum N (p = 1): (2/3) * (0.5 - 0.1) + (1/3) * 0.
    assert float(pull) == pytest.approx(2 / 3 * (0.5 - DELTA_PULL), abs=1e-6)


def test_pull_hinge_is_zero_inside_delta():
    emb = torch.tensor([[0.05, 0.0], [-0.05, 0.0]])
    pull, push = discriminative_loss(emb, torch.tensor([1, 1]), torch.zeros(2, dtype=torch.long),
                                     1)
    assert float(pull) == 0.0
    assert float(push) == 0.0  # one instance: no push


def test_push_margin_and_normalisation():
    # Three instances with means on a line at 0, 0.4 and 5: only the pair (0, 0.4) is inside the
    # margin 2 * 0.5 = 1.0; ordered pairs count it twice, divided by 2 * C * (C - 1) = 12.
    emb = torch.tensor([[0.0, 0.0], [0.4, 0.0], [5.0, 0.0]])
    inst = torch.tensor([1, 2, 3])
    _, push = discriminative_loss(emb, inst, torch.zeros(3, dtype=torch.long), 1)
    assert float(push) == pytest.approx(2 * (1.0 - 0.4) / 12, abs=1e-6)


def test_scenes_are_averaged_and_background_ignored():
    emb = torch.tensor([[0.0, 0.0], [0.4, 0.0], [3.0, 3.0], [7.0, 7.0], [7.1, 7.0]])
    inst = torch.tensor([1, 2, 0, 1, 2])
    scene = torch.tensor([0, 0, 0, 1, 1])
    _, push = discriminative_loss(emb, inst, scene, 2)
    per_scene = [2 * (1.0 - 0.4) / 4, 2 * (1.0 - 0.1) / 4]
    assert float(push) == pytest.approx(np.mean(per_scene), abs=1e-5)


def test_total_loss_weights_and_gradients():
    torch.manual_seed(0)
    emb = torch.randn(6, 8, requires_grad=True)
    logits = torch.randn(6, 4, requires_grad=True)
    batch = {"voxel_instance": torch.tensor([1, 1, 2, 2, 0, 0], dtype=torch.int32),
             "voxel_semantic": torch.tensor([2, 2, 3, 3, 0, -100], dtype=torch.int32),
             "point_map": torch.arange(6, dtype=torch.int32),
             "point_batch": torch.zeros(6, dtype=torch.long)}
    total, parts = SSENLoss(semantic_weight=1.0)({"embedding": emb, "semantic_logits": logits},
                                                 batch)
    expected = parts["pull"] + 10.0 * parts["push"] + parts["ce"]
    assert float(total.detach()) == pytest.approx(expected, rel=1e-5)
    total.backward()
    assert torch.isfinite(emb.grad).all() and emb.grad[4:].abs().sum() == 0  # background
    assert torch.isfinite(logits.grad).all() and logits.grad[5].abs().sum() == 0  # ignored


def test_class_balance_weights():
    target = torch.tensor([0, 0, 0, 0, 0, 0, 0, 0, 2, -100])
    loss = SSENLoss(class_balance=0.5)
    w = loss.class_weights(target, 3)
    assert float(w[:9].mean()) == pytest.approx(1.0) and float(w[9]) == 0.0
    assert float(w[8] / w[0]) == pytest.approx(8 ** 0.5)  # (1/8)^-0.5 relative to 1
    assert torch.allclose(SSENLoss(class_balance=0.0).class_weights(target, 3)[:9],
                          torch.ones(9))
