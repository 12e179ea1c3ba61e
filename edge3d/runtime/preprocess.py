"""Network inputs from a point cloud, built with ``edge3d.native`` (numpy only, no torch).

One function per backbone family, producing exactly the arrays its ``input_spec()`` names plus
``point_map``, the per-point row of the network output that each point reads (devoxelisation).
This is the one input builder: the training data loader calls it in its workers and the runtime
post-processors call it before the network, so the network sees the same neighbourhoods in
both (design.md section 2). It lives in the runtime because the runtime never imports torch.

Shapes and padding follow ``edge3d.native.index``: neighbour and children tables are padded
with the row count of the tensor they index; ``up_l = parent * 8 + octant`` with the octant
``4 * (x & 1) + 2 * (y & 1) + (z & 1)`` of the finer voxel (the slot order of ``children``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class NetworkInputs:
    """Arrays for one network call.

    Attributes:
        arrays: name -> array, the backbone inputs plus ``point_map`` where the backbone's rows
            are not the points (int32 [P], the output row of each point).
        sizes: symbolic dimension -> size for dimensions no array has as an axis (``"CELLS"``,
            the number of grid cells ``D * H * W`` of a dense grid).
    """

    arrays: dict[str, np.ndarray]
    sizes: dict[str, int] = field(default_factory=dict)


def point_features(positions: np.ndarray, colors: np.ndarray | None,
                   normals: np.ndarray | None, names: Sequence[str]) -> np.ndarray:
    """float32 [N, C]: the per-point input features a model was trained with, in ``names`` order.

    ``rgb``: colour in [0, 1] minus 0.5, as SSEN does (0, i.e. mid-grey, without colours);
    ``xyz``: metres from the cloud's centroid; ``normals``: unit normals (zeros without them).
    With no names, a single constant 1 channel.
    """
    cols = []
    for name in names:
        if name == "rgb":
            cols.append(np.zeros_like(positions) if colors is None else colors - 0.5)
        elif name == "xyz":
            cols.append(positions - positions.mean(axis=0))
        elif name == "normals":
            cols.append(np.zeros_like(positions) if normals is None else normals)
        else:
            raise ValueError(f"unknown input feature {name!r}; use rgb, xyz or normals")
    if not cols:
        return np.ones((len(positions), 1), np.float32)
    return np.concatenate(cols, axis=1).astype(np.float32)


def sparse_unet_inputs(positions: np.ndarray, features: np.ndarray, voxel_size: float,
                       levels: int, kernel_size: int = 3) -> NetworkInputs:
    """Inputs of :class:`edge3d.models.backbones.SparseUNet` (``levels`` pyramid levels).

    Args:
        positions: float32 [P, 3] metres.
        features: float32 [P, C] per-point features, averaged per voxel.
        voxel_size: level-0 voxel edge, metres.
        levels: pyramid levels (``len(config.channels)``).
        kernel_size: submanifold kernel edge (``config.kernel_size``).

    Returns:
        ``features`` [M0, C], ``neighbors_l`` [M_l, k^3], ``children_l`` [M_l, 8] and
        ``up_l`` [M_{l-1}] for l >= 1, and ``point_map`` = ``point_to_voxel`` [P].
    """
    from edge3d import native

    grid = native.voxelize(positions, voxel_size, features)
    pyramid = native.voxel_pyramid(grid.coords, levels)
    arrays = {"features": grid.features}
    for level, lvl in enumerate(pyramid):
        arrays[f"neighbors_{level}"] = native.neighbor_table(lvl.coords, kernel_size)[0]
    for level in range(1, levels):
        fine = pyramid[level - 1]
        arrays[f"children_{level}"] = fine.children
        arrays[f"up_{level}"] = (fine.parent * 8 + fine.octant).astype(np.int32)
    arrays["point_map"] = grid.point_to_voxel
    return NetworkInputs(arrays)


def pointnet2_inputs(positions: np.ndarray, features: np.ndarray, npoints: Sequence[int],
                     radii: Sequence[float], nsamples: Sequence[int]) -> NetworkInputs:
    """Inputs of :class:`edge3d.models.backbones.PointNet2` (the config's sampling parameters).

    Level l's samples are the first ``min(npoints[l-1], N_{l-1})`` farthest points of level
    l-1 (starting at row 0), grouped by ball query, and every level l-1 point interpolates from
    its 3 nearest level-l samples. The output rows are the input points (no ``point_map``).
    """
    from edge3d import native

    xyz = np.ascontiguousarray(positions, dtype=np.float32)
    arrays = {"xyz": xyz, "features": np.ascontiguousarray(features, dtype=np.float32)}
    level_xyz = [xyz]
    for level, (n, r, k) in enumerate(zip(npoints, radii, nsamples, strict=True), start=1):
        prev = level_xyz[-1]
        sample = native.fps(prev, min(int(n), len(prev)))
        centers = prev[sample]
        arrays[f"sample_{level}"] = sample
        arrays[f"group_{level}"] = native.ball_query(prev, centers, r, k)
        level_xyz.append(centers)
    for level in range(1, len(level_xyz)):
        idx, weight = native.three_nn_weights(level_xyz[level], level_xyz[level - 1])
        arrays[f"interp_index_{level}"] = idx
        arrays[f"interp_weight_{level}"] = weight
    return NetworkInputs(arrays)


def dense_grid_inputs(positions: np.ndarray, features: np.ndarray, voxel_size: float,
                      grid_shape: Sequence[int], origin: np.ndarray | None = None
                      ) -> NetworkInputs:
    """Inputs of :class:`edge3d.models.backbones.DenseCNN`: a [1, 1 + C, D, H, W] grid.

    Channel 0 is occupancy (1 where a point falls), channels 1.. the mean features of the
    cell's points. ``origin`` (metres, default: the points' minimum) is the corner of cell
    (0, 0, 0). ``point_map`` is each point's flat cell index ``(x * H + y) * W + z``.

    Raises:
        ValueError: a point falls outside the grid (crop first, e.g. with
            :func:`grid_crop_mask`) or a grid edge is odd.
    """
    from edge3d import native

    shape = tuple(int(s) for s in grid_shape)
    if len(shape) != 3 or any(s < 2 or s % 2 for s in shape):
        raise ValueError(f"grid_shape must be 3 even sizes >= 2, got {grid_shape}")
    pos = np.asarray(positions, dtype=np.float32)
    low = pos.min(axis=0) if origin is None else np.asarray(origin, dtype=np.float32)
    grid = native.voxelize(pos - low, voxel_size, features)
    c = grid.coords
    if len(c) and (c.min() < 0 or np.any(c.max(axis=0) >= np.array(shape))):
        raise ValueError(f"points span voxels {c.min(0)}..{c.max(0)}, outside the grid "
                         f"{shape}; crop the points to the grid first")
    d, h, w = shape
    flat = ((c[:, 0] * h + c[:, 1]) * w + c[:, 2]).astype(np.int64)
    channels = 1 + grid.features.shape[1]
    dense = np.zeros((channels, d * h * w), np.float32)
    dense[0, flat] = 1.0
    dense[1:, flat] = grid.features.T
    return NetworkInputs(
        {"grid": dense.reshape(1, channels, d, h, w),
         "point_map": flat.astype(np.int32)[grid.point_to_voxel]},
        sizes={"CELLS": d * h * w})


def grid_crop_mask(positions: np.ndarray, voxel_size: float, grid_shape: Sequence[int],
                   rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pick a grid-sized box of the scene: (bool [P] points inside, origin [3] metres).

    The box is placed at the scene's minimum corner, shifted by a random offset in x and y
    when the scene is larger than the grid and ``rng`` is given (training crops); z always
    starts at the scene's minimum.
    """
    pos = np.asarray(positions, dtype=np.float32)
    extent = np.asarray(grid_shape, np.float32) * voxel_size
    low, high = pos.min(axis=0), pos.max(axis=0)
    origin = low.copy()
    if rng is not None:
        slack = np.maximum(high - low - extent, 0.0)
        origin[:2] += rng.random(2).astype(np.float32) * slack[:2]
    # Half a voxel of margin keeps float rounding at the far face inside the grid.
    inside = np.all((pos >= origin) & (pos < origin + extent - 0.5 * voxel_size), axis=1)
    return inside, origin
