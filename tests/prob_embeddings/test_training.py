"""Probabilistic Embeddings trains: on one toy scene the loss falls and the grouping of the
runtime recovers the scene's instances."""

from __future__ import annotations

import csv

import pytest

pytest.importorskip("torch")

OVERFIT = ["data.kind=toy", "data.train_seeds=[0,1]", "data.val_seeds=[0,1]",
           "data.val_on_train_ok=true", "data.spacing=0.05", "data.voxel_size=0.08",
           "data.num_workers=0", "data.batch_size=1", "data.cache_dir=null",
           "model.backbone_config.npoints=[512,128]", "model.backbone_config.radii=[0.2,0.5]",
           "model.backbone_config.nsamples=[16,16]",
           "model.backbone_config.sa_channels=[[32,32],[64,64]]",
           "model.backbone_config.fp_channels=[[64],[32,32]]", "augment.enabled=false",
           "train.epochs=60", "train.val_every=60", "train.log_every=1", "train.lr=0.005",
           "train.schedule=constant", "train.progress=false", "method.min_instance_rows=4",
           "eval.min_region_size=10"]


def test_one_scene_overfits_into_groupable_gaussians(tmp_path):
    from training.config import load_config
    from training.trainer import Trainer

    trainer = Trainer(load_config("training/configs/prob_embeddings_synthetic.yaml", OVERFIT),
                      tmp_path)
    metrics = trainer.fit()
    with open(tmp_path / "train.csv") as fh:
        rows = list(csv.DictReader(fh))
    first, last = rows[0], rows[-1]
    assert float(last["dice"]) < 0.5 * float(first["dice"])
    assert float(last["accuracy"]) > 0.9
    assert metrics["ap50"] > 0.5
