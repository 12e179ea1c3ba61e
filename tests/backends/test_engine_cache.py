"""Engine cache keys: a stale or foreign engine is refused with the mismatched field named."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from edge3d.errors import PackageError
from edge3d.ops.registry import plugin_names
from edge3d.package import sha256_file as file_sha256
from edge3d.runtime.backends.engine_cache import (
    EngineKey,
    check_key,
    current_plugin_version,
    engine_path,
    read_key,
    save_engine,
)

KEY = EngineKey(tensorrt_version="10.3.0", compute_capability="8.7", precision="fp16",
                plugin_version=current_plugin_version(), onnx_sha256="ab" * 32, profile="{}")


def test_engine_path_drops_variant_suffixes(tmp_path: Path) -> None:
    assert engine_path(tmp_path, Path("m/model.trt.onnx"), "fp16") == tmp_path / "model.fp16.engine"
    assert engine_path(tmp_path, Path("model.portable.onnx"), "fp32").name == "model.fp32.engine"


def test_roundtrip_and_match(tmp_path: Path) -> None:
    path = tmp_path / "model.fp16.engine"
    save_engine(path, b"engine bytes", KEY)
    assert path.read_bytes() == b"engine bytes"
    assert read_key(path) == KEY
    check_key(path, KEY)  # no error


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(EngineKey)])
def test_each_mismatch_is_named(tmp_path: Path, field: str) -> None:
    path = tmp_path / "model.fp16.engine"
    save_engine(path, b"x", KEY)
    other = dataclasses.replace(KEY, **{field: "something else"})
    with pytest.raises(PackageError, match=f"{field}: engine has .*rebuild=True"):
        check_key(path, other)


def test_engine_without_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "foreign.engine"
    path.write_bytes(b"x")
    with pytest.raises(PackageError, match="not built by edge3d"):
        check_key(path, KEY)


def test_plugin_version_names_every_op() -> None:
    text = current_plugin_version()
    assert text.startswith("edge3d1:")
    for name, version in plugin_names().items():
        assert f"{name}{version}" in text


def test_file_hash(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"abc")
    assert file_sha256(tmp_path / "a") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
