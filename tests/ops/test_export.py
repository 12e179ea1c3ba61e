"""A torch module calling edge3d ops exports to ONNX (dynamo) and splits into both variants."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import helper

import edge3d.ops as ops
from edge3d.errors import FormatError
from edge3d.export.onnx_variants import count_edge3d_nodes, make_variants, save_variants


class TwoOps(torch.nn.Module):
    """3D-BoNet's box path in miniature: boxes -> point-in-box probabilities -> their soft IoU."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = torch.nn.Linear(3, 3)

    def forward(self, points: torch.Tensor, boxes: torch.Tensor) -> tuple[torch.Tensor, ...]:
        prob = ops.point_in_box_prob(self.offset(points), boxes, theta1=50.0)
        return prob, ops.soft_box_iou(prob, prob)


@pytest.fixture(scope="module")
def exported() -> onnx.ModelProto:
    torch.manual_seed(0)
    model = TwoOps().eval()
    points, boxes = torch.rand(64, 3), torch.sort(torch.rand(5, 2, 3), dim=1).values
    program = torch.onnx.export(
        model, (points, boxes), dynamo=True, input_names=["points", "boxes"],
        output_names=["prob", "iou"], verbose=False,
        dynamic_shapes=({0: torch.export.Dim("N")}, {0: torch.export.Dim("H")}))
    return program.model_proto


def test_export_emits_edge3d_nodes(exported: onnx.ModelProto) -> None:
    assert count_edge3d_nodes(exported) == {"PointInBoxProb": 1, "SoftBoxIoU": 1}
    node = next(n for n in exported.graph.node if n.op_type == "PointInBoxProb")
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert attrs["plugin_namespace"] == b"edge3d" and attrs["plugin_version"] == b"1"
    assert attrs["theta1"] == pytest.approx(50.0) and attrs["theta2"] == pytest.approx(20.0)


def test_a_graph_without_edge3d_ops_is_written_once(tmp_path) -> None:
    from onnx import TensorProto

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    plain = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])],
                                                "plain", [x], [y]))
    portable_path, trt_path = save_variants(plain, tmp_path)
    assert portable_path == trt_path == tmp_path / "model.onnx"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_portable_runs_in_onnxruntime(exported: onnx.ModelProto, tmp_path) -> None:
    portable_path, trt_path = save_variants(exported, tmp_path)
    assert portable_path.name == "model.portable.onnx" and trt_path.name == "model.trt.onnx"
    torch.manual_seed(0)
    model = TwoOps().eval()  # same seed as the fixture: same weights
    sess = ort.InferenceSession(str(portable_path), providers=["CPUExecutionProvider"])
    for n, h in ((64, 5), (1000, 12), (0, 3)):
        points, boxes = torch.rand(n, 3), torch.sort(torch.rand(h, 2, 3), dim=1).values
        got = sess.run(None, {"points": points.numpy(), "boxes": boxes.numpy()})
        with torch.no_grad():
            want = model(points, boxes)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w.numpy(), rtol=1e-4, atol=1e-5)


def test_trt_variant_has_no_bodies(exported: onnx.ModelProto) -> None:
    portable, trt = make_variants(exported)
    assert sorted(f.name for f in portable.functions) == ["PointInBoxProb", "SoftBoxIoU"]
    assert not [f for f in trt.functions if f.domain == "edge3d"]
    assert count_edge3d_nodes(trt) == count_edge3d_nodes(portable)
    assert any(o.domain == "edge3d" and o.version == 1 for o in trt.opset_import)
    # Without bodies ONNX Runtime cannot run it: the TensorRT file never silently runs a body.
    with pytest.raises(Exception, match="edge3d"):
        ort.InferenceSession(trt.SerializeToString(), providers=["CPUExecutionProvider"])
    onnx.checker.check_model(portable, full_check=True)


def _single(op_type: str, **attrs: object) -> onnx.ModelProto:
    node = helper.make_node(op_type, ["a", "b"], ["c"], domain="edge3d", **attrs)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, ["A", "N"]) for n in "ab"],
        [helper.make_tensor_value_info("c", onnx.TensorProto.FLOAT, ["A", "A"])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=10)


def test_variants_add_missing_plugin_attributes() -> None:
    portable, trt = make_variants(_single("SoftBoxIoU"))
    for model in (portable, trt):
        attrs = {a.name: helper.get_attribute_value(a) for a in model.graph.node[0].attribute}
        assert attrs == {"plugin_namespace": b"edge3d", "plugin_version": b"1"}
    sess = ort.InferenceSession(portable.SerializeToString(), providers=["CPUExecutionProvider"])
    a = np.random.default_rng(0).uniform(size=(3, 9)).astype(np.float32)
    (iou,) = sess.run(None, {"a": a, "b": a})
    np.testing.assert_allclose(iou, ops.soft_box_iou(torch.from_numpy(a), torch.from_numpy(a)),
                               rtol=1e-5)


def test_variants_reject_unknown_op_and_wrong_version() -> None:
    with pytest.raises(FormatError, match="not a registered edge3d op"):
        make_variants(_single("SectorBins"))
    with pytest.raises(FormatError, match="plugin_version='2'"):
        make_variants(_single("SoftBoxIoU", plugin_version="2"))
    old = _single("SoftBoxIoU")
    old.opset_import[0].version = 17
    with pytest.raises(FormatError, match="opset"):
        make_variants(old)


def test_fp16_variant_runs_close_to_fp32(exported: onnx.ModelProto) -> None:
    from edge3d.export.onnx_variants import to_fp16

    portable16, trt16 = make_variants(to_fp16(exported))
    assert {i.type.tensor_type.elem_type for i in trt16.graph.input} == {onnx.TensorProto.FLOAT16}
    sess = ort.InferenceSession(portable16.SerializeToString(), providers=["CPUExecutionProvider"])
    torch.manual_seed(1)
    points, boxes = torch.rand(200, 3), torch.sort(torch.rand(6, 2, 3), dim=1).values
    got = sess.run(None, {"points": points.numpy().astype(np.float16),
                          "boxes": boxes.numpy().astype(np.float16)})
    torch.manual_seed(0)
    model = TwoOps().eval()
    with torch.no_grad():
        want = model(points.half().float(), boxes.half().float())
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.float16
        np.testing.assert_allclose(g.astype(np.float32), w.numpy(), atol=2e-2)


def test_torchscript_exporter_gets_a_clear_error() -> None:
    import io

    with pytest.raises(RuntimeError, match="dynamo=True"):
        torch.onnx.export(TwoOps().eval(), (torch.rand(10, 3), torch.rand(2, 2, 3)),
                          io.BytesIO(), dynamo=False)
