"""Every backbone exports to ONNX opset 17 with dynamic sizes, and ONNX Runtime matches PyTorch.

Random inputs of several sizes (indices uniform over their range, padding included) and real
inputs from ``edge3d.native``; BatchNorm statistics are made non-trivial first so that folding
is exercised. Tolerance 1e-4 (relative and absolute).
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from edge3d.export.onnx_export import OPSET, export_onnx, ort_session, run_onnx, to_torch
from edge3d.models.backbones import (
    DenseCNN,
    DenseCNNConfig,
    PointNet2,
    PointNet2Config,
    SparseUNet,
    SparseUNetConfig,
)
from edge3d.models.random_inputs import random_inputs
from edge3d.runtime import preprocess as model_inputs

CASES = {
    "sparse_unet": (
        lambda: SparseUNet(SparseUNetConfig(in_channels=4, channels=(8, 16, 24), blocks=1)),
        [dict(M0=300, M1=90, M2=30), dict(M0=41, M1=13, M2=4), dict(M0=2, M1=1, M2=1)]),
    "sparse_unet_maxpool": (
        lambda: SparseUNet(SparseUNetConfig(in_channels=3, channels=(8, 12), downsample="maxpool")),
        [dict(M0=200, M1=60), dict(M0=9, M1=3)]),
    "pointnet2": (
        lambda: PointNet2(PointNet2Config(in_channels=3, npoints=(64, 16), radii=(0.2, 0.4),
                                          nsamples=(8, 8), sa_channels=((16, 16), (16, 32)),
                                          fp_channels=((32,), (16, 16)))),
        [dict(N0=400, N1=64, N2=16), dict(N0=37, N1=10, N2=3), dict(N0=3, N1=2, N2=1)]),
    "dense_cnn": (
        lambda: DenseCNN(DenseCNNConfig(in_channels=4, width=2, stem_kernel=5, dilation=2)),
        [dict(B=1, D=12, H=10, W=8), dict(B=2, D=6, H=4, W=8), dict(B=1, D=2, H=2, W=2)]),
}


def _trained_stats(model: torch.nn.Module, sizes: dict, rng: np.random.Generator) -> None:
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(to_torch(random_inputs(model.input_spec(), sizes, rng)))
    model.eval()


@pytest.fixture(scope="module", params=sorted(CASES))
def exported(request, tmp_path_factory):
    build, sizes = CASES[request.param]
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = build()
    _trained_stats(model, sizes[0], rng)
    path = tmp_path_factory.mktemp("onnx") / f"{request.param}.onnx"
    export_onnx(model, random_inputs(model.input_spec(), sizes[0], rng), path)
    return model, sizes, path


def test_onnx_runtime_matches_pytorch(exported) -> None:
    model, sizes, path = exported
    session = ort_session(path)
    rng = np.random.default_rng(1)
    for s in sizes:
        x = random_inputs(model.input_spec(), s, rng)
        with torch.no_grad():
            ref = model(to_torch(x)).numpy()
        got = run_onnx(session, x)[0]
        assert got.shape == ref.shape, s
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4, err_msg=str(s))


def test_graph_is_standard_opset_17_with_the_spec_inputs(exported) -> None:
    model, _, path = exported
    proto = onnx.load(path)
    assert {(o.domain or "ai.onnx", o.version) for o in proto.opset_import
            if o.domain in ("", "ai.onnx")} == {("ai.onnx", OPSET)}
    assert {n.domain for n in proto.graph.node} <= {""}
    banned = {"ScatterND", "ScatterElements", "NonZero", "Unique", "Loop", "If",
              "BatchNormalization", "Cast"}  # int32 index tables feed Gather directly
    assert not banned & {n.op_type for n in proto.graph.node}
    dtypes = {1: "float32", 6: "int32"}
    got = [(i.name, dtypes[i.type.tensor_type.elem_type],
            tuple(d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim))
           for i in proto.graph.input]
    assert got == [(s.name, s.dtype, s.shape) for s in model.input_spec()]


def test_sparse_unet_on_native_inputs(tmp_path) -> None:
    torch.manual_seed(1)
    rng = np.random.default_rng(2)
    model = SparseUNet(SparseUNetConfig(in_channels=3, channels=(8, 16, 16)))
    _trained_stats(model, dict(M0=200, M1=60, M2=20), rng)

    def scene(n: int) -> model_inputs.NetworkInputs:
        pts = rng.random((n, 3), dtype=np.float32) * np.float32(1.5)
        net = model_inputs.sparse_unet_inputs(pts, rng.random((n, 3), dtype=np.float32),
                                              0.1, levels=3)
        net.arrays.pop("point_map")
        return net

    first = scene(3000)
    path = export_onnx(model, first.arrays, tmp_path / "native.onnx")
    session = ort_session(path)
    for net in (first, scene(500), scene(40)):
        with torch.no_grad():
            ref = model(to_torch(net.arrays)).numpy()
        np.testing.assert_allclose(run_onnx(session, net.arrays)[0], ref, rtol=1e-4, atol=1e-4)



def test_export_rejects_inputs_that_do_not_match_the_spec(tmp_path) -> None:
    model = SparseUNet(SparseUNetConfig(in_channels=3, channels=(8,)))
    x = random_inputs(model.input_spec(), dict(M0=10), np.random.default_rng(0))
    bad = dict(x, neighbors_0=x["neighbors_0"].astype(np.int64))
    with pytest.raises(ValueError, match=r"neighbors_0.*int64.*int32"):
        export_onnx(model, bad, tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="missing"):
        export_onnx(model, {"features": x["features"]}, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
