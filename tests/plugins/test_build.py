"""plugins/ configures and builds with CMake (nvcc is in CI), and the C ABI is exported."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.plugins.build import tensorrt_include_dir
from tests.plugins.kernel_lib import KernelLibrary

C_ABI = [
    "edge3d_kernels_abi_version", "edge3d_last_error", "edge3d_cuda_device_count",
    "edge3d_sector_bin", "edge3d_sector_mask", "edge3d_point_in_box_prob",
    "edge3d_soft_box_iou", "edge3d_soft_box_iou_workspace", "edge3d_sector_bin_host",
    "edge3d_sector_mask_host", "edge3d_point_in_box_prob_host", "edge3d_soft_box_iou_host",
]


def exported(library: Path) -> set[str]:
    out = subprocess.run(["nm", "-D", "--defined-only", str(library)], capture_output=True,
                         text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if " T " in line}


def test_kernel_library_exports_the_c_abi(plugin_build: Path) -> None:
    symbols = exported(plugin_build / "libedge3d_kernels.so")
    assert set(C_ABI) <= symbols, sorted(set(C_ABI) - symbols)
    # Hidden visibility: nothing but the C ABI leaks out (no C++ or CUDA runtime symbols).
    assert symbols == set(C_ABI), sorted(symbols - set(C_ABI))


def test_kernel_library_loads_without_a_gpu(kernels: KernelLibrary) -> None:
    assert kernels.abi_version == 1
    assert kernels.device_count >= 0  # 0 here; the call never fails


def test_bad_arguments_are_rejected_before_cuda(kernels: KernelLibrary) -> None:
    import numpy as np

    points = np.zeros((4, 3), np.float32)
    with pytest.raises(RuntimeError, match="n_azimuth and n_polar"):
        kernels.sector_bin(points, points, n_azimuth=0)
    with pytest.raises(RuntimeError, match="theta2"):
        kernels.point_in_box_prob(points, np.zeros((2, 2, 3), np.float32), theta2=-1.0)
    with pytest.raises(RuntimeError, match="eps"):
        kernels.soft_box_iou(points, points, eps=0.0)


def test_plugin_libraries_when_tensorrt_headers_exist(plugin_build: Path) -> None:
    if tensorrt_include_dir() is None:
        assert not (plugin_build / "libedge3d_plugins.so").exists()
        pytest.skip("no TensorRT headers (set TensorRT_INCLUDE_DIR or TENSORRT_ROOT)")
    assert {"getCreators", "setLoggerFinder"} <= exported(
        plugin_build / "libedge3d_plugins_dynamic.so")
    # The self-registering library must not offer getCreators: IPluginRegistry::loadLibrary
    # would register the creators a second time and fail.
    assert "getCreators" not in exported(plugin_build / "libedge3d_plugins.so")


def test_plugin_selftest_passes(plugin_build: Path) -> None:
    """Creators, fields round trip, types, shapes, formats, workspace: no GPU needed."""
    binary = plugin_build / "plugin_selftest"
    if not binary.exists():
        pytest.skip("no TensorRT headers (set TensorRT_INCLUDE_DIR or TENSORRT_ROOT)")
    result = subprocess.run([str(binary)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 0 failed checks" in result.stdout
