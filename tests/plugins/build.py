"""Configure and build plugins/ with CMake into a directory (shared by the plugin tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: One SASS arch keeps the CI build short; the full list is the CMake default (docs/tensorrt.md).
CI_ARCHITECTURES = "87-real"


def cmake_and_nvcc() -> str | None:
    """None when both tools exist, else what is missing."""
    missing = [tool for tool in ("cmake", "nvcc") if shutil.which(tool) is None]
    return ", ".join(missing) or None


def tensorrt_include_dir() -> str | None:
    """TensorRT headers to build the plugins against: $TensorRT_INCLUDE_DIR or $TENSORRT_ROOT."""
    if os.environ.get("TensorRT_INCLUDE_DIR"):
        return os.environ["TensorRT_INCLUDE_DIR"]
    root = os.environ.get("TENSORRT_ROOT")
    return str(Path(root) / "include") if root else None


def build_plugins(build_dir: Path, architectures: str = CI_ARCHITECTURES) -> Path:
    """Configure + build; returns the build directory. Raises CalledProcessError with the log."""
    args = ["cmake", "-S", str(ROOT / "plugins"), "-B", str(build_dir),
            f"-DCMAKE_CUDA_ARCHITECTURES={architectures}", "-DCMAKE_BUILD_TYPE=Release"]
    include = tensorrt_include_dir()
    if include:
        args.append(f"-DTensorRT_INCLUDE_DIR={include}")
    if os.environ.get("TENSORRT_ROOT"):
        args.append(f"-DTENSORRT_ROOT={os.environ['TENSORRT_ROOT']}")
    for cmd in (args, ["cmake", "--build", str(build_dir), "-j", str(os.cpu_count() or 2)]):
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, cmd,
                                                result.stdout, result.stderr)
    return build_dir
