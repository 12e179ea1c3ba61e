"""Spherical Mask (Shin et al., CVPR 2024): radial instance detection, radial point migration,
sector mask assembly, at CPU scale.

``papers/spherical-mask.md`` section 3 on the ISBNet-style network the reference code builds
(``research/methods.md`` 5.2-5.6). Two exportable graphs with native code between them
(``design.md`` section 4):

- :class:`PointStage` (graph ``points``): sparse voxel UNet (:class:`SparseUNet`, Gather +
  MatMul) and the point-wise heads of 5.2: semantic logits, centroid offset, box corner offsets
  (box = voxel position + offsets, min then max), the backbone features and the mask tower's
  mask features (5.3, ``mask_tower``).
- native, between them (:func:`edge3d.runtime.methods.spherical_mask.sample_seeds` /
  ``group_queries``): foreground voxels (any thing-class probability >= 0.1), farthest point
  sampling of ``n_seed`` of them, ball queries (PointNet++), no torch.
- :class:`QueryStage` (graph ``queries``): the two local aggregators (set abstraction, 5.3),
  the query MLP and heads (class incl. no-object, confidence, box, ``n_polar * n_azimuth``
  rays, centre), the dynamic-convolution *point migration head* giving the radial migration
  ``rpm`` of every voxel for every query (paper 3.3.2), and the mask assembly
  ``ray[sector] - r + 2 * rpm`` with ``edge3d.ops.sector_mask`` (paper eq. 13; 5.6).

:class:`SphericalMask` chains them for training: the native step runs inside ``forward`` on
detached values. Everything is per voxel of pyramid level 0; positions are the voxel centroids
(mean of the voxel's points, metres).

Deviation from the reference code, on purpose: at assembly the reference clamps
``ray_preds < 0.01`` to 0.01 in place on all 28 columns, which also clamps negative *centre*
coordinates (5.6). Here only the rays are clamped, as the paper means (``docs/spherical_mask.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from edge3d.models.backbones import build_backbone
from edge3d.models.backbones.layers import ConvBlock, Pointwise, gather_rows
from edge3d.tensor_spec import TensorSpec


@dataclass(frozen=True)
class SphericalMaskConfig:
    """Sizes of the query stage (``method`` section of a training config).

    Attributes:
        num_classes: semantic classes K (background included).
        thing_classes: class ids with instances (the query classifier predicts these + no-object).
        n_azimuth, n_polar: the sector grid (paper: 5 x 5).
        n_seed: foreground voxels sampled by FPS for aggregator 1 (reference 2048).
        n_query: queries in training, the first ``n_query`` seeds (reference 256).
        radii: ball-query radii (metres) of aggregator 1 (seed groups, seed neighbours) and of
            aggregator 2's query neighbours (reference 0.2, 0.4, 0.8).
        nsamples: ball-query slots for the three groupings (reference 32, 64/32, 32).
        agg_channels: output channels of aggregator 1 and 2 (reference 64, 128).
        dec_channels: query MLP width (reference 128).
        mask_channels: mask-tower features per voxel (reference 32).
        dyco_channels: hidden width of the 2-layer dynamic convolution (reference 32).
        use_rpm: radial point migration on (False: the "RID only" ablation; migration is 0).
        fg_threshold: a voxel is foreground when some thing-class probability is >= this.
    """

    num_classes: int = 10
    thing_classes: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 9)
    n_azimuth: int = 5
    n_polar: int = 5
    n_seed: int = 256
    n_query: int = 64
    radii: tuple[float, float, float] = (0.2, 0.4, 0.8)
    nsamples: tuple[int, int, int] = (16, 16, 16)
    agg_channels: tuple[int, int] = (32, 64)
    dec_channels: int = 64
    mask_channels: int = 16
    dyco_channels: int = 16
    use_rpm: bool = True
    fg_threshold: float = 0.1

    def __post_init__(self) -> None:
        for key in ("thing_classes", "radii", "nsamples", "agg_channels"):
            object.__setattr__(self, key, tuple(getattr(self, key)))
        if not self.thing_classes:
            raise ValueError("SphericalMaskConfig.thing_classes is empty: nothing to segment")
        if any(not 0 <= c < self.num_classes for c in self.thing_classes):
            raise ValueError(f"thing_classes {self.thing_classes} must be class ids below "
                             f"num_classes={self.num_classes}")
        if len(self.radii) != 3 or len(self.nsamples) != 3 or len(self.agg_channels) != 2:
            raise ValueError("radii and nsamples need 3 values, agg_channels 2")
        if min(self.n_seed, self.n_query) < 1 or self.n_query > self.n_seed:
            raise ValueError(f"need 1 <= n_query <= n_seed, got {self.n_query}, {self.n_seed}")

    @property
    def sectors(self) -> int:
        return self.n_azimuth * self.n_polar

    @classmethod
    def from_method(cls, method: Mapping[str, Any], background: Sequence[int]) -> \
            SphericalMaskConfig:
        """From a training config's ``method`` section; thing classes default to every class
        not in ``background``."""
        from edge3d.runtime.methods.param_types import field_values

        values = field_values(cls, method)
        k = int(method["num_classes"])
        values["num_classes"] = k
        values.setdefault("thing_classes", tuple(c for c in range(k) if c not in background))
        return cls(**values)


def _mlp(channels: Sequence[int], last_act: bool = True) -> nn.ModuleList:
    """Shared MLP (Pointwise -> BN -> ReLU per layer; ``last_act=False``: BN, no ReLU last)."""
    layers = nn.ModuleList()
    for i in range(len(channels) - 1):
        relu = last_act or i < len(channels) - 2
        layers.append(ConvBlock(Pointwise(channels[i], channels[i + 1]), channels[i + 1],
                                relu=relu))
    return layers


def _run(layers: nn.ModuleList, x: Tensor) -> Tensor:
    for layer in layers:
        x = layer(x)
    return x


def _head(c_in: int, hidden: int, c_out: int) -> nn.ModuleList:
    """Pointwise-BN-ReLU then a plain Pointwise with bias (the reference's heads)."""
    return nn.ModuleList([ConvBlock(Pointwise(c_in, hidden), hidden),
                          Pointwise(hidden, c_out, bias=True)])


class PointStage(nn.Module):
    """Graph 1: backbone + point-wise heads, per level-0 voxel (module docstring)."""

    def __init__(self, backbone_config: Mapping | None, cfg: SphericalMaskConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.backbone = build_backbone("sparse_unet", dict(backbone_config or {}))
        c = self.backbone.out_channels
        self.semantic = _head(c, c, cfg.num_classes)
        self.offset = _head(c, c, 3)
        self.box = _head(c, c, 6)
        self.mask_tower = nn.ModuleList([*_mlp([c, c, c]),
                                         Pointwise(c, cfg.mask_channels, bias=True)])

    def input_spec(self) -> list[TensorSpec]:
        return list(self.backbone.input_spec())

    def output_spec(self) -> list[TensorSpec]:
        c, k = self.backbone.out_channels, self.cfg.num_classes
        return [TensorSpec("voxel_features", "float32", ("M0", c), "backbone features"),
                TensorSpec("semantic_logits", "float32", ("M0", k), "class logits"),
                TensorSpec("centroid_offset", "float32", ("M0", 3), "voxel -> instance centre"),
                TensorSpec("box_offsets", "float32", ("M0", 6),
                           "instance box min then max, relative to the voxel (metres)"),
                TensorSpec("mask_features", "float32", ("M0", self.cfg.mask_channels),
                           "mask-tower features of the dynamic convolution")]

    def forward(self, inputs: Mapping[str, Tensor]) -> tuple[Tensor, ...]:
        f = self.backbone(inputs)
        return (f, _run(self.semantic, f), _run(self.offset, f), _run(self.box, f),
                _run(self.mask_tower, f))


class _Aggregator(nn.Module):
    """ISBNet's LocalAggregator (5.3): group around centres, shared MLP, max; then group the
    centres among themselves, MLP (BN, no ReLU), max, FFN (x4 width) + residual, ReLU.

    Grouped features are ``[relative xyz / radius, |box dims - centre's box dims|, feature]``.
    """

    def __init__(self, c_in: int, c_out: int, radii: tuple[float, float]) -> None:
        super().__init__()
        self.radii = radii
        self.mlp1 = _mlp([c_in + 6, c_out, c_out])
        self.mlp2 = _mlp([c_out + 6, c_out], last_act=False)
        self.ffn = nn.ModuleList([ConvBlock(Pointwise(c_out, 4 * c_out), 4 * c_out),
                                  ConvBlock(Pointwise(4 * c_out, c_out), c_out, relu=False)])

    @staticmethod
    def _group(xyz: Tensor, dims: Tensor, feat: Tensor, c_xyz: Tensor, c_dims: Tensor,
               group: Tensor, radius: float) -> Tensor:
        rel = (gather_rows(xyz, group) - c_xyz[:, None, :]) / radius
        dd = (gather_rows(dims, group) - c_dims[:, None, :]).abs()
        return torch.cat([rel, dd, gather_rows(feat, group)], dim=-1)

    def forward(self, xyz: Tensor, dims: Tensor, feat: Tensor, c_xyz: Tensor, c_dims: Tensor,
                group: Tensor, neighbors: Tensor) -> Tensor:
        g = self._group(xyz, dims, feat, c_xyz, c_dims, group, self.radii[0])
        f1 = _run(self.mlp1, g).amax(dim=1)
        g2 = self._group(c_xyz, c_dims, f1, c_xyz, c_dims, neighbors, self.radii[1])
        f2 = _run(self.mlp2, g2).amax(dim=1)
        return torch.relu(_run(self.ffn, f2) + f2)


QUERY_INPUTS = ("voxel_xyz", "voxel_features", "box_offsets", "mask_features", "seed_index",
                "seed_group", "seed_neighbors", "query_index", "query_group", "query_neighbors")


class QueryStage(nn.Module):
    """Graph 2: aggregators, query heads, point migration head, mask assembly."""

    def __init__(self, c_voxel: int, cfg: SphericalMaskConfig) -> None:
        super().__init__()
        self.cfg = cfg
        a1, a2 = cfg.agg_channels
        r = cfg.radii
        self.agg1 = _Aggregator(c_voxel, a1, (r[0], r[1]))
        self.agg2 = _Aggregator(a1, a2, (r[1], r[2]))
        d = cfg.dec_channels
        self.query_mlp = _mlp([a2, d, d])
        self.cls = _head(d, d, len(cfg.thing_classes) + 1)
        self.conf = _head(d, d, 1)
        self.box = _head(d, d, 6)
        self.rays = _head(d, d, cfg.sectors)
        self.center = _head(d, d, 3)
        h, cm = cfg.dyco_channels, cfg.mask_channels
        # Controller -> [W1 (cm + 6) x h, b1 h, W2 h]; the last layer has no bias (5.3).
        self.controller = nn.ModuleList([*_mlp([d, d, d]),
                                         Pointwise(d, (cm + 6) * h + 2 * h, bias=True)])

    def input_spec(self) -> list[TensorSpec]:
        c = self.agg1.mlp1[0].conv.weight.shape[0] - 6
        k1, k2, k3 = self.cfg.nsamples
        return [
            TensorSpec("voxel_xyz", "float32", ("M0", 3), "voxel centroids, metres"),
            TensorSpec("voxel_features", "float32", ("M0", c), "graph 1 output"),
            TensorSpec("box_offsets", "float32", ("M0", 6), "graph 1 output"),
            TensorSpec("mask_features", "float32", ("M0", self.cfg.mask_channels),
                       "graph 1 output"),
            TensorSpec("seed_index", "int32", ("S",), "voxel row of each FPS seed",
                       index_of="M0"),
            TensorSpec("seed_group", "int32", ("S", k1),
                       f"voxel rows within radii[0] of each seed (ball query, {k1} slots)",
                       index_of="M0", padded=True),
            TensorSpec("seed_neighbors", "int32", ("S", k2),
                       "seed rows within radii[1] of each seed", index_of="S", padded=True),
            TensorSpec("query_index", "int32", ("Q",), "seed row of each query",
                       index_of="S"),
            TensorSpec("query_group", "int32", ("Q", k2),
                       "seed rows within radii[1] of each query", index_of="S", padded=True),
            TensorSpec("query_neighbors", "int32", ("Q", k3),
                       "query rows within radii[2] of each query", index_of="Q", padded=True),
        ]

    def output_spec(self) -> list[TensorSpec]:
        t, s = len(self.cfg.thing_classes) + 1, self.cfg.sectors
        return [TensorSpec("cls_logits", "float32", ("Q", t), "thing classes + no-object"),
                TensorSpec("confidence", "float32", ("Q",), "predicted mask IoU"),
                TensorSpec("query_box", "float32", ("Q", 6), "box min then max, metres"),
                TensorSpec("rays", "float32", ("Q", s), "ray length per sector (raw)"),
                TensorSpec("centers", "float32", ("Q", 3), "sphere centre, metres"),
                TensorSpec("migration", "float32", ("Q", "M0"), "radial point migration rpm"),
                TensorSpec("mask_logits", "float32", ("Q", "M0"),
                           "ray[sector] - r + 2 rpm (mask: >= 0)")]

    def forward(self, inputs: Mapping[str, Tensor]) -> tuple[Tensor, ...]:
        cfg = self.cfg
        xyz, feat = inputs["voxel_xyz"], inputs["voxel_features"]
        offs = inputs["box_offsets"]
        dims = offs[:, 3:] - offs[:, :3]
        seed = inputs["seed_index"]
        s_xyz, s_dims = xyz.index_select(0, seed), dims.index_select(0, seed)
        s_feat = self.agg1(xyz, dims, feat, s_xyz, s_dims, inputs["seed_group"],
                           inputs["seed_neighbors"])
        q = inputs["query_index"]
        q_xyz, q_dims = s_xyz.index_select(0, q), s_dims.index_select(0, q)
        q_feat = self.agg2(s_xyz, s_dims, s_feat, q_xyz, q_dims, inputs["query_group"],
                           inputs["query_neighbors"])
        dec = _run(self.query_mlp, q_feat)
        cls = _run(self.cls, dec)
        conf = _run(self.conf, dec)[:, 0]
        box = _run(self.box, dec) + torch.cat([q_xyz, q_xyz], dim=1)
        rays = _run(self.rays, dec)
        centers = _run(self.center, dec) + q_xyz
        migration = self.migrate(dec, q_xyz, q_dims, xyz, dims, inputs["mask_features"])
        # Clamp the rays only (the reference also clamps the centre; module docstring).
        logits = sector_mask_logits(xyz, centers, rays.clamp_min(0.01), migration, cfg)
        return cls, conf, box, rays, centers, migration, logits

    def migrate(self, dec: Tensor, q_xyz: Tensor, q_dims: Tensor, xyz: Tensor, dims: Tensor,
                mask_feat: Tensor) -> Tensor:
        """Point migration head: 2-layer dynamic convolution (paper 3.3.2, 5.3) -> [Q, M0].

        Input per (query, voxel): ``[q_xyz - xyz (3), |q_dims - dims| (3), mask features]``;
        ``relu(x W1 + b1) W2``, the weights generated per query by the controller.
        """
        cfg = self.cfg
        h, cm = cfg.dyco_channels, cfg.mask_channels
        if not cfg.use_rpm:
            return xyz.new_zeros(dec.shape[0], xyz.shape[0])
        params = _run(self.controller, dec)
        nq = params.shape[0]
        w1 = params[:, :(cm + 6) * h].reshape(nq, cm + 6, h)
        b1 = params[:, (cm + 6) * h:(cm + 7) * h]
        w2 = params[:, (cm + 7) * h:]
        rel = q_xyz[:, None, :] - xyz[None, :, :]                      # [Q, M, 3]
        dd = (q_dims[:, None, :] - dims[None, :, :]).abs()             # [Q, M, 3]
        hidden = torch.matmul(mask_feat, w1[:, 6:, :])                 # [Q, M, h]
        hidden = hidden + torch.matmul(torch.cat([rel, dd], dim=-1), w1[:, :6, :])
        hidden = torch.relu(hidden + b1[:, None, :])
        return torch.matmul(hidden, w2[:, :, None])[..., 0]


def sector_mask_logits(xyz: Tensor, centers: Tensor, rays: Tensor, migration: Tensor,
                       cfg: SphericalMaskConfig) -> Tensor:
    """``edge3d.ops.sector_mask`` with the config's grid (an ``edge3d::SectorMask`` node when
    exported)."""
    from edge3d.ops import sector_mask

    return sector_mask(xyz, centers, rays, migration, n_azimuth=cfg.n_azimuth,
                       n_polar=cfg.n_polar)


class SphericalMask(nn.Module):
    """Both stages with the native sampling between them (training and the PyTorch reference).

    ``forward(inputs)`` takes :meth:`input_spec` (the backbone inputs plus ``voxel_xyz``) of
    ONE scene and returns the outputs of :meth:`output_spec`: graph 1's, the sampled
    ``query_xyz`` and ``query_voxel`` (voxel row of each query), and graph 2's.
    """

    def __init__(self, backbone_config: Mapping | None, cfg: SphericalMaskConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.points = PointStage(backbone_config, cfg)
        self.queries = QueryStage(self.points.backbone.out_channels, cfg)

    def input_spec(self) -> list[TensorSpec]:
        return [*self.points.input_spec(),
                TensorSpec("voxel_xyz", "float32", ("M0", 3), "voxel centroids, metres")]

    def output_spec(self) -> list[TensorSpec]:
        return [*self.points.output_spec(),
                TensorSpec("query_voxel", "int32", ("Q",), "voxel row of each query"),
                *self.queries.output_spec()]

    def sample(self, xyz: np.ndarray, semantic_logits: np.ndarray) -> dict[str, np.ndarray]:
        """The native step (training form: the first ``n_query`` seeds are the queries)."""
        from edge3d.runtime.methods.spherical_mask import (
            foreground_voxels,
            group_queries,
            sample_seeds,
        )

        cfg = self.cfg
        fg = foreground_voxels(semantic_logits, cfg.thing_classes, cfg.fg_threshold)
        seeds = sample_seeds(xyz, fg, cfg.n_seed, cfg.radii, cfg.nsamples)
        n_q = min(cfg.n_query, len(seeds["seed_index"]))
        seeds.update(group_queries(xyz, seeds["seed_index"], np.arange(n_q, dtype=np.int32),
                                   cfg.radii, cfg.nsamples))
        return seeds

    def forward(self, inputs: Mapping[str, Tensor]) -> tuple[Tensor, ...]:
        point_out = self.points(inputs)
        xyz = inputs["voxel_xyz"]
        idx = self.sample(xyz.detach().cpu().numpy(), point_out[1].detach().cpu().numpy())
        names = [s.name for s in self.points.output_spec()]
        stage2 = dict(zip(names, point_out, strict=True))
        stage2["voxel_xyz"] = xyz
        stage2.update({k: torch.from_numpy(v).to(xyz.device) for k, v in idx.items()})
        query_voxel = stage2["seed_index"].index_select(0, stage2["query_index"])
        return (*point_out, query_voxel, *self.queries(stage2))


def build(config: Mapping) -> SphericalMask:
    """The model of a training config: ``model.backbone_config`` (sparse UNet) and the
    ``method`` section (:class:`SphericalMaskConfig` fields)."""
    from edge3d.io.class_sets import dataset_classes

    model = config["model"]
    if model.get("backbone", "sparse_unet") != "sparse_unet":
        raise ValueError(f"Spherical Mask runs on the sparse_unet backbone, not "
                         f"{model['backbone']!r}")
    _, background = dataset_classes(config)
    cfg = SphericalMaskConfig.from_method(config["method"], background)
    return SphericalMask(model.get("backbone_config") or {}, cfg)


def postprocess_params(config: Mapping, background: Sequence[int]) -> Any:
    """The runtime's :class:`SphericalMaskParams` of a training config (``method`` keys of the
    same names override the defaults)."""
    from edge3d.runtime.methods.spherical_mask import SphericalMaskParams

    cfg = SphericalMaskConfig.from_method(config["method"], background)
    values = dict(config["method"])
    values.update(thing_classes=cfg.thing_classes, n_azimuth=cfg.n_azimuth,
                  n_polar=cfg.n_polar, n_seed=cfg.n_seed, radii=cfg.radii,
                  nsamples=cfg.nsamples, fg_threshold=cfg.fg_threshold)
    return SphericalMaskParams.from_dict(values)


def postprocess_scene(outputs: Mapping[str, np.ndarray], scene, config: Mapping):
    """Validation adapter: the runtime's scoring, top-k, matrix NMS and devoxelisation
    (:func:`edge3d.runtime.methods.spherical_mask.assemble_instances`) on the training-form
    queries (one round of ``n_query`` seeds; the runtime samples iteratively)."""
    from edge3d import native
    from edge3d.runtime.methods.spherical_mask import assemble_instances

    grid = native.voxelize(scene.positions, float(config["data"]["voxel_size"]))
    params = postprocess_params(config, scene.background_classes)
    return assemble_instances(outputs, grid.point_to_voxel, scene.positions, scene.class_names,
                              params)


def package_sections(config: Mapping) -> dict:
    """Manifest sections of a package: classes, voxel size, ``preprocess`` (pyramid levels,
    kernel size, features) and ``postprocess`` (:class:`SphericalMaskParams` values)."""
    from edge3d.io.class_sets import dataset_classes
    from edge3d.models.backbones import preprocess_section

    names, background = dataset_classes(config)
    return {"class_names": list(names), "background_classes": list(background),
            "voxel_size": float(config["data"]["voxel_size"]),
            "preprocess": preprocess_section(config),
            "postprocess": postprocess_params(config, background).to_dict()}


def example_inputs(model: SphericalMask, sections: Mapping, points: np.ndarray,
                   colors: np.ndarray | None) -> dict[str, dict[str, np.ndarray]]:
    """Example feeds of both graphs for one cloud: the runtime's input builder, the PyTorch
    point stage, the native sampling and the first query round."""
    from edge3d.runtime.input_builders import input_builder, runtime_inputs
    from edge3d.runtime.methods.spherical_mask import (
        SphericalMaskParams,
        foreground_voxels,
        group_queries,
        round_sizes,
        sample_seeds,
        voxel_centroids,
    )

    voxel = float(sections["voxel_size"])
    params = SphericalMaskParams.from_dict(sections["postprocess"])
    feeds, _ = runtime_inputs(input_builder("sparse_unet"), points, colors, voxel,
                              sections["preprocess"])
    xyz = voxel_centroids(points, voxel)
    with torch.no_grad():
        stage1 = dict(zip([s.name for s in model.points.output_spec()],
                          (t.numpy() for t in model.points(
                              {k: torch.from_numpy(v) for k, v in feeds.items()})),
                          strict=True))
    fg = foreground_voxels(stage1["semantic_logits"], params.thing_classes, params.fg_threshold)
    seeds = sample_seeds(xyz, fg, params.n_seed, params.radii, params.nsamples)
    n_seed = len(seeds["seed_index"])
    # Distinct from every other size, so the exporter keeps Q a dynamic dimension of its own.
    taken = {n_seed, *params.nsamples, 1, 3, 6}
    n_q = max(2, min(round_sizes(int(fg.sum()), params)[0], n_seed - 1))
    while n_q in taken and n_q > 2:
        n_q -= 1
    queries = {"voxel_xyz": xyz, **{k: stage1[k] for k in
                                    ("voxel_features", "box_offsets", "mask_features")},
               **seeds, **group_queries(xyz, seeds["seed_index"],
                                        np.arange(n_q, dtype=np.int32), params.radii,
                                        params.nsamples)}
    return {"points": feeds, "queries": queries}
