"""Package-level guarantees: lint-clean, torch-free runtime, one name per native source file."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_top_level_import_is_light() -> None:
    code = (
        "import sys, edge3d; "
        "heavy = [m for m in ('torch', 'onnxruntime', 'pyrealsense2', 'scipy') "
        "if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"`import edge3d` pulled in: {out.stdout.strip()}"


def test_native_source_names_are_unique() -> None:
    # Two sources with one file name collide in build trees and in debuggers' symbol lists.
    names = [p.name for d in ("edge3d/native/src", "plugins") for p in (ROOT / d).rglob("*")
             if p.suffix in {".cpp", ".cu", ".cc"}]
    clashes = [n for n, c in Counter(names).items() if c > 1]
    assert not clashes, f"native source file names used twice: {clashes}"


def test_cli_lists_subcommands() -> None:
    out = subprocess.run([sys.executable, "-m", "edge3d", "--help"], capture_output=True,
                         text=True, check=True)
    assert "COMMAND" in out.stdout
