"""The network's heads (Table 2) and the embedding variants of the paper's ablation."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def outputs(tiny_config, embedding: str):
    from edge3d import synth
    from edge3d.export.onnx_export import to_torch
    from edge3d.models.prob_embeddings import build, example_inputs, package_sections

    config = {**tiny_config, "method": {**tiny_config["method"], "embedding": embedding}}
    torch.manual_seed(0)
    model = build(config).eval()
    lp = synth.make_world(7).surface_points(0.1)
    feeds = example_inputs(model, package_sections(config), lp.positions,
                           lp.colors.astype(np.float32) / 255)["main"]
    with torch.no_grad():
        mu, sigma, logits = model(to_torch(feeds))
    return feeds, mu.numpy(), sigma.numpy(), logits.numpy()


def test_table_2_activations(tiny_config):
    feeds, mu, sigma, logits = outputs(tiny_config, "anisotropic")
    offset = mu - feeds["xyz"]
    assert np.all(np.abs(offset) < 1.0)                    # mu = x + tanh(o)
    assert np.all(sigma > 0) and np.all(np.isfinite(sigma))
    assert not np.allclose(sigma[:, 0], sigma[:, 1])       # one sigma per axis
    assert logits.shape == (len(mu), tiny_config["method"]["num_classes"])


def test_ablation_variants(tiny_config):
    from edge3d.models.prob_embeddings import INITIAL_SIGMA

    _, _, sigma, _ = outputs(tiny_config, "isotropic")
    assert np.allclose(sigma, sigma[:, :1]) and np.ptp(sigma[:, 0]) > 0
    _, _, sigma, _ = outputs(tiny_config, "deterministic")
    assert np.allclose(sigma, INITIAL_SIGMA)
    with pytest.raises(ValueError, match=r"method\.embedding must be one of"):
        outputs(tiny_config, "gaussian")
