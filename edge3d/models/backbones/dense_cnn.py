"""Dense 3D CNN with dilated convolutions and a transposed-conv decoder (the MTML backbone).

Layer for layer the SSCNet-style network of MTML's code (``research/methods.md`` 3.2,
``papers/mtml.md``): a large-kernel stem, a residual stage with 1x1 skip and 2x2x2 max pooling,
two residual stages at half resolution, two dilated residual stages, concatenation of the four
half-resolution stages, a 4x4x4 stride-2 transposed convolution back to full resolution and two
1x1x1 layers. The channel widths are ``width`` times MTML's ratios (MTML's released code is
``width=8``; the CPU default is 4). Standard ONNX Conv / MaxPool / ConvTranspose only; the grid
is built from points by the preprocessing (see :meth:`DenseCNN.input_spec`).

BatchNorm (absent in MTML, on by default here because it trains faster on small batches) folds
into the convolutions at export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from edge3d.models.backbones.layers import ConvBlock
from edge3d.tensor_spec import TensorSpec


@dataclass(frozen=True)
class DenseCNNConfig:
    """Shape of a :class:`DenseCNN`.

    Attributes:
        in_channels: channels per grid cell (e.g. occupancy + RGB = 4, or one-hot semantics).
        width: channel multiplier (MTML's code: 8).
        stem_kernel: kernel edge of the first convolution (MTML: 7).
        dilation: dilation of the four dilated convolutions (MTML: 5).
        norm: BatchNorm after each convolution (folded at export).
    """

    in_channels: int = 4
    width: int = 4
    stem_kernel: int = 7
    dilation: int = 2
    norm: bool = True

    def preprocess_fields(self, data: Mapping) -> dict:
        """What the input builder needs besides the features (a manifest's ``preprocess``):
        the grid, from the data config."""
        return {"grid_shape": [int(s) for s in data["grid_shape"]]}

    def __post_init__(self) -> None:
        if self.stem_kernel % 2 != 1 or self.stem_kernel < 1:
            raise ValueError(f"DenseCNNConfig.stem_kernel must be odd, got {self.stem_kernel}")
        if self.width < 1 or self.dilation < 1 or self.in_channels < 1:
            raise ValueError("DenseCNNConfig: in_channels, width and dilation must be >= 1")


class DenseCNN(nn.Module):
    """MTML-style dense 3D CNN: ``forward(inputs)`` -> features [B, 8*width, D, H, W].

    D, H and W must be even (one pooling level); the output has the input's resolution.
    """

    def __init__(self, config: DenseCNNConfig | None = None) -> None:
        super().__init__()
        cfg = config or DenseCNNConfig()
        self.config = cfg
        c = cfg.width

        def conv(cin: int, cout: int, k: int = 3, dilation: int = 1, relu: bool = True,
                 norm: bool = cfg.norm) -> ConvBlock:
            pad = dilation * (k - 1) // 2
            layer = nn.Conv3d(cin, cout, k, padding=pad, dilation=dilation, bias=not norm)
            return ConvBlock(layer, cout, norm=norm, relu=relu, channels_last=False)

        self.conv1_1 = conv(cfg.in_channels, c, cfg.stem_kernel)
        self.conv1_2 = conv(c, 2 * c)
        self.conv1_3 = conv(2 * c, 2 * c, relu=False)
        self.skip1 = conv(c, 2 * c, k=1, relu=False)
        self.pool = nn.MaxPool3d(2)
        self.conv2_1 = conv(2 * c, 4 * c)
        self.conv2_2 = conv(4 * c, 4 * c, relu=False)
        self.skip2 = conv(2 * c, 4 * c, k=1, relu=False)
        self.conv3_1 = conv(4 * c, 4 * c)
        self.conv3_2 = conv(4 * c, 4 * c, relu=False)
        d = cfg.dilation
        self.dil1_1 = conv(4 * c, 4 * c, dilation=d)
        self.dil1_2 = conv(4 * c, 4 * c, dilation=d)
        self.dil2_1 = conv(4 * c, 4 * c, dilation=d)
        self.dil2_2 = conv(4 * c, 4 * c, dilation=d, relu=False)
        up = nn.ConvTranspose3d(16 * c, 16 * c, 4, stride=2, padding=1, bias=not cfg.norm)
        self.up = ConvBlock(up, 16 * c, norm=cfg.norm, relu=False, channels_last=False)
        self.head1 = conv(16 * c, 8 * c, k=1)
        self.head2 = conv(8 * c, 8 * c, k=1)

    @property
    def out_channels(self) -> int:
        """Channels of the per-cell output features."""
        return 8 * self.config.width

    def input_spec(self) -> list[TensorSpec]:
        """The single input: a dense grid, channels first; D, H, W even."""
        return [TensorSpec("grid", "float32", ("B", self.config.in_channels, "D", "H", "W"),
                           "dense voxel grid, channels first (e.g. occupancy + mean RGB); "
                           "D, H, W even")]

    def output_spec(self) -> list[TensorSpec]:
        """The output: per-cell features at the input resolution."""
        return [TensorSpec("grid_features", "float32", ("B", self.out_channels, "D", "H", "W"),
                           "per-cell backbone features")]

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        x = self.conv1_1(inputs["grid"])
        h1 = self.pool(self.conv1_3(self.conv1_2(x)) + self.skip1(x))
        h2 = torch.relu(self.conv2_2(self.conv2_1(h1)) + self.skip2(h1))
        h3 = torch.relu(self.conv3_2(self.conv3_1(h2)) + h2)
        hd1 = self.dil1_2(self.dil1_1(h3))
        hd2 = hd1 + self.dil2_2(self.dil2_1(hd1))
        merged = torch.relu(torch.cat([hd2, hd1, h3, h2], dim=1))
        return self.head2(self.head1(self.up(merged)))
