"""Block-hashed TSDF volume: the C++ core of ``edge3d.runtime.fusion``.

A truncated signed distance function (Curless & Levoy 1996; KinectFusion, Newcombe et al. 2011,
section 3.3) stored in 8x8x8-voxel blocks found through a hash of block coordinates (Niessner et
al. 2013, voxel hashing; the layout of voxblox, nvblox and Open3D's ``VoxelBlockGrid``). Each
voxel holds the SDF divided by the truncation distance (in [-1, 1]), a weight (number of
observations, capped at ``max_weight``) and an RGB colour (weighted running mean).

Conventions:

- Voxel ``(i, j, k)`` has its centre at ``(i, j, k) * voxel_size`` metres in the volume frame;
  block ``b`` holds voxels ``8 b`` to ``8 b + 7`` along each axis.
- The SDF is projective: depth along the pixel's ray minus the voxel's camera z, positive in
  front of the surface (free space), negative behind it.
- Poses are camera-to-volume ``T_V_C`` float64 [4, 4]; the camera frame is OpenCV's.

Integration is multithreaded (``EDGE3D_NUM_THREADS``) with one thread per block, so its result
does not depend on the thread count; extraction output order is deterministic too. Every call
releases the GIL; a reader/writer lock lets extraction and ray casting run from other threads
while integration waits. Memory is bounded by ``max_blocks``: when a frame needs more blocks,
blocks the frame does not touch are evicted, those unseen for 300 frames first, then the
farthest from the camera (counted in ``stats()["evicted"]``); if the frame alone exceeds the
budget its farthest new blocks are not allocated (``stats()["dropped"]``).
"""

from __future__ import annotations

import functools
from types import ModuleType

import numpy as np

from edge3d.native._loader import load_extension

__all__ = ["TsdfBlockVolume"]


@functools.cache
def _ext() -> ModuleType:
    return load_extension("tsdf")


def _pose(pose: np.ndarray, name: str = "pose") -> np.ndarray:
    p = np.ascontiguousarray(pose, dtype=np.float64)
    if p.shape != (4, 4) or not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be a finite float64 [4, 4] camera-to-volume matrix, "
                         f"got shape {p.shape}")
    return p


def _camera(fx: float, fy: float, cx: float, cy: float) -> tuple[float, float, float, float]:
    vals = (float(fx), float(fy), float(cx), float(cy))
    if not all(np.isfinite(vals)) or vals[0] <= 0 or vals[1] <= 0:
        raise ValueError(f"intrinsics must be finite with fx, fy > 0, got {vals}")
    return vals


class TsdfBlockVolume:
    """A block-hashed TSDF with colour; see the module docstring for conventions.

    Args:
        voxel_size: voxel edge in metres (> 0).
        truncation: truncation distance in metres (>= voxel_size).
        max_blocks: block budget (each block 8^3 voxels, about 5.7 kB); 0 for unbounded.
        max_weight: cap of the per-voxel weight; lower values let the map follow change faster.
    """

    def __init__(self, voxel_size: float, truncation: float, max_blocks: int = 0,
                 max_weight: float = 64.0) -> None:
        if not (np.isfinite(voxel_size) and voxel_size > 0):
            raise ValueError(f"voxel_size must be > 0 metres, got {voxel_size}")
        if not (np.isfinite(truncation) and truncation >= voxel_size):
            raise ValueError(f"truncation must be >= voxel_size ({voxel_size} m), got {truncation}")
        if int(max_blocks) < 0:
            raise ValueError(f"max_blocks must be >= 0 (0 = unbounded), got {max_blocks}")
        if not max_weight >= 1:
            raise ValueError(f"max_weight must be >= 1, got {max_weight}")
        self._vol = _ext().Volume(float(voxel_size), float(truncation), int(max_blocks),
                                  float(max_weight))

    @property
    def voxel_size(self) -> float:
        return float(self._vol.voxel_size)

    @property
    def truncation(self) -> float:
        return float(self._vol.truncation)

    def integrate(self, depth: np.ndarray, depth_scale: float, color: np.ndarray | None,
                  intrinsics: tuple[float, float, float, float], pose: np.ndarray,
                  depth_min: float = 0.1, depth_max: float = 5.0, weight_power: int = 0) -> int:
        """Fuse one depth image; returns the number of blocks it touched.

        Args:
            depth: uint16 [H, W] device units, 0 = invalid.
            depth_scale: metres per unit.
            color: uint8 [H, W, 3] RGB aligned to depth, or None.
            intrinsics: (fx, fy, cx, cy) of the depth image in pixels.
            pose: float64 [4, 4] camera-to-volume ``T_V_C``.
            depth_min, depth_max: depths (metres) outside this range are ignored.
            weight_power: a measurement at depth ``d`` metres counts with weight
                ``1 / max(d, 1)^weight_power``: 0 counts all alike, 2 is voxblox's quadratic
                weight, 4 the inverse variance of stereo noise (which grows with ``d^2``).
        """
        if not isinstance(depth, np.ndarray) or depth.dtype != np.uint16 or depth.ndim != 2:
            raise TypeError(f"depth must be a uint16 [H, W] array, got "
                            f"{getattr(depth, 'dtype', type(depth).__name__)}")
        if not (np.isfinite(depth_scale) and depth_scale > 0):
            raise ValueError(f"depth_scale must be > 0, got {depth_scale}")
        if color is not None and (color.dtype != np.uint8 or color.shape != (*depth.shape, 3)):
            raise TypeError(f"color must be uint8 [{depth.shape[0]}, {depth.shape[1]}, 3], got "
                            f"{color.dtype} {color.shape}")
        if not 0 <= depth_min < depth_max:
            raise ValueError(f"need 0 <= depth_min < depth_max, got {depth_min}, {depth_max}")
        if not 0 <= int(weight_power) <= 8:
            raise ValueError(f"weight_power must be in [0, 8], got {weight_power}")
        fx, fy, cx, cy = _camera(*intrinsics)
        return int(self._vol.integrate(
            np.ascontiguousarray(depth), float(depth_scale),
            None if color is None else np.ascontiguousarray(color), fx, fy, cx, cy, _pose(pose),
            float(depth_min), float(depth_max), int(weight_power)))

    def extract_points(self, min_weight: float = 1.0
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Zero crossings of the SDF along voxel edges (linear interpolation).

        Returns ``(points float32 [N, 3], colors uint8 [N, 3], normals float32 [N, 3])``; normals
        are the normalised SDF gradient, pointing out of the surface (towards free space). Only
        edges between voxels with weight >= ``min_weight`` and untruncated values count.
        """
        return self._vol.extract_points(float(min_weight))

    def extract_mesh(self, min_weight: float = 1.0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Triangle mesh by surface nets (a dual marching cubes: one vertex per surface cell).

        Returns ``(vertices float32 [V, 3], faces int32 [F, 3], colors uint8 [V, 3])``; faces
        wind counter-clockwise seen from outside.
        """
        return self._vol.extract_mesh(float(min_weight))

    def raycast(self, width: int, height: int, intrinsics: tuple[float, float, float, float],
                pose: np.ndarray, depth_min: float = 0.1, depth_max: float = 5.0,
                min_weight: float = 1.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Render the surface seen from ``pose`` by marching rays to the first zero crossing.

        Returns ``(depth float32 [H, W] camera z in metres (0 = no surface), vertices float32
        [H, W, 3] and normals float32 [H, W, 3] in the volume frame (0 where no surface),
        colors uint8 [H, W, 3])``.
        """
        if int(width) <= 0 or int(height) <= 0:
            raise ValueError(f"image size must be positive, got {width}x{height}")
        fx, fy, cx, cy = _camera(*intrinsics)
        return self._vol.raycast(int(width), int(height), fx, fy, cx, cy, _pose(pose),
                                 float(depth_min), float(depth_max), float(min_weight))

    def query(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Trilinear SDF in metres (NaN where unobserved) and nearest-voxel weight at points
        float32 [N, 3]; returns ``(sdf float32 [N], weight float32 [N])``."""
        pts = np.ascontiguousarray(points, dtype=np.float32)
        if pts.ndim != 2 or pts.shape[1] != 3:
            raise ValueError(f"points must be [N, 3], got {pts.shape}")
        return self._vol.query(pts)

    def block_coords(self) -> np.ndarray:
        """int32 [B, 3] coordinates of the allocated blocks (in storage order)."""
        return self._vol.block_coords()

    def clear(self) -> None:
        """Drop every block and release the voxel memory (counters are kept)."""
        self._vol.clear()

    def stats(self) -> dict[str, int]:
        """Counters: ``blocks`` allocated, ``capacity`` (slots reserved), ``max_blocks`` (0 =
        unbounded), ``evicted`` and ``dropped`` blocks, ``frames`` integrated, ``memory_bytes``
        (voxel pool plus hash table)."""
        return dict(self._vol.stats())
