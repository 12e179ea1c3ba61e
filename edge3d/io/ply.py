"""PLY point clouds and meshes: read and write, ASCII and binary (little- and big-endian).

:func:`read_ply` returns plain arrays with well-known keys: ``points`` float [N, 3] (x, y, z),
``colors`` uint8 [N, 3] (red, green, blue), ``normals`` float [N, 3] (nx, ny, nz), ``faces``
int64 [F, k] (when every face has k corners; a list of arrays otherwise), and every other vertex
property under its own name (``alpha``, ``label``, ...), each [N].
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edge3d.errors import FormatError

_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}
_NAMES = {"i1": "char", "u1": "uchar", "i2": "short", "u2": "ushort", "i4": "int", "u4": "uint",
          "f4": "float", "f8": "double"}
_GROUPS = {"points": ("x", "y", "z"), "colors": ("red", "green", "blue"),
           "normals": ("nx", "ny", "nz")}


_MAX_COUNT = 2**31 - 1  # element counts and face indices are int32 in every PLY writer we know


def _parse_header(fh, path: Path) -> tuple[str, list[dict]]:
    if fh.readline().strip() != b"ply":
        raise FormatError(f"{path}: not a PLY file (no 'ply' magic line)")
    fmt = None
    elements: list[dict] = []
    while True:
        line = fh.readline()
        if not line:
            raise FormatError(f"{path}: PLY header has no end_header")
        words = line.decode("ascii", "replace").split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "end_header":
            break
        if words[0] == "format":
            if len(words) < 2:
                raise FormatError(f"{path}: PLY format line names no format: {line!r}")
            fmt = words[1]
        elif words[0] == "element":
            if len(words) != 3:
                raise FormatError(f"{path}: malformed PLY element line {line!r} (expected "
                                  "'element NAME COUNT')")
            elements.append({"name": words[1], "count": _count(words[2], words[1], path),
                             "props": []})
        elif words[0] == "property":
            if not elements:
                raise FormatError(f"{path}: PLY property before any element")
            elements[-1]["props"].append(_property(words, line, path))
        else:
            raise FormatError(f"{path}: unknown PLY header line {line!r}")
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise FormatError(f"{path}: unsupported PLY format {fmt!r}")
    return fmt, elements


def _count(word: str, element: str, path: Path) -> int:
    try:
        n = int(word)
    except ValueError:
        n = -1
    if not 0 <= n <= _MAX_COUNT:
        raise FormatError(f"{path}: PLY element {element!r} has count {word!r}; expected an "
                          f"integer from 0 to {_MAX_COUNT}")
    return n


def _ply_type(word: str, line: bytes, path: Path) -> str:
    if word not in _TYPES:
        raise FormatError(f"{path}: unknown PLY property type {word!r} in {line!r} (known: "
                          f"{', '.join(sorted(_TYPES))})")
    return _TYPES[word]


def _property(words: list[str], line: bytes, path: Path) -> tuple:
    if len(words) >= 2 and words[1] == "list":
        if len(words) != 5:
            raise FormatError(f"{path}: malformed PLY list property {line!r} (expected "
                              "'property list COUNT_TYPE ITEM_TYPE NAME')")
        count_t = _ply_type(words[2], line, path)
        if count_t[0] == "f":
            raise FormatError(f"{path}: PLY list count type must be an integer type, got "
                              f"{words[2]!r} in {line!r}")
        return (words[4], "list", count_t, _ply_type(words[3], line, path))
    if len(words) != 3:
        raise FormatError(f"{path}: malformed PLY property line {line!r} (expected "
                          "'property TYPE NAME')")
    return (words[2], _ply_type(words[1], line, path))


def _read_binary(fh, el: dict, endian: str, path: Path, remaining: int) -> dict[str, np.ndarray]:
    props = el["props"]
    n = el["count"]
    # Refuse a count the file cannot hold before allocating for it.
    least = sum(np.dtype(p[2] if p[1] == "list" else p[1]).itemsize for p in props)
    if n * least > remaining:
        raise FormatError(f"{path}: PLY element {el['name']!r} claims {n} records of at least "
                          f"{least} bytes, but only {remaining} bytes follow (truncated or "
                          "corrupt header)")
    if all(p[1] != "list" for p in props):
        dt = np.dtype([(p[0], endian + p[1]) for p in props])
        raw = fh.read(dt.itemsize * n)
        if len(raw) != dt.itemsize * n:
            raise FormatError(f"{path}: PLY file is truncated in element {el['name']!r}")
        arr = np.frombuffer(raw, dt)
        return {p[0]: arr[p[0]].astype(p[1]) for p in props}
    if len(props) == 1:
        name, _, count_t, item_t = props[0]
        ct, it = np.dtype(endian + count_t), np.dtype(endian + item_t)
        start = fh.tell()
        head = fh.read(ct.itemsize)
        if n and len(head) == ct.itemsize:
            k = int(np.frombuffer(head, ct)[0])
            fh.seek(start)
            # fast path: every list has the same length k (triangle meshes)
            if 0 < k and (ct.itemsize + it.itemsize * k) * n <= remaining:
                dt = np.dtype([("n", ct), ("v", it, (k,))])
                raw = fh.read(dt.itemsize * n)
                if len(raw) == dt.itemsize * n:
                    arr = np.frombuffer(raw, dt)
                    if np.all(arr["n"] == k):
                        return {name: arr["v"].astype(np.int64)}
        fh.seek(start)
    end = fh.tell() + remaining
    out: dict[str, list] = {p[0]: [] for p in props}
    for _ in range(n):
        for p in props:
            if p[1] == "list":
                ct, it = np.dtype(endian + p[2]), np.dtype(endian + p[3])
                raw = fh.read(ct.itemsize)
                if len(raw) != ct.itemsize:
                    raise FormatError(f"{path}: PLY file is truncated in element {el['name']!r}")
                k = int(np.frombuffer(raw, ct)[0])
                if k < 0 or it.itemsize * k > end - fh.tell():
                    raise FormatError(f"{path}: a {p[0]!r} list in element {el['name']!r} "
                                      f"claims {k} items, more than the file holds")
                vals = fh.read(it.itemsize * k)
                out[p[0]].append(np.frombuffer(vals, it).astype(np.int64))
            else:
                dt = np.dtype(endian + p[1])
                raw = fh.read(dt.itemsize)
                if len(raw) != dt.itemsize:
                    raise FormatError(f"{path}: PLY file is truncated in element {el['name']!r}")
                out[p[0]].append(np.frombuffer(raw, dt)[0])
    return {k: _lists(v) if props_is_list(props, k) else np.asarray(v, dtype=_dtype(props, k))
            for k, v in out.items()}


def props_is_list(props: list, name: str) -> bool:
    return any(p[0] == name and p[1] == "list" for p in props)


def _dtype(props: list, name: str) -> str:
    return next(p[1] for p in props if p[0] == name)


def _lists(rows: list[np.ndarray]) -> np.ndarray | list[np.ndarray]:
    if rows and all(len(r) == len(rows[0]) for r in rows):
        return np.stack(rows).astype(np.int64)
    return rows


def _checked(values: np.ndarray, dtype: str, name: str, el: str, path: Path) -> np.ndarray:
    """ASCII values (float64) as ``dtype``, refusing what the type cannot hold: a colour of 300
    in a uchar would otherwise wrap to 44 without a word."""
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        bad = ~np.isfinite(values) | (values != np.round(values)) | (values < info.min) | \
            (values > info.max)
        if bad.any():
            v = float(values[np.flatnonzero(bad)[0]])
            raise FormatError(f"{path}: PLY property {name!r} of element {el!r} holds {v:g}, "
                              f"which is not a {dt.name} ({info.min} to {info.max})")
    return values.astype(dt)


def _read_ascii(lines: list[bytes], pos: int, el: dict, path: Path
                ) -> tuple[dict[str, np.ndarray], int]:
    props = el["props"]
    n = el["count"]
    if pos + n > len(lines):
        raise FormatError(f"{path}: PLY file is truncated in element {el['name']!r} (the "
                          f"header claims {n} rows, {len(lines) - pos} follow)")
    rows = lines[pos:pos + n]
    if all(p[1] != "list" for p in props):
        try:
            arr = np.array([r.split() for r in rows], dtype=np.float64).reshape(n, len(props))
        except ValueError as exc:
            raise FormatError(f"{path}: malformed ASCII PLY row in {el['name']!r} ({exc})") \
                from exc
        return {p[0]: _checked(arr[:, i], p[1], p[0], el["name"], path)
                for i, p in enumerate(props)}, pos + n
    out: dict[str, list] = {p[0]: [] for p in props}
    for row, r in enumerate(rows):
        vals = r.split()
        j = 0
        try:
            for p in props:
                if p[1] == "list":
                    k = int(vals[j])
                    if k < 0 or j + 1 + k > len(vals):
                        raise ValueError(f"list of {k} items")
                    out[p[0]].append(np.array(vals[j + 1:j + 1 + k], dtype=np.int64))
                    j += 1 + k
                else:
                    out[p[0]].append(float(vals[j]))
                    j += 1
        except (ValueError, IndexError) as exc:
            raise FormatError(f"{path}: malformed ASCII PLY row {row} of {el['name']!r} "
                              f"({exc})") from exc
    return {k: _lists(v) if props_is_list(props, k) else
            _checked(np.asarray(v, np.float64), _dtype(props, k), k, el["name"], path)
            for k, v in out.items()}, pos + n


def _check_faces(faces, vertices: int, path: Path) -> None:
    """Every face has at least three corners, each a vertex of the file."""
    rows = [faces] if isinstance(faces, np.ndarray) else faces
    for f in rows:
        f = np.asarray(f)
        if f.size == 0:
            if f.ndim == 2 and f.shape[0] == 0:
                continue  # no faces at all
            raise FormatError(f"{path}: a PLY face has no corners; a face needs at least 3")
        if f.shape[-1] < 3:
            raise FormatError(f"{path}: a PLY face has {f.shape[-1]} corners; a face needs at "
                              "least 3")
        lo, hi = int(f.min()), int(f.max())
        if lo < 0 or hi >= vertices:
            raise FormatError(f"{path}: a PLY face refers to vertex {lo if lo < 0 else hi}, but "
                              f"the file has {vertices} vertices")


def read_ply(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a PLY file's vertices (and faces) into arrays; see the module docstring for keys.

    Raises FormatError, naming the problem, for a file that is not PLY, a malformed header
    (unknown type or line, a count that is not a non-negative integer or that the file cannot
    hold), a truncated body, an ASCII value its declared type cannot hold (a colour of 300 in a
    uchar), or a face with fewer than three corners or a vertex the file does not have.
    """
    path = Path(path)
    with path.open("rb") as fh:
        fmt, elements = _parse_header(fh, path)
        data: dict[str, dict[str, np.ndarray]] = {}
        if fmt == "ascii":
            lines = [ln for ln in fh.read().splitlines() if ln.strip()]
            pos = 0
            for el in elements:
                data[el["name"]], pos = _read_ascii(lines, pos, el, path)
        else:
            endian = "<" if fmt == "binary_little_endian" else ">"
            size = path.stat().st_size
            for el in elements:
                data[el["name"]] = _read_binary(fh, el, endian, path, size - fh.tell())
    vertex = data.get("vertex", {})
    out: dict[str, np.ndarray] = {}
    used: set[str] = set()
    for key, names in _GROUPS.items():
        if all(n in vertex for n in names):
            out[key] = np.stack([vertex[n] for n in names], axis=1)
            used.update(names)
    for name, arr in vertex.items():
        if name not in used:
            out[name] = arr
    face = data.get("face", {})
    vertices = next((el["count"] for el in elements if el["name"] == "vertex"), 0)
    for name in ("vertex_indices", "vertex_index"):
        if name in face:
            _check_faces(face[name], vertices, path)
            out["faces"] = face[name]
    return out


def write_ply(path: str | os.PathLike, points: np.ndarray, colors: np.ndarray | None = None,
              normals: np.ndarray | None = None, faces: np.ndarray | None = None, *,
              binary: bool = True, **scalar_fields: np.ndarray) -> Path:
    """Write points [N, 3] with optional colours (uint8 [N, 3]; floats in [0, 1] are scaled),
    normals [N, 3], triangle/polygon faces int [F, k] and per-vertex scalar fields [N] (kept in
    their dtype, e.g. ``label=...``). Binary little-endian by default, ASCII with
    ``binary=False``. Writes to a temporary name and renames, so ``path`` is never half written.
    """
    path = Path(path)
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points must be [N, 3], got {points.shape}")
    n = len(points)
    pdt = "f8" if points.dtype == np.float64 else "f4"
    columns: list[tuple[str, np.ndarray]] = [(c, points[:, i].astype(pdt))
                                             for i, c in enumerate("xyz")]
    if normals is not None:
        normals = np.asarray(normals, np.float32).reshape(n, 3)
        columns += [(c, normals[:, i]) for i, c in enumerate(("nx", "ny", "nz"))]
    if colors is not None:
        colors = np.asarray(colors)
        if colors.dtype.kind == "f":
            colors = np.clip(np.rint(colors * 255.0), 0, 255)
        colors = colors.astype(np.uint8).reshape(n, 3)
        columns += [(c, colors[:, i]) for i, c in enumerate(("red", "green", "blue"))]
    for name, values in scalar_fields.items():
        values = np.asarray(values)
        if values.shape != (n,):
            raise ValueError(f"scalar field {name!r} must be [{n}], got {values.shape}")
        if values.dtype == np.int64 or values.dtype == np.uint64:
            values = values.astype(np.int32 if values.dtype == np.int64 else np.uint32)
        if values.dtype.str[1:] not in _NAMES:
            raise ValueError(f"scalar field {name!r} has dtype {values.dtype}, not a PLY type")
        columns.append((name, values))
    header = ["ply", f"format {'binary_little_endian' if binary else 'ascii'} 1.0",
              "comment written by edge3d", f"element vertex {n}"]
    header += [f"property {_NAMES[v.dtype.str[1:]]} {name}" for name, v in columns]
    faces_arr = None if faces is None else np.asarray(faces, np.int64)
    if faces_arr is not None:
        if faces_arr.ndim != 2:
            raise ValueError(f"faces must be [F, k], got {faces_arr.shape}")
        header += [f"element face {len(faces_arr)}", "property list uchar int vertex_indices"]
    header.append("end_header")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(("\n".join(header) + "\n").encode("ascii"))
            if binary:
                dt = np.dtype([(name, "<" + v.dtype.str[1:]) for name, v in columns])
                rec = np.empty(n, dt)
                for name, v in columns:
                    rec[name] = v
                fh.write(rec.tobytes())
                if faces_arr is not None:
                    k = faces_arr.shape[1]
                    fdt = np.dtype([("n", "u1"), ("v", "<i4", (k,))])
                    frec = np.empty(len(faces_arr), fdt)
                    frec["n"], frec["v"] = k, faces_arr
                    fh.write(frec.tobytes())
            else:
                fmts = ["%.9g" if v.dtype.kind == "f" and v.dtype.itemsize == 4 else
                        "%.17g" if v.dtype.kind == "f" else "%d" for _, v in columns]
                table = np.empty((n, len(columns)), dtype=object)
                for i, (_, v) in enumerate(columns):
                    table[:, i] = v
                for row in table:
                    text = " ".join(f % x for f, x in zip(fmts, row, strict=True))
                    fh.write((text + "\n").encode())
                if faces_arr is not None:
                    for f in faces_arr:
                        fh.write((f"{len(f)} " + " ".join(str(int(i)) for i in f) + "\n").encode())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path

