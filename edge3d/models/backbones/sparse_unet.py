"""Sparse voxel UNet from Gather + MatMul (the SSEN / Spherical Mask backbone family).

Architecture (``research/methods.md`` 4.2 MinkUNet and 5.2 ISBNet UBlock, at CPU scale):
a submanifold stem, then per pyramid level residual blocks of two 3x3x3 submanifold convs
(conv -> BN -> ReLU, conv -> BN, + identity or 1x1 projection, ReLU); stride-2 2x2x2 strided
convs (or max pooling + 1x1 conv) down; stride-2 2x2x2 transposed convs up onto the cached finer
voxels, concatenated with the skip and merged by residual blocks. Output: per-voxel features of
level 0. Every coordinate-dependent index comes from ``edge3d.native`` (``voxel_pyramid`` and
``neighbor_table``); see :meth:`SparseUNet.input_spec` for the exact inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from edge3d.models.backbones.layers import (
    ConvBlock,
    Pointwise,
    SparseMaxPool,
    StridedConv,
    SubMConv,
    TransposedConv,
)
from edge3d.tensor_spec import TensorSpec


@dataclass(frozen=True)
class SparseUNetConfig:
    """Shape of a :class:`SparseUNet`.

    Attributes:
        in_channels: input feature channels per voxel (e.g. 6 for RGB + xyz).
        channels: feature channels per pyramid level, finest first; its length is the number of
            levels (the pyramid must have as many).
        blocks: residual blocks per encoder level (the decoder uses one merge block per level
            plus ``blocks - 1`` more).
        kernel_size: submanifold kernel edge (3 -> 27 neighbours); the neighbour tables must be
            built with the same value.
        downsample: ``"conv"`` (2x2x2 strided conv) or ``"maxpool"`` (max pool + 1x1 conv).
        bn_momentum: BatchNorm momentum (MinkUNet uses 0.02 for large batches).
    """

    in_channels: int = 6
    channels: tuple[int, ...] = (16, 32, 48, 64)
    blocks: int = 1
    kernel_size: int = 3
    downsample: str = "conv"
    bn_momentum: float = 0.1

    def __post_init__(self) -> None:
        if len(self.channels) < 1 or min(self.channels) < 1:
            raise ValueError(f"SparseUNetConfig.channels must be non-empty and positive, "
                             f"got {self.channels}")
        if self.downsample not in ("conv", "maxpool"):
            raise ValueError(f"SparseUNetConfig.downsample must be 'conv' or 'maxpool', "
                             f"got {self.downsample!r}")
        if self.kernel_size not in (1, 3, 5):
            raise ValueError(f"SparseUNetConfig.kernel_size must be 1, 3 or 5, got "
                             f"{self.kernel_size}")
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))

    @property
    def levels(self) -> int:
        """Number of pyramid levels the inputs must provide."""
        return len(self.channels)

    def preprocess_fields(self, data: Mapping) -> dict:
        """What the input builder needs besides the features (a manifest's ``preprocess``)."""
        return {"levels": self.levels, "kernel_size": self.kernel_size}


class ResidualBlock(nn.Module):
    """Two submanifold convs with BN and a residual connection (1x1 projection if C changes)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_volume: int,
                 momentum: float) -> None:
        super().__init__()
        self.conv1 = ConvBlock(SubMConv(in_channels, out_channels, kernel_volume), out_channels,
                               momentum=momentum)
        self.conv2 = ConvBlock(SubMConv(out_channels, out_channels, kernel_volume), out_channels,
                               relu=False, momentum=momentum)
        self.proj = (None if in_channels == out_channels else
                     ConvBlock(Pointwise(in_channels, out_channels), out_channels, relu=False,
                               momentum=momentum))

    def forward(self, x: Tensor, neighbors: Tensor) -> Tensor:
        skip = x if self.proj is None else self.proj(x)
        return torch.relu(self.conv2(self.conv1(x, neighbors), neighbors) + skip)


class SparseUNet(nn.Module):
    """Sparse voxel UNet; ``forward(inputs)`` -> per-voxel features [M0, channels[0]].

    ``inputs`` maps the names of :meth:`input_spec` to tensors; an ONNX export has exactly those
    inputs (``edge3d.export.onnx_export.export_onnx``).
    """

    def __init__(self, config: SparseUNetConfig | None = None) -> None:
        super().__init__()
        cfg = config or SparseUNetConfig()
        self.config = cfg
        kv = cfg.kernel_size ** 3
        ch, m = cfg.channels, cfg.bn_momentum
        self.stem = ConvBlock(SubMConv(cfg.in_channels, ch[0], kv), ch[0], momentum=m)
        self.encoders = nn.ModuleList(
            nn.ModuleList(ResidualBlock(c, c, kv, m) for _ in range(cfg.blocks)) for c in ch)
        self.downs = nn.ModuleList()
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for level in range(1, cfg.levels):
            c_fine, c_coarse = ch[level - 1], ch[level]
            if cfg.downsample == "conv":
                self.downs.append(ConvBlock(StridedConv(c_fine, c_coarse), c_coarse, momentum=m))
            else:
                self.downs.append(nn.ModuleList([
                    SparseMaxPool(), ConvBlock(Pointwise(c_fine, c_coarse), c_coarse,
                                               momentum=m)]))
            self.ups.append(ConvBlock(TransposedConv(c_coarse, c_fine), c_fine, momentum=m))
            merge = [ResidualBlock(2 * c_fine, c_fine, kv, m)]
            merge += [ResidualBlock(c_fine, c_fine, kv, m) for _ in range(cfg.blocks - 1)]
            self.decoders.append(nn.ModuleList(merge))

    @property
    def out_channels(self) -> int:
        """Channels of the per-voxel output features."""
        return self.config.channels[0]

    def input_spec(self) -> list[TensorSpec]:
        """The inputs, in ONNX input order. ``M{l}`` is the voxel count of pyramid level l."""
        k = self.config.kernel_size ** 3
        specs = [TensorSpec("features", "float32", ("M0", self.config.in_channels),
                            "per-voxel input features (mean over the voxel's points)")]
        for level in range(self.config.levels):
            specs.append(TensorSpec(
                f"neighbors_{level}", "int32", (f"M{level}", k),
                f"submanifold neighbour table of level {level} "
                f"(edge3d.native.neighbor_table, kernel {self.config.kernel_size}); "
                f"M{level} = empty", index_of=f"M{level}", padded=True))
        for level in range(1, self.config.levels):
            specs.append(TensorSpec(
                f"children_{level}", "int32", (f"M{level}", 8),
                f"level-{level - 1} rows of each level-{level} voxel's 8 children by octant "
                f"(voxel_pyramid children); M{level - 1} = no child",
                index_of=f"M{level - 1}", padded=True))
            specs.append(TensorSpec(
                f"up_{level}", "int32", (f"M{level - 1}",),
                f"parent * 8 + octant of each level-{level - 1} voxel in level {level}",
                index_of=f"M{level}", index_scale=8))
        return specs

    def output_spec(self) -> list[TensorSpec]:
        """The outputs: per-voxel features of level 0."""
        return [TensorSpec("voxel_features", "float32", ("M0", self.out_channels),
                           "per-voxel backbone features of level 0")]

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        x = self.stem(inputs["features"], inputs["neighbors_0"])
        skips = []
        for level, blocks in enumerate(self.encoders):
            if level > 0:
                down = self.downs[level - 1]
                children = inputs[f"children_{level}"]
                if isinstance(down, nn.ModuleList):
                    x = down[1](down[0](x, children))
                else:
                    x = down(x, children)
            for block in blocks:
                x = block(x, inputs[f"neighbors_{level}"])
            skips.append(x)
        for level in range(self.config.levels - 1, 0, -1):
            x = self.ups[level - 1](x, inputs[f"up_{level}"])
            x = torch.cat([x, skips[level - 1]], dim=1)
            for block in self.decoders[level - 1]:
                x = block(x, inputs[f"neighbors_{level - 1}"])
        return x
