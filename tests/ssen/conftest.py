"""A tiny SSEN checkpoint (untrained weights, real training-checkpoint format) and its package,
for the exporter's tests (test_export.py)."""

from __future__ import annotations

import pytest

TINY = ["model.backbone_config.channels=[4,8]", "data.voxel_size=0.15",
        "method.min_cluster_size=6"]
SEEDS = (900001,)
SPACING = 0.06


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from edge3d.models.checkpoint import save_checkpoint
    from training.config import dump_config, load_config
    from training.registry import get_method
    from training.trainer import prepare_config

    config = prepare_config(load_config("training/configs/ssen_synthetic.yaml", TINY))
    torch.manual_seed(0)
    model = get_method("ssen").build_model(config)
    # A few training-mode passes give BatchNorm non-trivial running statistics to fold.
    from edge3d.export.onnx_export import to_torch
    from edge3d.export.package_export import validation_clouds
    from edge3d.models.ssen import example_inputs, package_sections

    points, colors = validation_clouds(SEEDS, SPACING)[0]
    feeds = to_torch(example_inputs(model, package_sections(config), points, colors)["main"])
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(feeds)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, {"model": model.state_dict(), "epoch": 1, "step": 3,
                           "metrics": {"ap": 0.0}, "config": dump_config(config)})
    return path


@pytest.fixture(scope="session")
def tiny_package(tiny_checkpoint, tmp_path_factory):
    from edge3d.export.package_export import export_package

    out = tmp_path_factory.mktemp("pkg") / "tiny_ssen"
    path, report = export_package(tiny_checkpoint, out, seeds=SEEDS, spacing=SPACING,
                                  provenance={"command": "tests/ssen/conftest.py"},
                                  progress=False)
    return path, report
