"""TensorRT plugins and backend vs the PyTorch references; needs TensorRT and a GPU.

The plugin library is built for this GPU against the installed TensorRT (headers found through
TENSORRT_ROOT / TensorRT_INCLUDE_DIR or the system include paths).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import edge3d.ops as ops
from edge3d.errors import PackageError
from edge3d.export.onnx_variants import save_variants
from edge3d.runtime.backends import create_backend
from edge3d.runtime.backends.engine_cache import read_key, save_engine
from tests.ops.cases import make_inputs, near_sector_edge
from tests.plugins.build import build_plugins

pytestmark = [pytest.mark.tensorrt, pytest.mark.gpu]

REFERENCES = {
    "SectorBin": ops.sector_bin, "SectorMask": ops.sector_mask,
    "PointInBoxProb": ops.point_in_box_prob, "SoftBoxIoU": ops.soft_box_iou,
}
SHAPES = {  # optimisation profiles (min, opt, max) per input of each single-op model
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


@pytest.mark.parametrize("op", sorted(REFERENCES))
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_plugin_matches_reference(op: str, precision: str, plugin_library: Path,
                                  tmp_path: Path) -> None:
    dtype = "float16" if precision == "fp16" else "float32"
    save_variants(ops.onnx_model(op, dtype=dtype), tmp_path)
    with create_backend(tmp_path / "model.trt.onnx", backend="tensorrt", precision=precision,
                        shapes=SHAPES[op], plugin_library=plugin_library) as be:
        assert be.name == "tensorrt"
        spec = ops.get_op(op)
        tol = spec.tolerance[dtype]
        for n, k in ((4096, 24), (7, 3), (0, 5), (9, 0)):
            feeds = make_inputs(op, n, k, k, dtype=dtype, seed=n + k)
            got = be.run(feeds)
            with torch.no_grad():
                want = REFERENCES[op](*(torch.from_numpy(a) for a in feeds.values()))
            want = want if isinstance(want, tuple) else (want,)
            edge = (near_sector_edge(feeds["points"], feeds["centers"])
                    if op in ("SectorBin", "SectorMask") else None)
            for name, w in zip(spec.outputs, want, strict=True):
                g, w = got[name], w.numpy()
                assert g.shape == w.shape and g.dtype == w.dtype
                ok = (g == w) if g.dtype == np.int32 else np.isclose(
                    g.astype(np.float64), w.astype(np.float64), rtol=tol.rtol, atol=tol.atol)
                if edge is not None and name in ("sector", "logits"):
                    ok |= edge
                assert ok.all(), f"{op}.{name} n={n} k={k}: {(~ok).sum()} differ"


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
