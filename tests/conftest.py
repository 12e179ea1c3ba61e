"""Shared pytest configuration: hardware markers skip themselves where the hardware is missing."""

from __future__ import annotations

import functools
import shutil

import pytest


@functools.cache
def has_gpu() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    import subprocess

    return subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0


@functools.cache
def has_tensorrt() -> bool:
    try:
        import tensorrt

        return hasattr(tensorrt, "Builder") and has_gpu()
    except Exception:
        return False


@functools.cache
def has_realsense_camera() -> bool:
    try:
        import pyrealsense2 as rs

        return len(rs.context().query_devices()) > 0
    except Exception:
        return False


_REQUIREMENTS = {
    "gpu": (has_gpu, "needs an NVIDIA GPU"),
    "tensorrt": (has_tensorrt, "needs TensorRT with its builder and a GPU"),
    "realsense_hw": (has_realsense_camera, "needs a connected RealSense camera"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker, (available, reason) in _REQUIREMENTS.items():
            if marker in item.keywords and not available():
                item.add_marker(pytest.mark.skip(reason=reason))
