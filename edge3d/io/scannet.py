"""ScanNet v2 scenes: the annotated mesh and its benchmark labels, plus ``.sens`` streams.

A scene folder ``scene%04d_%02d/`` holds ``<scene>_vh_clean_2.ply`` (vertices x y z red green blue
alpha), ``<scene>_vh_clean_2.0.010000.segs.json`` (``segIndices``: a segment id per vertex),
``<scene>.aggregation.json`` (``segGroups``: ``objectId``, ``label``, ``segments``) and
``<scene>.sens``. Labels follow ScanNet's ``export_train_mesh_for_evaluation.py``: a vertex gets
the NYU40 id of the raw label of the group covering its segment, and the instance id
``objectId + 1`` (0 = unannotated); the benchmark's ground-truth id is ``nyu40 * 1000 + instance``.

The raw label -> NYU40 map is ScanNet's ``scannetv2-labels.combined.tsv`` (columns
``raw_category`` and ``nyu40id``), looked for in the scene folder and its parents, or passed as
``label_map``. Without it, raw labels that are NYU40 class names map to themselves and others
raise a FormatError naming the file to provide.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from edge3d.errors import FormatError, SourceError
from edge3d.io.ply import read_ply
from edge3d.io.sens import SensReader, SensSource

__all__ = [
    "BENCHMARK_CLASS_IDS", "BENCHMARK_CLASS_NAMES", "NYU40_NAMES", "Scene", "SensReader",
    "SensSource", "axis_alignment", "load_scene", "read_label_map",
]

NYU40_NAMES = (
    "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
    "picture", "counter", "blinds", "desk", "shelves", "curtain", "dresser", "pillow", "mirror",
    "floor mat", "clothes", "ceiling", "books", "refrigerator", "television", "paper", "towel",
    "shower curtain", "box", "whiteboard", "person", "night stand", "toilet", "sink", "lamp",
    "bathtub", "bag", "otherstructure", "otherfurniture", "otherprop",
)
"""NYU40 class names; class id = index + 1."""

BENCHMARK_CLASS_IDS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)
"""NYU40 ids of the 18 classes of the ScanNet 3D instance benchmark."""

BENCHMARK_CLASS_NAMES = tuple(NYU40_NAMES[i - 1] for i in BENCHMARK_CLASS_IDS)

LABEL_MAP_FILE = "scannetv2-labels.combined.tsv"


class Scene(NamedTuple):
    """A labelled ScanNet mesh. All arrays have one row per vertex.

    ``points`` float32 [N, 3] metres (ScanNet's scan frame, z up; :func:`axis_alignment` gives
    the transform to the room axes), ``colors`` uint8
    [N, 3], ``semantic`` int32 [N] NYU40 id (0 = unannotated), ``instance`` int32 [N]
    (objectId + 1, 0 = unannotated), ``gt_ids`` int32 [N] = semantic * 1000 + instance, the
    benchmark's ground-truth format, ``superpoints`` int32 [N] the mesh segment of each vertex
    (0 to S-1, from ``segIndices``), for ``Segmenter.segment(..., superpoints=)``.
    """

    points: np.ndarray
    colors: np.ndarray
    semantic: np.ndarray
    instance: np.ndarray
    gt_ids: np.ndarray
    superpoints: np.ndarray


def read_label_map(path: str | os.PathLike, to: str = "nyu40id") -> dict[str, int]:
    """``{raw_category: id}`` from ScanNet's ``scannetv2-labels.combined.tsv``."""
    path = Path(path)
    out: dict[str, int] = {}
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if reader.fieldnames is None or "raw_category" not in reader.fieldnames or \
                to not in reader.fieldnames:
            raise FormatError(f"{path}: a ScanNet label map needs the columns raw_category and "
                              f"{to}")
        for row in reader:
            value = (row.get(to) or "").strip()
            if value:
                out[row["raw_category"]] = int(value)
    return out


def _find(scene_dir: Path, suffixes: tuple[str, ...]) -> Path:
    name = scene_dir.name
    for suffix in suffixes:
        p = scene_dir / f"{name}{suffix}"
        if p.is_file():
            return p
    raise SourceError(f"{scene_dir}: missing {name}{suffixes[0]} (a ScanNet scene folder holds "
                      f"<scene>_vh_clean_2.ply, <scene>.aggregation.json and the segs json)")


def _find_label_map(scene_dir: Path) -> Path | None:
    for base in (scene_dir, *scene_dir.resolve().parents):
        if (base / LABEL_MAP_FILE).is_file():
            return base / LABEL_MAP_FILE
    return None


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: unreadable JSON ({exc})") from exc


def axis_alignment(scene_dir: str | os.PathLike) -> np.ndarray:
    """``axisAlignment`` float64 [4, 4] (16 numbers, row-major) from ``<scene>/<scene>.txt``:
    the transform that aligns the scan to the room axes (ScanNet200 applies it to vertices);
    identity if absent."""
    scene_dir = Path(scene_dir)
    meta = scene_dir / f"{scene_dir.name}.txt"
    if meta.is_file():
        for line in meta.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "axisAlignment":
                try:
                    return np.array([float(v) for v in value.split()]).reshape(4, 4)
                except ValueError as exc:
                    raise FormatError(f"{meta}: axisAlignment needs 16 numbers") from exc
    return np.eye(4)


def load_scene(scene_dir: str | os.PathLike, label_map: dict[str, int] | str | os.PathLike |
               None = None) -> Scene:
    """Load a ScanNet scene's mesh vertices with benchmark labels (see :class:`Scene`).

    Args:
        scene_dir: ``scene%04d_%02d`` folder.
        label_map: ``{raw_category: nyu40id}`` or the path of ScanNet's
            ``scannetv2-labels.combined.tsv``; by default that file is looked for in the scene
            folder and its parents.
    """
    scene_dir = Path(scene_dir)
    if not scene_dir.is_dir():
        raise SourceError(f"{scene_dir}: no such ScanNet scene folder")
    mesh = read_ply(_find(scene_dir, ("_vh_clean_2.ply",)))
    seg_doc = _read_json(_find(scene_dir, ("_vh_clean_2.0.010000.segs.json",
                                           "_vh_clean_2.segs.json")))
    agg_doc = _read_json(_find(scene_dir, (".aggregation.json", "_vh_clean.aggregation.json")))
    if "points" not in mesh:
        raise FormatError(f"{scene_dir}: the mesh has no x, y, z vertex properties")
    n = len(mesh["points"])
    seg_indices = np.asarray(seg_doc.get("segIndices", []), np.int64)
    if len(seg_indices) != n:
        raise FormatError(f"{scene_dir}: segIndices has {len(seg_indices)} entries but the mesh "
                          f"has {n} vertices; the segs json belongs to another mesh")
    if isinstance(label_map, (str, os.PathLike)):
        label_map = read_label_map(label_map)
    elif label_map is None:
        found = _find_label_map(scene_dir)
        label_map = read_label_map(found) if found else {}
    semantic = np.zeros(n, np.int32)
    instance = np.zeros(n, np.int32)
    # a vertex mask per segment id, built once (segment ids are arbitrary large integers)
    seg_ids, seg_of_vertex = np.unique(seg_indices, return_inverse=True)
    seg_lookup = {int(s): k for k, s in enumerate(seg_ids)}
    # same order of writes as ScanNet's exporter, so overlapping groups resolve the same way:
    # all labels first (grouped by label, in order of first appearance), then all objects
    label_to_segs: dict[str, list[int]] = {}
    object_to_segs: dict[int, list[int]] = {}
    for group in agg_doc.get("segGroups", []):
        try:
            label, object_id = group["label"], int(group["objectId"]) + 1
            segments = [int(s) for s in group["segments"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"{scene_dir}: malformed segGroup {group!r} ({exc})") from exc
        label_to_segs.setdefault(label, []).extend(segments)
        object_to_segs[object_id] = segments
    for label, segments in label_to_segs.items():
        semantic[_vertices(segments, seg_lookup, seg_of_vertex)] = \
            _nyu40_id(label, label_map, scene_dir)
    for object_id, segments in object_to_segs.items():
        instance[_vertices(segments, seg_lookup, seg_of_vertex)] = object_id
    colors = mesh.get("colors")
    if colors is None:
        colors = np.zeros((n, 3), np.uint8)
    return Scene(
        points=np.asarray(mesh["points"], np.float32), colors=np.asarray(colors, np.uint8),
        semantic=semantic, instance=instance, gt_ids=semantic * 1000 + instance,
        superpoints=seg_of_vertex.reshape(-1).astype(np.int32),
    )


def _vertices(segments: list[int], seg_lookup: dict[int, int], seg_of_vertex: np.ndarray
              ) -> np.ndarray:
    keys = [seg_lookup[s] for s in segments if s in seg_lookup]
    return np.isin(seg_of_vertex, keys)


def _nyu40_id(label: str, label_map: dict[str, int], scene_dir: Path) -> int:
    if label in label_map:
        return label_map[label]
    if label in NYU40_NAMES:
        return NYU40_NAMES.index(label) + 1
    raise FormatError(f"{scene_dir}: raw label {label!r} is not in the label map; provide "
                      f"ScanNet's {LABEL_MAP_FILE} (label_map= or next to the scene)")
