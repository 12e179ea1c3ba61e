"""Checkpoint -> two-graph package: ONNX Runtime and PyTorch give identical instances."""

from __future__ import annotations

import numpy as np
import pytest

from tests.spherical_mask.conftest import tiny_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def package(tmp_path_factory, make_batch):
    import torch

    from edge3d.models.checkpoint import save_checkpoint
    from training.config import dump_config

    cfg = tiny_config()
    model, loss_fn, batch = make_batch(cfg)
    # A few steps, so BatchNorm statistics and the heads are not at their initial values.
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    names = [s.name for s in model.input_spec()]
    from training.trainer import named_outputs

    for _ in range(3):
        opt.zero_grad()
        out = named_outputs(model, model({n: batch[n] for n in names}))
        loss_fn(out, batch)[0].backward()
        opt.step()
    tmp = tmp_path_factory.mktemp("sm")
    ckpt = save_checkpoint(tmp / "last.pt", {"model": model.state_dict(), "epoch": 3,
                                             "step": 3, "config": dump_config(cfg)})
    from edge3d.export.package_export import export_package

    path, report = export_package(ckpt, tmp / "pkg", seeds=(900001, 900002), spacing=0.1,
                                  progress=False, provenance={"command": "test"})
    return path, report


def test_identical_instances(package) -> None:
    _, report = package
    assert report.samples == 2 and report.differing_points == 0
    assert report.max_abs_diff["points/semantic_logits"] < 1e-3


def test_package_has_both_graphs_and_variants(package) -> None:
    import onnx

    from edge3d.package import load_package

    path, _ = package
    pkg = load_package(path)
    assert set(pkg.graphs) == {"points", "queries"}
    trt = onnx.load(str(pkg.graph_file("queries", "trt")))
    portable = onnx.load(str(pkg.graph_file("queries", "portable")))
    ops = [(n.domain, n.op_type) for n in trt.graph.node]
    assert ("edge3d", "SectorMask") in ops
    assert len(trt.functions) == 0 and {f.name for f in portable.functions} == {"SectorMask"}
    assert pkg.provenance["command"] == "test"
    assert pkg.postprocess["n_azimuth"] == 5


def test_segmenter_runs_the_package(package) -> None:
    import edge3d
    from edge3d import synth

    path, _ = package
    seg = edge3d.Segmenter(str(path), backend="ort", device="cpu")
    lp = synth.make_world(5).surface_points(0.1, seed=5)
    pts = lp.positions.astype(np.float32)
    result = seg.segment(pts, lp.colors.astype(np.float32) / 255.0)
    assert result.labels.shape == (len(pts),)
    for key in ("preprocess", "network_points", "sampling", "network_queries", "postprocess"):
        assert key in result.timings
    scores = [i.score for i in result.instances]
    assert scores == sorted(scores, reverse=True)
    # One superpoint per point changes nothing; coarse ones make each mask a union of them.
    cols = lp.colors.astype(np.float32) / 255.0
    same = seg.segment(pts, cols, superpoints=np.arange(len(pts)))
    np.testing.assert_array_equal(same.labels, result.labels)
    cells = np.floor(pts / 0.5).astype(np.int64) @ np.array([1, 1000, 1000000])
    coarse = seg.segment(pts, cols, superpoints=cells)
    for inst in coarse.instances:
        members = np.isin(cells, np.unique(cells[inst.indices]))
        assert np.array_equal(np.flatnonzero(members), np.sort(inst.indices))


@pytest.mark.tensorrt
def test_tensorrt_engines_and_instances(package) -> None:
    """Both graphs build with the SectorMask plugin (build_engine checks every edge3d node
    became a plugin layer) and the TensorRT segmenter finds ONNX Runtime's instances."""
    import edge3d
    from edge3d import synth
    from edge3d.export.engine import build_engine
    from edge3d.export.package_export import canonical
    from edge3d.package import load_package

    path, _ = package
    pkg = load_package(path)
    for graph in ("points", "queries"):
        assert build_engine(pkg.graph_file(graph, "trt"), "fp32").is_file()
    lp = synth.make_world(5).surface_points(0.1, seed=5)
    pts = lp.positions.astype(np.float32)
    cols = lp.colors.astype(np.float32) / 255.0
    a = edge3d.Segmenter(str(path), backend="ort", device="cpu").segment(pts, cols)
    b = edge3d.Segmenter(str(path), backend="tensorrt", device="cuda").segment(pts, cols)
    np.testing.assert_array_equal(canonical(a.labels), canonical(b.labels))
    np.testing.assert_array_equal(a.classes, b.classes)
