"""Spherical Mask's torch-free runtime parts: sampling, scoring, assembly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from edge3d.runtime.methods.spherical_mask import (
    SphericalMaskParams,
    assemble_instances,
    foreground_voxels,
    group_queries,
    round_sizes,
    sample_seeds,
)


def test_round_sizes_as_the_reference() -> None:
    """n = clip(N_fg / 300, 150, 500); int(-n/2 ln a) for a = 0.1, 0.2, 0.4 (research 5.8)."""
    p = SphericalMaskParams(n_min=150, n_max=500, fg_per_query=300)
    assert round_sizes(1000, p) == [172, 120, 68]
    assert round_sizes(300 * 500 * 3, p) == [575, 402, 229]


def test_foreground_and_seeds() -> None:
    rng = np.random.default_rng(1)
    xyz = rng.random((400, 3)).astype(np.float32) * 3
    logits = np.zeros((400, 4), np.float32)
    logits[:150, 3] = 10.0                        # class 3 (a thing) certain
    logits[150:, 0] = 10.0                        # background
    fg = foreground_voxels(logits, (2, 3), 0.1)
    assert fg[:150].all() and not fg[150:].any()
    s = sample_seeds(xyz, fg, 40, (0.3, 0.6, 1.2), (8, 8, 8))
    assert s["seed_index"].shape == (40,) and np.all(s["seed_index"] < 150)
    group = s["seed_group"]
    assert group.shape == (40, 8) and np.all(group < 150)
    for row, seed in zip(group, s["seed_index"], strict=True):
        d = np.linalg.norm(xyz[row] - xyz[seed], axis=1)
        assert np.all(d < 0.3 + 1e-6)
    q = group_queries(xyz, s["seed_index"], np.arange(10, dtype=np.int32), (0.3, 0.6, 1.2),
                      (8, 8, 8))
    assert q["query_group"].shape == (10, 8) and np.all(q["query_group"] < 40)
    assert q["query_neighbors"].shape == (10, 8) and np.all(q["query_neighbors"] < 10)
    # No foreground at all: every voxel is a candidate.
    none = sample_seeds(xyz, np.zeros(400, bool), 40, (0.3, 0.6, 1.2), (8, 8, 8))
    assert len(none["seed_index"]) == 40


def test_assemble_scores_topk_sizes_and_overlaps() -> None:
    """score = sqrt(p_cls * clamp(conf)); masks = logits >= 0; NMS decays the duplicate;
    small masks dropped; each point labelled by its best instance."""
    params = SphericalMaskParams(thing_classes=(2, 3), top_k=3, min_mask_voxels=2,
                                 min_mask_points=2)
    big = np.log(np.array([0.8, 0.1, 0.1]))
    cls = np.stack([big, big, np.log([0.1, 0.8, 0.1])])
    conf = np.array([1.0, 0.5, 2.0])               # clamped to 1
    logits = -np.ones((3, 6))
    logits[0, :4] = 1.0                             # voxels 0-3
    logits[1, :4] = 1.0                             # same mask, lower score
    logits[2, 3] = 1.0                              # one voxel: under min_mask_voxels
    out = {"cls_logits": cls, "confidence": conf, "mask_logits": logits}
    p2v = np.array([0, 1, 2, 3, 4, 5, 0])
    pts = np.arange(21, dtype=np.float32).reshape(7, 3)
    names = ("floor", "wall", "chair", "table")
    r = assemble_instances(out, p2v, pts, names, params)
    s0, s1 = np.sqrt(0.8 * 1.0), np.sqrt(0.8 * 0.5)
    scores = [i.score for i in r.instances]
    # Candidates: (q0, chair) s0, (q2, table) 0.894 -> too small, (q1, chair) s1 decayed.
    assert len(r.instances) == 2
    np.testing.assert_allclose(scores, [s0, s1 * np.exp(-2.0)], rtol=1e-5)
    assert [i.class_name for i in r.instances] == ["chair", "chair"]
    assert r.labels.tolist() == [1, 1, 1, 1, -1, -1, 1]
    assert r.classes.tolist() == [2, 2, 2, 2, -1, -1, 2]


def test_runtime_module_does_not_import_torch() -> None:
    code = ("import sys; import edge3d.runtime.methods.spherical_mask, edge3d.native; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
