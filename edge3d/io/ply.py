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
            fmt = words[1]
        elif words[0] == "element":
            elements.append({"name": words[1], "count": int(words[2]), "props": []})
        elif words[0] == "property":
            if not elements:
                raise FormatError(f"{path}: PLY property before any element")
            if words[1] == "list":
                elements[-1]["props"].append((words[4], "list", _TYPES[words[2]],
                                              _TYPES[words[3]]))
            else:
                if words[1] not in _TYPES:
                    raise FormatError(f"{path}: unknown PLY property type {words[1]!r}")
                elements[-1]["props"].append((words[2], _TYPES[words[1]]))
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise FormatError(f"{path}: unsupported PLY format {fmt!r}")
    return fmt, elements


def _read_binary(fh, el: dict, endian: str, path: Path) -> dict[str, np.ndarray]:
    props = el["props"]
    n = el["count"]
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
            dt = np.dtype([("n", ct), ("v", it, (k,))])
            raw = fh.read(dt.itemsize * n)
            if len(raw) == dt.itemsize * n:
                arr = np.frombuffer(raw, dt)
                if np.all(arr["n"] == k):
                    return {name: arr["v"].astype(np.int64)}
        fh.seek(start)
    out: dict[str, list] = {p[0]: [] for p in props}
    for _ in range(n):
        for p in props:
            if p[1] == "list":
                ct, it = np.dtype(endian + p[2]), np.dtype(endian + p[3])
                raw = fh.read(ct.itemsize)
                if len(raw) != ct.itemsize:
                    raise FormatError(f"{path}: PLY file is truncated in element {el['name']!r}")
                k = int(np.frombuffer(raw, ct)[0])
                vals = fh.read(it.itemsize * k)
                if len(vals) != it.itemsize * k:
                    raise FormatError(f"{path}: PLY file is truncated in element {el['name']!r}")
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


def _read_ascii(lines: list[bytes], pos: int, el: dict, path: Path
                ) -> tuple[dict[str, np.ndarray], int]:
    props = el["props"]
    n = el["count"]
    if pos + n > len(lines):
        raise FormatError(f"{path}: PLY file is truncated in element {el['name']!r}")
    rows = lines[pos:pos + n]
    if all(p[1] != "list" for p in props):
        try:
            arr = np.array([r.split() for r in rows], dtype=np.float64).reshape(n, len(props))
        except ValueError as exc:
            raise FormatError(f"{path}: malformed ASCII PLY row in {el['name']!r} ({exc})") \
                from exc
        return {p[0]: arr[:, i].astype(p[1]) for i, p in enumerate(props)}, pos + n
    out: dict[str, list] = {p[0]: [] for p in props}
    for r in rows:
        vals = r.split()
        j = 0
        for p in props:
            if p[1] == "list":
                k = int(vals[j])
                out[p[0]].append(np.array(vals[j + 1:j + 1 + k], dtype=np.int64))
                j += 1 + k
            else:
                out[p[0]].append(float(vals[j]))
                j += 1
    return {k: _lists(v) if props_is_list(props, k) else np.asarray(v, dtype=_dtype(props, k))
            for k, v in out.items()}, pos + n


def read_ply(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a PLY file's vertices (and faces) into arrays; see the module docstring for keys.

    Raises FormatError for a file that is not PLY, uses an unknown type, or is truncated.
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
            for el in elements:
                data[el["name"]] = _read_binary(fh, el, endian, path)
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
    for name in ("vertex_indices", "vertex_index"):
        if name in face:
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

