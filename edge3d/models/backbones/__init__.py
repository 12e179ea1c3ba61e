"""Exportable backbones: sparse voxel UNet, PointNet++, dense 3D CNN (``docs/backbones.md``).

Each backbone takes a mapping of named tensors (``input_spec()``), returns one feature tensor
(``output_spec()``), and exports to ONNX opset 17 with dynamic sizes through
:func:`edge3d.models.export.export_onnx`.
"""

from edge3d.models.backbones.dense_cnn import DenseCNN, DenseCNNConfig
from edge3d.models.backbones.layers import fold_norms
from edge3d.models.backbones.pointnet2 import PointNet2, PointNet2Config
from edge3d.models.backbones.sparse_unet import SparseUNet, SparseUNetConfig

__all__ = [
    "DenseCNN",
    "DenseCNNConfig",
    "PointNet2",
    "PointNet2Config",
    "SparseUNet",
    "SparseUNetConfig",
    "fold_norms",
]
