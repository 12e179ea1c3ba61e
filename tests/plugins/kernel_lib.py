"""ctypes binding of libedge3d_kernels.so (plugins/include/edge3d_ops.h) for tests and benchmarks.

The ``*_host`` entry points copy numpy arrays through the GPU; without a GPU they fail with the
CUDA error text, which this binding raises as RuntimeError.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

_F = ctypes.c_float
_I32 = ctypes.c_int32
_I64 = ctypes.c_int64
_P = ctypes.c_void_p
_DTYPES = {np.dtype(np.float32): 0, np.dtype(np.float16): 1}


class KernelLibrary:
    """The C ABI, with numpy in and out. Inputs may carry one leading batch dimension."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        lib = ctypes.CDLL(str(self.path))
        lib.edge3d_last_error.restype = ctypes.c_char_p
        lib.edge3d_kernels_abi_version.restype = ctypes.c_int
        lib.edge3d_cuda_device_count.restype = ctypes.c_int
        lib.edge3d_sector_bin_host.argtypes = [_P, _P, ctypes.c_int, _I64, _I64, _I64, _I32, _I32,
                                               _P, _P, _I32, ctypes.POINTER(_F)]
        lib.edge3d_sector_mask_host.argtypes = [_P, _P, _P, _P, ctypes.c_int, _I64, _I64, _I64,
                                                _I32, _I32, _P, _I32, ctypes.POINTER(_F)]
        lib.edge3d_point_in_box_prob_host.argtypes = [_P, _P, ctypes.c_int, _I64, _I64, _I64, _F,
                                                      _F, _P, _I32, ctypes.POINTER(_F)]
        lib.edge3d_soft_box_iou_host.argtypes = [_P, _P, ctypes.c_int, _I64, _I64, _I64, _I64, _F,
                                                 _P, _I32, ctypes.POINTER(_F)]
        self.lib = lib
        self.last_ms = 0.0

    @property
    def abi_version(self) -> int:
        return int(self.lib.edge3d_kernels_abi_version())

    @property
    def device_count(self) -> int:
        return int(self.lib.edge3d_cuda_device_count())

    def _call(self, fn: ctypes._CFuncPtr, *args: object) -> None:
        elapsed = _F(0.0)
        status = fn(*args, ctypes.byref(elapsed))
        if status != 0:
            raise RuntimeError(f"{fn.__name__} failed ({status}): "
                               f"{self.lib.edge3d_last_error().decode()}")
        self.last_ms = float(elapsed.value)

    def sector_bin(self, points: np.ndarray, centers: np.ndarray, n_azimuth: int = 5,
                   n_polar: int = 5, repeats: int = 1) -> tuple[np.ndarray, np.ndarray]:
        p, c, batched = _batch(points, centers)
        b, n, k = p.shape[0], p.shape[1], c.shape[1]
        sector = np.empty((b, k, n), np.int32)
        radius = np.empty((b, k, n), p.dtype)
        self._call(self.lib.edge3d_sector_bin_host, _ptr(p), _ptr(c), _DTYPES[p.dtype], b, n, k,
                   n_azimuth, n_polar, _ptr(sector), _ptr(radius), repeats)
        return _unbatch(sector, batched), _unbatch(radius, batched)

    def sector_mask(self, points: np.ndarray, centers: np.ndarray, rays: np.ndarray,
                    migration: np.ndarray, n_azimuth: int = 5, n_polar: int = 5,
                    repeats: int = 1) -> np.ndarray:
        p, c, r, m, batched = _batch(points, centers, rays, migration)
        b, n, k = p.shape[0], p.shape[1], c.shape[1]
        logits = np.empty((b, k, n), p.dtype)
        self._call(self.lib.edge3d_sector_mask_host, _ptr(p), _ptr(c), _ptr(r), _ptr(m),
                   _DTYPES[p.dtype], b, n, k, n_azimuth, n_polar, _ptr(logits), repeats)
        return _unbatch(logits, batched)

    def point_in_box_prob(self, points: np.ndarray, boxes: np.ndarray, theta1: float = 100.0,
                          theta2: float = 20.0, repeats: int = 1) -> np.ndarray:
        p, bx, batched = _batch(points, boxes, base_ranks=(2, 3))
        b, n, h = p.shape[0], p.shape[1], bx.shape[1]
        prob = np.empty((b, h, n), p.dtype)
        self._call(self.lib.edge3d_point_in_box_prob_host, _ptr(p), _ptr(bx), _DTYPES[p.dtype],
                   b, n, h, theta1, theta2, _ptr(prob), repeats)
        return _unbatch(prob, batched)

    def soft_box_iou(self, prob_a: np.ndarray, prob_b: np.ndarray, eps: float = 1e-6,
                     repeats: int = 1) -> np.ndarray:
        a, bb, batched = _batch(prob_a, prob_b)
        b, rows_a, rows_b, n = a.shape[0], a.shape[1], bb.shape[1], a.shape[2]
        iou = np.empty((b, rows_a, rows_b), a.dtype)
        self._call(self.lib.edge3d_soft_box_iou_host, _ptr(a), _ptr(bb), _DTYPES[a.dtype], b,
                   rows_a, rows_b, n, eps, _ptr(iou), repeats)
        return _unbatch(iou, batched)


def _batch(*arrays: np.ndarray, base_ranks: tuple[int, ...] | None = None) -> tuple:
    ranks = base_ranks or (2,) * len(arrays)
    batched = arrays[0].ndim > ranks[0]
    out = [np.ascontiguousarray(a if batched else a[None]) for a in arrays]
    return (*out, batched)


def _unbatch(a: np.ndarray, batched: bool) -> np.ndarray:
    return a if batched else a[0]


def _ptr(a: np.ndarray) -> int:
    return a.ctypes.data
