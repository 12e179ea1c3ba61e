"""edge3d-export on Probabilistic Embeddings: the package's instances are PyTorch's, the
package runs through edge3d.Segmenter without torch, and the grouping maps rows to points."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.torch_free import segment_without_torch

from .conftest import SPACING


def test_manifest_and_validation(tiny_package):
    from edge3d.package import load_package

    path, report = tiny_package
    pkg = load_package(path, method="prob_embeddings")
    assert pkg.preprocess["voxelize"] is True and pkg.preprocess["features"] == ["rgb"]
    assert pkg.voxel_size == pytest.approx(0.15)
    assert pkg.postprocess["tau"] == pytest.approx(0.35)
    outputs = [t.name for t in pkg.graphs["main"].outputs]
    assert outputs == ["mu", "sigma", "semantic_logits"]
    assert report.differing_points == 0 and report.samples == 1
    assert max(report.max_abs_diff.values()) < 1e-3


def test_segmenter_matches_pytorch_without_torch(tiny_package, tiny_checkpoint, tmp_path):
    from edge3d import synth
    from edge3d.export.package_export import TorchBackend, canonical, read_checkpoint
    from edge3d.models.prob_embeddings import build
    from edge3d.package import load_package
    from edge3d.runtime.methods.prob_embeddings import ProbEmbeddingsSegmenter
    from edge3d.runtime.segmenter import validate_points

    path, _ = tiny_package
    lp = synth.make_world(900003).surface_points(SPACING)
    labels, classes = segment_without_torch(path, lp.positions, lp.colors, tmp_path,
                                            "prob_embeddings", min_instance_rows=1)
    state = read_checkpoint(tiny_checkpoint)
    model = build(state["config"])
    model.load_state_dict(state["model"])
    seg = ProbEmbeddingsSegmenter.create(load_package(path), "ort", "cpu", min_instance_rows=1)
    seg.backends = {"main": TorchBackend(model.eval())}
    ref = seg.segment(*validate_points(lp.positions, lp.colors))
    assert len(ref.instances) > 0
    assert (canonical(labels) == canonical(ref.labels)).all()
    assert (classes == ref.classes).all()


def test_grouping_maps_rows_to_points_and_filters_small_instances():
    from edge3d.runtime.methods.prob_embeddings import ProbEmbeddingsParams, group_instances

    # Rows 0-2: one object of class 2 (seed: row 1); row 3: a lone row of class 1; rows 4-5:
    # floor (class 0), never grouped.
    mu = np.array([[0, 0, 0], [0.01, 0, 0], [0, 0.01, 0], [5, 5, 5], [9, 9, 9], [9, 9, 9]],
                  np.float32)
    sigma = np.full((6, 3), 0.1, np.float32)
    logits = np.full((6, 3), -5.0, np.float32)
    logits[[0, 1, 2], 2] = [2.0, 4.0, 2.0]
    logits[3, 1] = 1.0
    logits[[4, 5], 0] = 5.0
    point_to_row = np.array([0, 0, 1, 2, 3, 4, 5, 5])
    positions = np.arange(24, dtype=np.float32).reshape(8, 3)
    names = ["floor", "chair", "table"]
    params = ProbEmbeddingsParams(min_instance_rows=2, background_classes=(0,))
    r = group_instances(mu, sigma, logits, point_to_row, positions, names, params)
    assert r.labels.tolist() == [1, 1, 1, 1, -1, -1, -1, -1]
    assert r.classes.tolist() == [2, 2, 2, 2, 1, 0, 0, 0]
    (inst,) = r.instances
    assert inst.class_name == "table" and inst.indices.tolist() == [0, 1, 2, 3]
    p = np.exp(logits[1]) / np.exp(logits[1]).sum()
    assert 0.9 * p[2] < inst.score <= p[2]
    params = ProbEmbeddingsParams(min_instance_rows=1, background_classes=(0,))
    r = group_instances(mu, sigma, logits, point_to_row, positions, names, params)
    assert [i.class_name for i in r.instances] == ["table", "chair"]


@pytest.mark.parametrize("bad, match", [({"tau": 0.0}, "tau"), ({"min_instance_rows": 0},
                                        "min_instance_rows"), ({"tau": "a"}, "tau")])
def test_bad_parameters_are_named(bad, match):
    from edge3d.runtime.methods.prob_embeddings import ProbEmbeddingsParams

    with pytest.raises(ValueError, match=match):
        ProbEmbeddingsParams(**bad)


def test_post_processing_parameters_set_at_export(tiny_checkpoint, tmp_path, capsys):
    from edge3d.export.cli import main
    from edge3d.package import load_package

    out = tmp_path / "pkg"
    assert main([str(tiny_checkpoint), "--out", str(out), "--quiet", "--no-validate",
                 "--param", "tau=0.5", "--param", "min_instance_rows=30"]) == 0
    pkg = load_package(out)
    assert pkg.postprocess["tau"] == 0.5 and pkg.postprocess["min_instance_rows"] == 30
    assert pkg.provenance["postprocess_overrides"] == {"tau": 0.5, "min_instance_rows": 30}
    capsys.readouterr()
    for bad, message in (("radius=2", "unknown option.*it accepts.*tau"),
                         ("tau=2", r"tau must be in \(0, 1\]"), ("tau", "is not KEY=VALUE")):
        assert main([str(tiny_checkpoint), "--out", str(tmp_path / "x"), "--quiet",
                     "--no-validate", "--param", bad]) == 1
        assert re.search(message, capsys.readouterr().err), bad
    assert not (tmp_path / "x").exists()
