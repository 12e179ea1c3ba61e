"""PointNet++ (single-scale grouping) over precomputed sampling and grouping indices.

The 3D-BoNet and Probabilistic Embeddings backbone (``research/methods.md`` 1.2; Qi et al.,
PointNet++, set abstraction with single-scale grouping and feature propagation). Farthest point
sampling, ball query and 3-NN interpolation depend only on the coordinates, so
``edge3d.native`` computes them (``fps``, ``ball_query``, ``three_nn_weights``) and the network
is Gather + shared MLP + ReduceMax (set abstraction) and Gather + Mul + ReduceSum + MLP (feature
propagation). See :meth:`PointNet2.input_spec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from edge3d.models.backbones.layers import ConvBlock, Pointwise, gather_rows
from edge3d.tensor_spec import TensorSpec


@dataclass(frozen=True)
class PointNet2Config:
    """Shape of a :class:`PointNet2` and the sampling parameters its inputs are built with.

    Attributes:
        in_channels: per-point input features (xyz is added to every group automatically).
        npoints: FPS sample count per set-abstraction level (capped at the previous level's
            count by the input builder); preprocessing only, the network is size-agnostic.
        radii: ball-query radius per level, in the units of the input coordinates (metres).
        nsamples: ball-query group size K per level.
        sa_channels: shared-MLP widths per set-abstraction level.
        fp_channels: shared-MLP widths per feature-propagation level, coarsest first (the last
            one ends at the input points and gives the output width).
        voxelize: run on the voxel centroids of the cloud at the data's ``voxel_size`` (mean
            features per voxel; the input builder adds ``point_map``, each point's row) instead
            of on the points: a room's rows then have the same density in training and on the
            robot whatever the sensor's sampling. Preprocessing only.
    """

    in_channels: int = 3
    npoints: tuple[int, ...] = (512, 128, 32)
    radii: tuple[float, ...] = (0.1, 0.2, 0.4)
    nsamples: tuple[int, ...] = (16, 16, 16)
    sa_channels: tuple[tuple[int, ...], ...] = ((32, 32, 64), (64, 64, 128), (128, 128, 256))
    fp_channels: tuple[tuple[int, ...], ...] = ((128, 128), (128, 128), (64, 64))
    voxelize: bool = False

    def preprocess_fields(self, data: Mapping) -> dict:
        """What the input builder needs besides the features (a manifest's ``preprocess``)."""
        fields = {"npoints": list(self.npoints), "radii": list(self.radii),
                  "nsamples": list(self.nsamples)}
        return {**fields, "voxelize": True} if self.voxelize else fields

    def __post_init__(self) -> None:
        n = len(self.radii)
        lengths = {len(self.npoints), len(self.nsamples), len(self.sa_channels),
                   len(self.fp_channels)}
        if n < 1 or lengths != {n}:
            raise ValueError(
                "PointNet2Config: npoints, radii, nsamples, sa_channels and fp_channels need one "
                f"entry per level; got lengths {len(self.npoints)}, {n}, {len(self.nsamples)}, "
                f"{len(self.sa_channels)}, {len(self.fp_channels)}")
        for name in ("npoints", "nsamples"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        object.__setattr__(self, "radii", tuple(float(r) for r in self.radii))
        for name in ("sa_channels", "fp_channels"):
            object.__setattr__(self, name, tuple(tuple(int(c) for c in m)
                                                 for m in getattr(self, name)))

    @property
    def levels(self) -> int:
        """Number of set-abstraction levels."""
        return len(self.radii)


def _mlp(in_channels: int, widths: tuple[int, ...]) -> nn.ModuleList:
    layers, c = [], in_channels
    for w in widths:
        layers.append(ConvBlock(Pointwise(c, w), w))
        c = w
    return nn.ModuleList(layers)


def _run(mlp: nn.ModuleList, x: Tensor) -> Tensor:
    for layer in mlp:
        x = layer(x)
    return x


class PointNet2(nn.Module):
    """PointNet++ segmentation backbone; ``forward(inputs)`` -> per-point features [N0, C].

    ``inputs`` maps the names of :meth:`input_spec` to tensors.
    """

    def __init__(self, config: PointNet2Config | None = None) -> None:
        super().__init__()
        cfg = config or PointNet2Config()
        self.config = cfg
        self.sa = nn.ModuleList()
        widths = [cfg.in_channels]
        for level in range(cfg.levels):
            self.sa.append(_mlp(widths[-1] + 3, cfg.sa_channels[level]))
            widths.append(cfg.sa_channels[level][-1])
        self.fp = nn.ModuleList()
        c = widths[-1]
        for i, fp_widths in enumerate(cfg.fp_channels):
            skip = widths[cfg.levels - 1 - i]
            self.fp.append(_mlp(c + skip, fp_widths))
            c = fp_widths[-1]
        self._out_channels = c

    @property
    def out_channels(self) -> int:
        """Channels of the per-point output features."""
        return self._out_channels

    def input_spec(self) -> list[TensorSpec]:
        """The inputs, in ONNX input order. ``N{l}`` is the point count of level l."""
        cfg = self.config
        specs = [TensorSpec("xyz", "float32", ("N0", 3), "point coordinates (metres)"),
                 TensorSpec("features", "float32", ("N0", cfg.in_channels),
                            "per-point input features")]
        for level in range(1, cfg.levels + 1):
            k = cfg.nsamples[level - 1]
            specs.append(TensorSpec(
                f"sample_{level}", "int32", (f"N{level}",),
                f"farthest-point-sample rows of level {level - 1} (edge3d.native.fps)",
                index_of=f"N{level - 1}"))
            specs.append(TensorSpec(
                f"group_{level}", "int32", (f"N{level}", k),
                f"ball query (r={cfg.radii[level - 1]}) rows of level {level - 1} around each "
                f"sample (edge3d.native.ball_query), filled with the first hit; N{level - 1} "
                "= empty", index_of=f"N{level - 1}", padded=True))
        for level in range(1, cfg.levels + 1):
            specs.append(TensorSpec(
                f"interp_index_{level}", "int32", (f"N{level - 1}", 3),
                f"3 nearest level-{level} rows of each level-{level - 1} point "
                "(edge3d.native.three_nn_weights)", index_of=f"N{level}"))
            specs.append(TensorSpec(
                f"interp_weight_{level}", "float32", (f"N{level - 1}", 3),
                "normalised inverse-distance weights of those 3 neighbours (rows sum to 1)"))
        return specs

    def output_spec(self) -> list[TensorSpec]:
        """The outputs: per-point features."""
        return [TensorSpec("point_features", "float32", ("N0", self.out_channels),
                           "per-point backbone features")]

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        cfg = self.config
        xyz, feats = inputs["xyz"], inputs["features"]
        xyzs, levels = [xyz], [feats]
        for level in range(1, cfg.levels + 1):
            sample, group = inputs[f"sample_{level}"], inputs[f"group_{level}"]
            centers = torch.index_select(xyz, 0, sample)
            rel = (gather_rows(xyz, group) - centers.unsqueeze(1)) / cfg.radii[level - 1]
            grouped = torch.cat([rel, gather_rows(feats, group)], dim=2)
            feats = _run(self.sa[level - 1], grouped).amax(dim=1)
            xyz = centers
            xyzs.append(xyz)
            levels.append(feats)
        for i in range(cfg.levels):
            level = cfg.levels - i
            index, weight = inputs[f"interp_index_{level}"], inputs[f"interp_weight_{level}"]
            interpolated = (gather_rows(feats, index) * weight.unsqueeze(2)).sum(dim=1)
            feats = _run(self.fp[i], torch.cat([interpolated, levels[level - 1]], dim=1))
        return feats
