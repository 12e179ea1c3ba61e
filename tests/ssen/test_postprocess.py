"""SSEN's runtime post-processing: background removal, HDBSCAN, class vote, score."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from edge3d.runtime.methods.ssen import SSENParams, cluster_instances, scaled_min_cluster_size

NAMES = ("floor", "wall", "chair", "table")


def blobs(rng, centers, n, spread=0.05):
    return np.concatenate([c + rng.normal(0, spread, (n, len(c))) for c in centers])


def logits_for(classes, k=4, confident=5.0):
    out = np.zeros((len(classes), k), np.float32)
    out[np.arange(len(classes)), classes] = confident
    return out


def test_three_clusters_and_background():
    rng = np.random.default_rng(0)
    centers = [np.full(8, 0.0), np.full(8, 2.0), np.full(8, -2.0)]
    emb = blobs(rng, centers, 60).astype(np.float32)
    classes = np.repeat([2, 3, 2], 60)
    classes[5] = 3  # one dissenting voxel: the majority still makes the first cluster a chair
    # 40 background voxels right on cluster 0: they must be removed, not clustered
    emb = np.concatenate([emb, blobs(rng, [centers[0]], 40)]).astype(np.float32)
    classes = np.concatenate([classes, np.zeros(40, int)])
    p2v = np.repeat(np.arange(len(emb)), 2)  # two points per voxel
    pos = rng.random((len(p2v), 3)).astype(np.float32)
    r = cluster_instances(emb, logits_for(classes), p2v, pos, NAMES, (0, 1),
                          SSENParams(min_cluster_size=20))
    assert len(r.instances) == 3
    assert sorted(i.class_name for i in r.instances) == ["chair", "chair", "table"]
    assert [i.id for i in r.instances] == [1, 2, 3]
    scores = [i.score for i in r.instances]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert (r.labels[-80:] == -1).all() and (r.classes[-80:] == 0).all()
    for inst in r.instances:
        assert len(inst.indices) == 120  # 60 voxels x 2 points
        assert (r.labels[inst.indices] == inst.id).all()
        assert (r.classes[inst.indices] == inst.class_id).all()


def test_score_falls_with_semantic_disagreement():
    rng = np.random.default_rng(1)
    emb = blobs(rng, [np.zeros(8), np.full(8, 3.0)], 50).astype(np.float32)
    classes = np.repeat([2, 3], 50)
    logits = logits_for(classes)
    logits[50:, 2] = 4.5  # the table cluster is almost a chair too: unsure class
    r = cluster_instances(emb, logits, np.arange(100), rng.random((100, 3)), NAMES, (0, 1),
                          SSENParams(min_cluster_size=20))
    by_class = {i.class_name: i.score for i in r.instances}
    assert by_class["chair"] > by_class["table"]


def test_only_background_gives_no_instances():
    rng = np.random.default_rng(2)
    emb = rng.normal(size=(50, 8)).astype(np.float32)
    r = cluster_instances(emb, logits_for(np.zeros(50, int)), np.arange(50),
                          rng.random((50, 3)), NAMES, (0, 1), SSENParams(min_cluster_size=10))
    assert r.instances == [] and (r.labels == -1).all()


def test_min_cluster_size_scaling_and_validation():
    assert scaled_min_cluster_size(0.02) == 200
    assert scaled_min_cluster_size(0.05) == 32
    assert scaled_min_cluster_size(0.08) == 12
    assert scaled_min_cluster_size(1.0) == 5
    p = SSENParams.from_config({"min_cluster_size": None}, 0.05, (0, 1))
    assert p.min_cluster_size == 32 and p.background_classes == (0, 1)
    with pytest.raises(ValueError, match="min_cluster_size"):
        SSENParams(min_cluster_size=1)


def test_runtime_module_never_imports_torch():
    code = ("import sys, edge3d.runtime.methods.ssen; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_background_removal_sums_probabilities():
    """Objects whose probability is split among object classes are still foreground when
    together they outweigh floor and wall, and their class is the best object class."""
    rng = np.random.default_rng(3)
    emb = blobs(rng, [np.zeros(8)], 40).astype(np.float32)
    # floor 0.4, wall 0.05, chair 0.3, table 0.25: arg-max says floor, the sum says object
    logits = np.log(np.tile([0.4, 0.05, 0.3, 0.25], (40, 1))).astype(np.float32)
    r = cluster_instances(emb, logits, np.arange(40), rng.random((40, 3)), NAMES, (0, 1),
                          SSENParams(min_cluster_size=10))
    assert len(r.instances) == 1 and r.instances[0].class_name == "chair"
    assert 0 < r.instances[0].score <= 0.3 + 1e-6  # agreement: chair's 0.3 at most
    logits[:, 0] = np.log(0.6)  # floor now holds more than half: background
    r = cluster_instances(emb, logits, np.arange(40), rng.random((40, 3)), NAMES, (0, 1),
                          SSENParams(min_cluster_size=10))
    assert r.instances == [] and (r.classes == 0).all()
