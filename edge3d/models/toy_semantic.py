"""The toy method: semantic segmentation + connected components (proves the framework).

Not one of the five papers: a backbone with a per-point semantic head, trained with
cross-entropy; instances are the connected components of points with the same predicted class
(the MTML paper's connected-components baseline, section 4, run on predicted instead of
ground-truth semantics; :func:`edge3d.synth.toy.connected_components`). It exercises every part
of the training framework (data, index building, model, loss, post-processing, AP evaluation,
export) at a size that trains in seconds on a CPU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from edge3d.models.backbones import build_backbone
from edge3d.models.backbones.layers import ConvBlock, Pointwise
from edge3d.tensor_spec import TensorSpec
from edge3d.types import Instance, SegmentationResult


class ToySemantic(nn.Module):
    """Backbone + two-layer semantic head; ``forward(inputs)`` -> logits [P, num_classes].

    Args:
        backbone: a name from :data:`edge3d.models.backbones.BACKBONES`.
        backbone_config: keyword values for that backbone's config class.
        num_classes: number of semantic classes.
    """

    def __init__(self, backbone: str, backbone_config: Mapping | None, num_classes: int) -> None:
        super().__init__()
        self.backbone_name = backbone
        self.backbone = build_backbone(backbone, dict(backbone_config or {}))
        c = self.backbone.out_channels
        self.head = nn.ModuleList([ConvBlock(Pointwise(c, c), c),
                                   Pointwise(c, num_classes, bias=True)])
        self.num_classes = num_classes

    @property
    def point_dim(self) -> str:
        """The symbolic dimension of per-point tensors (``"N0"`` for PointNet++, else ``"P"``)."""
        return "N0" if self.backbone_name == "pointnet2" else "P"

    def input_spec(self) -> list[TensorSpec]:
        """Backbone inputs plus ``point_map`` (each point's output row) unless rows are points."""
        specs = list(self.backbone.input_spec())
        if self.backbone_name == "sparse_unet":
            specs.append(TensorSpec("point_map", "int32", ("P",),
                                    "voxel of each point (VoxelGrid.point_to_voxel)",
                                    index_of="M0"))
        elif self.backbone_name == "dense_cnn":
            specs.append(TensorSpec("point_map", "int32", ("P",),
                                    "flat cell index b*D*H*W + (x*H + y)*W + z of each point",
                                    index_of="CELLS"))
        return specs

    def output_spec(self) -> list[TensorSpec]:
        """One output: per-point class logits."""
        return [TensorSpec("semantic_logits", "float32", (self.point_dim, self.num_classes),
                           "per-point class logits")]

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        f = self.backbone(inputs)
        if f.dim() == 5:
            f = f.permute(0, 2, 3, 4, 1).reshape(-1, f.shape[1])
        if "point_map" in inputs and self.backbone_name != "pointnet2":
            f = torch.index_select(f, 0, inputs["point_map"])
        return self.head[1](self.head[0](f))


def build(config: Mapping) -> ToySemantic:
    """The model of a training config: ``model.backbone``, ``model.backbone_config`` and
    ``method.num_classes``."""
    model = config["model"]
    return ToySemantic(model["backbone"], model.get("backbone_config") or {},
                       int(config["method"]["num_classes"]))


def postprocess_scene(outputs: Mapping[str, np.ndarray], scene, config: Mapping
                      ) -> SegmentationResult:
    """:func:`postprocess` for one validation scene (``method.cc_radius`` metres)."""
    return postprocess(outputs["semantic_logits"], scene.positions, scene.class_names,
                       scene.background_classes, float(config["method"]["cc_radius"]))


def postprocess(logits: np.ndarray, positions: np.ndarray, class_names: Sequence[str],
                background_classes: Sequence[int], radius: float) -> SegmentationResult:
    """Instances = connected components (``radius`` metres) of points of one predicted class.

    Args:
        logits: float [P, K] per-point class logits.
        positions: float [P, 3] metres.
        class_names: the K class names.
        background_classes: classes that get no instances (stuff).
        radius: connection distance (about twice the point spacing).

    Returns:
        A :class:`SegmentationResult`; an instance's score is the mean softmax probability of
        its class over its points; instances sorted by descending score.
    """
    from edge3d.synth.toy import connected_components

    logits = np.asarray(logits, np.float64)
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    classes = prob.argmax(axis=1).astype(np.int32)
    components = connected_components(positions, classes, radius, tuple(background_classes))
    instances = []
    for comp in range(1, int(components.max(initial=0)) + 1):
        idx = np.flatnonzero(components == comp)
        cls = int(classes[idx[0]])
        score = float(prob[idx, cls].mean())
        instances.append(Instance.from_points(comp, cls, class_names[cls], score, idx,
                                              np.asarray(positions)))
    instances.sort(key=lambda inst: -inst.score)
    labels = np.where(components > 0, components, -1).astype(np.int32)
    return SegmentationResult(labels=labels, classes=classes, instances=instances,
                              class_names=list(class_names))
