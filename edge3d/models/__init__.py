"""PyTorch networks: shared exportable backbones and one module per method.

Everything here imports torch; ``edge3d.runtime`` never imports this package. The backbones are
built only from operations that export to standard ONNX (opset 17): every coordinate-dependent
index (neighbour tables, pyramid tables, sampling and grouping indices) is computed outside the
network by ``edge3d.native`` and fed to it as an integer input (``docs/backbones.md``).
"""
