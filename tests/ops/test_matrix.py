"""The op matrix on the CPU: PyTorch reference vs the ONNX function body in ONNX Runtime."""

from __future__ import annotations

import functools

import numpy as np
import onnxruntime as ort
import pytest
import torch

import edge3d.ops as ops
from tests.ops.cases import SIZES, make_inputs, near_sector_edge

REFERENCES = {
    "SectorBin": ops.sector_bin, "SectorMask": ops.sector_mask,
    "PointInBoxProb": ops.point_in_box_prob, "SoftBoxIoU": ops.soft_box_iou,
}


@functools.cache
def session(op: str, dtype: str, batched: bool) -> ort.InferenceSession:
    model = ops.onnx_model(op, dtype=dtype, batched=batched)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def run_both(op: str, feeds: dict[str, np.ndarray], batched: bool
             ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    dtype = str(next(iter(feeds.values())).dtype)
    body = session(op, dtype, batched).run(None, feeds)
    with torch.no_grad():
        ref = REFERENCES[op](*(torch.from_numpy(a) for a in feeds.values()))
    ref = list(ref) if isinstance(ref, tuple) else [ref]
    return body, [r.numpy() for r in ref]


def assert_matches(op: str, feeds: dict[str, np.ndarray], body: list[np.ndarray],
                   ref: list[np.ndarray]) -> None:
    spec = ops.get_op(op)
    dtype = str(next(iter(feeds.values())).dtype)
    tol = spec.tolerance[dtype]
    # Bins of points within 1e-5 rad of a bin edge may differ between atan implementations.
    edge = (near_sector_edge(feeds["points"], feeds["centers"])
            if op in ("SectorBin", "SectorMask") else None)
    for name, got, want in zip(spec.outputs, body, ref, strict=True):
        assert got.shape == want.shape, (name, got.shape, want.shape)
        assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        ok = (got == want) if got.dtype == np.int32 else np.isclose(
            got.astype(np.float64), want.astype(np.float64), rtol=tol.rtol, atol=tol.atol)
        if edge is not None and name in ("sector", "logits"):
            ok |= edge
        bad = np.argwhere(~ok)
        assert bad.size == 0, (
            f"{op}.{name}: {len(bad)} of {got.size} differ, first at {tuple(bad[0])}: "
            f"body {got[tuple(bad[0])]} vs reference {want[tuple(bad[0])]}")


@pytest.mark.parametrize("op", sorted(REFERENCES))
@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("batched", [False, True], ids=["unbatched", "batched"])
def test_body_matches_reference_fp32(op: str, size: str, batched: bool) -> None:
    n, k, b = SIZES[size]
    if batched and size == "large":
        n, k = n // 4, k // 2
    feeds = make_inputs(op, n, k, b, batch=2 if batched else None, seed=hash(size) % 1000)
    body, ref = run_both(op, feeds, batched)
    assert_matches(op, feeds, body, ref)


@pytest.mark.parametrize("op", sorted(REFERENCES))
@pytest.mark.parametrize("size", ["small", "typical"])
def test_body_matches_reference_fp16(op: str, size: str) -> None:
    n, k, b = SIZES[size]
    feeds = make_inputs(op, n, k, b, dtype="float16", seed=3)
    body, ref = run_both(op, feeds, False)
    assert_matches(op, feeds, body, ref)


@pytest.mark.parametrize("op", sorted(REFERENCES))
@pytest.mark.parametrize(("n", "k"), [(0, 4), (9, 0), (0, 0)], ids=["N=0", "K=0", "both=0"])
@pytest.mark.parametrize("batched", [False, True], ids=["unbatched", "batched"])
def test_empty_inputs(op: str, n: int, k: int, batched: bool) -> None:
    feeds = make_inputs(op, n, k, k, batch=3 if batched else None)
    body, ref = run_both(op, feeds, batched)
    for got, want in zip(body, ref, strict=True):
        assert got.shape == want.shape
        assert got.shape[-2:] == (k, n) or op == "SoftBoxIoU"
    if op == "SoftBoxIoU":
        assert body[0].shape[-2:] == (k, k)
        assert np.all(body[0] == 0.0)  # N = 0: no overlap, eps keeps it finite


def test_attributes_reach_the_body() -> None:
    feeds = make_inputs("SectorBin", 200, 5)
    model = ops.onnx_model("SectorBin", n_azimuth=8, n_polar=3)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    sector, _ = sess.run(None, feeds)
    ref, _ = ops.sector_bin(*(torch.from_numpy(a) for a in feeds.values()), n_azimuth=8, n_polar=3)
    edge = near_sector_edge(feeds["points"], feeds["centers"], 8, 3)
    assert np.all((sector == ref.numpy()) | edge)
    assert sector.max() < 24 and sector.max() > 5
    feeds = make_inputs("PointInBoxProb", 100, 4)
    model = ops.onnx_model("PointInBoxProb", theta1=3.0, theta2=0.5)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (prob,) = sess.run(None, feeds)
    ref = ops.point_in_box_prob(*(torch.from_numpy(a) for a in feeds.values()), 3.0, 0.5)
    np.testing.assert_allclose(prob, ref.numpy(), rtol=1e-5, atol=1e-6)
    assert prob.min() >= 1 / (1 + np.exp(0.5)) - 1e-6  # theta2 bounds the logit
