"""The edge3d model package: a directory that carries one trained network to the runtime.

A package is what ``edge3d-export`` writes and what ``edge3d.Segmenter(DIR)`` loads::

    my_model/
      edge3d.json            manifest (below)
      model.portable.onnx    custom ops with pure-ONNX bodies: any ONNX Runtime runs it
      model.trt.onnx         plugin-backed bodies removed: TensorRT must use edge3d's plugins
      engines/               TensorRT engine cache (written on the target, never shipped)

The manifest (``edge3d.json``) holds the method, the format version, class names, voxel size,
the input spec and capacities of every graph, pre- and post-processing parameters, the SHA-256 of
every file, where the model came from (command, seed, metrics), and the SHA-256 of the manifest
itself (``manifest_sha256``, over its canonical JSON without that field), so that an edit to a
voxel size or a feature order is caught like a damaged network file. Loading checks all of it
against the schema and fails with a message naming what does not match; the runtime then
checks the opened networks against the manifest (:func:`edge3d.runtime.methods.
package_method.check_graph`). There are no pickles in a package.

This module lives at the top level, not in ``edge3d.export``, because the runtime reads packages
and must never import torch, while ``edge3d.export`` is the torch side.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge3d.errors import PackageError
from edge3d.tensor_spec import TensorSpec

MANIFEST = "edge3d.json"
FORMAT_NAME = "edge3d-model-package"
# 2: the manifest carries its own checksum (manifest_sha256). 1 is still read, with a warning.
FORMAT_VERSION = 2
MANIFEST_DIGEST = "manifest_sha256"
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


@dataclass(frozen=True)
class GraphSpec:
    """One exported network graph of a package (most methods have one, ``"main"``; Spherical Mask
    has two, with native code between them). ``files`` maps a variant (``"portable"``,
    ``"trt"``) to a file name inside the package."""

    name: str
    files: Mapping[str, str]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"files": dict(self.files), "inputs": [t.to_dict() for t in self.inputs],
                "outputs": [t.to_dict() for t in self.outputs]}


@dataclass(frozen=True)
class ModelPackage:
    """A loaded, verified model package. Use :func:`load_package` to make one."""

    path: Path
    method: str
    class_names: tuple[str, ...]
    background_classes: tuple[int, ...]
    voxel_size: float
    graphs: Mapping[str, GraphSpec]
    preprocess: Mapping[str, Any]
    postprocess: Mapping[str, Any]
    provenance: Mapping[str, Any]
    manifest: Mapping[str, Any] = field(repr=False)
    #: version of the method's parameter schema the package was written with (1 when absent)
    params_version: int = 1

    def graph_file(self, graph: str = "main", variant: str = "portable") -> Path:
        """Path of one graph's ONNX file; raises PackageError naming what the package has."""
        if graph not in self.graphs:
            raise PackageError(f"{self.path}: no graph {graph!r}; it has {sorted(self.graphs)}")
        files = self.graphs[graph].files
        if variant not in files:
            raise PackageError(f"{self.path}: graph {graph!r} has no {variant!r} variant; it has "
                               f"{sorted(files)}. Re-export with edge3d-export to add it.")
        return self.path / files[variant]

    @property
    def engine_dir(self) -> Path:
        """Where TensorRT engines built for this package are cached."""
        return self.path / "engines"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def bundled_packages() -> dict[str, Path]:
    """Names and directories of the model packages shipped inside edge3d."""
    if not BUNDLED_DIR.is_dir():
        return {}
    return {p.name: p for p in sorted(BUNDLED_DIR.iterdir()) if (p / MANIFEST).is_file()}


def resolve_package(model: str | os.PathLike) -> Path:
    """A package directory from a bundled name (``"ssen"``) or a path."""
    path = Path(model)
    if path.is_dir():
        return path
    bundled = bundled_packages()
    if str(model) in bundled:
        return bundled[str(model)]
    raise PackageError(
        f"no model package {str(model)!r}: it is neither a directory nor a bundled model. "
        f"Bundled models: {', '.join(sorted(bundled)) or 'none'}."
    )


def load_package(model: str | os.PathLike, method: str | None = None,
                 verify: bool = True) -> ModelPackage:
    """Load and verify a model package.

    Args:
        model: a package directory or the name of a bundled package.
        method: if given, the package must be of this method.
        verify: check every file's SHA-256 against the manifest (on by default; a robot that
            loads a package once per start can afford it, and a corrupt file must not run).

    Raises:
        PackageError: naming the missing file, the mismatched hash, the unsupported format
            version or the wrong method, and what to do about it.
    """
    path = resolve_package(model)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise PackageError(f"{path} is not an edge3d model package: {MANIFEST} is missing. "
                           "Create packages with `edge3d-export CHECKPOINT --out DIR`.")
    try:
        m = json.loads(manifest_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{manifest_path} is corrupt ({exc}); re-export the package") from exc
    if not isinstance(m, dict) or m.get("format") != FORMAT_NAME:
        raise PackageError(f"{manifest_path} is not an edge3d package manifest "
                           f"(format {m.get('format') if isinstance(m, dict) else None!r})")
    version = m.get("format_version")
    if not _is_int(version) or version < 1:
        raise PackageError(f"{manifest_path}: bad format_version {version!r}")
    if version > FORMAT_VERSION:
        raise PackageError(
            f"{path} uses package format {version}, newer than this edge3d supports "
            f"({FORMAT_VERSION}). Upgrade edge3d (pip install -U edge3d) or re-export the model "
            "with this version's edge3d-export."
        )
    _check_digest(m, manifest_path, version)
    _check_schema(m, manifest_path)
    pkg_method = m["method"]
    if method is not None and pkg_method != method:
        raise PackageError(f"{path} holds a {pkg_method!r} model, not {method!r}")

    files = m["files"]
    for name, entry in files.items():
        _check_inside(path, name)
        f = path / name
        if not f.is_file():
            raise PackageError(f"{path}: file {name} listed in the manifest is missing; "
                               "re-export or re-copy the whole package")
        if f.stat().st_size != entry["bytes"]:
            raise PackageError(f"{path}: {name} has {f.stat().st_size} bytes, the manifest says "
                               f"{entry['bytes']}: the file is truncated or replaced")
        if verify and sha256_file(f) != entry["sha256"]:
            raise PackageError(f"{path}: {name} is corrupt (SHA-256 differs from the manifest); "
                               "re-export or re-copy the package")

    graphs = {}
    for gname, g in m["graphs"].items():
        where = f"{manifest_path} graph {gname!r}"
        for variant, fname in g["files"].items():
            if fname not in files:
                raise PackageError(f"{where}: {variant} file {fname} has no hash in 'files'")
        graphs[gname] = GraphSpec(
            name=gname, files=dict(g["files"]),
            inputs=tuple(TensorSpec.from_dict(t, where) for t in g.get("inputs", [])),
            outputs=tuple(TensorSpec.from_dict(t, where) for t in g.get("outputs", [])),
        )
    return ModelPackage(
        path=path, method=str(pkg_method), class_names=tuple(m["class_names"]),
        background_classes=tuple(m.get("background_classes", [])),
        voxel_size=float(m["voxel_size"]), graphs=graphs,
        preprocess=dict(m.get("preprocess", {})), postprocess=dict(m.get("postprocess", {})),
        provenance=dict(m.get("provenance", {})), manifest=m,
        params_version=int(m.get("params_version", 1)),
    )


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of a manifest's canonical JSON (sorted keys, no spaces), ``manifest_sha256``
    left out."""
    body = {k: v for k, v in manifest.items() if k != MANIFEST_DIGEST}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_digest(m: dict[str, Any], manifest_path: Path, version: int) -> None:
    if version < 2:
        warnings.warn(f"{manifest_path}: package format {version} has no manifest checksum, so "
                      "an edit to the manifest (voxel size, features, classes) cannot be "
                      "detected; re-export it with edge3d-export", UserWarning, stacklevel=3)
        return
    stored = m.get(MANIFEST_DIGEST)
    if not isinstance(stored, str):
        raise PackageError(f"{manifest_path}: {MANIFEST_DIGEST} is missing; the manifest was "
                           "edited or damaged. Re-export the package")
    try:
        actual = manifest_digest(m)
    except ValueError as exc:  # NaN or infinity somewhere
        raise PackageError(f"{manifest_path}: the manifest holds a value JSON cannot ({exc})") \
            from exc
    if stored != actual:
        raise PackageError(
            f"{manifest_path} was changed after export: its checksum does not match its "
            "contents, and a changed voxel size, feature order or class list would silently "
            "change results. Re-export the package (edge3d-export); to change post-processing, "
            "pass options to edge3d.Segmenter instead of editing the manifest")


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _check_schema(m: dict[str, Any], manifest_path: Path) -> None:
    """Every field the loader and the runtime read has the right type and a sane value."""
    def bad(field: str, expected: str) -> PackageError:
        return PackageError(f"{manifest_path}: {field} must be {expected}, got "
                            f"{_short(_lookup(m, field))}; re-export the package")

    missing = [k for k in ("method", "class_names", "voxel_size", "graphs", "files") if k not in m]
    if missing:
        raise PackageError(f"{manifest_path} lacks required fields: {', '.join(missing)}")
    if not (isinstance(m["method"], str) and m["method"]):
        raise bad("method", "a method name")
    names = m["class_names"]
    if not (isinstance(names, list) and names and all(isinstance(c, str) and c for c in names)):
        raise bad("class_names", "a non-empty list of names")
    bg = m.get("background_classes", [])
    if not (isinstance(bg, list) and all(_is_int(c) and 0 <= c < len(names) for c in bg)):
        raise bad("background_classes", f"a list of class ids from 0 to {len(names) - 1}")
    v = m["voxel_size"]
    if not (_is_number(v) and 0.001 <= v <= 1.0):
        raise bad("voxel_size", "a number of metres from 0.001 to 1")
    if not (_is_int(m.get("params_version", 1)) and m.get("params_version", 1) >= 1):
        raise bad("params_version", "a version number from 1 on")
    for key in ("preprocess", "postprocess", "provenance"):
        if not isinstance(m.get(key, {}), dict):
            raise bad(key, "an object")
    files = m["files"]
    if not isinstance(files, dict) or not files:
        raise bad("files", "an object of file name -> {sha256, bytes}")
    for name, entry in files.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                and _SHA256.fullmatch(entry["sha256"]) and _is_int(entry.get("bytes"))
                and entry["bytes"] >= 0):
            raise bad(f"files.{name}", "{sha256: 64 hex digits, bytes: a size}")
    graphs = m["graphs"]
    if not isinstance(graphs, dict) or not graphs:
        raise bad("graphs", "an object of graph name -> {files, inputs, outputs}")
    for gname, g in graphs.items():
        if not (isinstance(g, dict) and isinstance(g.get("files"), dict)
                and all(isinstance(k, str) and isinstance(f, str)
                        for k, f in g["files"].items())):
            raise bad(f"graphs.{gname}", "{files: {variant: file name}, inputs, outputs}")
        for side in ("inputs", "outputs"):
            if not isinstance(g.get(side, []), list) or \
                    not all(isinstance(t, dict) for t in g.get(side, [])):
                raise bad(f"graphs.{gname}.{side}", "a list of tensor specs")


def _lookup(m: Mapping[str, Any], field: str) -> Any:
    node: Any = m
    for part in field.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def write_package(out: str | os.PathLike, *, method: str, class_names: list[str],
                  voxel_size: float, graphs: Mapping[str, GraphSpec], files: Mapping[str, Path],
                  background_classes: list[int] | tuple[int, ...] = (),
                  preprocess: Mapping[str, Any] | None = None,
                  postprocess: Mapping[str, Any] | None = None,
                  provenance: Mapping[str, Any] | None = None, params_version: int = 1
                  ) -> Path:
    """Write a package atomically: everything goes into a temporary sibling directory that
    replaces ``out`` only once complete, so a failed export never leaves a half package and an
    existing package survives until the new one is whole.

    ``files`` maps names inside the package to existing files to copy in.
    """
    from edge3d import __version__

    out = Path(out)
    if out.exists() and not (out / MANIFEST).is_file() and any(out.iterdir()):
        raise PackageError(f"{out} exists and is not an edge3d package; refusing to replace it. "
                           "Choose an empty or new directory.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        entries = {}
        for name, src in files.items():
            _check_inside(tmp, name)
            dst = tmp / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            entries[name] = {"sha256": sha256_file(dst), "bytes": dst.stat().st_size}
        for g in graphs.values():
            for fname in g.files.values():
                if fname not in entries:
                    raise PackageError(f"graph {g.name!r} names {fname}, which is not in files")
        manifest = {
            "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "edge3d_version": __version__,
            "method": method, "class_names": list(class_names),
            "background_classes": [int(c) for c in background_classes],
            "voxel_size": float(voxel_size),
            "graphs": {name: g.to_dict() for name, g in graphs.items()},
            "preprocess": dict(preprocess or {}), "postprocess": dict(postprocess or {}),
            "params_version": int(params_version),
            "provenance": dict(provenance or {}), "files": entries,
        }
        manifest[MANIFEST_DIGEST] = manifest_digest(manifest)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _check_inside(root: Path, name: str) -> None:
    # A manifest must not make the loader read or the writer write outside the package.
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise PackageError(f"package file name {name!r} points outside the package")
