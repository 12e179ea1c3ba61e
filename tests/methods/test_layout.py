"""A method is one thing: no code outside its own files names it, and edge3d has no import
cycles (``docs/models.md``, "Adding a method")."""

from __future__ import annotations

from pathlib import Path

from edge3d import methods
from tests.methods.layout import (
    ROOT,
    cycles,
    import_graph,
    naming_lines,
    owns,
    source_files,
    words,
)

REGISTRY_FILE = ROOT / "edge3d" / "methods" / "__init__.py"
# Product code, configs and scripts. Tests and benchmarks are not scanned yet: they still use
# the shipped methods as subjects by name (tests/export exports SSEN, bench/ compares methods).
PRODUCT = ("edge3d", "training", "scripts", "plugins", ".ci")


def _product(path: Path) -> bool:
    return path.relative_to(ROOT).parts[0] in PRODUCT


def test_no_file_outside_a_method_names_it_but_the_registry() -> None:
    offenders = []
    for name in methods.REGISTRY:
        for path in filter(_product, source_files()):
            if owns(name, path):
                continue
            lines = naming_lines(name, path)
            if path == REGISTRY_FILE:
                text = path.read_text().splitlines()
                lines = [n for n in lines if not text[n - 1].strip().startswith(f'"{name}":')]
                lines = [n for n in lines if not text[n - 1].startswith("DEFAULT_MODEL")]
            offenders += [f"{path.relative_to(ROOT)}:{n} names {name!r}" for n in lines]
    assert not offenders, "\n".join(offenders)


def test_the_naming_scan_finds_identifiers_and_strings_but_not_prose(tmp_path) -> None:
    probe = ROOT / "edge3d" / "methods" / "description.py"
    assert naming_lines("geometric", probe) == []
    assert words("SphericalMaskParams") == ["spherical", "mask", "params"]
    assert words("SSENSegmenter") == ["ssen", "segmenter"]
    src = tmp_path / "probe.py"
    src.write_text('"""SSEN prose."""\n# ssen in a comment\nx = SSENParams\ny = "ssen"\n'
                   'z = "essence"\n')
    assert naming_lines("ssen", src) == [3, 4]
    assert owns("ssen", ROOT / "tests" / "ssen" / "test_loss.py")
    assert owns("ssen", ROOT / "training" / "configs" / "ssen_synthetic.yaml")
    assert not owns("ssen", ROOT / "edge3d" / "runtime" / "segmenter.py")


def test_edge3d_has_no_import_cycles() -> None:
    found = cycles(import_graph("edge3d"))
    assert not found, found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
