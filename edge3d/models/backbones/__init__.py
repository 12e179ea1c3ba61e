"""Exportable backbones: sparse voxel UNet, PointNet++, dense 3D CNN (``docs/backbones.md``).

Each backbone takes a mapping of named tensors (``input_spec()``), returns one feature tensor
(``output_spec()``), and exports to ONNX opset 17 with dynamic sizes through
:func:`edge3d.export.onnx_export.export_onnx`.
"""

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
]
