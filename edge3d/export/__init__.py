"""Export: ONNX variants (portable / TensorRT), TensorRT engine builds, model packages, CLI.

Submodules import their heavy dependencies (onnx, torch, tensorrt) inside functions:
``edge3d.export.onnx_variants`` (``make_variants``, ``save_variants``) and
``edge3d.export.engine`` (``build_engine``).
"""
