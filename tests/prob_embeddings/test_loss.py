"""Probabilistic Embeddings' loss (Eq. 5, 6, 8, 12, 17) on small hand-made scenes."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.losses.prob_embeddings import (  # noqa: E402
    ENTROPY_CONSTANT,
    ProbEmbeddingsLoss,
    scene_terms,
)

BACKGROUND = torch.tensor([True, False, False])  # class 0 = floor


def scene(spread: float, sigma: float = 0.1):
    """Two instances of class 1 and 2 around (0,0,0) and (3,0,0), plus floor rows; every row's
    mean is its instance centre plus noise of ``spread``."""
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0, 0], [3.0, 0, 0], [0, 3.0, 0]])
    instance = torch.tensor([1] * 20 + [2] * 20 + [0] * 10)
    semantic = torch.tensor([1] * 20 + [2] * 20 + [0] * 10)
    mu = centres[torch.tensor([0] * 20 + [1] * 20 + [2] * 10)]
    mu = mu + spread * torch.randn(50, 3, generator=g, dtype=torch.float32)
    logits = torch.zeros(50, 3)
    return mu, torch.full((50, 3), sigma), logits, semantic, instance


def test_tight_instances_cost_less_than_spread_ones():
    tight = scene_terms(*scene(0.01), BACKGROUND, "mean")
    loose = scene_terms(*scene(1.0), BACKGROUND, "mean")
    assert tight["ins_ce"] < loose["ins_ce"] and tight["dice"] < loose["dice"]
    assert float(tight["dice"]) >= 0.0


def test_score_target_is_the_similarity_to_the_instance_and_one_for_background():
    mu, sigma, logits, semantic, instance = scene(0.05)
    terms = scene_terms(mu, sigma, logits, semantic, instance, BACKGROUND, "mean")
    # Uniform logits: -ln P = ln 3 everywhere, so L_Score = ln 3 * sum(Q) / (N L).
    from training.losses.prob_embeddings import log_similarity

    q = []
    for k in (1, 2):
        rows = instance == k
        c_mu, c_sigma = mu[rows].mean(0), (sigma[rows] ** 2).mean(0).sqrt()
        q.append(log_similarity(mu[rows], sigma[rows], c_mu, c_sigma).exp())
    expected = math.log(3) * (float(torch.cat(q).sum()) + 10) / (50 * 3)
    assert float(terms["score"]) == pytest.approx(expected, rel=1e-5)


def test_regulariser_is_the_summed_entropy():
    mu, sigma, logits, semantic, instance = scene(0.05, sigma=0.2)
    per_row = ENTROPY_CONSTANT + 3 * math.log(0.2)
    assert float(scene_terms(mu, sigma, logits, semantic, instance, BACKGROUND,
                             "sum")["reg"]) == pytest.approx(50 * per_row, rel=1e-5)
    assert float(scene_terms(mu, sigma, logits, semantic, instance, BACKGROUND,
                             "mean")["reg"]) == pytest.approx(per_row, rel=1e-5)


def test_ignored_rows_and_a_scene_without_instances():
    mu, sigma, logits, semantic, instance = scene(0.05)
    semantic = semantic.clone()
    semantic[:20] = -100
    a = scene_terms(mu, sigma, logits, semantic, instance, BACKGROUND, "mean")
    b = scene_terms(mu[20:], sigma[20:], logits[20:], semantic[20:], instance[20:],
                    BACKGROUND, "mean")
    assert all(float(a[k]) == pytest.approx(float(b[k])) for k in a)
    empty = scene_terms(mu[40:], sigma[40:], logits[40:], semantic[40:], instance[40:],
                        BACKGROUND, "mean")
    assert float(empty["ins_ce"]) == 0.0 and float(empty["score"]) > 0.0


def test_batch_loss_averages_scenes_and_has_gradients():
    mu, sigma, logits, semantic, instance = scene(0.3)
    mu = mu.clone().requires_grad_()
    log_sigma = torch.log(sigma).clone().requires_grad_()
    logits = logits.clone().requires_grad_()
    two = {"mu": torch.cat([mu, mu]), "sigma": torch.cat([log_sigma, log_sigma]).exp(),
           "semantic_logits": torch.cat([logits, logits])}
    batch = {"point_batch": torch.tensor([0] * 50 + [1] * 50),
             "point_map": torch.arange(100, dtype=torch.int32),
             "voxel_semantic": torch.cat([semantic, semantic]),
             "voxel_instance": torch.cat([instance, instance])}
    loss = ProbEmbeddingsLoss((0,), 3, "sum")
    total, parts = loss(two, batch)
    single = scene_terms(mu, log_sigma.exp(), logits, semantic, instance, BACKGROUND, "sum")
    assert parts["ins_ce"] == pytest.approx(float(single["ins_ce"].detach()), rel=1e-5)
    total.backward()
    for t in (mu, log_sigma, logits):
        assert t.grad is not None and torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="reg_reduction"):
        ProbEmbeddingsLoss((0,), 3, "max")


def test_targets_per_point_without_voxelize():
    from training.data.scenes import Scene
    from training.losses.prob_embeddings import build_targets

    pos = np.arange(12, dtype=np.float32).reshape(4, 3)
    s = Scene("s", pos, np.zeros_like(pos), np.array([0, 2, 2, 9], np.int32),
              np.array([0, 7, 7, 3], np.int32), ("a", "b", "c"), (0,))
    t = build_targets(s, {"model": {"backbone_config": {}}, "method": {"num_classes": 3}})
    assert t["voxel_semantic"].tolist() == [0, 2, 2, -100]
    assert t["voxel_instance"].tolist() == [0, 1, 1, 0]
    assert t["point_map"].tolist() == [0, 1, 2, 3]


def test_mse_score_loss_uses_the_same_target():
    mu, sigma, logits, semantic, instance = scene(0.05)
    centre = scene_terms(mu, sigma, logits, semantic, instance, BACKGROUND, "mean")
    mse = scene_terms(mu, sigma, logits, semantic, instance, BACKGROUND, "mean", "mse")
    # Uniform P = 1/3: sum_l (P - Q)^2 = (1/3 - q)^2 + 2 / 9 per row.
    from training.losses.prob_embeddings import log_similarity

    q = [torch.ones(10)]
    for k in (1, 2):
        rows = instance == k
        q.append(log_similarity(mu[rows], sigma[rows], mu[rows].mean(0),
                                (sigma[rows] ** 2).mean(0).sqrt()).exp())
    q = torch.cat(q)
    expected = float(((1 / 3 - q) ** 2 + 2 / 9).sum()) / (50 * 3)
    assert float(mse["score"]) == pytest.approx(expected, rel=1e-5)
    assert float(mse["ins_ce"]) == pytest.approx(float(centre["ins_ce"]))
    with pytest.raises(ValueError, match="score_loss"):
        ProbEmbeddingsLoss((0,), 3, "sum", score_loss="l1")
