"""PointInBoxProb: 3D-BoNet's point-in-pred-box probability (Algorithm 1).

papers/3d-bonet.md, Algorithm 1 (research/methods.md section 1.3): for box i with min vertex m
and max vertex M and point p, per axis ``delta = clamp(theta1 * (m - p) * (p - M), -theta2,
theta2)``, ``prob = min over x, y, z of sigmoid(delta)``, with theta1 = 100, theta2 = 20.
Computed as ``sigmoid(min(delta))`` (sigmoid is monotonic, so the value is identical).
"""

from __future__ import annotations

from typing import Any

from edge3d.ops import _torch_common as tc
from edge3d.ops._onnx_body import BodyBuilder
from edge3d.ops.registry import get_op

SPEC = get_op("PointInBoxProb")


def point_in_box_prob(points: Any, boxes: Any, theta1: float = 100.0, theta2: float = 20.0) -> Any:
    """Soft probability that each point lies inside each box.

    Args:
        points: float ``[N, 3]`` or ``[B, N, 3]``.
        boxes: float ``[H, 2, 3]`` or ``[B, H, 2, 3]``: ``boxes[..., 0, :]`` is the min vertex,
            ``boxes[..., 1, :]`` the max vertex (a box with min > max on an axis contains nothing).
        theta1: scale of the per-axis product (Algorithm 1 step 2).
        theta2: clamp bound of the scaled product (> 0).

    Returns:
        float ``[H, N]`` (``[B, H, N]``) in ``(0, 1)``, the dtype of ``points`` (FP32 compute for
        FP16). Differentiable w.r.t. points and boxes (zero where the clamp saturates).
    """
    attrs = SPEC.resolve_attributes({"theta1": theta1, "theta2": theta2})
    if not attrs["theta2"] > 0:
        raise ValueError(f"PointInBoxProb: theta2 must be > 0, got {attrs['theta2']}")
    tc.check_float("PointInBoxProb", "points", points, 3, (2, 3))
    tc.check_float("PointInBoxProb", "boxes", boxes, 3, (3, 4))
    if boxes.shape[-2] != 2:
        raise ValueError(
            f"PointInBoxProb: boxes must be [H, 2, 3] (min and max vertex), got "
            f"{tuple(boxes.shape)}"
        )
    tc.check_same_dtype("PointInBoxProb", {"points": points, "boxes": boxes})
    tc.check_batch("PointInBoxProb", {"points": (points, 2), "boxes": (boxes, 3)})
    shape = (*boxes.shape[:-2], points.shape[-2])
    if tc.exporting():
        return tc.emit(SPEC, [points, boxes], attrs, [points.dtype], [shape])
    work = tc.compute_dtype(points.dtype)
    p = points.to(work).unsqueeze(-3)
    lo = boxes[..., 0, :].to(work).unsqueeze(-2)
    hi = boxes[..., 1, :].to(work).unsqueeze(-2)
    delta = (attrs["theta1"] * ((lo - p) * (p - hi))).clamp(-attrs["theta2"], attrs["theta2"])
    return delta.amin(-1).sigmoid().to(points.dtype)


def function_body(opset: int) -> Any:
    """ONNX function body: per axis Sub/Mul/Clip on [..., H, N], Min over x, y, z, Sigmoid.

    Per-axis 2-D tensors rather than a [H, N, 3] tensor and a ReduceMin: cheaper, and ONNX
    Runtime 1.31 returns the unreduced shape for ReduceMin over an empty tensor.
    """
    b = BodyBuilder(SPEC)
    p, boxes = b.float32("points"), b.float32("boxes")
    lo, hi = (b.op("Gather", boxes, b.const(i), axis=-2) for i in (0, 1))  # [..., H, 3]
    theta1, theta2 = b.attr("theta1"), b.attr("theta2")
    deltas = []
    for axis in range(3):
        pa = b.op("Unsqueeze", b.component(p, axis), b.const([-2]))     # [..., 1, N]
        lo_a = b.op("Unsqueeze", b.component(lo, axis), b.const([-1]))  # [..., H, 1]
        hi_a = b.op("Unsqueeze", b.component(hi, axis), b.const([-1]))
        product = b.op("Mul", b.op("Sub", lo_a, pa), b.op("Sub", pa, hi_a))
        deltas.append(b.op("Clip", b.op("Mul", theta1, product), b.op("Neg", theta2), theta2))
    lowest = b.op("Min", *deltas)
    b.output("CastLike", "prob", b.op("Sigmoid", lowest), "points")
    return b.finish(opset)
