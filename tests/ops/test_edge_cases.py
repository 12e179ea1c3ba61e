"""Defined answers at the edges: the centre itself, on-axis points, atan2 at 0/0, bad input."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
import torch

import edge3d.ops as ops


def body_session(op: str, **attrs: int | float) -> ort.InferenceSession:
    return ort.InferenceSession(ops.onnx_model(op, **attrs).SerializeToString(),
                                providers=["CPUExecutionProvider"])


def test_sector_at_the_centre_is_defined() -> None:
    # d = 0: theta = 0 (polar bin 0) and phi = atan2(0, 0) + pi = pi -> azimuth bin floor(n / 2).
    points = torch.tensor([[0.5, -0.25, 2.0], [1.0, 1.0, 1.0]])
    centers = points.clone()
    for n_az, expected in ((5, 2), (4, 2), (3, 1), (1, 0)):
        sector, radius = ops.sector_bin(points, centers, n_azimuth=n_az)
        assert sector.diagonal().tolist() == [expected, expected]
        assert radius.diagonal().tolist() == [0.0, 0.0]
        body_sector, body_radius = body_session("SectorBin", n_azimuth=n_az).run(
            None, {"points": points.numpy(), "centers": centers.numpy()})
        assert body_sector.diagonal().tolist() == [expected, expected]
        assert body_radius.diagonal().tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("d", "polar", "azimuth"), [
    ((0.0, 0.0, 1.0), 0, 2),    # +z: theta 0; phi = atan2(0, 0) + pi = pi
    ((0.0, 0.0, -1.0), 4, 2),   # -z: theta = pi clamps into the last polar bin
    ((1.0, 0.0, 0.0), 2, 2),    # +x: theta pi/2 -> bin 2 (of 5); phi = pi -> bin 2
    ((-1.0, 0.0, 0.0), 2, 4),   # -x: phi = atan2(+0, -1) + pi = 2 pi clamps into the last bin
    ((-1.0, -0.0, 0.0), 2, 4),  # signed zero reads as +0: same as above
    ((0.0, 1.0, 0.0), 2, 3),    # +y: phi = 3 pi / 2 -> bin 3 (unit 2 pi / 5)
    ((0.0, -1.0, 0.0), 2, 1),   # -y: phi = pi / 2 -> bin 1
    ((-1.0, -1e-30, 0.0), 2, 0),  # just below the -x axis: phi ~ 0 -> bin 0
])
def test_axis_directions(d: tuple[float, float, float], polar: int, azimuth: int) -> None:
    centers = torch.zeros(1, 3)
    points = torch.tensor([d])
    sector, radius = ops.sector_bin(points, centers)
    assert sector.item() == polar * 5 + azimuth
    assert radius.item() == pytest.approx(math.sqrt(sum(x * x for x in d)))
    body_sector, _ = body_session("SectorBin").run(
        None, {"points": points.numpy(), "centers": centers.numpy()})
    assert body_sector.item() == polar * 5 + azimuth


def test_atan2_has_no_nan_at_zero() -> None:
    from edge3d.ops._torch_common import atan2

    zeros = torch.tensor([0.0, -0.0, 0.0, -0.0])
    out = atan2(zeros, torch.tensor([0.0, 0.0, -0.0, -0.0]))
    assert torch.all(out == 0.0)
    assert not torch.isnan(out).any()


def test_no_nan_anywhere_at_the_centre_fp16() -> None:
    points = torch.zeros(4, 3, dtype=torch.float16)
    out = ops.sector_mask(points, points[:2], torch.ones(2, 25, dtype=torch.float16),
                          torch.zeros(2, 4, dtype=torch.float16))
    assert out.dtype == torch.float16
    assert torch.all(out == 1.0)  # rays 1 - radius 0 + 2 * 0


def test_sector_mask_is_sector_bin_plus_gather() -> None:
    rng = np.random.default_rng(5)
    points = torch.from_numpy(rng.normal(size=(50, 3)))
    centers = torch.from_numpy(rng.normal(size=(6, 3)))
    rays = torch.from_numpy(rng.uniform(0.1, 2.0, size=(6, 25)))
    migration = torch.from_numpy(rng.normal(size=(6, 50)))
    sector, radius = ops.sector_bin(points, centers)
    expected = torch.gather(rays, 1, sector.long()) - radius + 2 * migration
    torch.testing.assert_close(ops.sector_mask(points, centers, rays, migration), expected)


def test_point_in_box_algorithm_1_by_hand() -> None:
    box = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]])
    points = torch.tensor([[0.5, 0.5, 0.5], [0.5, 0.5, 1.5], [0.5, 0.5, 0.999], [2.0, 2.0, 2.0]])
    prob = ops.point_in_box_prob(points, box)[0]
    # centre: per axis 100 * 0.25 = 25 -> clamp 20; 0.5 above the top: 100 * (-1.5 * 0.5) = -75
    # -> -20; near the face: 100 * (-0.999 * -0.001) = 0.0999.
    expected = torch.sigmoid(torch.tensor([20.0, -20.0, 100 * 0.999 * 0.001, -20.0]))
    torch.testing.assert_close(prob, expected)


def test_soft_box_iou_equation_3_by_hand() -> None:
    a = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5]])
    b = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    iou = ops.soft_box_iou(a, b, eps=1e-6)
    expected = torch.tensor([[1 / (2 + 1 - 1 + 1e-6), 0.0],
                             [0.5 / (2 + 1 - 0.5 + 1e-6), 1.0 / (2 + 2 - 1 + 1e-6)]])
    torch.testing.assert_close(iou, expected)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: ops.sector_bin(torch.zeros(4, 2), torch.zeros(2, 3)), "last dimension 3"),
    (lambda: ops.sector_bin(torch.zeros(4, 3), torch.zeros(2, 2, 3)), "batch dimension"),
    (lambda: ops.sector_bin(torch.zeros(2, 4, 3), torch.zeros(3, 2, 3)), "batch size"),
    (lambda: ops.sector_bin(torch.zeros(4, 3), torch.zeros(2, 3, dtype=torch.float64)), "dtype"),
    (lambda: ops.sector_bin(torch.zeros(4, 3, dtype=torch.int64), torch.zeros(2, 3)), "floating"),
    (lambda: ops.sector_bin(torch.zeros(4, 3), torch.zeros(2, 3), n_azimuth=0), "n_azimuth"),
    (lambda: ops.sector_mask(torch.zeros(4, 3), torch.zeros(2, 3), torch.zeros(2, 24),
                             torch.zeros(2, 4)), "last dimension 25"),
    (lambda: ops.sector_mask(torch.zeros(4, 3), torch.zeros(2, 3), torch.zeros(2, 25),
                             torch.zeros(2, 5)), "migration"),
    (lambda: ops.point_in_box_prob(torch.zeros(4, 3), torch.zeros(2, 3, 3)), "min and max"),
    (lambda: ops.point_in_box_prob(torch.zeros(4, 3), torch.zeros(2, 2, 3), theta2=0), "theta2"),
    (lambda: ops.soft_box_iou(torch.zeros(2, 4), torch.zeros(3, 5)), "same number of points"),
    (lambda: ops.soft_box_iou(torch.zeros(2, 4), torch.zeros(3, 4), eps=0.0), "eps"),
])
def test_bad_input_is_named(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_unknown_attribute_and_op() -> None:
    with pytest.raises(ValueError, match="no attribute"):
        ops.onnx_model("SectorBin", n_radial=3)
    with pytest.raises(KeyError, match="known ops"):
        ops.get_op("SectorBins")
    with pytest.raises(ValueError, match="opset"):
        ops.onnx_model("SoftBoxIoU", opset=17)


def test_registry_imports_without_torch_or_onnx() -> None:
    code = ("import sys, edge3d.ops, edge3d.ops.registry as r; "
            "print(sorted(r.plugin_names().items())); "
            "print([m for m in ('torch', 'onnx', 'onnxruntime') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == "[]", out.stdout
    assert "SectorBin" in lines[0]


def test_every_entry_is_complete() -> None:
    for name, spec in ops.OPS.items():
        assert spec.name == name == spec.plugin_name
        assert spec.plugin_version == "1"
        assert set(spec.shapes) == set(spec.inputs) | set(spec.outputs)
        assert set(spec.differentiable) <= set(spec.inputs)
        assert {"float32", "float16"} <= set(spec.tolerance)
        assert callable(spec.reference_fn())
        fn = spec.function_proto(20)
        assert fn.domain == "edge3d" and fn.name == name
        assert {"plugin_namespace", "plugin_version"} <= set(fn.attribute)
        assert {a.name for a in fn.attribute_proto} == set(spec.attributes)
