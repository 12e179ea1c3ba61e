"""edge3d-export on SSEN: checkpoint -> ONNX -> model package, validated; errors through
Segmenter (the exporter is every method's; Spherical Mask's two graphs:
tests/spherical_mask/test_export.py)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from edge3d.errors import FormatError, PackageError
from tests.torch_free import segment_without_torch

from .conftest import SEEDS, SPACING


def test_round_trip_manifest(tiny_package):
    from edge3d.package import load_package

    path, report = tiny_package
    pkg = load_package(path, method="ssen")
    assert pkg.voxel_size == pytest.approx(0.15)
    assert pkg.class_names[:2] == ("floor", "wall") and pkg.background_classes == (0, 1)
    assert pkg.preprocess["levels"] == 2 and pkg.preprocess["features"] == ["rgb", "xyz"]
    assert pkg.postprocess["min_cluster_size"] == 6
    graph = pkg.graphs["main"]
    assert [t.name for t in graph.outputs] == ["embedding", "semantic_logits"]
    assert graph.inputs[0].name == "features" and graph.inputs[0].shape == ("M0", 6)
    assert pkg.graph_file("main", "portable").is_file() and pkg.graph_file("main", "trt").is_file()
    prov = pkg.provenance
    assert prov["command"] == "tests/ssen/conftest.py" and prov["step"] == 3
    assert prov["export_validation"]["differing_points"] == 0
    assert report.differing_points == 0 and report.samples == 1
    assert max(report.max_abs_diff.values()) < 1e-3


def test_segmenter_matches_pytorch_without_torch(tiny_package, tiny_checkpoint, tmp_path):
    """The package through edge3d.Segmenter in a fresh process (torch never imported) gives
    the instances the PyTorch network gives on a room the export never saw."""
    from edge3d import synth
    from edge3d.export.package_export import TorchBackend, canonical, read_checkpoint
    from edge3d.models.ssen import build
    from edge3d.package import load_package
    from edge3d.runtime.methods.ssen import SSENSegmenter
    from edge3d.runtime.segmenter import validate_points

    path, _ = tiny_package
    lp = synth.make_world(900003).surface_points(SPACING)
    labels, classes = segment_without_torch(path, lp.positions, lp.colors, tmp_path, "ssen")
    state = read_checkpoint(tiny_checkpoint)
    model = build(state["config"])
    model.load_state_dict(state["model"])
    seg = SSENSegmenter.create(load_package(path), "ort", "cpu")
    seg.backends = {"main": TorchBackend(model.eval())}
    # The points as edge3d.Segmenter hands them to the method (in its local frame).
    ref = seg.segment(*validate_points(lp.positions, lp.colors))
    assert len(ref.instances) > 0
    assert (canonical(labels) == canonical(ref.labels)).all()
    assert (classes == ref.classes).all()


def test_differing_instances_fail_with_the_measured_difference(tiny_checkpoint, tmp_path,
                                                               monkeypatch):
    """A network whose PyTorch outputs differ from the ONNX graph's (here: the embedding
    shifted per voxel) must stop the export, name the difference and write nothing."""
    from edge3d.export import package_export

    class Shifted(package_export.TorchBackend):
        def run(self, feeds):
            out = super().run(feeds)
            rng = np.random.default_rng(0)
            out["embedding"] = out["embedding"] + rng.normal(
                0, 1.0, out["embedding"].shape).astype(np.float32)
            return out

    monkeypatch.setattr(package_export, "TorchBackend", Shifted)
    out = tmp_path / "pkg"
    with pytest.raises(package_export.ExportValidationError,
                       match=r"differ from PyTorch's on \d+ of \d+ points.*embedding"):
        package_export.export_package(tiny_checkpoint, out, seeds=SEEDS, spacing=SPACING,
                                      progress=False)
    assert not out.exists()


def test_cli_writes_a_package_and_rejects_bad_checkpoints(tiny_checkpoint, tmp_path, capsys):
    from edge3d.export.cli import main

    out = tmp_path / "cli_pkg"
    # The untrained network's embeddings are nearly all alike, so instances on a dense room
    # hinge on 1e-6 differences between ONNX Runtime and PyTorch: validate on the fixture's
    # sparser sample, as the fixture does.
    assert main([str(tiny_checkpoint), "--out", str(out), "--quiet", "--seeds", "900001",
                 "--spacing", str(SPACING), "--note", "command=edge3d-export test", "--note",
                 "metrics={\"ap\": 1}"]) == 0
    manifest = json.loads((out / "edge3d.json").read_text())
    assert manifest["method"] == "ssen"
    assert manifest["provenance"]["metrics"] == {"ap": 1}
    assert "identical instances" in capsys.readouterr().out
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    assert main([str(junk), "--out", str(tmp_path / "x"), "--quiet"]) == 1
    assert "not a readable checkpoint" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.pt"), "--out", str(tmp_path / "x"), "--quiet"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_checkpoint_of_an_unexportable_method(tmp_path):
    import torch

    from edge3d.export.package_export import export_package, read_checkpoint

    path = tmp_path / "toy.pt"
    torch.save({"format": "edge3d-training-checkpoint", "version": 1, "model": {},
                "config": "method: {name: nosuch}\n"}, path)
    assert read_checkpoint(path)["config"]["method"]["name"] == "nosuch"
    with pytest.raises(FormatError, match="cannot package method 'nosuch'"):
        export_package(path, tmp_path / "out", progress=False)
    # A registered method without graphs: the message lists the methods that can be packaged.
    from edge3d import methods

    graphless = next(d.name for d in methods.descriptions() if not d.exportable)
    exportable = [d.name for d in methods.descriptions() if d.exportable]
    torch.save({"format": "edge3d-training-checkpoint", "version": 1, "model": {},
                "config": f"method: {{name: {graphless}}}\n"}, path)
    with pytest.raises(FormatError, match=f"no network graphs.*{', '.join(exportable)}"):
        export_package(path, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.fixture()
def package_copy(tiny_package, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(tiny_package[0], dst)
    return dst


def test_segmenter_rejects_a_corrupt_graph(package_copy):
    import edge3d

    onnx_file = package_copy / "model.onnx"   # no edge3d ops: one file serves both variants
    data = bytearray(onnx_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx_file.write_bytes(bytes(data))
    with pytest.raises(PackageError, match=r"model\.onnx is corrupt"):
        edge3d.Segmenter(package_copy)


def test_segmenter_rejects_a_truncated_graph(package_copy):
    import edge3d

    onnx_file = package_copy / "model.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes()[:1000])
    with pytest.raises(PackageError, match="truncated or replaced"):
        edge3d.Segmenter(package_copy)


def _edit_manifest(path, **changes):
    """Edit the manifest and re-seal its checksum, so the checks behind the checksum run."""
    from edge3d.package import MANIFEST_DIGEST, manifest_digest

    manifest = json.loads((path / "edge3d.json").read_text())
    manifest.update(changes)
    manifest[MANIFEST_DIGEST] = manifest_digest(manifest)
    (path / "edge3d.json").write_text(json.dumps(manifest))


def test_segmenter_rejects_an_unknown_method(package_copy):
    import edge3d

    _edit_manifest(package_copy, method="mystery")
    with pytest.raises(PackageError, match="'mystery' model, which this edge3d cannot run"):
        edge3d.Segmenter(package_copy)


def test_wrong_method_and_newer_format(package_copy):
    import edge3d
    from edge3d.package import load_package

    with pytest.raises(PackageError, match="holds a 'ssen' model, not 'other_method'"):
        load_package(package_copy, method="other_method")
    _edit_manifest(package_copy, format_version=99)
    with pytest.raises(PackageError, match="newer than this edge3d supports"):
        edge3d.Segmenter(package_copy)


def test_parameter_schema_versions(package_copy):
    import json

    import edge3d
    from edge3d.methods import describe

    current = describe("ssen").params_version
    assert json.loads((package_copy / "edge3d.json").read_text())["params_version"] == current
    _edit_manifest(package_copy, params_version=current + 1)
    with pytest.raises(PackageError, match=f"version {current + 1}.*upgrade edge3d"):
        edge3d.Segmenter(package_copy)
    if current > 1:
        _edit_manifest(package_copy, params_version=current - 1)
        with pytest.raises(PackageError, match="re-export it from its checkpoint"):
            edge3d.Segmenter(package_copy)
    _edit_manifest(package_copy, params_version=0)
    with pytest.raises(PackageError, match="params_version must be a version number"):
        edge3d.Segmenter(package_copy)


def test_missing_preprocess_fields(package_copy):
    import edge3d

    _edit_manifest(package_copy, preprocess={})
    with pytest.raises(PackageError, match=r"preprocess section is invalid.*lacks levels"):
        edge3d.Segmenter(package_copy)


def test_unknown_option(tiny_package):
    import edge3d

    with pytest.raises(TypeError, match=r"unknown option.*bogus"):
        edge3d.Segmenter(tiny_package[0], bogus=1)
    seg = edge3d.Segmenter(tiny_package[0], min_cluster_size=9)
    assert seg.describe()["params"]["min_cluster_size"] == 9
