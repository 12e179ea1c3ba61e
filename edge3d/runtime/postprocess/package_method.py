"""What every package-backed method does when it is created: check the package and the options,
and open its graphs on a backend. Shared so the learned methods agree on errors and devices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from edge3d.errors import PackageError

SPARSE_UNET_PREPROCESS = ("levels", "kernel_size", "features")


def check_package(package: Any, method: str, required: Iterable[str] = SPARSE_UNET_PREPROCESS
                  ) -> None:
    """A package is given and its manifest's ``preprocess`` section has ``required``."""
    if package is None:
        raise PackageError(f"{method} needs a model package: edge3d.Segmenter('<bundled name>') "
                           "or edge3d.Segmenter(DIR)")
    missing = [k for k in required if k not in package.preprocess]
    if missing:
        raise PackageError(f"{package.path}: the {method} manifest's preprocess section lacks "
                           f"{', '.join(missing)}; re-export with edge3d-export")


def check_options(options: Mapping[str, Any], params_cls: type, method: str) -> None:
    """Every option names a field of the method's parameter dataclass."""
    known = {f.name for f in fields(params_cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown option(s) for {method}: {', '.join(unknown)}; it accepts "
                        f"{', '.join(sorted(known))}")


def open_graphs(package: Any, graphs: Iterable[str], backend: str, device: str
                ) -> dict[str, Any]:
    """One backend per graph (portable ONNX; TensorRT builds from the trt variant itself)."""
    from edge3d.runtime.backends import create_backend

    dev, extra = device, {}
    if str(device).startswith("cuda:"):
        dev, extra = "cuda", {"device_id": int(str(device).split(":")[1])}
    return {g: create_backend(package.graph_file(g, "portable"), backend=backend, device=dev,
                              **extra) for g in graphs}


class PackageMethod:
    """What every sparse-UNet package method reads from its package: classes, voxel size and
    the preprocessing of the one input builder (:mod:`edge3d.runtime.preprocess`)."""

    name = ""
    needs_package = True

    def __init__(self, package: Any, params: Any) -> None:
        self.package = package
        self.params = params
        self.class_names = tuple(package.class_names)
        pre = package.preprocess
        self.voxel_size = float(package.voxel_size)
        self.levels = int(pre["levels"])
        self.kernel_size = int(pre["kernel_size"])
        self.features = tuple(pre["features"])

    def describe(self) -> dict[str, Any]:
        return {"method": self.name, "voxel_size": self.voxel_size,
                "features": list(self.features), "params": self.params.to_dict(),
                "package": str(self.package.path), "provenance": dict(self.package.provenance)}
