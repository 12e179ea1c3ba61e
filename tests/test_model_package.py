"""The model package format: atomic writes, verification on load, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge3d.errors import PackageError
from edge3d.package import (
    FORMAT_VERSION,
    MANIFEST,
    MANIFEST_DIGEST,
    GraphSpec,
    TensorSpec,
    load_package,
    manifest_digest,
    resolve_package,
    write_package,
)


def _write(tmp_path: Path, out: Path | None = None, payload: bytes = b"onnx-bytes") -> Path:
    src = tmp_path / "src.onnx"
    src.write_bytes(payload)
    graph = GraphSpec(
        name="main", files={"portable": "model.portable.onnx"},
        inputs=(TensorSpec("features", "float32", ("num_voxels", 6)),),
        outputs=(TensorSpec("embedding", "float32", ("num_voxels", 8)),),
    )
    return write_package(
        out or tmp_path / "pkg", method="my_method", class_names=["floor", "wall", "chair"],
        voxel_size=0.05, graphs={"main": graph}, files={"model.portable.onnx": src},
        background_classes=[0, 1], postprocess={"min_cluster_size": 20},
        provenance={"seed": 3},
    )


def _rewrite(path: Path, m: dict, reseal: bool = True) -> None:
    """Write manifest ``m``; ``reseal`` recomputes its checksum, as a deliberate forger (or a
    buggy tool) would, so that the checks behind the checksum are reached."""
    if reseal:
        m[MANIFEST_DIGEST] = manifest_digest(m)
    (path / MANIFEST).write_text(json.dumps(m))


def test_round_trip(tmp_path: Path) -> None:
    pkg = load_package(_write(tmp_path), method="my_method")
    assert pkg.method == "my_method"
    assert pkg.class_names == ("floor", "wall", "chair")
    assert pkg.background_classes == (0, 1)
    assert pkg.voxel_size == 0.05
    assert pkg.graphs["main"].inputs[0].shape == ("num_voxels", 6)
    assert pkg.graph_file().read_bytes() == b"onnx-bytes"
    assert pkg.postprocess["min_cluster_size"] == 20
    assert pkg.provenance["seed"] == 3


def test_wrong_method(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="holds a 'my_method' model, not 'other_method'"):
        load_package(_write(tmp_path), method="other_method")


def test_corrupt_file_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path)
    data = bytearray((path / "model.portable.onnx").read_bytes())
    data[0] ^= 0xFF
    (path / "model.portable.onnx").write_bytes(bytes(data))
    with pytest.raises(PackageError, match=r"model\.portable\.onnx is corrupt"):
        load_package(path)


def test_truncated_file(tmp_path: Path) -> None:
    path = _write(tmp_path)
    (path / "model.portable.onnx").write_bytes(b"onnx")
    with pytest.raises(PackageError, match="truncated"):
        load_package(path)


def test_newer_format_says_upgrade(tmp_path: Path) -> None:
    path = _write(tmp_path)
    m = json.loads((path / MANIFEST).read_text())
    m["format_version"] = FORMAT_VERSION + 1
    (path / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(PackageError, match="newer than this edge3d supports"):
        load_package(path)


def test_not_a_package(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=r"edge3d\.json is missing"):
        load_package(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(PackageError, match="corrupt"):
        load_package(tmp_path)


def test_unknown_name_lists_bundled() -> None:
    with pytest.raises(PackageError, match="Bundled models"):
        resolve_package("no-such-model")


def test_manifest_cannot_escape_package(tmp_path: Path) -> None:
    path = _write(tmp_path)
    m = json.loads((path / MANIFEST).read_text())
    m["files"]["../secret"] = {"sha256": "0" * 64, "bytes": 1}
    _rewrite(path, m)
    with pytest.raises(PackageError, match="outside the package"):
        load_package(path)


def test_failed_write_keeps_old_package(tmp_path: Path) -> None:
    out = _write(tmp_path)
    before = (out / MANIFEST).read_text()
    with pytest.raises(FileNotFoundError):
        write_package(out, method="my_method", class_names=["a"], voxel_size=0.05, graphs={},
                      files={"model.portable.onnx": tmp_path / "does-not-exist.onnx"})
    assert (out / MANIFEST).read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pkg")] == []


def test_refuses_to_replace_foreign_directory(tmp_path: Path) -> None:
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(PackageError, match="not an edge3d package"):
        _write(tmp_path, out=foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_overwrite_replaces_package(tmp_path: Path) -> None:
    out = _write(tmp_path)
    _write(tmp_path, out=out, payload=b"new-bytes")
    assert load_package(out).graph_file().read_bytes() == b"new-bytes"


def test_format_1_packages_load_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path)
    m = json.loads((path / MANIFEST).read_text())
    m["format_version"] = 1
    del m[MANIFEST_DIGEST]
    _rewrite(path, m, reseal=False)
    with pytest.warns(UserWarning, match="no manifest checksum"):
        assert load_package(path).voxel_size == 0.05


def test_an_edited_manifest_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path)
    m = json.loads((path / MANIFEST).read_text())
    m["voxel_size"] = 0.1
    _rewrite(path, m, reseal=False)
    with pytest.raises(PackageError, match="changed after export"):
        load_package(path)
    del m[MANIFEST_DIGEST]
    _rewrite(path, m, reseal=False)
    with pytest.raises(PackageError, match="manifest_sha256 is missing"):
        load_package(path)
