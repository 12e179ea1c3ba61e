"""A tiny Spherical Mask setup on one small synthetic room, shared by the tests."""

from __future__ import annotations

import pytest


def tiny_config(*overrides: str) -> dict:
    from training.config import load_config
    from training.trainer import prepare_config

    return prepare_config(load_config(
        "training/configs/spherical_mask_synthetic.yaml",
        ["data.spacing=0.1", "data.voxel_size=0.2", "data.cache_dir=null",
         "model.backbone_config.channels=[8,16]", "method.n_seed=32", "method.n_query=8",
         "method.agg_channels=[8,16]", "method.dec_channels=16", "method.mask_channels=8",
         "method.dyco_channels=8", "method.nsamples=[8,8,8]", "method.n_min=8",
         "method.n_max=16", "method.min_mask_voxels=2", "method.min_mask_points=5",
         *overrides]))


@pytest.fixture(scope="session")
def room():
    from training.data.scenes import SyntheticScenes

    return SyntheticScenes("room", [3], 0.1)[0]


@pytest.fixture(scope="session")
def make_batch(room):
    """``make_batch(config) -> (model, loss, batch)`` for the shared room (no augmentation)."""
    import torch

    from training.data.dataset import Collate, SegmentationDataset
    from training.registry import get_method

    def make(config):
        torch.manual_seed(0)
        method = get_method("spherical_mask")
        model = method.build_model(config)
        loss = method.build_loss(config)
        ds = SegmentationDataset([room], config, method.build_targets, train=False)
        collate = Collate(list(model.input_spec()) + list(method.target_spec(config)))
        return model, loss, collate([ds[0]])

    return make
