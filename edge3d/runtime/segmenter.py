"""``edge3d.Segmenter``: one object that turns a point cloud into object instances.

The model is a method name that needs no trained weights (``"geometric"``), the name of a
bundled model package (``"ssen"`` once it ships) or a package directory. Which code runs is
looked up in the method registry (:mod:`edge3d.methods`), so adding a method never
touches this file.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from edge3d import methods
from edge3d.errors import PackageError
from edge3d.geometry import column_bounds
from edge3d.types import SegmentationResult

BACKENDS = ("auto", "ort", "tensorrt")
_MAX_EXTENT_M = 500.0  # a bigger map is almost surely in millimetres
# float32 spaces values 2 mm apart from 16 km on, 4 mm from 32 km: beyond that float32 input
# has already lost the detail segmentation needs (GNSS/UTM frames are 10^5 to 10^7 m out).
_MAX_FLOAT32_COORD_M = 32768.0


class Segmenter:
    """3D instance segmentation of gravity-aligned point clouds.

    Args:
        model: ``"geometric"`` (zero-shot: structure, superpoints and support, no network;
            ``docs/geometric.md``), ``"euclidean"`` (the plane removal + Euclidean clustering
            baseline), the name of a bundled model package, or a model package directory
            written by ``edge3d-export``.
        backend: ``"auto"`` (TensorRT, then ONNX Runtime CUDA, then ONNX Runtime CPU), ``"ort"``
            or ``"tensorrt"``. Methods without a network ignore it.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"`` / ``"cuda:N"``.
        max_memory_mb: the memory one segmentation may take (MiB; default: half the
            machine's physical memory). A cloud whose estimate exceeds it raises
            :class:`edge3d.errors.CapacityError` before anything is allocated; Spherical Mask
            runs its query stage in voxel chunks to stay within it.
        **options: method options (for ``"geometric"`` the fields of
            :class:`edge3d.runtime.methods.geometric.GeometricParams`).

    Raises:
        PackageError: the model is neither a known method, a bundled package nor a package
            directory (the message lists what is available), or the package is broken.
        ValueError: a bad backend or device name.

    Example::

        seg = edge3d.Segmenter("geometric")
        result = seg.segment(points, colors)      # points float32 [N, 3], metres, z up
        for inst in result.instances:             # sorted by score
            print(inst.id, inst.class_name, inst.score, inst.centroid)
    """

    def __init__(self, model: str | os.PathLike = methods.DEFAULT_MODEL, backend: str = "auto",
                 device: str = "auto", max_memory_mb: float | None = None,
                 **options: Any) -> None:
        from edge3d.runtime.memory import resolve_budget

        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
        if not (device in ("auto", "cpu", "cuda") or str(device).startswith("cuda:")):
            raise ValueError(f"unknown device {device!r}; expected auto, cpu, cuda or cuda:N")
        self.backend = backend
        self.device = device
        budget = resolve_budget(max_memory_mb)
        name = os.fspath(model)
        if name in methods.packageless_methods():
            self._description = methods.describe(name)
            self._method = methods.runtime_class(name).create(None, backend, device, **options)
            self._method.memory_budget = budget
            self.model = name
            return
        from edge3d.package import load_package, resolve_package

        try:
            path = resolve_package(name)
        except PackageError as exc:
            raise PackageError(f"unknown model {name!r}. {_available()}") from exc
        package = load_package(path)
        if package.method not in methods.runtime_methods():
            raise PackageError(
                f"{path} holds a {package.method!r} model, which this edge3d cannot run (known "
                f"methods: {', '.join(sorted(methods.runtime_methods()))}); upgrade edge3d")
        self._description = methods.describe(package.method)
        if not self._description.needs_package:
            raise PackageError(
                f"{path} says its method is {package.method!r}, which runs without a network, "
                "so the package's network would be ignored; the manifest is wrong, re-export it "
                f"(or use edge3d.Segmenter({package.method!r}) for that method)")
        self._method = methods.runtime_class(package.method).create(package, backend, device,
                                                                    **options)
        self._method.memory_budget = budget
        self.model = str(path)

    @property
    def method(self) -> str:
        """The registered method name (``"geometric"``, ``"ssen"``, ...)."""
        return self._method.name

    @property
    def class_names(self) -> list[str]:
        return list(self._method.class_names)

    def describe(self) -> dict[str, Any]:
        """Model, method, backend and the method's own configuration (JSON-friendly)."""
        return {"model": self.model, "backend": self.backend, "device": self.device,
                **self._method.describe()}

    def segment(self, points: np.ndarray, colors: np.ndarray | None = None,
                superpoints: np.ndarray | None = None) -> SegmentationResult:
        """Segment one point cloud.

        Args:
            points: [N, 3] metres, gravity-aligned with z up (float32 preferred; other float
                types are converted). N may be 0.
            colors: None, or [N, 3] RGB as uint8 or as floats in [0, 1].
            superpoints: None, or integer [N], an over-segmentation of the points (a ScanNet
                mesh's segments, :attr:`edge3d.io.scannet.Scene.superpoints`). Methods that
                use them (``spherical_mask``) align each mask to them; the others raise.

        Returns:
            :class:`edge3d.SegmentationResult`: ``labels`` int32 [N] (instance id, -1 for
            none), ``classes`` int32 [N] (-1 for none), ``instances`` sorted by descending
            score, ``timings`` in seconds per stage plus ``"total"``.

        Coordinates may lie anywhere (a GNSS / UTM-referenced map included): the method runs
        in a local frame at the cloud's corner, and boxes and centroids come back in the frame
        of ``points``, as float64. Far from the origin pass float64 points: float32 cannot hold
        millimetres beyond 32 km, and such input is refused.

        Raises:
            ValueError: wrong shape or dtype, non-finite values, colours out of range, a map
                so large it must be in millimetres, float32 points 32 km or more from the
                origin, or superpoints for a method without use for them.
            CapacityError: the cloud would take more than ``max_memory_mb``.
        """
        t0 = time.perf_counter()
        pts, cols = validate_points(points, colors)
        if superpoints is None:
            result = self._method.segment(pts, cols)
        elif self._description.superpoints:
            result = self._method.segment(pts, cols, superpoints=superpoints)
        else:
            users = [d.name for d in methods.descriptions() if d.superpoints]
            raise ValueError(f"method {self.method!r} does not use superpoints; segment without "
                             f"them, or use a method that aligns masks to them "
                             f"({', '.join(users)})")
        n = len(pts)
        if result.labels.shape != (n,) or result.classes.shape != (n,):
            raise RuntimeError(f"method {self.method!r} returned labels for "
                               f"{result.labels.shape} points, expected ({n},): a method bug")
        if len(result.instances):
            # Boxes from the caller's own points: exact in their frame, whatever the local one.
            given = np.asarray(points)
            for inst in result.instances:
                inst.refit(given)
        result.instances.sort(key=lambda inst: -inst.score)
        result.timings["total"] = time.perf_counter() - t0
        return result

    def __repr__(self) -> str:
        return f"Segmenter(model={self.model!r}, method={self.method!r}, backend={self.backend!r})"


def validate_points(points: np.ndarray, colors: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """Check and convert input for a method: float32 [N, 3] points in a local frame (moved by
    whole metres, the floor of the points' minimum, in float64) and float32 [N, 3] colours in
    [0, 1] (or None)."""
    try:
        pts = np.asarray(points)
    except Exception as exc:
        raise ValueError(f"points must be an array of shape [N, 3], got {type(points)}") from exc
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"points must have shape [N, 3], got {pts.shape}")
    if not (np.issubdtype(pts.dtype, np.floating) or np.issubdtype(pts.dtype, np.integer)):
        raise ValueError(f"points must be numeric (float32 metres), got dtype {pts.dtype}")
    precise = pts.dtype != np.float32
    pts = np.ascontiguousarray(pts, dtype=np.float64 if precise else np.float32)
    if not np.isfinite(pts).all():
        bad = int((~np.isfinite(pts).all(1)).sum())
        raise ValueError(f"{bad} of {len(pts)} points are NaN or infinite; drop them "
                         "first, e.g. points[np.isfinite(points).all(1)]")
    if len(pts):
        lo, hi = (b.astype(np.float64) for b in column_bounds(pts))
        extent = float((hi - lo).max())
        if extent > _MAX_EXTENT_M:
            raise ValueError(f"points span {extent:.0f} units; edge3d expects metres (divide "
                             "millimetres by 1000)")
        far = float(np.abs(np.concatenate([lo, hi])).max())
        if not precise and far >= _MAX_FLOAT32_COORD_M:
            raise ValueError(
                f"float32 points lie {far / 1000:.0f} km from the origin, where float32 steps "
                f"are {np.spacing(np.float32(far)) * 1000:.0f} mm: the detail is already lost. "
                "Pass float64 points (edge3d keeps the precision), or subtract a local origin "
                "before converting to float32")
        origin = np.floor(lo)
        # Float64 input is shifted in float64, so a map far from the origin keeps millimetres.
        pts = np.subtract(pts, origin if precise else origin.astype(np.float32)
                          ).astype(np.float32, copy=False)
    else:
        pts = pts.astype(np.float32, copy=False)
    if colors is None:
        return pts, None
    cols = np.asarray(colors)
    if cols.shape != pts.shape:
        raise ValueError(f"colors must have shape {pts.shape} like points, got {cols.shape}")
    if cols.dtype == np.uint8:
        return pts, cols.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(cols.dtype, np.floating):
        raise ValueError(f"colors must be uint8 (0-255) or float in [0, 1], got dtype {cols.dtype}")
    cols = np.ascontiguousarray(cols, dtype=np.float32)
    if len(cols) and not (np.isfinite(cols).all() and cols.min() >= 0.0 and cols.max() <= 1.0):
        hint = " (they look like 0-255 values: pass uint8 or divide by 255)" \
            if np.isfinite(cols).all() and cols.max() <= 255.0 else ""
        raise ValueError(f"float colors must lie in [0, 1]{hint}")
    return pts, cols


def _available() -> str:
    from edge3d.package import bundled_packages

    names = methods.packageless_methods() + sorted(bundled_packages())
    return (f"Available models: {', '.join(names)}; or pass a model package directory "
            "written by edge3d-export.")
