"""The geometric segmentation core against plain references: brute-force neighbours, NumPy
eigenvectors, and a line-by-line Python Felzenszwalb-Huttenlocher."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from edge3d.native import geoseg


def brute_knn(points: np.ndarray, k: int, cap: float) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest other points within ``cap``, nearest first, ties by index, in the
    kernel's arithmetic (float32 squared distances)."""
    n = len(points)
    nbr = np.full((n, k), -1, np.int32)
    dist = np.full((n, k), np.inf, np.float32)
    p = points.astype(np.float32)
    for i in range(n):
        e = p - p[i]
        d2 = (e[:, 0] * e[:, 0] + e[:, 1] * e[:, 1]) + e[:, 2] * e[:, 2]
        d2[i] = np.inf
        ok = np.flatnonzero(d2 <= np.float32(cap) * np.float32(cap))
        order = ok[np.lexsort((ok, d2[ok]))][:k]
        nbr[i, :len(order)] = order
        dist[i, :len(order)] = np.sqrt(d2[order])
    return nbr, dist


@pytest.mark.parametrize(("n", "k", "cap"), [(1, 4, 0.1), (2, 1, 10.0), (300, 8, 0.15),
                                             (500, 16, 0.4), (400, 3, 0.05)])
def test_knn_graph_matches_brute_force(n: int, k: int, cap: float) -> None:
    rng = np.random.default_rng(n)
    # A surface with a sparse patch and exact duplicates: the radius and the tie rule matter.
    pts = rng.uniform(0, 1, (n, 3)).astype(np.float32)
    pts[: n // 4, 2] = 0.0
    if n > 10:
        pts[5] = pts[3]
        pts[6] = pts[3]
    nbr, dist = geoseg.knn_graph(pts, k, cap)
    ref_nbr, ref_dist = brute_knn(pts, k, cap)
    np.testing.assert_array_equal(nbr, ref_nbr)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-6)


def test_knn_graph_on_a_dense_grid_with_a_sparse_region() -> None:
    # The two-pass search (half the cap first) must give the same answer where points are
    # dense (pass 1 suffices) and sparse (pass 2 needed).
    g = np.stack(np.meshgrid(np.arange(0, 1, 0.02), np.arange(0, 1, 0.02)), -1).reshape(-1, 2)
    sparse = np.stack(np.meshgrid(np.arange(2, 3, 0.09), np.arange(0, 1, 0.09)), -1).reshape(-1, 2)
    xy = np.concatenate([g, sparse])
    pts = np.c_[xy, np.random.default_rng(0).normal(0, 0.002, len(xy))].astype(np.float32)
    nbr, dist = geoseg.knn_graph(pts, 8, 0.12)
    ref_nbr, ref_dist = brute_knn(pts, 8, 0.12)
    np.testing.assert_array_equal(nbr, ref_nbr)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-6)
    assert (nbr[len(g):] >= 0).sum(1).min() >= 2  # the sparse patch stays connected


def test_surface_graph_edges_are_each_pair_once_with_mutual_flags() -> None:
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 0.5, (800, 3)).astype(np.float32)
    g = geoseg.surface_graph(pts, voxel_size=0.01, k=6, max_distance=0.08)
    nbr, _ = geoseg.knn_graph(g.positions, 6, 0.08)
    lists = {(i, int(j)) for i in range(len(nbr)) for j in nbr[i] if j >= 0}
    expected = {(min(a, b), max(a, b)) for a, b in lists}
    got = [tuple(e) for e in g.edges.tolist()]
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == expected
    assert all(a < b for a, b in got)
    mutual = [(a, b) in lists and (b, a) in lists for a, b in got]
    np.testing.assert_array_equal(g.mutual, mutual)


def test_pca_normals_match_numpy_eigh() -> None:
    rng = np.random.default_rng(1)
    # A tilted plane with noise, a sphere, and a line (degenerate spectra).
    u, v = rng.uniform(-1, 1, (2, 400))
    plane = np.c_[u, v, 0.3 * u - 0.2 * v + rng.normal(0, 0.005, 400)]
    s = rng.normal(size=(400, 3))
    sphere = 3 + s / np.linalg.norm(s, axis=1, keepdims=True)
    line = np.c_[np.linspace(6, 7, 50), np.full(50, 6.0), np.full(50, 6.0)]
    pts = np.concatenate([plane, sphere, line]).astype(np.float32)
    nbr, _ = geoseg.knn_graph(pts, 12, 0.5)
    normals, variation = geoseg.pca_normals(pts, nbr)
    np.testing.assert_allclose(np.linalg.norm(normals[:850], axis=1), 1.0, atol=1e-5)
    assert np.all(normals[:, 2] >= 0)
    for i in range(0, 850, 7):
        q = pts[np.r_[i, nbr[i][nbr[i] >= 0]]].astype(np.float64)
        w, vecs = np.linalg.eigh(np.cov((q - q.mean(0)).T, bias=True))
        if w[1] - w[0] > 1e-6 * w.sum():  # a unique smallest direction
            assert abs(abs(vecs[:, 0] @ normals[i]) - 1) < 1e-4, i
        assert variation[i] == pytest.approx(max(w[0], 0) / w.sum(), abs=1e-5)
    # Points on a line: any direction orthogonal to it is a normal.
    assert np.all(np.abs(normals[850:, 0]) < 1e-4)
    lone = geoseg.pca_normals(np.zeros((1, 3), np.float32), np.full((1, 4), -1, np.int32))
    np.testing.assert_array_equal(lone[0], [[0, 0, 0]])
    assert lone[1][0] == 1.0


def felzenszwalb_reference(n, edges, weights, k, min_size):
    """Felzenszwalb-Huttenlocher as ScanNet's segmentator writes it, in plain Python."""
    parent = list(range(n))
    size = [1] * n
    rank = [0] * n
    tau = [k] * n

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    def join(x, y):
        if rank[x] < rank[y]:
            x, y = y, x
        parent[y] = x
        size[x] += size[y]
        if rank[x] == rank[y]:
            rank[x] += 1
        return x

    order = sorted(range(len(weights)), key=lambda e: (np.float32(weights[e]), e))
    for e in order:
        a, b = find(edges[e][0]), find(edges[e][1])
        w = float(np.float32(weights[e]))
        if a != b and w <= tau[a] and w <= tau[b]:
            r = join(a, b)
            tau[r] = w + k / size[r]
    for e in order:
        a, b = find(edges[e][0]), find(edges[e][1])
        if a != b and (size[a] < min_size or size[b] < min_size):
            join(a, b)
    roots, out = {}, []
    for i in range(n):
        out.append(roots.setdefault(find(i), len(roots)))
    return np.array(out)


@pytest.mark.parametrize("seed", range(5))
def test_felzenszwalb_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    edges = rng.integers(0, n, (600, 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    # Coarse weights so that ties happen and their order matters.
    weights = np.round(rng.exponential(0.2, len(edges)), 2).astype(np.float32)
    for k, min_size in ((0.1, 1), (1.0, 5), (5.0, 20)):
        got = geoseg.felzenszwalb(n, edges, weights, k, min_size)
        np.testing.assert_array_equal(got, felzenszwalb_reference(n, edges, weights, k,
                                                                  min_size))


def box_faces(lo, hi, step=0.02) -> np.ndarray:
    from tests.runtime.scenes import box_surface

    return box_surface(lo, hi, step)


def test_superpoints_split_faces_and_colour() -> None:
    # A cube: its six faces differ in normal, so no superpoint spans two faces.
    cube = box_faces((0, 0, 0), (0.6, 0.6, 0.6)).astype(np.float32)
    labels = geoseg.superpoints(cube, voxel_size=0.02, k=0.05, min_size=5)
    on_face = np.c_[np.abs(cube) < 1e-6, np.abs(cube - 0.6) < 1e-6]  # [N, 6]
    face = np.argmax(on_face, axis=1)
    # Away from the edges, where a voxel's neighbourhood spans two faces.
    inner = (on_face.sum(1) == 1) & np.all((cube > 0.05) & (cube < 0.55) | on_face[:, :3] |
                                           on_face[:, 3:], axis=1)
    for s in np.unique(labels[inner]):
        assert len(np.unique(face[inner & (labels == s)])) == 1
    # A flat wall with a red poster: one superpoint without colour, the poster apart with it.
    # Points mid-voxel, one per voxel: no voxel mixes poster and wall colours.
    g = np.stack(np.meshgrid(np.arange(0.01, 2, 0.02), np.arange(0.01, 2, 0.02)),
                 -1).reshape(-1, 2)
    wall = np.c_[g, np.zeros(len(g))].astype(np.float32)
    poster = (np.abs(g[:, 0] - 1) < 0.3) & (np.abs(g[:, 1] - 1) < 0.4)
    colors = np.where(poster[:, None], [0.8, 0.1, 0.1], [0.9, 0.9, 0.85]).astype(np.float32)
    plain = geoseg.superpoints(wall, None, voxel_size=0.02, k=5.0, min_size=20)
    assert len(np.unique(plain)) == 1
    coloured = geoseg.superpoints(wall, colors, voxel_size=0.02, k=5.0, min_size=20)
    assert len(np.unique(coloured[poster])) == 1
    assert np.intersect1d(coloured[poster], coloured[~poster]).size == 0


@pytest.mark.parametrize(("call", "match"), [
    (lambda: geoseg.knn_graph(np.zeros((4, 2), np.float32), 2, 0.1), r"\[N, 3\]"),
    (lambda: geoseg.knn_graph(np.zeros((4, 3), np.int32), 2, 0.1), "floating"),
    (lambda: geoseg.knn_graph(np.full((4, 3), np.nan, np.float32), 2, 0.1), "finite"),
    (lambda: geoseg.knn_graph(np.zeros((4, 3), np.float32), 0, 0.1), "k must be"),
    (lambda: geoseg.knn_graph(np.zeros((4, 3), np.float32), 2, 0.0), "max_distance"),
    (lambda: geoseg.knn_graph(np.array([[0, 0, 0], [1e6, 0, 0]], np.float32), 2, 0.1),
     "spans more than"),
    (lambda: geoseg.pca_normals(np.zeros((4, 3), np.float32), np.zeros((3, 2))), "nbr must"),
    (lambda: geoseg.pca_normals(np.zeros((4, 3), np.float32), np.full((4, 2), 9)), "outside"),
    (lambda: geoseg.felzenszwalb(3, [[0, 1]], [0.1, 0.2], 1.0), "2 weights"),
    (lambda: geoseg.felzenszwalb(3, [[0, 5]], [0.1], 1.0), r"\[0, n\)"),
    (lambda: geoseg.felzenszwalb(3, [[0, 1]], [-0.1], 1.0), ">= 0"),
    (lambda: geoseg.felzenszwalb(3, [[0, 1]], [0.1], 0.0), "k must be"),
    (lambda: geoseg.surface_graph(np.zeros((4, 3), np.float32), voxel_size=0.0), "voxel_size"),
])
def test_bad_arguments_are_refused_clearly(call, match) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_knn_graph_cap_is_exact_on_a_cKDTree_too() -> None:
    rng = np.random.default_rng(7)
    pts = rng.uniform(0, 2, (3000, 3)).astype(np.float32)
    nbr, dist = geoseg.knn_graph(pts, 10, 0.2)
    tree = cKDTree(pts)
    counts = np.array([len(x) - 1 for x in tree.query_ball_point(pts, 0.2 * (1 - 1e-6))])
    np.testing.assert_array_equal((nbr >= 0).sum(1), np.minimum(counts, 10))
    assert np.all(dist[nbr >= 0] <= 0.2 * (1 + 1e-6))


@pytest.mark.parametrize("with_colors", [True, False])
def test_edge_weights_match_their_formula(with_colors: bool) -> None:
    rng = np.random.default_rng(4)
    pts = rng.uniform(0, 1, (500, 3)).astype(np.float32)
    cols = rng.uniform(0, 1, (500, 3)).astype(np.float32) if with_colors else None
    g = geoseg.surface_graph(pts, cols, voxel_size=0.02, k=6, max_distance=0.3)
    w = geoseg.edge_weights(g, 0.5)
    a, b = g.edges[:, 0], g.edges[:, 1]
    ref = 1 - np.abs((g.normals[a].astype(np.float64) * g.normals[b]).sum(1))
    if with_colors:
        ref += 0.5 * np.linalg.norm(g.colors[a].astype(np.float64) - g.colors[b], axis=1)
    np.testing.assert_allclose(w, np.maximum(ref, 0), atol=1e-5)
    assert w.dtype == np.float32 and np.all(w >= 0)
