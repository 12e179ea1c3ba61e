"""Per-voxel class and instance targets, from the same voxelisation as a sparse-voxel network's
inputs (shared by the methods that predict per voxel of pyramid level 0)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from edge3d.tensor_spec import TensorSpec
from training.data.scenes import IGNORE, Scene


def target_spec(config: Mapping[str, Any]) -> list[TensorSpec]:
    """Targets: per-voxel class and instance, and ``point_map`` (batched so the loss can tell
    which scene each voxel belongs to)."""
    return [
        TensorSpec("voxel_semantic", "int32", ("M0",), "class of each voxel, -100 = ignore"),
        TensorSpec("voxel_instance", "int32", ("M0",),
                   "instance of each voxel, 1..C per scene, 0 = none"),
        TensorSpec("point_map", "int32", ("P",), "voxel of each point", index_of="M0"),
    ]


def voxel_labels(point_to_voxel: np.ndarray, labels: np.ndarray, voxels: int) -> np.ndarray:
    """int64 [voxels]: the most common value of ``labels`` (int64 [P]) among each voxel's points
    (ties: the smallest value)."""
    pairs, counts = np.unique(np.stack([point_to_voxel.astype(np.int64), labels]), axis=1,
                              return_counts=True)
    order = np.lexsort((pairs[1], -counts, pairs[0]))
    first = np.ones(len(order), bool)
    first[1:] = pairs[0, order[1:]] != pairs[0, order[:-1]]
    out = np.zeros(voxels, np.int64)
    out[pairs[0, order[first]]] = pairs[1, order[first]]
    return out


def build_targets(scene: Scene, config: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per-voxel targets of ``scene`` at ``data.voxel_size`` (same voxelisation as the inputs)."""
    from edge3d import native

    k = int(config["method"]["num_classes"])
    grid = native.voxelize(scene.positions, float(config["data"]["voxel_size"]))
    m = len(grid.coords)
    sem = scene.semantic.astype(np.int64)
    sem = np.where((sem >= 0) & (sem < k), sem, IGNORE)
    inst = np.where(sem >= 0, scene.instance.astype(np.int64), 0)
    # One label for the pair keeps a voxel's class and instance from different points.
    key = voxel_labels(grid.point_to_voxel, (sem - IGNORE) * (1 << 32) + inst, m)
    vsem = key // (1 << 32) + IGNORE
    vinst = key % (1 << 32)
    return {"voxel_semantic": vsem.astype(np.int32),
            "voxel_instance": contiguous_instances(vinst)}


def contiguous_instances(instance: np.ndarray) -> np.ndarray:
    """int32: instance ids renumbered 1..C in ascending order of the ids, 0 kept as none."""
    ids, contiguous = np.unique(instance, return_inverse=True)
    contiguous = contiguous.reshape(-1) + (0 if ids[0] == 0 else 1)
    return np.where(instance > 0, contiguous, 0).astype(np.int32)
