"""BatchNorm folding is exact, and every backbone learns a small synthetic task."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edge3d.export.onnx_export import to_torch
from edge3d.models.backbones import SparseUNet, SparseUNetConfig, fold_norms
from edge3d.models.backbones.layers import BatchNorm
from edge3d.models.random_inputs import random_inputs
from edge3d.models.toy_semantic import ToySemantic
from training.config import load_config
from training.data.dataset import Collate, SegmentationDataset, feature_channels
from training.data.scenes import SyntheticScenes
from training.losses.toy_semantic import build_targets, target_spec


def test_fold_norms_matches_eval_mode_and_removes_every_norm() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = SparseUNet(SparseUNetConfig(in_channels=3, channels=(8, 16)))
    sizes = dict(M0=120, M1=40)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(to_torch(random_inputs(model.input_spec(), sizes, rng)))
    model.eval()
    folded = fold_norms(model)
    assert not any(isinstance(m, BatchNorm) for m in folded.modules())
    assert any(isinstance(m, BatchNorm) for m in model.modules())  # the original is untouched
    x = to_torch(random_inputs(model.input_spec(), sizes, rng))
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), rtol=1e-5, atol=1e-5)


BACKBONES = {
    "sparse_unet": {"channels": [8, 16]},
    "pointnet2": {"npoints": [256, 64], "radii": [0.15, 0.3], "nsamples": [8, 8],
                  "sa_channels": [[16, 16], [32, 32]], "fp_channels": [[32], [16, 16]]},
    "dense_cnn": {"width": 2, "stem_kernel": 3, "dilation": 2},
}


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_backbone_loss_goes_down_on_a_toy_scene(backbone: str) -> None:
    torch.manual_seed(0)
    config = load_config(None, [
        "method.name=toy_semantic", "method.num_classes=6", f"model.backbone={backbone}",
        "data.spacing=0.06", "data.voxel_size=0.06", "data.grid_shape=[48,48,16]",
        "augment.enabled=false"])
    config["model"]["backbone_config"] = dict(BACKBONES[backbone],
                                              in_channels=feature_channels(config))
    data = SegmentationDataset(SyntheticScenes("toy", [3], 0.06), config, build_targets,
                               train=True)
    model = ToySemantic(backbone, config["model"]["backbone_config"], 6)
    batch = Collate(list(model.input_spec()) + target_spec(config))([data[0]])
    inputs = {s.name: batch[s.name] for s in model.input_spec()}
    target = batch["semantic"].long()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), target, ignore_index=-100)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < 0.5 * losses[0], losses
