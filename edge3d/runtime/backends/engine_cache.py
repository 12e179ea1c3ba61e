"""The engine cache: one engine per (ONNX file, precision), with its key in a JSON sidecar.

An engine only runs with the TensorRT version and GPU it was built for, the plugin versions it
embeds and the exact ONNX it came from (design.md section 5; deploy-anchors.md section 8.2(7)).
Loading compares the sidecar with the current key and names the field that differs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from edge3d.errors import PackageError
from edge3d.ops.registry import DOMAIN_VERSION, plugin_names

KEY_VERSION = 1


@dataclass(frozen=True)
class EngineKey:
    """Everything an engine depends on.

    Attributes:
        tensorrt_version: ``tensorrt.__version__`` at build time (engines are not portable
            across versions).
        compute_capability: GPU SM, e.g. "8.7" (Orin), "11.0" (Thor).
        precision: "fp32" or "fp16".
        plugin_version: edge3d domain and plugin versions, e.g. "edge3d1:PointInBoxProb1,...".
        onnx_sha256: hash of the ONNX file the engine was built from.
        profile: optimisation-profile shapes the engine accepts (JSON text).
    """

    tensorrt_version: str
    compute_capability: str
    precision: str
    plugin_version: str
    onnx_sha256: str
    profile: str

    def mismatches(self, other: EngineKey) -> list[str]:
        """Names of the fields that differ, with both values."""
        return [f"{f.name}: engine has {getattr(other, f.name)!r}, this machine/model needs "
                f"{getattr(self, f.name)!r}"
                for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]


def current_plugin_version() -> str:
    ops = ",".join(f"{name}{version}" for name, version in sorted(plugin_names().items()))
    return f"edge3d{DOMAIN_VERSION}:{ops}"


def engine_path(cache_dir: Path, onnx_path: Path, precision: str) -> Path:
    """``<cache>/<model stem>.<precision>.engine`` (the sidecar adds ``.json``)."""
    stem = onnx_path.name.removesuffix(".onnx").removesuffix(".trt").removesuffix(".portable")
    return cache_dir / f"{stem}.{precision}.engine"


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def save_engine(path: Path, engine_bytes: bytes, key: EngineKey) -> None:
    """Write the engine and its key atomically (temporary names, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({"key_version": KEY_VERSION, **asdict(key)}, indent=2).encode()
    for target, data in ((path, engine_bytes), (sidecar(path), meta)):
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)


def read_key(path: Path) -> EngineKey:
    """The key stored beside engine ``path``.

    Raises:
        PackageError: the sidecar is missing or unreadable.
    """
    meta_path = sidecar(path)
    try:
        meta = json.loads(meta_path.read_text())
        if meta.pop("key_version") != KEY_VERSION:
            raise ValueError("unknown key_version")
        return EngineKey(**meta)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise PackageError(
            f"engine {path} has no valid key file {meta_path.name} ({exc}); it was not built by "
            f"edge3d. {rebuild_hint(path)}") from exc


def check_key(path: Path, expected: EngineKey) -> None:
    """Raise PackageError naming every mismatched key field of the engine at ``path``."""
    problems = expected.mismatches(read_key(path))
    if problems:
        raise PackageError(
            f"engine {path} does not fit: {'; '.join(problems)}. {rebuild_hint(path)}")


def rebuild_hint(path: Path) -> str:
    return (f"Rebuild it on this machine: pass rebuild=True to create_backend(..., "
            f"backend='tensorrt'), run `edge3d-export ... --engine`, or delete {path}")
