"""Slow: retrain a tiny SSEN from scratch and check it still beats the geometric baseline on
held-out rooms whose floor objects all touch another (the baseline's known failure)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

TINY = ["name=ssen_tiny", "data.train_seeds=[0,8]", "data.val_seeds=[100,101]",
        "data.spacing=0.05", "data.voxel_size=0.1", "data.num_workers=0", "data.cache_dir=null",
        "data.batch_size=1", "model.backbone_config.channels=[8,16,32]", "train.epochs=3",
        "train.val_every=0", "train.progress=false"]
HELD_OUT = (2000, 2001)  # bench/bm_ssen.py's "touching" subset, never used in training


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="a retrain that fits in CI does not reliably separate "
                   "touching objects. The bundled recipe (1500 steps, 40 min) beats the baseline "
                   "on the ten held-out touching rooms (AP50 0.359 vs 0.173); cut to 600 steps "
                   "at 10 cm on touching rooms it gave 0.229 trained with one thread and 0.143 "
                   "with two, and cut to 480 steps at 8 cm 0.195 (docs/ssen.md). This 24-step "
                   "run reaches 0 (issue 5); strict, so the suite fails once it passes and this "
                   "mark must go")
def test_tiny_retrain_beats_geometric_on_touching_objects(tmp_path):
    import edge3d
    from edge3d import synth
    from edge3d.eval import evaluate_segmentation
    from edge3d.export.package_export import export_package
    from training.config import load_config
    from training.trainer import Trainer

    trainer = Trainer(load_config("training/configs/ssen_synthetic.yaml", TINY), tmp_path / "run")
    trainer.fit()
    package, _ = export_package(tmp_path / "run" / "last.pt", tmp_path / "pkg",
                                seeds=(900001,), spacing=0.05, progress=False)
    methods = {"ssen": edge3d.Segmenter(package, backend="ort"),
               "geometric": edge3d.Segmenter("geometric")}
    pairs = {name: [] for name in methods}
    for seed in HELD_OUT:
        lp = synth.make_world(seed, touching_fraction=1.0).surface_points(0.03)
        for name, seg in methods.items():
            pairs[name].append((lp.gt_ids, seg.segment(lp.positions, lp.colors)))
    ap50 = {name: evaluate_segmentation(p, synth.CLASS_NAMES, synth.BACKGROUND_CLASSES,
                                        agnostic=True).ap50 for name, p in pairs.items()}
    assert ap50["ssen"] > ap50["geometric"], ap50
