"""Writers of small dataset fixtures in the exact on-disk formats (for the loader tests)."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np

from edge3d.io.images import write_color, write_depth_png
from edge3d.types import Frame, Intrinsics


def make_frames(n: int = 5, width: int = 32, height: int = 24, depth_scale: float = 0.001,
                color: bool = True, poses: bool = True, seed: int = 0,
                intrinsics: Intrinsics | None = None) -> list[Frame]:
    """Random frames (full uint16 range, so any lossy step shows) with moving poses."""
    rng = np.random.default_rng(seed)
    intr = intrinsics or Intrinsics(width, height, 27.123456789, 27.987654321, 15.3, 11.7,
                                    "brown_conrady", (0.0,) * 5)
    out = []
    for i in range(n):
        T = None
        if poses:
            a = 0.1 * i
            T = np.eye(4)
            T[:3, :3] = [[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0, 0, 1]]
            T[:3, 3] = [0.1 * i + 1e-13, -0.2, 1.0 / 3.0]
        out.append(Frame(
            depth=rng.integers(0, 65536, (height, width), dtype=np.uint16),
            depth_scale=depth_scale, intrinsics=intr,
            color=rng.integers(0, 256, (height, width, 3), dtype=np.uint8) if color else None,
            timestamp=i / 30.0, index=i, pose=T))
    return out


def quat_from_matrix(R: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(R).as_quat()  # x y z w, TUM's order


def write_tum(folder: Path, depth_times: list[float], rgb_times: list[float],
              gt: list[tuple[float, np.ndarray]] | None = None, size=(640, 480), seed=0):
    """A TUM RGB-D sequence; returns {depth timestamp: (depth array, rgb timestamp->array)}."""
    rng = np.random.default_rng(seed)
    (folder / "rgb").mkdir(parents=True)
    (folder / "depth").mkdir()
    depths, rgbs = {}, {}
    lines_d = ["# depth maps", "# file: 'rgbd_dataset_freiburg1_xyz.bag'", "# timestamp filename"]
    for t in depth_times:
        d = rng.integers(0, 65536, size[::-1], dtype=np.uint16)
        write_depth_png(folder / "depth" / f"{t:.6f}.png", d)
        lines_d.append(f"{t:.6f} depth/{t:.6f}.png")
        depths[t] = d
    lines_r = ["# color images", "# file: 'rgbd_dataset_freiburg1_xyz.bag'", "# timestamp filename"]
    for t in rgb_times:
        c = rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)
        write_color(folder / "rgb" / f"{t:.6f}.png", c)
        lines_r.append(f"{t:.6f} rgb/{t:.6f}.png")
        rgbs[t] = c
    (folder / "depth.txt").write_text("\n".join(lines_d) + "\n")
    (folder / "rgb.txt").write_text("\n".join(lines_r) + "\n")
    if gt is not None:
        lines = ["# ground truth trajectory", "# timestamp tx ty tz qx qy qz qw"]
        for t, T in gt:
            q = quat_from_matrix(T[:3, :3])
            lines.append(f"{t:.4f} " + " ".join(f"{v:.6f}" for v in (*T[:3, 3], *q)))
        (folder / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    return depths, rgbs


def write_sens(path: Path, depths: list[np.ndarray], colors: list[np.ndarray],
               poses: list[np.ndarray], K_depth: np.ndarray, K_color: np.ndarray,
               depth_compression: int = 1, color_compression: int = 0,
               depth_shift: float = 1000.0, timestamps: list[int] | None = None,
               corrupt_frame: int | None = None) -> None:
    """A ScanNet .sens file exactly as SensorData.py reads it (little-endian)."""
    dh, dw = depths[0].shape
    ch, cw = colors[0].shape[:2]
    out = bytearray()
    name = b"StructureSensor"
    out += struct.pack("<I", 4) + struct.pack("<Q", len(name)) + name
    for m in (K_color, np.eye(4), K_depth, np.eye(4)):
        out += np.asarray(m, "<f4").tobytes()
    out += struct.pack("<2i4IfQ", color_compression, depth_compression, cw, ch, dw, dh,
                       depth_shift, len(depths))
    for i, (d, c, T) in enumerate(zip(depths, colors, poses, strict=True)):
        dbytes = np.ascontiguousarray(d, "<u2").tobytes()
        if depth_compression == 1:
            dbytes = zlib.compress(dbytes)
        if corrupt_frame == i:
            dbytes = b"\x00garbage" + dbytes[8:]
        if color_compression == 0:
            cbytes = np.ascontiguousarray(c, np.uint8).tobytes()
        else:
            import io

            from PIL import Image

            buf = io.BytesIO()
            Image.fromarray(c).save(buf, format="PNG")
            cbytes = buf.getvalue()
        ts = timestamps[i] if timestamps else 0
        out += np.asarray(T, "<f4").tobytes()
        out += struct.pack("<4Q", ts, ts, len(cbytes), len(dbytes)) + cbytes + dbytes
    path.write_bytes(bytes(out))


def write_scannet_scene(scene_dir: Path, points: np.ndarray, colors: np.ndarray,
                        seg_indices: list[int], seg_groups: list[dict],
                        label_map: dict[str, int] | None = None,
                        axis_alignment: np.ndarray | None = None) -> None:
    """``<scene>_vh_clean_2.ply`` (binary, x y z red green blue alpha + faces), segs json,
    aggregation json, ``<scene>.txt`` and optionally ``scannetv2-labels.combined.tsv``."""
    from edge3d.io.ply import write_ply

    name = scene_dir.name
    scene_dir.mkdir(parents=True)
    n = len(points)
    faces = np.array([[i, (i + 1) % n, (i + 2) % n] for i in range(0, n - 2, 3)])
    write_ply(scene_dir / f"{name}_vh_clean_2.ply", points.astype(np.float32), colors, None,
              faces, alpha=np.full(n, 255, np.uint8))
    (scene_dir / f"{name}_vh_clean_2.0.010000.segs.json").write_text(json.dumps(
        {"params": {"kThresh": "0.0001", "segMinVerts": "20"}, "sceneId": name,
         "segIndices": seg_indices}))
    (scene_dir / f"{name}.aggregation.json").write_text(json.dumps(
        {"sceneId": f"scannet.{name}", "appId": "Aggregator.v2", "segGroups": seg_groups,
         "segmentsFile": f"scannet.{name}_vh_clean_2.0.010000.segs.json"}))
    if axis_alignment is not None:
        (scene_dir / f"{name}.txt").write_text(
            "axisAlignment = " + " ".join(str(v) for v in axis_alignment.reshape(16))
            + "\nsceneType = Living room / Lounge\n")
    if label_map is not None:
        rows = ["id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class"]
        rows += [f"{k}\t{raw}\t{raw}\t1\t{nyu}\t1\tx\ty" for k, (raw, nyu) in
                 enumerate(label_map.items(), 1)]
        (scene_dir.parent / "scannetv2-labels.combined.tsv").write_text("\n".join(rows) + "\n")
