"""Outputs are bit-identical for any EDGE3D_NUM_THREADS (the thread count is read once per
process, so each count runs in its own interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Sizes are above every parallel grain (radix sort chunks of 65536 keys, FPS chunks of 32768
# points), so two threads really split each loop.
SCRIPT = r"""
import hashlib
import numpy as np
import edge3d.native as native

rng = np.random.default_rng(0)
points = (rng.normal(size=(150_000, 3)) * 2).astype(np.float32)
features = rng.normal(size=(150_000, 5)).astype(np.float32)
digest = hashlib.sha256()

def add(*arrays):
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())

grid = native.voxelize(points, 0.05, features)
add(grid.coords, grid.features, grid.centroids, grid.point_to_voxel, grid.voxel_offsets,
    grid.voxel_points)
for level in native.voxel_pyramid(grid.coords, 4):
    add(level.coords, level.parent, level.children)
add(native.neighbor_table(grid.coords, 3)[0], native.neighbor_table(grid.coords, 2)[0])
samples = native.fps(points, 64, 5)
add(samples)
add(native.ball_query(points, points[::50], 0.1, 16))
add(*native.knn(points, points[::20], 8))
add(*native.three_nn_weights(points[samples], points[::10]))
g = native.surface_graph(points, features[:, :3] * 0.1 + 0.5, 0.05, 8, 0.3)
add(g.positions, g.normals, g.variation, g.edges, g.mutual)
add(*native.knn_graph(points, 12, 0.2))
add(native.superpoints(points, None, 0.05, graph=g))
import edge3d
r = edge3d.Segmenter().segment(points * 0.5)
add(r.labels, r.classes, np.array([i.score for i in r.instances]))
print(digest.hexdigest())
"""


def digest_with_threads(threads: int) -> str:
    env = dict(os.environ, EDGE3D_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_outputs_do_not_depend_on_thread_count() -> None:
    assert digest_with_threads(1) == digest_with_threads(2) == digest_with_threads(3)
