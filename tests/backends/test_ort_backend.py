"""ONNX Runtime backend, feed validation, and "auto" selection on a machine without a GPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

import edge3d.ops as ops
from edge3d.errors import FormatError, MissingDependencyError
from edge3d.export.onnx_variants import save_variants
from edge3d.runtime.backends import BackendUnavailableError, TensorInfo, create_backend
from tests.conftest import has_gpu, has_tensorrt
from tests.ops.cases import make_inputs


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model")
    save_variants(ops.onnx_model("SectorMask", n_azimuth=5, n_polar=5), out)
    return out


def test_ort_cpu_runs_the_portable_model(model_dir: Path) -> None:
    feeds = make_inputs("SectorMask", 300, 7)
    with create_backend(model_dir / "model.portable.onnx", backend="ort", device="cpu") as be:
        assert be.name == "ort-cpu"
        assert be.input_names == ["points", "centers", "rays", "migration"]
        assert be.output_names == ["logits"]
        assert be.inputs[0] == TensorInfo("points", ("N", 3), np.dtype(np.float32))
        assert be.inputs[2].shape == ("K", 25)
        out = be.run(feeds)
        assert be.inference_time > 0 and be.runs == 1
    want = ops.sector_mask(*(torch.from_numpy(a) for a in feeds.values())).numpy()
    np.testing.assert_allclose(out["logits"], want, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="closed"):
        be.run(feeds)


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.pop("rays"), "missing inputs \\['rays'\\]"),
    (lambda f: f.update(extra=np.zeros(1, np.float32)), "unknown inputs \\['extra'\\]"),
    (lambda f: f.update(points=f["points"].astype(np.float64)), "must be float32, got float64"),
    (lambda f: f.update(points=f["points"][None]), "rank 2"),
    (lambda f: f.update(points=f["points"][:, :2]), "dim 1 must be 3"),
    (lambda f: f.update(rays=f["rays"][:, :24]), "dim 1 must be 25"),
    (lambda f: f.update(migration=f["migration"][:, :5]), "disagree on dim 'N'"),
    (lambda f: f.update(points=f["points"].tolist()), "numpy array"),
])
def test_bad_feeds_are_named(model_dir: Path, change: object, message: str) -> None:
    feeds = make_inputs("SectorMask", 20, 3)
    change(feeds)  # type: ignore[operator]
    with create_backend(model_dir / "model.portable.onnx", backend="ort") as be, \
            pytest.raises(FormatError, match=message):
        be.run(feeds)


def test_trt_file_in_onnxruntime_says_which_file_to_use(model_dir: Path, tmp_path: Path) -> None:
    lone = tmp_path / "lone.trt.onnx"  # no portable sibling to switch to
    lone.write_bytes((model_dir / "model.trt.onnx").read_bytes())
    with pytest.raises(FormatError, match="portable"):
        create_backend(lone, backend="ort")


def test_ort_picks_the_portable_sibling(model_dir: Path) -> None:
    with create_backend(model_dir / "model.trt.onnx", backend="ort") as be:
        assert be.output_names == ["logits"]


@pytest.mark.skipif(has_gpu(), reason="checks the CPU-only answer")
def test_auto_falls_back_to_cpu_and_says_why(model_dir: Path) -> None:
    with create_backend(model_dir / "model.trt.onnx") as be:
        assert be.name == "ort-cpu"
        assert "picked ONNX Runtime CPU" in be.selection
        assert "TensorRT:" in be.selection and "ONNX Runtime CUDA:" in be.selection


@pytest.mark.skipif(has_tensorrt(), reason="checks the answer without TensorRT")
def test_explicit_tensorrt_without_it_is_a_clear_error(model_dir: Path) -> None:
    with pytest.raises((MissingDependencyError, BackendUnavailableError), match="TensorRT"):
        create_backend(model_dir / "model.trt.onnx", backend="tensorrt")


@pytest.mark.skipif(has_gpu(), reason="checks the CPU-only answer")
def test_explicit_ort_cuda_without_it_is_a_clear_error(model_dir: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="CUDAExecutionProvider"):
        create_backend(model_dir / "model.portable.onnx", backend="ort", device="cuda")


def test_bad_choices() -> None:
    with pytest.raises(ValueError, match="backend must be"):
        create_backend("x.onnx", backend="openvino")
    with pytest.raises(ValueError, match="runs on CUDA"):
        create_backend("x.trt.onnx", backend="tensorrt", device="cpu")
    with pytest.raises(FileNotFoundError):
        create_backend("does-not-exist.portable.onnx", backend="ort")


def test_backends_never_import_torch(model_dir: Path) -> None:
    code = (
        "import sys, numpy as np\n"
        "from edge3d.runtime.backends import create_backend\n"
        f"be = create_backend({str(model_dir / 'model.portable.onnx')!r}, backend='ort')\n"
        "f = {'points': np.zeros((4, 3), np.float32), 'centers': np.zeros((2, 3), np.float32),\n"
        "     'rays': np.ones((2, 25), np.float32), 'migration': np.zeros((2, 4), np.float32)}\n"
        "assert be.run(f)['logits'].shape == (2, 4)\n"
        "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_onnx_model_roundtrips_through_a_file(tmp_path: Path) -> None:
    path = tmp_path / "pib.portable.onnx"
    onnx.save(ops.onnx_model("PointInBoxProb", dtype="float16", batched=True), str(path))
    feeds = make_inputs("PointInBoxProb", 100, 4, batch=2, dtype="float16")
    with create_backend(path, backend="ort") as be:
        assert be.inputs[1].shape == ("batch", "H", 2, 3)
        prob = be.run(feeds)["prob"]
    assert prob.dtype == np.float16 and prob.shape == (2, 4, 100)
