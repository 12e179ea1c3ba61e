"""A plain folder of RGB-D frames (also ScanNet's exported frames).

Layout::

    <folder>/
      depth/*.png                 16-bit depth images, sorted by name
      color/ | rgb/ | image/      colour images (.png/.jpg), same stems as depth (or same count)
      intrinsics.json             edge3d's: width, height, fx, fy, cx, cy, distortion_model,
                                  distortion_coeffs, depth_scale (metres per unit)
        or camera_intrinsic.json  Open3D's (column-major intrinsic_matrix; depth_scale optional)
        or intrinsic/intrinsic_depth.txt (+ intrinsic_color.txt)   ScanNet's exporter (mm depth)
      pose/ | poses/ *.txt        optional camera-to-world 4x4 per frame, same stems as depth

Colour of another size than depth is registered to depth when the colour intrinsics are known
(ScanNet's ``intrinsic_color.txt``), else dropped. A depth scale must be given by the intrinsics
file or the ``depth_scale`` option: it is never assumed, except ScanNet's exporter's millimetres.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edge3d.errors import FormatError, SourceError
from edge3d.io.align import align_color_to_depth
from edge3d.io.images import read_color, read_depth_png
from edge3d.io.redwood import COLOR_DIRS, image_files
from edge3d.io.source import FrameSource, SkippedFrame
from edge3d.io.text_formats import read_intrinsics_json, read_matrix4
from edge3d.types import Frame, Intrinsics

SCANNET_EXPORT_DEPTH_SCALE = 0.001


def is_frame_folder(folder: Path) -> bool:
    return (folder / "depth").is_dir()


def _intrinsics_from_matrix(m: np.ndarray, width: int, height: int) -> Intrinsics:
    return Intrinsics(width, height, float(m[0, 0]), float(m[1, 1]), float(m[0, 2]),
                      float(m[1, 2]))


class FolderSource(FrameSource):
    """Frames of a plain RGB-D folder (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike, *, intrinsics: Intrinsics | None = None,
                 depth_scale: float | None = None, fps: float = 30.0) -> None:
        super().__init__()
        self.folder = Path(folder)
        if not is_frame_folder(self.folder):
            raise SourceError(f"{self.folder}: no depth/ folder of 16-bit PNGs")
        self.depth_files = image_files(self.folder / "depth")
        if not self.depth_files:
            raise SourceError(f"{self.folder}/depth: no depth images")
        color_dir = next((self.folder / d for d in COLOR_DIRS if (self.folder / d).is_dir()),
                         None)
        self.color_files = self._pair(image_files(color_dir)) if color_dir else {}
        pose_dir = next((self.folder / d for d in ("pose", "poses")
                         if (self.folder / d).is_dir()), None)
        self.pose_files = {p.stem: p for p in pose_dir.glob("*.txt")} if pose_dir else {}
        self.fps = fps
        self.color_intrinsics: Intrinsics | None = None
        self.T_color_depth: np.ndarray | None = None
        file_intr, file_scale = self._read_intrinsics()
        self._intrinsics = intrinsics or file_intr
        self.depth_scale = depth_scale or file_scale
        if self._intrinsics is None:
            raise SourceError(f"{self.folder}: no intrinsics.json, camera_intrinsic.json or "
                              "intrinsic/intrinsic_depth.txt; add one or pass intrinsics=")
        if self.depth_scale is None:
            raise SourceError(f"{self.folder}: the depth scale is unknown; add \"depth_scale\" "
                              "(metres per unit) to intrinsics.json or pass depth_scale=")

    def _pair(self, colors: list[Path]) -> dict[int, Path]:
        by_stem = {p.stem: p for p in colors}
        if all(d.stem in by_stem for d in self.depth_files):
            return {i: by_stem[d.stem] for i, d in enumerate(self.depth_files)}
        if len(colors) == len(self.depth_files):
            return dict(enumerate(colors))
        raise FormatError(f"{self.folder}: colour images match depth images neither by name nor "
                          f"by count ({len(colors)} vs {len(self.depth_files)})")

    def _read_intrinsics(self) -> tuple[Intrinsics | None, float | None]:
        for name in ("intrinsics.json", "camera_intrinsic.json"):
            if (self.folder / name).is_file():
                return read_intrinsics_json(self.folder / name)
        scannet = self.folder / "intrinsic" / "intrinsic_depth.txt"
        if scannet.is_file():
            h, w = read_depth_png(self.depth_files[0]).shape
            intr = _intrinsics_from_matrix(read_matrix4(scannet), w, h)
            color_k = self.folder / "intrinsic" / "intrinsic_color.txt"
            if color_k.is_file() and self.color_files:
                ch, cw = read_color(self.color_files[0]).shape[:2]
                self.color_intrinsics = _intrinsics_from_matrix(read_matrix4(color_k), cw, ch)
                ext_c = self.folder / "intrinsic" / "extrinsic_color.txt"
                ext_d = self.folder / "intrinsic" / "extrinsic_depth.txt"
                if ext_c.is_file() and ext_d.is_file():
                    self.T_color_depth = np.linalg.inv(read_matrix4(ext_c)) @ read_matrix4(ext_d)
            return intr, SCANNET_EXPORT_DEPTH_SCALE
        return None, None

    @property
    def intrinsics(self) -> Intrinsics:
        return self._intrinsics

    def _read(self) -> Iterator[Frame | SkippedFrame]:
        for i, path in enumerate(self.depth_files):
            try:
                depth = read_depth_png(path)
                color = read_color(self.color_files[i]) if i in self.color_files else None
                pose = read_matrix4(self.pose_files[path.stem]) \
                    if path.stem in self.pose_files else None
            except FormatError as exc:
                yield SkippedFrame("unreadable file", str(exc), i)
                continue
            if color is not None and color.shape[:2] != depth.shape:
                if self.color_intrinsics is None:
                    yield SkippedFrame("colour size differs from depth",
                                       f"{self.color_files[i]} is {color.shape[1]}x"
                                       f"{color.shape[0]}; add intrinsic_color.txt", i)
                    continue
                color = align_color_to_depth(depth * self.depth_scale, self._intrinsics, color,
                                             self.color_intrinsics, self.T_color_depth)
            yield Frame(depth=depth, depth_scale=self.depth_scale, intrinsics=self._intrinsics,
                        color=color, timestamp=i / self.fps, index=i, pose=pose)
