"""ScanNet ``.sens`` RGB-D streams (the format of ScanNet's ``SensReader/python/SensorData.py``).

Little-endian layout: ``uint32 version (4)``, ``uint64 n`` + ``n`` bytes sensor name, four
``float32[16]`` matrices (colour intrinsics, colour extrinsics, depth intrinsics, depth
extrinsics; row-major 4x4), ``int32 color_compression`` (0 raw, 1 png, 2 jpeg), ``int32
depth_compression`` (0 raw_ushort, 1 zlib_ushort, 2 occi_ushort), ``uint32 color_width,
color_height, depth_width, depth_height``, ``float32 depth_shift`` (units per metre),
``uint64 num_frames``; then per frame ``float32[16] camera_to_world``, ``uint64 timestamp_color,
timestamp_depth, color_bytes, depth_bytes`` and the two payloads.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from edge3d.errors import FormatError, SourceError
from edge3d.io.align import align_color_to_depth
from edge3d.io.images import open_image
from edge3d.io.source import FrameSource, SkippedFrame
from edge3d.types import Frame, Intrinsics

COLOR_COMPRESSION = {0: "raw", 1: "png", 2: "jpeg"}
DEPTH_COMPRESSION = {0: "raw_ushort", 1: "zlib_ushort", 2: "occi_ushort"}
_FRAME_HEADER = struct.Struct("<16f4Q")


@dataclass
class SensHeader:
    version: int
    sensor_name: str
    intrinsic_color: np.ndarray
    extrinsic_color: np.ndarray
    intrinsic_depth: np.ndarray
    extrinsic_depth: np.ndarray
    color_compression: str
    depth_compression: str
    color_width: int
    color_height: int
    depth_width: int
    depth_height: int
    depth_shift: float
    num_frames: int


@dataclass
class SensFrame:
    """One decoded frame: depth uint16 [H_d, W_d] (units of 1 / depth_shift m), colour uint8
    [H_c, W_c, 3] at the colour camera's resolution, camera_to_world float64 [4, 4] (may hold
    ``-inf`` where ScanNet's tracking failed), timestamps as stored (microseconds)."""

    index: int
    depth: np.ndarray
    color: np.ndarray | None
    camera_to_world: np.ndarray
    timestamp_color: int
    timestamp_depth: int


def _read_exact(fh: BinaryIO, n: int, what: str, path: Path) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise FormatError(f"{path}: file is truncated in {what} (wanted {n} bytes, got "
                          f"{len(data)})")
    return data


class SensReader:
    """Streaming reader of a ``.sens`` file; iterate for :class:`SensFrame` objects.

    A frame whose payload cannot be decoded is reported as a :class:`SkippedFrame` (reason
    ``"corrupt frame"``); a file that ends inside a frame yields ``"truncated frame"`` and ends.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such .sens file")
        self._fh = self.path.open("rb")
        try:
            self.header = self._read_header()
        except BaseException:
            self._fh.close()
            raise
        self._frames_start = self._fh.tell()

    def _read_header(self) -> SensHeader:
        fh, p = self._fh, self.path
        (version,) = struct.unpack("<I", _read_exact(fh, 4, "the header", p))
        if version != 4:
            raise FormatError(f"{p}: .sens version {version}, expected 4 (not a ScanNet .sens?)")
        (n,) = struct.unpack("<Q", _read_exact(fh, 8, "the header", p))
        if n > 4096:
            raise FormatError(f"{p}: implausible sensor name length {n}; the file is corrupt")
        name = _read_exact(fh, n, "the header", p).decode("utf-8", "replace")
        mats = np.frombuffer(_read_exact(fh, 4 * 64, "the header", p), "<f4").reshape(4, 4, 4)
        cc, dc, cw, ch, dw, dh, shift, frames = struct.unpack(
            "<2i4IfQ", _read_exact(fh, 4 * 2 + 4 * 4 + 4 + 8, "the header", p))
        if cc not in COLOR_COMPRESSION or dc not in DEPTH_COMPRESSION:
            raise FormatError(f"{p}: unknown compression types (colour {cc}, depth {dc})")
        return SensHeader(version, name, *(m.astype(np.float64) for m in mats),
                          COLOR_COMPRESSION[cc], DEPTH_COMPRESSION[dc], cw, ch, dw, dh,
                          float(shift), frames)

    @property
    def depth_intrinsics(self) -> Intrinsics:
        return _intrinsics(self.header.intrinsic_depth, self.header.depth_width,
                           self.header.depth_height)

    @property
    def color_intrinsics(self) -> Intrinsics:
        return _intrinsics(self.header.intrinsic_color, self.header.color_width,
                           self.header.color_height)

    def __iter__(self) -> Iterator[SensFrame | SkippedFrame]:
        h = self.header
        self._fh.seek(self._frames_start)
        for i in range(h.num_frames):
            raw = self._fh.read(_FRAME_HEADER.size)
            if len(raw) != _FRAME_HEADER.size:
                yield SkippedFrame("truncated frame", f"{self.path}: ends in frame {i} header", i)
                return
            vals = _FRAME_HEADER.unpack(raw)
            pose = np.array(vals[:16], np.float64).reshape(4, 4)
            ts_c, ts_d, n_color, n_depth = vals[16:]
            if n_color + n_depth > 512 * 1024 * 1024:
                yield SkippedFrame("truncated frame", f"{self.path}: frame {i} claims "
                                   f"{n_color + n_depth} bytes; the file is corrupt", i)
                return
            color_data = self._fh.read(n_color)
            depth_data = self._fh.read(n_depth)
            if len(color_data) != n_color or len(depth_data) != n_depth:
                yield SkippedFrame("truncated frame", f"{self.path}: ends inside frame {i}", i)
                return
            try:
                depth = self._decode_depth(depth_data)
                color = self._decode_color(color_data) if n_color else None
            except (FormatError, zlib.error, OSError, ValueError) as exc:
                yield SkippedFrame("corrupt frame", f"{self.path}: frame {i}: {exc}", i)
                continue
            yield SensFrame(i, depth, color, pose, ts_c, ts_d)

    def _decode_depth(self, data: bytes) -> np.ndarray:
        h = self.header
        if h.depth_compression == "zlib_ushort":
            data = zlib.decompress(data)
        elif h.depth_compression == "occi_ushort":
            raise FormatError("occi_ushort depth compression is not supported (ScanNet never "
                              "released a decoder); convert the file with ScanNet's tools")
        arr = np.frombuffer(data, "<u2")
        if arr.size != h.depth_width * h.depth_height:
            raise FormatError(f"depth has {arr.size} values, expected "
                              f"{h.depth_width}x{h.depth_height}")
        return arr.reshape(h.depth_height, h.depth_width).astype(np.uint16)

    def _decode_color(self, data: bytes) -> np.ndarray:
        h = self.header
        if h.color_compression == "raw":
            arr = np.frombuffer(data, np.uint8)
            if arr.size != h.color_width * h.color_height * 3:
                raise FormatError("raw colour has the wrong size")
            return arr.reshape(h.color_height, h.color_width, 3).copy()
        with open_image(io.BytesIO(data), str(self.path), "colour frame") as im:
            return np.asarray(im.convert("RGB"))

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> SensReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _intrinsics(m: np.ndarray, width: int, height: int) -> Intrinsics:
    return Intrinsics(width, height, float(m[0, 0]), float(m[1, 1]), float(m[0, 2]),
                      float(m[1, 2]))


class SensSource(FrameSource):
    """Frames of a ``.sens`` file: depth with its scale ``1 / depth_shift``, colour registered to
    depth (back-project with the depth intrinsics, move by ``inv(extrinsic_color) @
    extrinsic_depth``, project with the colour intrinsics), and the stored poses. Frames whose pose
    is not finite (ScanNet marks tracking failures with ``-inf``) are skipped as ``"tracking
    failure"``. Timestamps are the stored depth timestamps in seconds (microseconds / 1e6), or
    ``index / 30`` when the file stores zeros."""

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__()
        self.reader = SensReader(path)
        h = self.reader.header
        if not h.depth_shift > 0:
            self.reader.close()
            raise FormatError(f"{path}: depth_shift {h.depth_shift} is not positive")
        self.depth_scale = 1.0 / h.depth_shift
        self._T_color_depth = np.linalg.inv(h.extrinsic_color) @ h.extrinsic_depth \
            if np.all(np.isfinite(h.extrinsic_color)) else None

    @property
    def intrinsics(self) -> Intrinsics:
        return self.reader.depth_intrinsics

    def _read(self) -> Iterator[Frame | SkippedFrame]:
        k_d, k_c = self.reader.depth_intrinsics, self.reader.color_intrinsics
        same = k_c == k_d and self._T_color_depth is not None and \
            np.allclose(self._T_color_depth, np.eye(4))
        for item in self.reader:
            if isinstance(item, SkippedFrame):
                yield item
                continue
            if not np.all(np.isfinite(item.camera_to_world)):
                yield SkippedFrame("tracking failure", "non-finite camera_to_world", item.index)
                continue
            color = item.color
            if color is not None and not same:
                color = align_color_to_depth(item.depth * self.depth_scale, k_d, color, k_c,
                                             self._T_color_depth)
            ts = item.timestamp_depth / 1e6 if item.timestamp_depth else item.index / 30.0
            yield Frame(depth=item.depth, depth_scale=self.depth_scale, intrinsics=k_d,
                        color=color, timestamp=ts, index=item.index, pose=item.camera_to_world)

    def close(self) -> None:
        self.reader.close()
        super().close()
