"""Model package manifests mutated field by field: every edit is either caught by the manifest
checksum or, with the checksum re-sealed, refused by the schema or by the check of the network
against the manifest, always as a PackageError that names the problem. Nothing loads and runs
a different model in silence, and nothing crashes with a raw KeyError or IndexError."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import edge3d
from edge3d.errors import PackageError
from edge3d.methods import packageless_methods
from edge3d.package import MANIFEST, MANIFEST_DIGEST, bundled_packages, manifest_digest

BUNDLED = sorted(bundled_packages())
# Values of the wrong type or out of range for any field.
HOSTILE = [None, "text", 0, -1, 1e9, [], {}, True, [1, "a"]]
HOSTILE_SPEC = [None, -1, [], "text"]  # for the many fields of tensor specs after the first
# Fields whose value the runtime does not read (documentation and provenance).
INERT = ("provenance", "edge3d_version")


def _leaves(node: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))


def _set(m: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        m = m[part]
    m[path[-1]] = value


@pytest.fixture(scope="module", params=BUNDLED)
def bundled(request) -> tuple[str, Path, dict]:
    src = bundled_packages()[request.param]
    manifest = json.loads((src / MANIFEST).read_text())
    return request.param, src, manifest


def _copy(src: Path, dst: Path, manifest: dict, reseal: bool) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("engines"))
    if reseal:
        manifest[MANIFEST_DIGEST] = manifest_digest(manifest)
    (dst / MANIFEST).write_text(json.dumps(manifest))
    return dst


def _open_and_run(path: Path) -> None:
    seg = edge3d.Segmenter(path, backend="ort", device="cpu")
    rng = np.random.default_rng(0)
    seg.segment(rng.uniform(0, 2, (2000, 3)).astype(np.float32),
                rng.integers(0, 256, (2000, 3)).astype(np.uint8))


def test_any_edit_without_a_new_checksum_is_caught(bundled, tmp_path):
    _, src, manifest = bundled
    for path in [p for p in _leaves(manifest) if p and p[0] != MANIFEST_DIGEST]:
        m = json.loads(json.dumps(manifest))
        old = m
        for part in path:
            old = old[part]
        _set(m, path, "edited" if old != "edited" else "other")
        pkg = _copy(src, tmp_path / "pkg", m, reseal=False)
        with pytest.raises(PackageError, match=r"changed after export|format|newer|not an edge3d"):
            edge3d.Segmenter(pkg)


def test_the_issues_examples_are_caught(bundled, tmp_path):
    _, src, manifest = bundled
    m = json.loads(json.dumps(manifest))
    m["voxel_size"] = 2 * m["voxel_size"]
    with pytest.raises(PackageError, match="changed after export"):
        edge3d.Segmenter(_copy(src, tmp_path / "a", m, reseal=False))
    m = json.loads(json.dumps(manifest))
    features = m["preprocess"]["features"]
    # The issue's example swaps two features; a one-feature model gets a second one instead.
    m["preprocess"]["features"] = features[::-1] if len(features) > 1 else [*features, "xyz"]
    with pytest.raises(PackageError, match="changed after export"):
        edge3d.Segmenter(_copy(src, tmp_path / "b", m, reseal=False))
    m = json.loads(json.dumps(manifest))
    m["method"] = packageless_methods()[0]
    with pytest.raises(PackageError, match="runs without a network"):
        edge3d.Segmenter(_copy(src, tmp_path / "c", m, reseal=True))
    m = json.loads(json.dumps(manifest))
    m["class_names"] = m["class_names"][:3]
    with pytest.raises(PackageError, match="semantic_logits"):
        edge3d.Segmenter(_copy(src, tmp_path / "d", m, reseal=True))
    m = json.loads(json.dumps(manifest))
    for key in ("files", "graphs"):
        m2 = json.loads(json.dumps(m))
        m2[key] = list(m2[key].values())
        with pytest.raises(PackageError, match=f"{key} must be"):
            edge3d.Segmenter(_copy(src, tmp_path / "e", m2, reseal=True))
    first = next(iter(m["files"]))
    del m["files"][first]["sha256"]
    with pytest.raises(PackageError, match=f"files.{first} must be"):
        edge3d.Segmenter(_copy(src, tmp_path / "f", m, reseal=True))


def test_every_field_given_a_hostile_value_is_refused_by_name(bundled, tmp_path):
    """With the checksum re-sealed (a forged or buggy manifest), each hostile value in each
    field either fails as a PackageError, or the package still runs: it never crashes with
    another exception."""
    _, src, manifest = bundled
    ran = refused = 0
    for path in _leaves(manifest):
        if not path or path[0] in (MANIFEST_DIGEST, *INERT):
            continue
        later_spec = any(a in ("inputs", "outputs") and isinstance(b, int) and b > 0
                         for a, b in itertools.pairwise(path))
        for value in HOSTILE_SPEC if later_spec else HOSTILE:
            m = json.loads(json.dumps(manifest))
            _set(m, path, value)
            pkg = _copy(src, tmp_path / "pkg", m, reseal=True)
            try:
                _open_and_run(pkg)
                ran += 1
            except PackageError as exc:
                assert str(pkg) in str(exc) or MANIFEST in str(exc), exc
                refused += 1
    assert refused > ran  # nearly every hostile value is refused
