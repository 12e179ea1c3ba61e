"""``TSDFVolume``: the fused map, a block-hashed TSDF fed with :class:`edge3d.Frame`s.

A thin, frame-aware layer over :class:`edge3d.native.tsdf.TsdfBlockVolume` (C++): it checks
frames and poses, applies the depth range, and returns results in the world frame of the poses
it was given (edge3d's world: gravity-aligned, z up, when the poses are).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge3d.errors import FrameError
from edge3d.native.icp import bilateral_depth
from edge3d.native.tsdf import TsdfBlockVolume
from edge3d.types import Frame, Intrinsics

BLOCK_SIDE = 8
# Block coordinates lie in [-2^20, 2^20) (the native block index packs 21 bits per axis): the
# map reaches 2^20 * 8 voxels from its origin, 84 km at 1 cm voxels.
MAX_BLOCK_COORD = 1 << 20
DEFAULT_TRUNCATION_VOXELS = 4.0


@dataclass(frozen=True)
class VolumeStats:
    """Counters of a :class:`TSDFVolume`.

    Attributes:
        blocks: allocated 8^3-voxel blocks.
        budget: the block budget (``max_blocks``), None when unbounded.
        evicted: blocks removed so far to stay within the budget (far blocks first).
        dropped: new blocks not allocated because one frame alone exceeded the budget.
        voxels: allocated voxels (``blocks * 512``).
        memory_bytes: bytes held by the voxel pool and the block hash table.
        frames: frames integrated.
    """

    blocks: int
    budget: int | None
    evicted: int
    dropped: int
    voxels: int
    memory_bytes: int
    frames: int


@dataclass(frozen=True)
class RaycastResult:
    """The fused surface seen from a pose (for frame-to-model ICP and rendering).

    Attributes:
        depth: float32 [H, W], camera z in metres, 0 where the ray hit no surface.
        vertices: float32 [H, W, 3], world points (0 where no surface).
        normals: float32 [H, W, 3], unit world normals pointing out of the surface (towards
            free space); 0 where no surface or the normal is undefined.
        colors: uint8 [H, W, 3].
    """

    depth: np.ndarray
    vertices: np.ndarray
    normals: np.ndarray
    colors: np.ndarray


class TSDFVolume:
    """Block-hashed TSDF with weights and colour (8^3-voxel blocks; KinectFusion's TSDF,
    Newcombe et al. 2011 section 3.3, on Niessner et al.'s voxel hashing).

    Integration is multithreaded in C++ and deterministic (each block is updated by one thread;
    the result does not depend on the thread count).

    Args:
        voxel_size: voxel edge in metres; edge3d is tuned for 0.01 to 0.05.
        truncation: truncation distance in metres; default 4 voxels.
        max_blocks: block budget (about 5.7 kB per block); None for unbounded. When a frame
            needs new blocks beyond it, blocks the frame does not see are evicted: those unseen
            for 300 frames first, then the farthest from the camera (counted in :attr:`stats`).
        max_weight: cap of the per-voxel observation weight (a running average beyond it, so
            the map follows changes).
        depth_min, depth_max: depths (metres) outside this range are not fused.
        min_weight: voxels observed less than this are ignored by extraction and ray casting.
        weight_power: a measurement at depth ``d`` metres counts ``1 / max(d, 1)^weight_power``
            (0: all alike; 2: voxblox's quadratic weight; 4: inverse stereo-noise variance).
        smooth_depth: smooth each depth image with an edge-preserving bilateral filter
            (:func:`edge3d.native.icp.bilateral_depth`) before fusing it, as RealSense's spatial
            filter does; worth it for noisy stereo depth, a waste for clean depth.
    """

    def __init__(self, voxel_size: float, truncation: float | None = None,
                 max_blocks: int | None = None, *, max_weight: float = 64.0,
                 depth_min: float = 0.1, depth_max: float = 5.0, min_weight: float = 1.0,
                 weight_power: int = 0, smooth_depth: bool = False) -> None:
        if not (np.isfinite(voxel_size) and voxel_size > 0):
            raise ValueError(f"voxel_size must be > 0 metres (typically 0.01 to 0.05), "
                             f"got {voxel_size}")
        if truncation is None:
            truncation = DEFAULT_TRUNCATION_VOXELS * voxel_size
        if max_blocks is not None and int(max_blocks) <= 0:
            raise ValueError(f"max_blocks must be a positive block count or None, got {max_blocks}")
        if not 0 <= depth_min < depth_max:
            raise ValueError(f"need 0 <= depth_min < depth_max, got {depth_min}, {depth_max}")
        self._native = TsdfBlockVolume(voxel_size, truncation,
                                       0 if max_blocks is None else int(max_blocks), max_weight)
        self.max_blocks = None if max_blocks is None else int(max_blocks)
        self.depth_min, self.depth_max = float(depth_min), float(depth_max)
        self.min_weight = float(min_weight)
        self.weight_power = int(weight_power)
        self.smooth_depth = bool(smooth_depth)

    @property
    def voxel_size(self) -> float:
        return self._native.voxel_size

    @property
    def truncation(self) -> float:
        return self._native.truncation

    def integrate(self, frame: Frame, pose: np.ndarray | None = None) -> int:
        """Fuse ``frame`` seen from ``pose`` (``T_W_C`` float64 [4, 4]; default
        ``frame.pose``). Returns the number of blocks the frame touched.

        Raises:
            FrameError: the frame is malformed, or there is no pose.
        """
        frame.validate()
        if pose is None:
            pose = frame.pose
        if pose is None:
            raise FrameError(f"frame {frame.index}: no pose given and the frame carries none; "
                             "pass pose=T_W_C or use edge3d.runtime.fusion.Fusion to track it")
        pose = np.asarray(pose, dtype=np.float64)
        if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
            raise FrameError(f"frame {frame.index}: pose must be a finite 4x4 matrix")
        k = frame.intrinsics
        depth = frame.depth
        if self.smooth_depth:
            smooth = bilateral_depth(frame.depth_m())
            depth = np.minimum(np.round(smooth / frame.depth_scale), 65535).astype(np.uint16)
        return self._native.integrate(depth, frame.depth_scale, frame.color,
                                      (k.fx, k.fy, k.cx, k.cy), pose, self.depth_min,
                                      self.depth_max, self.weight_power)

    def extract_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Surface points at the SDF's zero crossings along voxel edges.

        Returns:
            ``(points float32 [N, 3] world metres, colors uint8 [N, 3], normals float32 [N, 3])``
            with unit normals pointing out of the surface. About one point per voxel face the
            surface crosses, so the density follows the voxel size.
        """
        return self._native.extract_points(self.min_weight)

    def extract_mesh(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Triangle mesh of the surface (surface nets, a dual marching cubes: one vertex per
        voxel cell the surface crosses, two triangles per crossing voxel edge).

        Returns:
            ``(vertices float32 [V, 3], faces int32 [F, 3], colors uint8 [V, 3])``; faces wind
            counter-clockwise seen from outside. ``edge3d.io.write_ply`` saves it.
        """
        return self._native.extract_mesh(self.min_weight)

    def raycast(self, pose: np.ndarray, intrinsics: Intrinsics) -> RaycastResult:
        """Render the fused surface from camera pose ``T_W_C`` with ``intrinsics``."""
        depth, vertices, normals, colors = self._native.raycast(
            intrinsics.width, intrinsics.height,
            (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy),
            np.asarray(pose, dtype=np.float64), self.depth_min, self.depth_max, self.min_weight)
        return RaycastResult(depth, vertices, normals, colors)

    def query(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Signed distance (metres, trilinear; NaN where unobserved) and weight at world points
        float32 [N, 3]; returns ``(sdf float32 [N], weight float32 [N])``."""
        return self._native.query(points)

    def block_coords(self) -> np.ndarray:
        """int32 [B, 3] block coordinates; block ``b`` spans ``8 b * voxel_size`` to
        ``(8 b + 7) * voxel_size`` (voxel centres) per axis."""
        return self._native.block_coords()

    def clear(self) -> None:
        """Remove every block (the eviction counters are kept)."""
        self._native.clear()

    @property
    def stats(self) -> VolumeStats:
        s = self._native.stats()
        return VolumeStats(blocks=s["blocks"], budget=self.max_blocks, evicted=s["evicted"],
                           dropped=s["dropped"], voxels=s["blocks"] * BLOCK_SIDE ** 3,
                           memory_bytes=s["memory_bytes"], frames=s["frames"])
