"""edge3d.Segmenter: input validation, model lookup, the torch-free runtime."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import edge3d
from edge3d import methods
from edge3d.errors import PackageError
from tests.runtime.scenes import runnable_models


def test_runtime_imports_never_import_torch():
    code = (
        "import sys\n"
        "import edge3d, edge3d.runtime\n"
        "from edge3d.runtime import Segmenter, Stream\n"
        "import edge3d.runtime.stream, edge3d.runtime.instance_ids, edge3d.runtime.pictures\n"
        "from edge3d import methods\n"
        "[methods.runtime_class(m) for m in methods.runtime_methods()]\n"
        "import numpy as np\n"
        "s = Segmenter()\n"
        "s.segment(np.zeros((10, 3), 'float32'))\n"
        "k = edge3d.Intrinsics(32, 24, 30, 30, 15.5, 11.5)\n"
        "frames = [edge3d.Frame(np.full((24, 32), 1500, np.uint16), 0.001, k, index=i,\n"
        "                       pose=np.eye(4)) for i in range(3)]\n"
        "with Stream(frames, segmenter=s, every=2, voxel_size=0.05) as st:\n"
        "    assert list(st)[-1].final\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize(("points", "colors", "match"), [
    (np.zeros((10, 2)), None, r"shape \[N, 3\]"),
    (np.zeros((10, 3, 1)), None, r"shape \[N, 3\]"),
    (np.array([["a", "b", "c"]]), None, "numeric"),
    (np.array([[0, 0, np.nan], [1, 1, 1]]), None, "NaN or infinite"),
    (np.array([[0, 0, np.inf]]), None, "NaN or infinite"),
    (np.array([[0, 0, 0], [2000.0, 0, 0]]), None, "millimetres"),
    (np.zeros((4, 3)), np.zeros((3, 3), np.uint8), "like points"),
    (np.zeros((4, 3)), np.full((4, 3), 200.0), "0-255 values"),
    (np.zeros((4, 3)), np.full((4, 3), -0.5), r"\[0, 1\]"),
    (np.zeros((4, 3)), np.zeros((4, 3), np.int32), "uint8"),
])
def test_bad_input_is_rejected_with_a_clear_error(points, colors, match):
    with pytest.raises(ValueError, match=match):
        edge3d.Segmenter().segment(points, colors)


def test_unknown_model_lists_what_is_available(tmp_path):
    with pytest.raises(PackageError, match=f"Available models: {methods.DEFAULT_MODEL}"):
        edge3d.Segmenter("no-such-model")
    with pytest.raises(PackageError, match="not an edge3d model package"):
        edge3d.Segmenter(tmp_path)
    with pytest.raises(ValueError, match="unknown backend"):
        edge3d.Segmenter(backend="cuda")


def test_package_of_unknown_method_names_the_method(tmp_path):
    from edge3d.package import GraphSpec, write_package

    onnx = tmp_path / "x.onnx"
    onnx.write_bytes(b"not really onnx")
    pkg = write_package(tmp_path / "pkg", method="mystery", class_names=["a"], voxel_size=0.02,
                        graphs={"main": GraphSpec("main", {"portable": "x.onnx"}, (), ())},
                        files={"x.onnx": onnx})
    with pytest.raises(PackageError, match="'mystery' model, which this edge3d cannot run"):
        edge3d.Segmenter(pkg)


def test_segmenter_describe_and_repr():
    seg = edge3d.Segmenter(voxel_size=0.05)
    d = seg.describe()
    assert d["method"] == methods.DEFAULT_MODEL and d["voxel_size"] == 0.05
    assert methods.DEFAULT_MODEL in repr(seg)
    assert seg.class_names[0] == "object"


@pytest.mark.parametrize("model", runnable_models())
def test_a_method_without_superpoints_refuses_them_by_name(model):
    if methods.describe(edge3d.Segmenter(model).method).superpoints:
        pytest.skip("this method aligns its masks to superpoints")
    pts = np.random.default_rng(0).uniform(0, 2, (50, 3)).astype(np.float32)
    users = [d.name for d in methods.descriptions() if d.superpoints]
    with pytest.raises(ValueError, match=f"does not use superpoints.*{', '.join(users)}"):
        edge3d.Segmenter(model).segment(pts, superpoints=np.zeros(len(pts), np.int64))
