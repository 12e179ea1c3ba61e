"""A method is one thing: no code, config, script or test outside its own files names it (but
the registry line, and the tests listed in SUBJECTS with their reasons), and edge3d has no
import cycles (``docs/models.md``, "Adding a method")."""

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
# Benchmarks compare methods by name (their tables are docs); the registry's own tests name
# methods to test the scan itself.
NOT_SCANNED = (ROOT / "bench", ROOT / "tests" / "methods")
# Tests that use another method as their subject, each with its reason. Every entry must still
# be needed (a stale one fails the test), so the list only shrinks on purpose.
SUBJECTS = {
    ("tests/ssen/test_retrain.py", "euclidean"): "the baseline a retrained SSEN must beat",
    ("tests/training/", "toy_semantic"): "the training framework's own test method",
    ("tests/models/test_fold_and_train.py", "toy_semantic"): "trains a backbone end to end",
}


def _scanned(path: Path) -> bool:
    return not any(path.is_relative_to(top) for top in NOT_SCANNED)


def _subject(path: Path, name: str) -> tuple[str, str] | None:
    rel = path.relative_to(ROOT).as_posix()
    return next((key for key in SUBJECTS if key[1] == name and rel.startswith(key[0])), None)


def test_no_file_outside_a_method_names_it_but_the_registry() -> None:
    offenders = []
    used = set()
    for name in methods.REGISTRY:
        for path in filter(_scanned, source_files()):
            if owns(name, path):
                continue
            lines = naming_lines(name, path)
            if path == REGISTRY_FILE:
                text = path.read_text().splitlines()
                lines = [n for n in lines if not text[n - 1].strip().startswith(f'"{name}":')]
                lines = [n for n in lines if not text[n - 1].startswith("DEFAULT_MODEL")]
            subject = _subject(path, name)
            if subject is not None and lines:
                used.add(subject)
                continue
            offenders += [f"{path.relative_to(ROOT)}:{n} names {name!r}" for n in lines]
    assert not offenders, "\n".join(offenders)
    assert used == set(SUBJECTS), f"stale SUBJECTS entries: {set(SUBJECTS) - used}"


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
