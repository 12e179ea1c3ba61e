"""SSEN trains: the loss falls and the embeddings separate instances (HDBSCAN finds them)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.importorskip("torch")

OVERFIT = ["data.kind=toy", "data.train_seeds=[0,1]", "data.val_seeds=[0,1]",
           "data.val_on_train_ok=true", "data.spacing=0.05", "data.voxel_size=0.1",
           "data.num_workers=0", "data.batch_size=1", "data.cache_dir=null",
           "model.backbone_config.channels=[8,16,32]", "augment.enabled=false",
           "train.epochs=40", "train.val_every=40", "train.log_every=1", "train.lr=0.01",
           "train.schedule=constant",
           "train.progress=false", "method.min_cluster_size=8", "eval.min_region_size=10"]


def test_one_scene_overfits_into_separable_embeddings(tmp_path):
    import torch

    from edge3d.export.onnx_export import to_torch
    from training.config import load_config
    from training.trainer import Trainer, named_outputs

    trainer = Trainer(load_config("training/configs/ssen_synthetic.yaml", OVERFIT), tmp_path)
    metrics = trainer.fit()
    with open(tmp_path / "train.csv") as fh:
        rows = list(csv.DictReader(fh))
    first, last = rows[0], rows[-1]
    assert float(last["loss"]) < 0.5 * float(first["loss"])
    assert float(last["pull"]) < 0.5 and float(last["accuracy"]) > 0.9
    # Separable: instance means further apart than the pull hinge keeps voxels from them.
    sample = trainer.val_set[0]
    batch = trainer.collate([sample])
    trainer.model.eval()
    with torch.no_grad():
        out = named_outputs(trainer.model, trainer.model(to_torch(
            {n: batch[n] for n in trainer.input_names})))
    emb = out["embedding"].numpy()
    inst = sample.arrays["voxel_instance"]
    ids = [i for i in np.unique(inst) if i > 0]
    means = np.stack([emb[inst == i].mean(0) for i in ids])
    spread = max(np.linalg.norm(emb[inst == i] - means[k], axis=1).mean()
                 for k, i in enumerate(ids))
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)[np.triu_indices(len(ids), 1)]
    assert np.median(gaps) > 3 * spread
    # And the runtime post-processing recovers the instances of the scene it learned.
    assert metrics["ap50"] > 0.5
