"""TensorRT plugins and backend vs the PyTorch references; needs TensorRT and a GPU.

The plugin library is built for this GPU against the installed TensorRT (headers found through
TENSORRT_ROOT / TensorRT_INCLUDE_DIR or the system include paths).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import edge3d.ops as ops
from edge3d.errors import PackageError
from edge3d.export.onnx_variants import save_variants
from edge3d.runtime.backends import create_backend
from edge3d.runtime.backends.engine_cache import read_key, save_engine
from tests.ops.cases import assert_matches_reference, make_inputs
from tests.plugins.build import build_plugins

pytestmark = [pytest.mark.tensorrt, pytest.mark.gpu]

# Optimisation profiles (min, opt, max) per input of each single-op model; every op of the
# registry needs one (a new op without it fails here rather than going untested).
SHAPES = {
    "SectorBin": {"points": ((0, 3), (4096, 3), (20000, 3)),
                  "centers": ((0, 3), (24, 3), (256, 3))},
    "SectorMask": {"points": ((0, 3), (4096, 3), (20000, 3)),
                   "centers": ((0, 3), (24, 3), (256, 3)),
                   "rays": ((0, 25), (24, 25), (256, 25)),
                   "migration": ((0, 0), (24, 4096), (256, 20000))},
    "PointInBoxProb": {"points": ((0, 3), (4096, 3), (20000, 3)),
                       "boxes": ((0, 2, 3), (24, 2, 3), (256, 2, 3))},
    "SoftBoxIoU": {"prob_a": ((0, 0), (24, 4096), (128, 20000)),
                   "prob_b": ((0, 0), (24, 4096), (128, 20000))},
}


@pytest.fixture(scope="module")
def plugin_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = build_plugins(tmp_path_factory.mktemp("trt-plugins"), "native")
    library = build / "libedge3d_plugins.so"
    if not library.exists():
        pytest.fail("TensorRT is installed but plugins/ found no TensorRT headers; set "
                    "TENSORRT_ROOT or TensorRT_INCLUDE_DIR")
    return library


@pytest.mark.parametrize("op", sorted(ops.OPS))
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_plugin_matches_reference(op: str, precision: str, plugin_library: Path,
                                  tmp_path: Path) -> None:
    dtype = "float16" if precision == "fp16" else "float32"
    save_variants(ops.onnx_model(op, dtype=dtype), tmp_path)
    with create_backend(tmp_path / "model.trt.onnx", backend="tensorrt", precision=precision,
                        shapes=SHAPES[op], plugin_library=plugin_library) as be:
        assert be.name == "tensorrt"
        spec = ops.get_op(op)
        for n, k in ((4096, 24), (7, 3), (0, 5), (9, 0)):
            feeds = make_inputs(op, n, k, k, dtype=dtype, seed=n + k)
            got = be.run(feeds)
            assert_matches_reference(op, feeds, [got[name] for name in spec.outputs],
                                     f"n={n} k={k}")


def test_engine_is_cached_and_a_stale_one_refused(plugin_library: Path, tmp_path: Path) -> None:
    save_variants(ops.onnx_model("SoftBoxIoU"), tmp_path)
    kwargs = {"backend": "tensorrt", "shapes": SHAPES["SoftBoxIoU"],
              "plugin_library": plugin_library}
    with create_backend(tmp_path / "model.trt.onnx", **kwargs) as be:
        engine = be.engine_path
    built = engine.stat().st_mtime_ns
    with create_backend(tmp_path / "model.trt.onnx", **kwargs):
        assert engine.stat().st_mtime_ns == built  # reused, not rebuilt
    key = read_key(engine)
    save_engine(engine, engine.read_bytes(),
                key.__class__(**{**key.__dict__, "tensorrt_version": "9.0.0"}))
    with pytest.raises(PackageError, match="tensorrt_version"):
        create_backend(tmp_path / "model.trt.onnx", **kwargs)
    with create_backend(tmp_path / "model.trt.onnx", rebuild=True, **kwargs):
        assert read_key(engine).tensorrt_version != "9.0.0"


def test_auto_picks_tensorrt(plugin_library: Path, tmp_path: Path) -> None:
    save_variants(ops.onnx_model("PointInBoxProb"), tmp_path)
    with create_backend(tmp_path / "model.portable.onnx", shapes=SHAPES["PointInBoxProb"],
                        plugin_library=plugin_library) as be:
        assert be.name == "tensorrt" and "picked TensorRT" in be.selection
