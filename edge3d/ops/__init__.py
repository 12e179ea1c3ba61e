"""edge3d's custom ops: PyTorch references, ONNX function bodies and plugin names, one registry.

``sector_bin``, ``sector_mask``, ``point_in_box_prob`` and ``soft_box_iou`` are the PyTorch
references (autograd; inside ``torch.onnx.export(..., dynamo=True)`` they emit ``edge3d`` nodes).
``onnx_model(name, **attributes)`` builds a single-node model that any ONNX Runtime runs.
Importing this package imports neither torch nor onnx. Specification: ``docs/ops.md``.
"""

from __future__ import annotations

from edge3d.ops.onnx_model import onnx_model
from edge3d.ops.point_in_box import point_in_box_prob
from edge3d.ops.registry import DOMAIN, DOMAIN_VERSION, OPS, OpSpec, Tolerance, get_op
from edge3d.ops.sector_bin import sector_bin
from edge3d.ops.sector_mask import sector_mask
from edge3d.ops.soft_box_iou import soft_box_iou

__all__ = [
    "DOMAIN", "DOMAIN_VERSION", "OPS", "OpSpec", "Tolerance", "get_op", "onnx_model",
    "point_in_box_prob", "sector_bin", "sector_mask", "soft_box_iou",
]
