"""One CMake build of plugins/ per test session (kernels for one arch, or the GPU's own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import has_gpu
from tests.plugins.build import build_plugins, cmake_and_nvcc
from tests.plugins.kernel_lib import KernelLibrary


@pytest.fixture(scope="session")
def plugin_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = cmake_and_nvcc()
    if missing:
        pytest.skip(f"building plugins/ needs {missing}")
    # On a GPU machine build for that GPU ("native"), so the kernels run there.
    return build_plugins(tmp_path_factory.mktemp("plugins-build"),
                         "native" if has_gpu() else "87-real")


@pytest.fixture(scope="session")
def kernels(plugin_build: Path) -> KernelLibrary:
    return KernelLibrary(plugin_build / "libedge3d_kernels.so")
