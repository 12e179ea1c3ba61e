"""SSEN: Spatial Semantic Embedding Network (Zhang, Chun, Cha, Kim, arXiv 2007.03169).

The network of ``papers/ssen.md`` section III at CPU scale: a sparse voxel UNet
(:class:`edge3d.models.backbones.SparseUNet`, the Gather + MatMul form of the reference code's
MinkUNet, ``research/methods.md`` 4.2) followed by two per-voxel heads:

- ``embedding`` [M0, D]: the instance embedding (D = 8, the paper's value), trained with the
  discriminative pull/push loss (:mod:`training.losses.ssen`) and clustered with HDBSCAN;
- ``semantic_logits`` [M0, K]: class logits. The paper uses a separately trained semantic
  network to remove floor and walls before clustering (section III); here one head on the
  same backbone does it, so the pipeline needs no second network, and it also gives each
  instance its class by majority vote.

Both outputs are per voxel of pyramid level 0: the runtime clusters voxels, not points, and
maps each point to its voxel's cluster (``edge3d.native.voxelize``'s ``point_to_voxel``).

Input features differ from the reference (RGB - 0.5 only) when the config adds ``xyz``: the
reference MinkUNet34C has a receptive field of metres, ours a fraction of that, so two
identical chairs far apart would look alike to it; centred coordinates let the small
network place them apart in the embedding (``docs/ssen.md``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from torch import Tensor, nn

from edge3d.models.backbones import build_backbone
from edge3d.models.backbones.layers import ConvBlock, Pointwise
from edge3d.tensor_spec import TensorSpec

EMBEDDING_DIM = 8
"""The paper's embedding dimension (``research/methods.md`` 4.2: final 1x1 conv 96 -> 8)."""


class SSEN(nn.Module):
    """Sparse UNet + embedding head + semantic head, all per voxel.

    Args:
        backbone_config: keyword values of :class:`edge3d.models.backbones.SparseUNetConfig`.
        num_classes: semantic classes K (background classes included).
        embedding_dim: D, the embedding dimension.

    ``forward(inputs)`` takes the backbone's inputs (:meth:`input_spec`) and returns
    ``(embedding [M0, D], semantic_logits [M0, K])``, both float32.
    """

    def __init__(self, backbone_config: Mapping | None, num_classes: int,
                 embedding_dim: int = EMBEDDING_DIM) -> None:
        super().__init__()
        self.backbone = build_backbone("sparse_unet", dict(backbone_config or {}))
        c = self.backbone.out_channels
        self.num_classes = int(num_classes)
        self.embedding_dim = int(embedding_dim)
        self.embed = nn.ModuleList([ConvBlock(Pointwise(c, c), c),
                                    Pointwise(c, self.embedding_dim, bias=True)])
        self.semantic = nn.ModuleList([ConvBlock(Pointwise(c, c), c),
                                       Pointwise(c, self.num_classes, bias=True)])
        # Output layers without the ReLU gain (std 1 / sqrt(fan_in)): logits and embeddings
        # start at unit scale. He-scaled outputs start overconfident, near-zero ones take Adam
        # (fixed step ~lr) a hundred steps to grow; either costs the few steps a CPU affords.
        for head in (self.embed[1], self.semantic[1]):
            nn.init.normal_(head.weight, std=1.0 / math.sqrt(head.weight.shape[0]))

    @property
    def levels(self) -> int:
        """Pyramid levels the inputs must provide."""
        return self.backbone.config.levels

    @property
    def kernel_size(self) -> int:
        """Submanifold kernel edge the neighbour tables must be built with."""
        return self.backbone.config.kernel_size

    def input_spec(self) -> list[TensorSpec]:
        """The backbone's inputs (:meth:`edge3d.models.backbones.SparseUNet.input_spec`)."""
        return list(self.backbone.input_spec())

    def output_spec(self) -> list[TensorSpec]:
        """Per-voxel embedding and class logits of pyramid level 0."""
        return [TensorSpec("embedding", "float32", ("M0", self.embedding_dim),
                           "instance embedding of each level-0 voxel"),
                TensorSpec("semantic_logits", "float32", ("M0", self.num_classes),
                           "class logits of each level-0 voxel")]

    def forward(self, inputs: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
        f = self.backbone(inputs)
        return self.embed[1](self.embed[0](f)), self.semantic[1](self.semantic[0](f))


def build(config: Mapping) -> SSEN:
    """The model of a training config: ``model.backbone`` (must be ``sparse_unet``),
    ``model.backbone_config``, ``method.num_classes`` and ``method.embedding_dim``."""
    model = config["model"]
    if model.get("backbone", "sparse_unet") != "sparse_unet":
        raise ValueError(f"SSEN runs on the sparse_unet backbone, not {model['backbone']!r}")
    method = config["method"]
    return SSEN(model.get("backbone_config") or {}, int(method["num_classes"]),
                int(method.get("embedding_dim", EMBEDDING_DIM)))


def postprocess_scene(outputs: Mapping[str, np.ndarray], scene, config: Mapping):
    """Validation adapter: the runtime post-processor on one scene's network outputs.

    Re-voxelises ``scene.positions`` exactly as the data loader did (same native call, same
    voxel size), so ``point_to_voxel`` matches the rows of ``outputs``, then runs
    :func:`edge3d.runtime.methods.ssen.cluster_instances` (torch-free), so validation
    measures what the robot runs.
    """
    from edge3d import native
    from edge3d.runtime.methods.ssen import SSENParams, cluster_instances

    voxel = float(config["data"]["voxel_size"])
    grid = native.voxelize(scene.positions, voxel)
    params = SSENParams.from_config(config["method"], voxel)
    return cluster_instances(outputs["embedding"], outputs["semantic_logits"],
                             grid.point_to_voxel, scene.positions, scene.class_names,
                             scene.background_classes, params)


def package_sections(config: Mapping) -> dict:
    """What ``edge3d-export`` writes into an SSEN package's manifest besides the graph:
    ``class_names``, ``background_classes``, ``voxel_size``, ``preprocess`` (pyramid levels,
    kernel size, per-point features) and ``postprocess`` (:class:`SSENParams` values)."""
    from edge3d.io.class_sets import dataset_classes
    from edge3d.models.backbones import preprocess_section
    from edge3d.runtime.methods.ssen import SSENParams

    names, background = dataset_classes(config)
    voxel = float(config["data"]["voxel_size"])
    params = SSENParams.from_config(config["method"], voxel, background)
    return {"class_names": list(names), "background_classes": list(background),
            "voxel_size": voxel, "preprocess": preprocess_section(config),
            "postprocess": params.to_dict()}


def example_inputs(model: SSEN, sections: Mapping, points: np.ndarray,
                   colors: np.ndarray | None) -> dict[str, dict[str, np.ndarray]]:
    """Graph ``main``'s inputs for one cloud, built as the runtime builds them (export
    example), from the manifest sections of :func:`package_sections`."""
    from edge3d.runtime.input_builders import input_builder, runtime_inputs

    feeds, _ = runtime_inputs(input_builder("sparse_unet"), points, colors,
                              float(sections["voxel_size"]), sections["preprocess"])
    return {"main": feeds}
