"""edge3d.runtime never imports edge3d.models (which imports torch), and the torch-free parts of
edge3d.models (specs, input builders) stay torch-free so the runtime could share them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_runtime_never_imports_models_or_torch() -> None:
    offenders = []
    for path in sorted((ROOT / "edge3d" / "runtime").rglob("*.py")):
        for name in _imports(path):
            if name == "torch" or name.startswith(("torch.", "edge3d.models")):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, offenders


def test_specs_and_input_builders_import_without_torch() -> None:
    code = ("import sys, edge3d.tensor_spec, edge3d.runtime.preprocess, "
            "edge3d.models.random_inputs;"
            "assert 'torch' not in sys.modules, 'torch was imported'")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
