"""A tiny toy_semantic config for the training tests (seconds per epoch on one core)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOY_CONFIG = ROOT / "training" / "configs" / "toy_semantic.yaml"

TINY = [
    "data.train_seeds=[0,4]", "data.val_seeds=[100,102]", "data.spacing=0.08",
    "data.voxel_size=0.08", "data.batch_size=2", "model.backbone_config.channels=[8,16]",
    "method.cc_radius=0.2", "eval.min_region_size=10", "train.progress=false",
    "train.val_every=1", "train.log_every=1",
]
