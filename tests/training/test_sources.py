"""ScanNet and S3DIS scenes reach training through edge3d.io: a synthetic room is written in
each dataset's on-disk format, read back by the sources, and trained on for one epoch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from edge3d.io import scannet
from edge3d.synth import CLASS_NAMES, make_world
from training.config import load_config
from training.data.scenes import IGNORE, S3DISScenes, ScanNetScenes
from training.distributed import DistInfo
from training.trainer import Trainer

from .helpers import TINY, TOY_CONFIG

# Synthetic class -> the NYU40 label it is written with (clutter is not a benchmark class).
NYU = {"floor": 2, "wall": 1, "chair": 5, "table": 7, "sofa": 6, "cabinet": 3, "bed": 4,
       "bookshelf": 10, "desk": 14, "clutter": 40}


def _room():
    return make_world(0, kind="room").surface_points(0.15)


def _write_scannet(root, name: str) -> None:
    from tests.io.writers import write_scannet_scene

    pts = _room()
    keys = pts.semantic * 1000 + pts.instance
    uniq, seg = np.unique(keys, return_inverse=True)
    groups = [{"id": k, "objectId": k, "segments": [k], "label": CLASS_NAMES[int(u) // 1000]}
              for k, u in enumerate(uniq)]
    write_scannet_scene(root / name, pts.positions, pts.colors, seg.tolist(), groups,
                        {c: NYU[c] for c in CLASS_NAMES})


def test_scannet_scenes_map_to_benchmark_classes(tmp_path) -> None:
    _write_scannet(tmp_path, "scene0000_00")
    scene = ScanNetScenes(tmp_path, ["scene0000_00"])[0]
    pts = _room()
    expected = [scene.class_names.index(
        scannet.NYU40_NAMES[NYU[CLASS_NAMES[c]] - 1]) if CLASS_NAMES[c] != "clutter" else IGNORE
                for c in pts.semantic]
    np.testing.assert_array_equal(scene.semantic, expected)
    assert scene.class_names[:2] == ("wall", "floor") and scene.background_classes == (0, 1)
    things = scene.semantic >= 2
    assert np.all(scene.instance[~things] == 0)
    # One instance id per synthetic object, and vice versa.
    pairs = set(zip(scene.instance[things], pts.instance[things], strict=True))
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})


def test_s3dis_scenes(tmp_path) -> None:
    pts = _room()
    ann = tmp_path / "Area_1" / "office_1" / "Annotations"
    ann.mkdir(parents=True)
    names = {"floor": "floor", "wall": "wall", "chair": "chair", "table": "table",
             "sofa": "sofa", "bookshelf": "bookcase"}
    for k in np.unique(pts.semantic * 1000 + pts.instance):
        m = pts.semantic * 1000 + pts.instance == k
        name = names.get(CLASS_NAMES[k // 1000], "clutter")
        rows = np.concatenate([pts.positions[m], pts.colors[m]], axis=1)
        np.savetxt(ann / f"{name}_{k}.txt", rows, fmt="%.4f")
    scene = S3DISScenes(tmp_path, ["Area_1/office_1"])[0]
    assert len(scene) == len(pts)
    assert scene.colors.min() >= 0 and scene.colors.max() <= 1
    assert set(scene.class_names[c] for c in np.unique(scene.semantic)) <= {
        "floor", "wall", "chair", "table", "sofa", "bookcase", "clutter"}


def test_one_epoch_on_scannet_format(tmp_path) -> None:
    for name in ("scene0000_00", "scene0001_00"):
        _write_scannet(tmp_path, name)
    config = load_config(TOY_CONFIG, [*TINY, "data.source=scannet", f"data.root={tmp_path}",
                                      "data.train_split=[scene0000_00,scene0001_00]",
                                      "data.val_split=[scene0000_00]", "train.epochs=1",
                                      "data.voxel_size=0.15", "method.cc_radius=0.35"])
    trainer = Trainer(config, tmp_path / "run", dist_info=DistInfo(0, 1, torch.device("cpu")))
    assert trainer.config["method"]["num_classes"] == 20
    metrics = trainer.fit()
    assert math.isfinite(metrics["train_loss"]) and math.isfinite(metrics["val_loss"])
    assert (tmp_path / "run" / "last.pt").is_file()


def test_synthetic_scenes_cache_round_trip(tmp_path) -> None:
    from training.data.scenes import SyntheticScenes

    fresh = SyntheticScenes("toy", [7], 0.1)[0]
    cached = SyntheticScenes("toy", [7], 0.1, cache_dir=tmp_path)
    first = cached[0]
    assert [p.name for p in tmp_path.iterdir()] == ["toy_7_0.1.npz"]
    again = cached[0]  # read from the file
    for scene in (first, again):
        for field in ("positions", "colors", "semantic", "instance", "normals"):
            np.testing.assert_array_equal(getattr(scene, field), getattr(fresh, field))
        assert scene.class_names == fresh.class_names


def test_synthetic_world_parameters_reach_make_world_and_the_cache_name(tmp_path) -> None:
    from training.data.scenes import SyntheticScenes

    scenes = SyntheticScenes("room", [3], 0.1, cache_dir=tmp_path,
                             world={"touching_fraction": 1.0})
    scene = scenes[0]
    want = make_world(3, touching_fraction=1.0).surface_points(0.1, seed=3)
    np.testing.assert_array_equal(scene.instance, want.instance)
    default = SyntheticScenes("room", [3], 0.1)[0]
    assert not np.array_equal(scene.positions[:1000], default.positions[:1000])
    assert [p.name for p in tmp_path.iterdir()] == ["room_3_0.1_touching_fraction1.0.npz"]
    with pytest.raises(ValueError, match="touching"):
        SyntheticScenes("room", [3], 0.1, world={"touchingfraction": 1.0})[0]


def test_overlapping_train_and_val_seeds_are_refused() -> None:
    from training.data.scenes import scene_source

    config = load_config(None, ["method.name=toy_semantic", "data.train_seeds=[0,150]",
                                "data.val_seeds=[100,103]"])
    with pytest.raises(ValueError, match="overlap"):
        scene_source(config["data"], "train")
    config["data"]["val_on_train_ok"] = True  # an overfit check says so
    assert len(scene_source(config["data"], "val")) == 3
    config = load_config(None, ["method.name=toy_semantic", "data.train_seeds=[0,150]",
                                "data.val_seeds=[500,503]", "data.world.touching_fraction=1.0"])
    assert scene_source(config["data"], "val").world == {"touching_fraction": 1.0}
