"""What every package-backed method does when it is created: check the package and the options,
and open its graphs on a backend. Shared so the learned methods agree on errors and devices."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, replace
from typing import Any, TypeVar

from edge3d.errors import PackageError
from edge3d.runtime.memory import default_budget

SPARSE_UNET_PREPROCESS = ("levels", "kernel_size", "features")
FEATURE_CHANNELS = {"rgb": 3, "xyz": 3, "normals": 3}  # edge3d.runtime.preprocess.point_features
P = TypeVar("P")


def check_package(package: Any, method: str, required: Iterable[str] = SPARSE_UNET_PREPROCESS
                  ) -> None:
    """A package is given and its manifest's ``preprocess`` section has ``required``, each of
    the type the sparse-UNet input builder needs."""
    if package is None:
        raise PackageError(f"{method} needs a model package: edge3d.Segmenter('<bundled name>') "
                           "or edge3d.Segmenter(DIR)")
    pre = package.preprocess
    missing = [k for k in required if k not in pre]
    if missing:
        raise PackageError(f"{package.path}: the {method} manifest's preprocess section lacks "
                           f"{', '.join(missing)}; re-export with edge3d-export")
    problems = []
    if not (_is_int(pre["levels"]) and 1 <= pre["levels"] <= 8):
        problems.append(f"levels must be an integer from 1 to 8, got {pre['levels']!r}")
    if not (_is_int(pre["kernel_size"]) and pre["kernel_size"] in (1, 3, 5)):
        problems.append(f"kernel_size must be 1, 3 or 5, got {pre['kernel_size']!r}")
    feats = pre["features"]
    if not (isinstance(feats, list)
            and all(isinstance(f, str) and f in FEATURE_CHANNELS for f in feats)
            and len(set(feats)) == len(feats)):
        problems.append(f"features must be a list of distinct names from "
                        f"{', '.join(FEATURE_CHANNELS)}, got {feats!r}")
    if problems:
        raise PackageError(f"{package.path}: the {method} manifest's preprocess section is "
                           f"invalid: {'; '.join(problems)}; re-export with edge3d-export")


def package_params(package: Any, build: Callable[[Mapping[str, Any]], P]) -> P:
    """The method's parameters from the manifest's ``postprocess`` section alone, so a bad
    value there is a PackageError about the package, not an error about the caller's
    options."""
    try:
        return build(package.postprocess)
    except (TypeError, ValueError) as exc:
        raise PackageError(f"{package.path}: the manifest's postprocess section is invalid: "
                           f"{exc}; re-export with edge3d-export") from exc


def check_options(options: Mapping[str, Any], params_cls: type, method: str) -> None:
    """Every option names a field of the method's parameter dataclass."""
    known = {f.name for f in fields(params_cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown option(s) for {method}: {', '.join(unknown)}; it accepts "
                        f"{', '.join(sorted(known))}")


def open_graphs(package: Any, graphs: Iterable[str], backend: str, device: str
                ) -> dict[str, Any]:
    """One backend per graph (portable ONNX; TensorRT builds from the trt variant itself),
    each checked against the manifest (:func:`check_graph`)."""
    from edge3d.runtime.backends import create_backend

    dev, extra = device, {}
    if str(device).startswith("cuda:"):
        dev, extra = "cuda", {"device_id": int(str(device).split(":")[1])}
    out = {}
    for g in graphs:
        out[g] = create_backend(package.graph_file(g, "portable"), backend=backend, device=dev,
                                **extra)
        check_graph(package, g, out[g])
    return out


def check_graph(package: Any, graph: str, net: Any) -> None:
    """The opened network is the one the manifest describes: the same input and output
    names, fixed sizes and dtypes that agree, ``features`` as wide
    as the manifest's feature list and ``semantic_logits`` one column per class name.

    Raises:
        PackageError: naming the graph, the tensor and both sizes (an ONNX file swapped for
            another network, or a manifest that does not describe it).
    """
    spec = package.graphs[graph]
    where = f"{package.path}: graph {graph!r}"
    have_in = {t.name: t for t in net.inputs}
    have_out = {t.name: t for t in net.outputs}
    if set(have_in) != {t.name for t in spec.inputs}:
        raise PackageError(f"{where}: the network takes inputs {sorted(have_in)}, the manifest "
                           f"says {sorted(t.name for t in spec.inputs)}; the ONNX file and the "
                           "manifest are from different exports, re-export the package")
    if set(have_out) != {t.name for t in spec.outputs}:
        raise PackageError(f"{where}: the network has outputs {sorted(have_out)}, the manifest "
                           f"says {sorted(t.name for t in spec.outputs)}; re-export the package")
    expected = {t.name: t for t in (*spec.inputs, *spec.outputs)}
    pre = package.preprocess
    if "features" in have_in and "features" in pre:
        width = sum(FEATURE_CHANNELS[f] for f in pre["features"]) or 1
        expected["features"] = _with_last(expected["features"], width)
    if "semantic_logits" in have_out:
        expected["semantic_logits"] = _with_last(expected["semantic_logits"],
                                                 len(package.class_names))
    for name, want in expected.items():
        got = have_in.get(name) or have_out[name]
        if str(got.dtype) != want.dtype or len(got.shape) != len(want.shape):
            raise PackageError(f"{where}: tensor {name!r} is {got.describe()} in the network, "
                               f"{want.dtype}{list(want.shape)} in the manifest; re-export")
        for a, b in zip(got.shape, want.shape, strict=True):
            if isinstance(a, int) and isinstance(b, int) and a != b:
                raise PackageError(
                    f"{where}: tensor {name!r} is {got.describe()} in the network, but the "
                    f"manifest implies {want.dtype}{list(want.shape)} (class_names, features "
                    "and graph specs must describe the network); re-export the package")


def _with_last(spec: Any, size: int) -> Any:
    return replace(spec, shape=(*spec.shape[:-1], size))


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class PackageMethod:
    """What every sparse-UNet package method reads from its package: classes, voxel size and
    the preprocessing of the one input builder (:mod:`edge3d.runtime.preprocess`)."""

    name = ""
    needs_package = True
    #: bytes the method may use (edge3d.Segmenter's max_memory_mb)
    memory_budget = default_budget()

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
