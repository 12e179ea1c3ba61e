"""Exportable backbones: sparse voxel UNet, PointNet++, dense 3D CNN (``docs/backbones.md``).

Each backbone takes a mapping of named tensors (``input_spec()``), returns one feature tensor
(``output_spec()``), and exports to ONNX opset 17 with dynamic sizes through
:func:`edge3d.export.onnx_export.export_onnx`.
"""

from collections.abc import Mapping

from edge3d.models.backbones.dense_cnn import DenseCNN, DenseCNNConfig
from edge3d.models.backbones.layers import fold_norms
from edge3d.models.backbones.pointnet2 import PointNet2, PointNet2Config
from edge3d.models.backbones.sparse_unet import SparseUNet, SparseUNetConfig

#: backbone name -> (module class, config class); the names YAML configs use.
BACKBONES = {
    "sparse_unet": (SparseUNet, SparseUNetConfig),
    "pointnet2": (PointNet2, PointNet2Config),
    "dense_cnn": (DenseCNN, DenseCNNConfig),
}


def preprocess_section(config: Mapping) -> dict:
    """The ``preprocess`` section of a training config's backbone: the fields its input builder
    needs (``edge3d.runtime.input_builders``) and the per-point ``features``, as training built
    them and a model package records them."""
    name = config["model"].get("backbone", "sparse_unet")
    cfg = BACKBONES[name][1](**(config["model"].get("backbone_config") or {}))
    return {**cfg.preprocess_fields(config["data"]),
            "features": list(config["data"]["features"]),
            "features_doc": "per point: rgb = colour in [0, 1] - 0.5; xyz = metres from the "
                            "cloud's centroid; normals = unit normals; means per voxel or cell"}


def build_backbone(name: str, config: dict | None = None):
    """Build the backbone ``name`` (a key of :data:`BACKBONES`) from config keyword values."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {sorted(BACKBONES)}")
    module, config_class = BACKBONES[name]
    try:
        cfg = config_class(**(config or {}))
    except TypeError as exc:
        raise ValueError(f"bad {name} backbone config {config}: {exc}") from None
    return module(cfg)


__all__ = [
    "BACKBONES",
    "DenseCNN",
    "DenseCNNConfig",
    "PointNet2",
    "PointNet2Config",
    "SparseUNet",
    "SparseUNetConfig",
    "build_backbone",
    "fold_norms",
    "preprocess_section",
]
