"""Hostile PLY files: every one gives a FormatError naming the problem, or the right answer;
never another exception, a huge allocation, or a silently changed value."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.errors import FormatError
from edge3d.io import read_ply, write_ply


def ply(tmp_path, header: list[str], body: bytes = b"", name: str = "x.ply"):
    path = tmp_path / name
    path.write_bytes(("\n".join(["ply", *header, "end_header"]) + "\n").encode() + body)
    return path


ASCII = "format ascii 1.0"
BINARY = "format binary_little_endian 1.0"
XYZ = ["property float x", "property float y", "property float z"]


@pytest.mark.parametrize(("header", "body", "match"), [
    ([BINARY, "element vertex 1000000000000", *XYZ], b"\0" * 12, "count"),
    ([BINARY, "element vertex 2147483647", *XYZ], b"\0" * 12, "claims 2147483647 records"),
    ([BINARY, "element vertex ten", *XYZ], b"", "count 'ten'"),
    ([BINARY, "element vertex -3", *XYZ], b"", "count '-3'"),
    ([BINARY, "element vertex", *XYZ], b"", "malformed PLY element line"),
    ([BINARY, "element vertex 1", *XYZ, "element face 1",
      "property list uchar int128 vertex_indices"], b"\0" * 13, "unknown PLY property type"),
    ([BINARY, "element vertex 1", *XYZ, "element face 1",
      "property list float int vertex_indices"], b"\0" * 16, "count type must be an integer"),
    ([BINARY, "element vertex 1", "property float"], b"\0" * 4, "malformed PLY property"),
    ([BINARY, "element vertex 1", "property list uchar int"], b"", "malformed PLY list"),
    ([BINARY, "elements vertex 1", *XYZ], b"", "unknown PLY header line"),
    (["format", "element vertex 1", *XYZ], b"", "names no format"),
    (["format binary_middle_endian 1.0", "element vertex 0", *XYZ], b"", "unsupported"),
])
def test_bad_headers_are_refused_before_reading(tmp_path, header, body, match):
    with pytest.raises(FormatError, match=match):
        read_ply(ply(tmp_path, header, body))


def test_a_list_count_beyond_the_file_is_refused(tmp_path):
    # One vertex, then a face whose uint list count is 0xFFFFFFFF.
    body = np.zeros(3, "<f4").tobytes() + np.array([0xFFFFFFFF], "<u4").tobytes() + b"\0" * 8
    path = ply(tmp_path, [BINARY, "element vertex 1", *XYZ, "element face 1",
                          "property list uint int vertex_indices"], body)
    with pytest.raises(FormatError, match="claims 4294967295 items"):
        read_ply(path)


@pytest.mark.parametrize(("prop", "value", "match"), [
    ("uchar red", "300", "holds 300, which is not a uint8"),
    ("uchar red", "-5", "holds -5,"),
    ("int label", "2200000000", "not a int32"),
    ("uchar red", "1.5", "holds 1.5"),
    ("ushort count", "nan", "holds nan"),
])
def test_ascii_values_out_of_their_type_are_refused(tmp_path, prop, value, match):
    path = ply(tmp_path, [ASCII, "element vertex 1", *XYZ, f"property {prop}"],
               f"0 0 0 {value}\n".encode())
    with pytest.raises(FormatError, match=match):
        read_ply(path)


@pytest.mark.parametrize(("faces", "match"), [
    ("2 0 1\n", "2 corners"),
    ("3 0 1 7\n", "refers to vertex 7"),
    ("3 0 -1 2\n", "refers to vertex -1"),
    ("3 0 1\n", "malformed ASCII PLY row"),
    ("x 0 1 2\n", "malformed ASCII PLY row"),
])
def test_bad_ascii_faces_are_refused(tmp_path, faces, match):
    path = ply(tmp_path, [ASCII, "element vertex 3", *XYZ, "element face 1",
                          "property list uchar int vertex_indices"],
               b"0 0 0\n1 0 0\n0 1 0\n" + faces.encode())
    with pytest.raises(FormatError, match=match):
        read_ply(path)


def test_a_binary_two_corner_face_is_refused(tmp_path):
    pts = np.zeros((3, 3), np.float32)
    path = write_ply(tmp_path / "x.ply", pts, faces=np.array([[0, 1]]))
    with pytest.raises(FormatError, match="2 corners"):
        read_ply(path)


def test_fuzzed_files_give_a_format_error_or_a_result(tmp_path):
    """Mutate the header tokens and body bytes of valid ASCII and binary meshes at random:
    whatever comes out is a FormatError or arrays, never another exception."""
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(20, 3)).astype(np.float32)
    cols = rng.integers(0, 256, (20, 3), dtype=np.uint8)
    faces = rng.integers(0, 20, (10, 3))
    words = ["-1", "0", "1", "3", "4294967295", "1e12", "nan", "x", "float", "uchar", "list",
             "int", "vertex", "face", "property", "element", ""]
    outcomes = {"error": 0, "read": 0}
    for binary in (True, False):
        good = write_ply(tmp_path / f"good{binary}.ply", pts, cols, faces=faces,
                         binary=binary, label=np.arange(20, dtype=np.int32)).read_bytes()
        head_end = good.index(b"end_header\n") + len(b"end_header\n")
        head, body = good[:head_end].decode().split("\n"), good[head_end:]
        for trial in range(150):
            h = list(head)
            line = int(rng.integers(1, len(h) - 2))
            tokens = h[line].split()
            if tokens:
                tokens[int(rng.integers(0, len(tokens)))] = str(rng.choice(words))
                h[line] = " ".join(tokens)
            b = bytearray(body)
            if trial % 3 == 0 and b:
                b = b[: int(rng.integers(0, len(b)))]
            elif trial % 3 == 1 and b:
                for i in rng.integers(0, len(b), 4):
                    b[i] = int(rng.integers(0, 256))
            path = tmp_path / f"fuzz{binary}{trial}.ply"
            path.write_bytes("\n".join(h).encode() + bytes(b))
            try:
                out = read_ply(path)
            except FormatError:
                outcomes["error"] += 1
            else:
                outcomes["read"] += 1
                assert isinstance(out, dict)
    assert outcomes["error"] > 50 and outcomes["read"] > 10, outcomes
