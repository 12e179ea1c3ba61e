"""A tiny Probabilistic Embeddings checkpoint (untrained weights, the real checkpoint format)
and its package, for the export and runtime tests."""

from __future__ import annotations

import pytest

TINY = ["model.backbone_config.npoints=[256,64]", "model.backbone_config.radii=[0.3,0.8]",
        "model.backbone_config.nsamples=[8,8]", "model.backbone_config.sa_channels=[[8],[16]]",
        "model.backbone_config.fp_channels=[[16],[8]]", "data.voxel_size=0.15"]
SEEDS = (900001,)
SPACING = 0.06


@pytest.fixture(scope="session")
def tiny_config():
    pytest.importorskip("torch")
    from training.config import load_config
    from training.trainer import prepare_config

    return prepare_config(load_config("training/configs/prob_embeddings_synthetic.yaml", TINY))


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_config, tmp_path_factory):
    import torch

    from edge3d.models.checkpoint import save_checkpoint
    from training.config import dump_config
    from training.registry import get_method

    torch.manual_seed(0)
    model = get_method("prob_embeddings").build_model(tiny_config)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, {"model": model.state_dict(), "epoch": 1, "step": 0,
                           "metrics": {"ap": 0.0}, "config": dump_config(tiny_config)})
    return path


@pytest.fixture(scope="session")
def tiny_package(tiny_checkpoint, tmp_path_factory):
    from edge3d.export.package_export import export_package

    out = tmp_path_factory.mktemp("pkg") / "tiny_pe"
    return export_package(tiny_checkpoint, out, seeds=SEEDS, spacing=SPACING,
                          provenance={"command": "tests/prob_embeddings/conftest.py"},
                          progress=False)
