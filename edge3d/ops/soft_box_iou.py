"""SoftBoxIoU: 3D-BoNet's soft intersection-over-union of point-in-box probabilities (eq. 3).

papers/3d-bonet.md, equation 3 (research/methods.md section 1.3, as coded):
``iou[a, b] = TP / (sum(prob_a[a]) + sum(prob_b[b]) - TP + eps)`` with
``TP = sum_n prob_a[a, n] * prob_b[b, n]``; the association cost is ``-iou``. Used by
3D-BoNet's box association in training and for duplicate-box suppression at inference.
"""

from __future__ import annotations

from typing import Any

from edge3d.ops import _torch_common as tc
from edge3d.ops._onnx_body import BodyBuilder
from edge3d.ops.registry import get_op

SPEC = get_op("SoftBoxIoU")


def soft_box_iou(prob_a: Any, prob_b: Any, eps: float = 1e-6) -> Any:
    """Soft IoU between every row of ``prob_a`` and every row of ``prob_b``.

    Args:
        prob_a: float ``[A, N]`` or ``[B, A, N]``: per-point probabilities (soft or hard 0/1).
        prob_b: float ``[B', N]`` (``[B, B', N]``), same dtype and point count.
        eps: added to the denominator (the reference code's 1e-6); must be > 0.

    Returns:
        float ``[A, B']`` (``[B, A, B']``) in the dtype of ``prob_a``; sums are FP32 for FP16
        inputs. N = 0 gives 0. Differentiable w.r.t. both inputs.
    """
    import torch

    attrs = SPEC.resolve_attributes({"eps": eps})
    if not attrs["eps"] > 0:
        raise ValueError(f"SoftBoxIoU: eps must be > 0, got {attrs['eps']}")
    tc.check_float("SoftBoxIoU", "prob_a", prob_a, None, (2, 3))
    tc.check_float("SoftBoxIoU", "prob_b", prob_b, None, (2, 3))
    tc.check_same_dtype("SoftBoxIoU", {"prob_a": prob_a, "prob_b": prob_b})
    tc.check_batch("SoftBoxIoU", {"prob_a": (prob_a, 2), "prob_b": (prob_b, 2)})
    if prob_a.shape[-1] != prob_b.shape[-1]:
        raise ValueError(
            f"SoftBoxIoU: prob_a and prob_b must have the same number of points, got "
            f"{tuple(prob_a.shape)} and {tuple(prob_b.shape)}"
        )
    shape = (*prob_a.shape[:-1], prob_b.shape[-2])
    if tc.exporting():
        return tc.emit(SPEC, [prob_a, prob_b], attrs, [prob_a.dtype], [shape])
    work = tc.compute_dtype(prob_a.dtype)
    a, b = prob_a.to(work), prob_b.to(work)
    tp = torch.matmul(a, b.transpose(-1, -2))
    union = a.sum(-1).unsqueeze(-1) + b.sum(-1).unsqueeze(-2) - tp + attrs["eps"]
    return (tp / union).to(prob_a.dtype)


def function_body(opset: int) -> Any:
    """ONNX function body: MatMuls over a flattened batch for TP and both sums, then Div.

    Rank-generic, and with no Einsum or Reduce* op: ONNX Runtime 1.31 crashes in Einsum and
    returns unreduced shapes from ReduceSum when an operand is empty (N, A or B = 0). Inputs are
    reshaped to [batch, rows, N] (batch = product of the leading dims, 1 when there are none);
    the sums are products with a ones vector; the result is reshaped back to [..., A, B].
    One zero column is appended to both inputs (it adds nothing to TP or the sums): its MatMul
    with an empty inner dimension returns uninitialised memory instead of zeros.
    """
    b = BodyBuilder(SPEC)
    a, p = b.float32("prob_a"), b.float32("prob_b")
    shape_a, shape_b = b.op("Shape", a), b.op("Shape", p)
    end = b.const([2**62])
    lead = b.op("Concat", b.const([1]), b.op("Slice", shape_a, b.const([0]), b.const([-2])), axis=0)
    flat = b.op("ReduceProd", lead, b.const([0]), keepdims=1)
    a3 = _pad_zero_column(b, b.op("Reshape", a, b.op(
        "Concat", flat, b.op("Slice", shape_a, b.const([-2]), end), axis=0), allowzero=1))
    p3 = _pad_zero_column(b, b.op("Reshape", p, b.op(
        "Concat", flat, b.op("Slice", shape_b, b.const([-2]), end), axis=0), allowzero=1))
    p3t = b.op("Transpose", p3, perm=[0, 2, 1])
    ones_shape = b.op("Concat", b.op("Slice", b.op("Shape", a3), b.const([-1]), end),
                      b.const([1]), axis=0)
    ones = b.op("ConstantOfShape", ones_shape, value=_scalar(1.0))
    tp3 = b.op("MatMul", a3, p3t)                                    # [batch, A, B]
    sum_a = b.op("MatMul", a3, ones)                                 # [batch, A, 1]
    sum_b = b.op("MatMul", b.op("Transpose", ones, perm=[1, 0]), p3t)  # [batch, 1, B]
    union = b.op("Add", b.op("Sub", b.op("Add", sum_a, sum_b), tp3), b.attr("eps"))
    rows_b = b.op("Slice", shape_b, b.const([-2]), b.const([-1]))
    out_shape = b.op("Concat", b.op("Slice", shape_a, b.const([0]), b.const([-1])), rows_b, axis=0)
    iou = b.op("Reshape", b.op("Div", tp3, union), out_shape, allowzero=1)
    b.output("CastLike", "iou", iou, "prob_a")
    return b.finish(opset)


def _pad_zero_column(b: BodyBuilder, x3: str) -> str:
    """``[batch, rows, n] -> [batch, rows, n + 1]`` with a zero last column."""
    shape = b.op("Concat", b.op("Slice", b.op("Shape", x3), b.const([0]), b.const([2])),
                 b.const([1]), axis=0)
    return b.op("Concat", x3, b.op("ConstantOfShape", shape, value=_scalar(0.0)), axis=-1)


def _scalar(value: float) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor("value", TensorProto.FLOAT, [1], [value])
