"""Shared pieces of the PyTorch references: input checks, compute dtype, export emission.

torch is imported inside the functions: importing ``edge3d.ops`` stays torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from edge3d.ops.registry import DOMAIN, DOMAIN_VERSION, OpSpec


def check_float(op: str, name: str, tensor: Any, last: int | None, ranks: Sequence[int]) -> None:
    """Raise ValueError unless ``tensor`` is a floating tensor of an allowed rank and last dim."""
    import torch

    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{op}: {name} must be a torch.Tensor, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise ValueError(f"{op}: {name} must be a floating tensor, got dtype {tensor.dtype}")
    if tensor.dim() not in ranks:
        raise ValueError(
            f"{op}: {name} must have rank {' or '.join(map(str, ranks))} (optional leading batch "
            f"dimension), got shape {tuple(tensor.shape)}"
        )
    if last is not None and tensor.shape[-1] != last:
        raise ValueError(f"{op}: {name} must have last dimension {last}, got {tuple(tensor.shape)}")


def check_batch(op: str, tensors: dict[str, tuple[Any, int]]) -> bool:
    """Check that every input is batched alike; returns True when they carry a batch dimension.

    ``tensors`` maps input name -> (tensor, rank without batch dimension). Either every input has
    one extra leading dimension of the same size B, or none has.
    """
    extra = {name: t.dim() - base for name, (t, base) in tensors.items()}
    if len(set(extra.values())) != 1 or not set(extra.values()) <= {0, 1}:
        shapes = {name: tuple(t.shape) for name, (t, _) in tensors.items()}
        raise ValueError(
            f"{op}: either every input has one leading batch dimension or none has; got {shapes}"
        )
    batched = next(iter(extra.values())) == 1
    if batched:
        sizes = {name: int(t.shape[0]) for name, (t, _) in tensors.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"{op}: inputs disagree on the batch size: {sizes}")
    return batched


def check_same_dtype(op: str, tensors: dict[str, Any]) -> None:
    dtypes = {name: t.dtype for name, t in tensors.items()}
    if len(set(dtypes.values())) != 1:
        raise ValueError(f"{op}: all float inputs must share one dtype, got {dtypes}")


def compute_dtype(dtype: Any) -> Any:
    """float16/bfloat16 compute in float32 (FP32 accumulation); float32/float64 as given."""
    import torch

    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def exporting() -> bool:
    """True while ``torch.onnx.export(..., dynamo=True)`` traces the model."""
    import torch

    return bool(torch.onnx.is_in_onnx_export())


def emit(
    spec: OpSpec,
    inputs: Sequence[Any],
    attrs: dict[str, int | float],
    dtypes: Sequence[Any],
    shapes: Sequence[Sequence[Any]],
) -> Any:
    """Emit one ``edge3d`` node during ONNX export (attributes include the plugin pair)."""
    import torch

    if torch.jit.is_tracing():
        # torch.onnx.ops.symbolic has no TorchScript lowering ("unsupported input list type").
        raise RuntimeError(
            f"edge3d::{spec.name} exports only with the dynamo exporter: call "
            "torch.onnx.export(..., dynamo=True) (the TorchScript exporter, dynamo=False, is "
            "not supported)")

    node_attrs = spec.node_attributes(attrs)
    name = f"{DOMAIN}::{spec.name}"
    if len(spec.outputs) == 1:
        return torch.onnx.ops.symbolic(
            name, list(inputs), node_attrs, dtype=dtypes[0], shape=shapes[0],
            version=DOMAIN_VERSION)
    return tuple(torch.onnx.ops.symbolic_multi_out(
        name, list(inputs), node_attrs, dtypes=list(dtypes), shapes=[list(s) for s in shapes],
        version=DOMAIN_VERSION))


def atan2(y: Any, x: Any) -> Any:
    """atan2 with the ONNX body's branches (atan of the ratio, then a quadrant shift).

    atan2(0, 0) = 0 and signed zeros read as +0, so the answer never is NaN and the reference,
    the ONNX body and the CUDA kernel agree on every branch. Not differentiable (bins only).
    """
    import torch

    base = torch.atan(y / x)
    zero = torch.zeros((), dtype=y.dtype, device=y.device)
    shift = torch.where(y >= 0, math.pi, -math.pi)
    on_axis = torch.where(y > 0, math.pi / 2, torch.where(y < 0, -math.pi / 2, zero))
    return torch.where(x > 0, base, torch.where(x < 0, base + shift, on_axis)).to(y.dtype)


def offsets(points: Any, centers: Any, dtype: Any) -> tuple[Any, Any, Any]:
    """``points[..., n, :] - centers[..., k, :]`` as three ``[..., K, N]`` components in ``dtype``.

    Component-wise broadcasting avoids a [K, N, 3] tensor and fixes the summation order of the
    radius to the ONNX body's and the kernel's: ``(dx*dx + dy*dy) + dz*dz``.
    """
    p, c = points.to(dtype), centers.to(dtype)
    return tuple(p[..., a].unsqueeze(-2) - c[..., a].unsqueeze(-1) for a in range(3))


def safe_radius(dx: Any, dy: Any, dz: Any) -> Any:
    """``sqrt(dx^2 + dy^2 + dz^2)`` with gradient 0 (not NaN) where it is 0."""
    import torch

    sq = (dx * dx + dy * dy) + dz * dz
    positive = sq > 0
    root = torch.sqrt(torch.where(positive, sq, torch.ones_like(sq)))
    return torch.where(positive, root, torch.zeros_like(sq))


def sector_index(dx: Any, dy: Any, dz: Any, n_azimuth: int, n_polar: int) -> Any:
    """Sector index (int64) of offsets (dx, dy, dz), each ``[..., K, N]`` (methods.md 5.4).

    theta = atan2(sqrt(dx^2 + dy^2), dz) in [0, pi]; phi = atan2(dy, dx) + pi in [0, 2 pi];
    bin = clamp(floor(angle / unit), 0, n - 1) with unit = span / n computed in dx's dtype;
    sector = polar_bin * n_azimuth + azimuth_bin.
    """
    import torch

    with torch.no_grad():
        rho_sq = dx * dx + dy * dy
        theta = atan2(torch.sqrt(rho_sq), dz)
        phi = atan2(dy, dx) + torch.tensor(math.pi, dtype=dx.dtype, device=dx.device)
        polar = _bin(theta, math.pi, n_polar)
        azimuth = _bin(phi, 2 * math.pi, n_azimuth)
        return polar * n_azimuth + azimuth


def _bin(angle: Any, span: float, count: int) -> Any:
    import torch

    count_t = torch.tensor(float(count), dtype=angle.dtype, device=angle.device)
    unit = torch.tensor(span, dtype=angle.dtype, device=angle.device) / count_t
    return torch.floor(angle / unit).clamp(0, count - 1).to(torch.int64)
