"""edge3d.export.engine says exactly what is missing for an engine build on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

import edge3d.ops as ops
from edge3d.errors import MissingDependencyError
from edge3d.export.engine import build_engine, missing_for_engine_build
from edge3d.export.onnx_variants import save_variants
from tests.conftest import has_tensorrt


@pytest.mark.skipif(has_tensorrt(), reason="checks the answer without TensorRT")
def test_build_without_tensorrt_lists_what_is_missing(tmp_path: Path) -> None:
    save_variants(ops.onnx_model("SectorBin"), tmp_path)
    missing = missing_for_engine_build(tmp_path / "no-such-plugins.so")
    assert any("tensorrt" in m for m in missing)
    assert any("no-such-plugins.so does not exist" in m for m in missing)
    with pytest.raises(MissingDependencyError, match=r"needs: .*tensorrt"):
        build_engine(tmp_path / "model.trt.onnx", plugin_library=tmp_path / "none.so")


def test_bad_precision(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="precision"):
        build_engine(tmp_path / "model.trt.onnx", precision="int8")


def test_plugin_library_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edge3d.runtime.backends import BackendUnavailableError
    from edge3d.runtime.backends.plugin_library import find_plugin_library

    library = tmp_path / "libedge3d_plugins.so"
    library.write_bytes(b"")
    assert find_plugin_library(library) == library
    monkeypatch.setenv("EDGE3D_PLUGIN_LIBRARY", str(library))
    assert find_plugin_library() == library
    monkeypatch.setenv("EDGE3D_PLUGIN_LIBRARY", str(tmp_path / "gone.so"))
    if not (Path(__file__).resolve().parents[2] / "build/plugins/libedge3d_plugins.so").exists():
        with pytest.raises(BackendUnavailableError, match="cmake -S plugins"):
            find_plugin_library()
