"""NumPy references for the index builder: the executable spec ``edge3d.native.index`` must match
bit for bit. Written for clarity, with floating-point expressions in the same order as the C++
(squared distances as ``(dx*dx + dy*dy) + dz*dz`` in float32, means summed in float64 in
ascending point order). ``bench/bm_native.py`` times them against the native code.
"""

from __future__ import annotations

import numpy as np

_XYZ = np.dtype([("x", "<i8"), ("y", "<i8"), ("z", "<i8")])


def _rows(coords: np.ndarray) -> np.ndarray:
    """int [M, 3] -> structured [M] array that sorts and compares lexicographically (x, y, z)."""
    return np.ascontiguousarray(coords, dtype=np.int64).view(_XYZ).ravel()


def dist2(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """float32 [C, N] squared distances from each centre to every point."""
    d = [points[None, :, a] - centres[:, None, a] for a in range(3)]
    s = d[0] * d[0] + d[1] * d[1]
    return s + d[2] * d[2]


def voxelize(points: np.ndarray, voxel_size: float, features: np.ndarray | None = None) -> dict:
    n = points.shape[0]
    coords = np.floor(points.astype(np.float64) / voxel_size).astype(np.int32)
    uniq, inverse, counts = np.unique(coords, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    uniq = uniq.reshape(-1, 3)  # np.unique drops the column count when N = 0
    m = uniq.shape[0]

    def mean(values: np.ndarray) -> np.ndarray:
        # bincount adds in ascending point order in float64, like the C++.
        cols = [np.bincount(inverse, weights=values[:, j].astype(np.float64), minlength=m)
                for j in range(values.shape[1])]
        sums = np.stack(cols, axis=1) if cols else np.zeros((m, 0))
        return (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)

    feats = features if features is not None else np.zeros((n, 0), np.float32)
    return {
        "coords": uniq.astype(np.int32),
        "features": mean(feats),
        "centroids": mean(points),
        "point_to_voxel": inverse.astype(np.int32),
        "voxel_offsets": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        "voxel_points": np.argsort(inverse, kind="stable").astype(np.int32),
    }


def voxel_pyramid(coords: np.ndarray, levels: int) -> list[dict]:
    out = []
    fine = np.asarray(coords, np.int32).reshape(-1, 3)
    for _ in range(levels - 1):
        coarse, parent = np.unique(fine // 2, axis=0, return_inverse=True)
        coarse = coarse.reshape(-1, 3).astype(np.int32)
        parent = parent.reshape(-1)
        slot = (fine & 1) @ np.array([4, 2, 1])
        children = np.full((coarse.shape[0], 8), fine.shape[0], np.int32)
        children[parent, slot] = np.arange(fine.shape[0])
        out.append({"coords": fine, "parent": parent.astype(np.int32), "children": children})
        fine = coarse
    out.append({"coords": fine, "parent": np.full(fine.shape[0], -1, np.int32),
                "children": np.zeros((0, 8), np.int32)})
    return out


def kernel_offsets(kernel_size: int) -> np.ndarray:
    first = -((kernel_size - 1) // 2)
    r = np.arange(first, first + kernel_size)
    return np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)


def _lookup_keys(coords: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys that compare like the (x, y, z) rows: packed int64 when the ranges allow it."""
    both = np.concatenate([coords.reshape(-1, 3), targets.reshape(-1, 3)]).astype(np.int64)
    if both.size == 0:
        return _rows(coords), _rows(targets)
    lo, span = both.min(axis=0), both.max(axis=0) - both.min(axis=0) + 1
    if float(span[0]) * float(span[1]) * float(span[2]) >= 2.0**62:
        return _rows(coords), _rows(targets)

    def pack(c: np.ndarray) -> np.ndarray:
        c = c.astype(np.int64) - lo
        return (c[..., 0] * span[1] + c[..., 1]) * span[2] + c[..., 2]

    return pack(coords), pack(targets)


def neighbor_table(coords: np.ndarray, kernel_size: int = 3, dilation: int = 1,
                   query: np.ndarray | None = None,
                   capacity: int | None = None) -> tuple[np.ndarray, int]:
    m = coords.shape[0]
    query = coords if query is None else query
    rows = query.shape[0] if capacity is None else capacity
    offsets = kernel_offsets(kernel_size) * dilation
    targets = query.astype(np.int64)[:, None, :] + offsets[None, :, :]  # [Q, k^3, 3]
    keys, target_keys = _lookup_keys(coords, targets)
    target_keys = target_keys.reshape(targets.shape[:2])
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    table = np.full((rows, kernel_size**3), m, np.int32)
    if m:
        pos = np.minimum(np.searchsorted(sorted_keys, target_keys), m - 1)
        table[: query.shape[0]] = np.where(sorted_keys[pos] == target_keys, order[pos], m)
    return table, query.shape[0]


def fps(points: np.ndarray, n: int, start: int = 0) -> np.ndarray:
    best = np.full(points.shape[0], np.inf, np.float32)
    out = np.empty(n, np.int32)
    last = start
    for s in range(n):
        out[s] = last
        if s == n - 1:
            break
        best[last] = -1.0
        best = np.minimum(best, dist2(points, points[last : last + 1])[0])
        last = int(np.argmax(best))  # first maximum: ties go to the lowest index
    return out


def ball_query(points: np.ndarray, centers: np.ndarray, radius: float, k: int,
               chunk: int = 256) -> np.ndarray:
    n = points.shape[0]
    r2 = np.float32(radius) * np.float32(radius)
    out = np.full((centers.shape[0], k), n, np.int32)
    for b in range(0, centers.shape[0], chunk):
        inside = dist2(points, centers[b : b + chunk]) < r2
        count = inside.sum(axis=1)
        first_k = np.argsort(~inside, axis=1, kind="stable")[:, :k]  # hits first, ascending
        first_k = np.where(np.arange(first_k.shape[1]) < count[:, None], first_k, first_k[:, :1])
        out[b : b + chunk, : first_k.shape[1]] = np.where(count[:, None] > 0, first_k, n)
        if first_k.shape[1] < k:  # k > N: only reachable through padding
            out[b : b + chunk, first_k.shape[1] :] = np.where(count > 0, first_k[:, 0], n)[:, None]
    return out


def knn(points: np.ndarray, queries: np.ndarray, k: int,
        chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    idx = np.empty((queries.shape[0], k), np.int32)
    d2 = np.empty((queries.shape[0], k), np.float32)
    for b in range(0, queries.shape[0], chunk):
        d = dist2(points, queries[b : b + chunk])
        # Non-negative float32 bits order like the values; the low word breaks ties by index.
        key = (d.view(np.int32).astype(np.int64) << 32) | np.arange(points.shape[0])
        part = np.argpartition(key, k - 1, axis=1)[:, :k] if k < points.shape[0] else None
        cand = np.broadcast_to(np.arange(points.shape[0]), d.shape) if part is None else part
        order = np.take_along_axis(cand, np.argsort(np.take_along_axis(key, cand, 1), 1), 1)
        idx[b : b + chunk] = order
        d2[b : b + chunk] = np.take_along_axis(d, order, axis=1)
    return idx, d2


def three_nn_weights(points: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = min(3, points.shape[0])
    idx, d2 = knn(points, queries, k)
    recip = np.zeros((queries.shape[0], 3), np.float32)
    recip[:, :k] = np.float32(1.0) / (np.sqrt(d2) + np.float32(1e-8))
    idx = np.concatenate([idx, np.repeat(idx[:, :1], 3 - k, axis=1)], axis=1)
    norm = (recip[:, 0] + recip[:, 1]) + recip[:, 2]
    return idx, recip / norm[:, None]
