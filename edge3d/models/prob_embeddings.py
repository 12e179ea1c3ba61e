"""Probabilistic Embeddings (Zhang & Wonka, CVPR 2021, ``papers/probabilistic-embeddings.md``).

A PointNet++ segmentation backbone (section 3.5: "PointNet++ as the feature extraction
backbone"; :class:`edge3d.models.backbones.PointNet2` over natively built sampling and grouping
indices) with the paper's three output heads and their activations (Table 2), per row:

- ``mu`` [N0, 3]: the embedding mean, ``mu_i = x_i + offset_range * tanh(o_i)`` (Table 2 with
  ``offset_range`` 1, the paper's; ``x_i`` the row's position in metres);
- ``sigma`` [N0, 3]: the anisotropic, heteroscedastic standard deviations,
  ``sigma_i = exp(s_i)`` (Table 2; ``s_i`` clamped to [-12, 6] so sigma is always finite);
- ``semantic_logits`` [N0, L]: the score map ``P = softmax(logits)`` (section 3.4), both the
  class probabilities and, per foreground class, the instance-centre score.

``embedding`` selects the variants of the paper's ablation (section 4.2, Table 4):
``"anisotropic"`` (the full model, the default), ``"isotropic"`` (one sigma per row, the mean
of the head's three log-sigmas) and ``"deterministic"`` (sigma fixed at :data:`INITIAL_SIGMA`
for every row: the kernel becomes the fixed-bandwidth RBF of Eq. 2 on the means).

Rows are points, or with ``voxelize`` in the backbone config (the room configs) the voxel
centroids at ``data.voxel_size``; the runtime maps them back to points with ``point_map``.
The similarity (Eq. 1), the loss (Eq. 5, 6, 8, 12, 17) and the greedy grouping (Eq. 16) are in
:mod:`training.losses.prob_embeddings` and :mod:`edge3d.runtime.methods.prob_embeddings`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor, nn

from edge3d.models.backbones import build_backbone
from edge3d.models.backbones.layers import ConvBlock, Pointwise
from edge3d.tensor_spec import TensorSpec

INITIAL_SIGMA = 0.1
"""Standard deviation (metres) the uncertainty head starts at; the paper does not say. At 0.1
a row's Gaussian overlaps those of its object's rows (offsets start near 0, rows of one object
are tens of centimetres apart) but not those of the next object."""


LOG_SIGMA_LIMIT = 12.0
EMBEDDINGS = ("anisotropic", "isotropic", "deterministic")


def _head(channels: int, out: int) -> nn.ModuleList:
    return nn.ModuleList([ConvBlock(Pointwise(channels, channels), channels),
                          Pointwise(channels, out, bias=True)])


class ProbEmbeddings(nn.Module):
    """PointNet++ and the centre, uncertainty and score heads (module docstring).

    Args:
        backbone_config: keyword values of :class:`edge3d.models.backbones.PointNet2Config`.
        num_classes: L, semantic classes (background classes included).
        offset_range: metres the centre head can move a row (1 in the paper, Table 2).
        embedding: one of :data:`EMBEDDINGS` (module docstring).
    """

    def __init__(self, backbone_config: Mapping | None, num_classes: int,
                 offset_range: float = 1.0, embedding: str = "anisotropic") -> None:
        super().__init__()
        if embedding not in EMBEDDINGS:
            raise ValueError(f"method.embedding must be one of {', '.join(EMBEDDINGS)}, got "
                             f"{embedding!r}")
        self.embedding = embedding
        self.backbone = build_backbone("pointnet2", dict(backbone_config or {}))
        c = self.backbone.out_channels
        self.num_classes = int(num_classes)
        self.offset_range = float(offset_range)
        self.center = _head(c, 3)
        self.uncertainty = _head(c, 3)
        self.score = _head(c, self.num_classes)
        for head in (self.center, self.uncertainty, self.score):
            nn.init.normal_(head[1].weight, std=1.0 / math.sqrt(head[1].weight.shape[0]))
        # Offsets start near zero (each row its own centre) and sigma near INITIAL_SIGMA.
        nn.init.normal_(self.center[1].weight, std=0.01 / math.sqrt(c))
        nn.init.normal_(self.uncertainty[1].weight, std=0.01 / math.sqrt(c))
        nn.init.constant_(self.uncertainty[1].bias, math.log(INITIAL_SIGMA))

    def input_spec(self) -> list[TensorSpec]:
        """The backbone's inputs (:meth:`edge3d.models.backbones.PointNet2.input_spec`)."""
        return list(self.backbone.input_spec())

    def output_spec(self) -> list[TensorSpec]:
        """Per-row embedding mean and standard deviation, and class logits."""
        return [TensorSpec("mu", "float32", ("N0", 3), "embedding mean of each row (metres)"),
                TensorSpec("sigma", "float32", ("N0", 3),
                           "embedding standard deviation of each row per axis (metres)"),
                TensorSpec("semantic_logits", "float32", ("N0", self.num_classes),
                           "class logits of each row (softmax: the score map P)")]

    def forward(self, inputs: Mapping[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        f = self.backbone(inputs)
        offset = self.center[1](self.center[0](f))
        mu = inputs["xyz"] + self.offset_range * torch.tanh(offset)
        # Clamped so that sigma stays a finite, positive float32 whatever the input (10 um to
        # 400 m), which the grouping requires.
        log_sigma = self.uncertainty[1](self.uncertainty[0](f))
        if self.embedding == "isotropic":
            log_sigma = log_sigma.mean(dim=1, keepdim=True).expand(-1, 3)
        elif self.embedding == "deterministic":
            log_sigma = torch.full_like(mu, math.log(INITIAL_SIGMA))
        sigma = torch.exp(log_sigma.clamp(-LOG_SIGMA_LIMIT, LOG_SIGMA_LIMIT / 2))
        return mu, sigma, self.score[1](self.score[0](f))


def build(config: Mapping) -> ProbEmbeddings:
    """The model of a training config: ``model.backbone`` (must be ``pointnet2``),
    ``model.backbone_config``, ``method.num_classes``, ``method.offset_range`` and
    ``method.embedding``."""
    model = config["model"]
    if model.get("backbone") != "pointnet2":
        raise ValueError("Probabilistic Embeddings runs on the pointnet2 backbone (the paper's), "
                         f"not {model.get('backbone')!r}")
    method = config["method"]
    return ProbEmbeddings(model.get("backbone_config") or {}, int(method["num_classes"]),
                          float(method.get("offset_range", 1.0)),
                          str(method.get("embedding", "anisotropic")))


def row_of_points(positions: np.ndarray, config: Mapping) -> np.ndarray:
    """int32 [P]: the network row of each point, as the input builder makes the rows (the
    point itself, or its voxel with ``voxelize``)."""
    from edge3d import native

    if (config["model"].get("backbone_config") or {}).get("voxelize"):
        return native.voxelize(positions, float(config["data"]["voxel_size"])).point_to_voxel
    return np.arange(len(positions), dtype=np.int32)


def postprocess_scene(outputs: Mapping[str, np.ndarray], scene, config: Mapping):
    """Validation adapter: the runtime's grouping
    (:func:`edge3d.runtime.methods.prob_embeddings.group_instances`) on one scene's outputs."""
    from edge3d.runtime.methods.prob_embeddings import ProbEmbeddingsParams, group_instances

    params = ProbEmbeddingsParams.from_config(config["method"], scene.background_classes)
    return group_instances(outputs["mu"], outputs["sigma"], outputs["semantic_logits"],
                           row_of_points(scene.positions, config), scene.positions,
                           scene.class_names, params)


def package_sections(config: Mapping) -> dict:
    """The manifest sections ``edge3d-export`` writes: ``class_names``,
    ``background_classes``, ``voxel_size``, ``preprocess`` (PointNet++ sampling, ``voxelize``,
    features) and ``postprocess`` (:class:`ProbEmbeddingsParams` values)."""
    from edge3d.io.class_sets import dataset_classes
    from edge3d.models.backbones import preprocess_section
    from edge3d.runtime.methods.prob_embeddings import ProbEmbeddingsParams

    names, background = dataset_classes(config)
    params = ProbEmbeddingsParams.from_config(config["method"], background)
    return {"class_names": list(names), "background_classes": list(background),
            "voxel_size": float(config["data"]["voxel_size"]),
            "preprocess": preprocess_section(config), "postprocess": params.to_dict()}


def example_inputs(model: ProbEmbeddings, sections: Mapping, points: np.ndarray,
                   colors: np.ndarray | None) -> dict[str, dict[str, np.ndarray]]:
    """Graph ``main``'s inputs for one cloud, built as the runtime builds them."""
    from edge3d.runtime.input_builders import input_builder, runtime_inputs

    feeds, _ = runtime_inputs(input_builder("pointnet2"), points, colors,
                              float(sections["voxel_size"]), sections["preprocess"])
    return {"main": feeds}
