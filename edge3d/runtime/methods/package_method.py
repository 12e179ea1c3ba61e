"""What every package-backed method does when it is created: check the package and the options,
and open its graphs on a backend. Shared so the learned methods agree on errors and devices."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

import numpy as np

from edge3d.errors import PackageError
from edge3d.methods import describe
from edge3d.runtime.input_builders import feature_width, input_builder, runtime_inputs
from edge3d.runtime.memory import default_budget
from edge3d.runtime.methods.param_types import check_options

P = TypeVar("P")


def check_package(package: Any, method: str) -> None:
    """A package is given and its manifest's ``preprocess`` section is what the input builder
    of the method's backbone needs (:mod:`edge3d.runtime.input_builders`)."""
    if package is None:
        raise PackageError(f"{method} needs a model package: edge3d.Segmenter('<bundled name>') "
                           "or edge3d.Segmenter(DIR)")
    description = describe(method)
    if package.params_version != description.params_version:
        newer = package.params_version > description.params_version
        raise PackageError(
            f"{package.path}: the package's {method} parameters are version "
            f"{package.params_version}, this edge3d reads version {description.params_version}; "
            + ("upgrade edge3d to run it" if newer else
               "re-export it from its checkpoint with this edge3d's edge3d-export"))
    builder = input_builder(description.backbone)
    problems = builder.check(package.preprocess)
    if problems:
        raise PackageError(f"{package.path}: the {method} manifest's preprocess section is "
                           f"invalid for the {builder.backbone} input builder: "
                           f"{'; '.join(problems)}; re-export with edge3d-export")


def package_params(package: Any, build: Callable[[Mapping[str, Any]], P]) -> P:
    """The method's parameters from the manifest's ``postprocess`` section alone, so a bad
    value there is a PackageError about the package, not an error about the caller's
    options."""
    try:
        return build(package.postprocess)
    except (TypeError, ValueError) as exc:
        raise PackageError(f"{package.path}: the manifest's postprocess section is invalid: "
                           f"{exc}; re-export with edge3d-export") from exc


def open_graphs(package: Any, method: str, backend: str, device: str) -> dict[str, Any]:
    """One backend per graph of the method's description (portable ONNX; TensorRT builds
    from the trt variant itself), each checked against the manifest (:func:`check_graph`)."""
    from edge3d.runtime.backends import create_backend

    dev, extra = device, {}
    if str(device).startswith("cuda:"):
        dev, extra = "cuda", {"device_id": int(str(device).split(":")[1])}
    out = {}
    for g in (graph.name for graph in describe(method).graphs):
        if g not in package.graphs:
            raise PackageError(f"{package.path}: the {method} package has no graph {g!r} "
                               f"(it has {', '.join(package.graphs)}); re-export it")
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
        width = feature_width(pre["features"])
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


class PackageMethod:
    """What every package-backed method reads from its package: classes, voxel size, its
    graphs opened on a backend, and the input builder of its backbone."""

    name: ClassVar[str] = ""
    class_names: tuple[str, ...] = ()
    #: bytes the method may use (edge3d.Segmenter's max_memory_mb)
    memory_budget = default_budget()

    def __init__(self, package: Any, backends: Mapping[str, Any], params: Any) -> None:
        self.package = package
        self.backends = dict(backends)
        self.params = params
        self.class_names = tuple(package.class_names)
        self.voxel_size = float(package.voxel_size)
        self.preprocess = dict(package.preprocess)
        self.features = tuple(self.preprocess["features"])
        self._inputs = input_builder(describe(self.name).backbone)

    @classmethod
    def parameters(cls, package: Any, options: Mapping[str, Any],
                   build: Callable[[Mapping[str, Any]], P]) -> P:
        """Check the package and the options, then the method's parameters: the manifest's
        ``postprocess`` section (a bad value there is the package's fault) overridden by
        ``options`` (a bad value there is the caller's); ``background_classes``, where the
        parameters have them, must name classes of the package."""
        check_package(package, cls.name)
        check_options(options, describe(cls.name).part("params"), cls.name)
        package_params(package, build)
        params = build({**package.postprocess, **options})
        background = getattr(params, "background_classes", ())
        if any(c >= len(package.class_names) for c in background):
            raise PackageError(f"{package.path}: background_classes {list(background)} name "
                               f"classes beyond the {len(package.class_names)} class names")
        return params

    def build_inputs(self, points: np.ndarray, colors: np.ndarray | None
                     ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """(the first graph's feeds, int32 [P] output row of each point)."""
        return runtime_inputs(self._inputs, points, colors, self.voxel_size, self.preprocess)

    def describe(self) -> dict[str, Any]:
        return {"method": self.name, "voxel_size": self.voxel_size,
                "features": list(self.features), "params": self.params.to_dict(),
                "package": str(self.package.path), "provenance": dict(self.package.provenance)}
