"""Exportable layers: convolutions written as Gather + MatMul over precomputed index tables.

Every layer here lowers to standard ONNX ops (Concat, Gather, Reshape, MatMul, Add, Relu,
ReduceMax); the index tables are graph inputs built by ``edge3d.native``
(``research/backbones.md`` section 2.3). Padding convention of every table: the value ``M``
(the row count of the gathered tensor) means "no neighbour"; the layer appends one neutral row
(zeros, or -inf for max pooling) so that padding reads it.

Weights of the gather convolutions are stored as ``[k * C_in, C_out]`` matrices whose row
``j * C_in + c`` multiplies channel ``c`` of table column ``j``, so the im2col product is a
single MatMul. A :class:`ConvBlock` (conv -> BatchNorm -> activation) folds its normalisation
into the conv's weight and bias at export (:func:`fold_norms`).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor, nn


def append_row(x: Tensor, value: float = 0.0) -> Tensor:
    """``x`` [M, C] with one extra row filled with ``value`` -> [M + 1, C] (the padding row)."""
    return torch.cat([x, x.new_full((1, x.shape[1]), value)], dim=0)


def gather_rows(x: Tensor, index: Tensor, pad_value: float = 0.0) -> Tensor:
    """Rows of ``x`` [M, C] at ``index`` (int32/int64, any shape, values in [0, M], M = padding).

    Returns ``index.shape + (C,)``. Exports as Concat + Gather (one flat Gather is faster in ONNX
    Runtime than GatherND over a 2-D index).
    """
    rows = torch.index_select(append_row(x, pad_value), 0, index.reshape(-1))
    return rows.reshape(*index.shape, x.shape[1])


def gather_columns(x: Tensor, table: Tensor) -> Tensor:
    """The im2col buffer ``[rows, K * C]`` of ``x`` [M, C] over ``table`` [rows, K] (padding M
    reads zeros): row i is the features of table row i's K entries, side by side."""
    return gather_rows(x, table).reshape(table.shape[0], -1)


class _GatherLinear(nn.Module):
    """A linear map ``[rows, fan_in] @ weight[fan_in, C_out] (+ bias)`` with foldable scale."""

    def __init__(self, fan_in: int, out_channels: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(fan_in, out_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        # He initialisation for the ReLU networks these layers build.
        nn.init.normal_(self.weight, std=math.sqrt(2.0 / fan_in))

    def _linear(self, x: Tensor) -> Tensor:
        y = x @ self.weight
        return y if self.bias is None else y + self.bias

    @torch.no_grad()
    def fold_scale_shift(self, scale: Tensor, shift: Tensor) -> None:
        """Replace ``y`` by ``y * scale + shift`` (per output channel) inside the weights."""
        self.weight.mul_(scale)
        bias = shift.clone() if self.bias is None else self.bias * scale + shift
        self.bias = nn.Parameter(bias)


class SubMConv(_GatherLinear):
    """Submanifold sparse convolution over a neighbour table (output voxels = input voxels).

    ``forward(x [M, C_in], neighbors int32 [M, K])`` -> [M, C_out], where ``neighbors[i, j]`` is
    the row of the voxel at offset j of voxel i, or M when that voxel is empty. K = k^3 offsets
    in ``edge3d.native.neighbor_table`` order. Graph: Gather -> Reshape -> MatMul.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_volume: int = 27,
                 bias: bool = False) -> None:
        super().__init__(kernel_volume * in_channels, out_channels, bias)
        self.kernel_volume = kernel_volume

    def forward(self, x: Tensor, neighbors: Tensor) -> Tensor:
        if torch.is_grad_enabled():
            y = _SubMConvFunction.apply(x, neighbors, self.weight)
            return y if self.bias is None else y + self.bias
        return self._linear(gather_columns(x, neighbors))


class _SubMConvFunction(torch.autograd.Function):
    """The submanifold conv with a gather-only backward.

    Autograd's backward of the forward Gather is a scatter-add of ``[M * K, C_in]`` rows, which
    on the CPU costs more than all the convs' matrix products. A submanifold table is symmetric:
    voxel j is at offset o of voxel i exactly when i is at offset -o of j, and offset -o is column
    ``K - 1 - column(o)`` (the offsets are ordered lexicographically around the centre). So the
    input gradient is itself a submanifold conv of the output gradient, over the same table,
    with the per-offset weights transposed and in reverse order: a Gather and a MatMul.
    """

    @staticmethod
    def forward(ctx, x: Tensor, neighbors: Tensor, weight: Tensor) -> Tensor:
        cols = gather_columns(x, neighbors)
        ctx.save_for_backward(cols, neighbors, weight)
        return cols @ weight

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, None, Tensor | None]:
        cols, neighbors, weight = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            k = neighbors.shape[1]
            c_in = weight.shape[0] // k
            flipped = weight.reshape(k, c_in, -1).flip(0).transpose(1, 2).reshape(-1, c_in)
            grad_x = gather_columns(grad, neighbors) @ flipped
        if ctx.needs_input_grad[2]:
            grad_w = cols.t() @ grad
        return grad_x, None, grad_w


class StridedConv(_GatherLinear):
    """Stride-2, 2x2x2 sparse convolution from level l-1 to level l (Minkowski/spconv "down").

    ``forward(x_fine [M_{l-1}, C_in], children int32 [M_l, 8])`` -> [M_l, C_out], where
    ``children[i, s]`` is the level l-1 row of the child of voxel i in octant s, or M_{l-1}.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = False) -> None:
        super().__init__(8 * in_channels, out_channels, bias)

    def forward(self, x: Tensor, children: Tensor) -> Tensor:
        return self._linear(gather_columns(x, children))


class TransposedConv(nn.Module):
    """Stride-2, 2x2x2 transposed sparse convolution from level l back onto level l-1's voxels.

    ``forward(x_coarse [M_l, C_in], up int32 [M_{l-1}])`` -> [M_{l-1}, C_out], with
    ``up[i] = parent[i] * 8 + octant[i]``: each fine voxel takes its parent's features through
    the weight slice of its octant. Graph: MatMul -> Reshape -> Gather (no scatter).
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = False) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.weight = nn.Parameter(torch.empty(in_channels, 8 * out_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.normal_(self.weight, std=math.sqrt(2.0 / in_channels))

    def forward(self, x: Tensor, up: Tensor) -> Tensor:
        per_octant = (x @ self.weight).reshape(-1, self.out_channels)
        y = torch.index_select(per_octant, 0, up)
        return y if self.bias is None else y + self.bias

    @torch.no_grad()
    def fold_scale_shift(self, scale: Tensor, shift: Tensor) -> None:
        """Replace ``y`` by ``y * scale + shift`` (per output channel) inside the weights."""
        self.weight.mul_(scale.repeat(8))
        bias = shift.clone() if self.bias is None else self.bias * scale + shift
        self.bias = nn.Parameter(bias)


class Pointwise(_GatherLinear):
    """A shared linear layer over the last axis (1x1 convolution / PointNet shared MLP)."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = False) -> None:
        super().__init__(in_channels, out_channels, bias)

    def forward(self, x: Tensor) -> Tensor:
        return self._linear(x)


class SparseMaxPool(nn.Module):
    """2x2x2 max pooling from level l-1 to level l: ``forward(x [M_{l-1}, C], children [M_l, 8])``.

    Padding children read a -inf row, so every parent (which has at least one child) gets the
    maximum over its real children. Graph: Concat -> Gather -> ReduceMax.
    """

    def forward(self, x: Tensor, children: Tensor) -> Tensor:
        return gather_rows(x, children, pad_value=-math.inf).amax(dim=1)


class BatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm over every axis but the channel axis (1), synchronised across processes.

    Training mode computes the statistics with explicit ops: per-channel sums and counts, then
    sums of squared deviations, each through a differentiable all-reduce when
    ``torch.distributed`` runs more than one process (DDP through torchrun). Two processes on
    half a batch each therefore compute the same normalisation, and after DDP's gradient
    averaging the same gradients, as one process on the whole batch; one process uses the same
    formula, so the two agree to float32 rounding (PyTorch's SyncBatchNorm needs a GPU, and its
    single-process kernel rounds differently). Eval mode is ``F.batch_norm`` with the running
    statistics, which is what folds into the preceding conv at export.
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"BatchNorm needs [rows, C, ...], got shape {tuple(input.shape)}")

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return super().forward(x)
        all_reduce = _AllReduceSum.apply if _distributed_world() > 1 else _identity
        axes = [0, *range(2, x.dim())]
        c = x.shape[1]
        shape = [1, c] + [1] * (x.dim() - 2)
        # Two passes (mean, then squared deviations) keep float32 precision where E[x^2] -
        # E[x]^2 would cancel.
        first = all_reduce(torch.cat([x.sum(axes), x.new_tensor([x.numel() / c])]))
        n = first[-1]
        mean = first[:c] / n
        centered = x - mean.reshape(shape)
        var = all_reduce((centered * centered).sum(axes)) / n
        if self.track_running_stats and self.running_mean is not None:
            with torch.no_grad():
                m = self.momentum if self.momentum is not None else 0.1
                self.running_mean.lerp_(mean.detach(), m)
                self.running_var.lerp_(var.detach() * n / (n - 1).clamp_min(1.0), m)
                self.num_batches_tracked.add_(1)
        y = centered * torch.rsqrt(var.reshape(shape) + self.eps)
        if self.affine:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y


def _identity(x: Tensor) -> Tensor:
    return x


class _AllReduceSum(torch.autograd.Function):
    """Sum over processes; the gradient of every process's copy is the sum of the gradients."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        import torch.distributed as dist

        y = x.clone()
        dist.all_reduce(y)
        return y

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        import torch.distributed as dist

        g = grad.clone()
        dist.all_reduce(g)
        return g


def _distributed_world() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


class ConvBlock(nn.Module):
    """``activation(norm(conv(*inputs)))`` where norm is BatchNorm over the channel axis.

    The norm runs after the conv, so at export it folds exactly into the conv's weight and bias
    (:func:`fold_norms`). Channels are the last axis for the sparse/point layers
    (``channels_last=True``) and axis 1 for dense Conv3d layers.
    """

    def __init__(self, conv: nn.Module, channels: int, norm: bool = True, relu: bool = True,
                 channels_last: bool = True, momentum: float = 0.1) -> None:
        super().__init__()
        self.conv = conv
        self.channels_last = channels_last
        if norm:
            self.norm: nn.Module = BatchNorm(channels, momentum=momentum)
        else:
            self.norm = nn.Identity()
        self.act: nn.Module = nn.ReLU() if relu else nn.Identity()

    def forward(self, *inputs: Tensor) -> Tensor:
        y = self.conv(*inputs)
        if isinstance(self.norm, nn.modules.batchnorm._BatchNorm):
            if self.channels_last:
                shape = y.shape
                y = self.norm(y.reshape(-1, shape[-1])).reshape(shape)
            else:
                y = self.norm(y)
        return self.act(y)


@torch.no_grad()
def _fold_dense(conv: nn.Module, scale: Tensor, shift: Tensor) -> None:
    if isinstance(conv, nn.ConvTranspose3d):
        conv.weight.mul_(scale.reshape(1, -1, 1, 1, 1))
    else:
        conv.weight.mul_(scale.reshape(-1, 1, 1, 1, 1))
    bias = shift.clone() if conv.bias is None else conv.bias * scale + shift
    conv.bias = nn.Parameter(bias)


def fold_norms(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode with every :class:`ConvBlock`'s BatchNorm folded away.

    With ``s = gamma / sqrt(running_var + eps)``, the conv's weight is multiplied by ``s`` per
    output channel and its bias becomes ``bias * s + beta - running_mean * s``; the norm is
    replaced by Identity. The result computes the same function as ``model.eval()`` (up to
    float rounding) with one fewer op per layer.
    """
    folded = copy.deepcopy(model).eval()
    for block in folded.modules():
        if not isinstance(block, ConvBlock):
            continue
        norm = block.norm
        if not isinstance(norm, nn.modules.batchnorm._BatchNorm):
            continue
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        shift = norm.bias - norm.running_mean * scale
        if isinstance(block.conv, (nn.Conv3d, nn.ConvTranspose3d)):
            _fold_dense(block.conv, scale.detach(), shift.detach())
        else:
            block.conv.fold_scale_shift(scale.detach(), shift.detach())
        block.norm = nn.Identity()
    return folded
