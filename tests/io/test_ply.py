"""PLY read/write round trips (binary and ASCII), foreign layouts, truncation."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.errors import FormatError
from edge3d.io import read_ply, write_ply


@pytest.mark.parametrize("binary", [True, False])
def test_round_trip(tmp_path, binary):
    rng = np.random.default_rng(0)
    n = 50
    pts = rng.normal(size=(n, 3)).astype(np.float32)
    cols = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    nrm = rng.normal(size=(n, 3)).astype(np.float32)
    faces = rng.integers(0, n, (20, 3))
    label = rng.integers(-1, 40, n).astype(np.int32)
    score = rng.random(n)
    path = write_ply(tmp_path / "a.ply", pts, cols, nrm, faces, binary=binary, label=label,
                     score=score)
    d = read_ply(path)
    np.testing.assert_array_equal(d["points"], pts)
    np.testing.assert_array_equal(d["colors"], cols)
    np.testing.assert_array_equal(d["normals"], nrm)
    np.testing.assert_array_equal(d["faces"], faces)
    np.testing.assert_array_equal(d["label"], label)
    np.testing.assert_array_equal(d["score"], score)
    assert d["label"].dtype == np.int32 and d["score"].dtype == np.float64


def test_float_colours_and_float64_points(tmp_path):
    pts = np.array([[0.1, 0.2, 0.3]])
    d = read_ply(write_ply(tmp_path / "b.ply", pts, colors=np.array([[1.0, 0.5, 0.0]])))
    assert d["points"].dtype == np.float64
    np.testing.assert_array_equal(d["colors"], [[255, 128, 0]])


def test_foreign_big_endian_mixed_polygons(tmp_path):
    header = (b"ply\nformat binary_big_endian 1.0\ncomment other tool\n"
              b"element vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
              b"property uchar red\nproperty uchar green\nproperty uchar blue\n"
              b"element face 2\nproperty list uchar uint vertex_index\nend_header\n")
    v = np.zeros(4, dtype=[("x", ">f4"), ("y", ">f4"), ("z", ">f4"), ("r", "u1"), ("g", "u1"),
                           ("b", "u1")])
    v["x"] = [0, 1, 2, 3]
    v["g"] = [9, 8, 7, 6]
    faces = (bytes([3]) + np.array([0, 1, 2], ">u4").tobytes()
             + bytes([4]) + np.array([0, 1, 2, 3], ">u4").tobytes())
    (tmp_path / "c.ply").write_bytes(header + v.tobytes() + faces)
    d = read_ply(tmp_path / "c.ply")
    np.testing.assert_array_equal(d["points"][:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(d["colors"][:, 1], [9, 8, 7, 6])
    assert [list(f) for f in d["faces"]] == [[0, 1, 2], [0, 1, 2, 3]]


def test_truncated_and_not_ply(tmp_path):
    path = write_ply(tmp_path / "d.ply", np.zeros((10, 3), np.float32))
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(FormatError, match="truncated"):
        read_ply(path)
    (tmp_path / "e.ply").write_bytes(b"solid stl\n")
    with pytest.raises(FormatError, match="not a PLY"):
        read_ply(tmp_path / "e.ply")
