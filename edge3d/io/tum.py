"""TUM RGB-D sequences (``rgbd_dataset_freiburgX_<name>/``).

Layout: ``rgb/<t>.png``, ``depth/<t>.png`` (16-bit, metres = value / 5000, 0 = missing),
``rgb.txt`` and ``depth.txt`` (``timestamp filename``), optional ``groundtruth.txt``
(``timestamp tx ty tz qx qy qz qw``, camera-to-world at a higher rate than the images).
RGB and depth are not synchronised: they are paired like TUM's ``associate.py`` (greedy one-to-one
matching of the closest timestamps under ``max_difference``), and ground-truth poses are
interpolated to each depth timestamp (linear translation, slerp rotation).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edge3d.errors import FormatError, SourceError
from edge3d.io.images import read_color, read_depth_png
from edge3d.io.source import FrameSource, SkippedFrame
from edge3d.io.text_formats import read_intrinsics_json, read_timestamped_list
from edge3d.types import Frame, Intrinsics

DEPTH_FACTOR = 5000.0
"""TUM depth PNG units per metre (the dataset's definition)."""

# Calibrated RGB intrinsics published with the dataset (depth is registered to RGB).
TUM_INTRINSICS = {
    "freiburg1": Intrinsics(640, 480, 517.306408, 516.469215, 318.643040, 255.313989,
                            "brown_conrady", (0.262383, -0.953104, -0.005358, 0.002628, 1.163314)),
    "freiburg2": Intrinsics(640, 480, 520.908620, 521.007327, 325.141442, 249.701764,
                            "brown_conrady", (0.231222, -0.784899, -0.003257, -0.000105, 0.917205)),
    "freiburg3": Intrinsics(640, 480, 535.4, 539.2, 320.1, 247.6),
}
ROS_DEFAULT = Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)


def is_tum_folder(folder: Path) -> bool:
    return (folder / "rgb.txt").is_file() and (folder / "depth.txt").is_file()


def associate(first: list[float], second: list[float], max_difference: float = 0.02,
              offset: float = 0.0) -> list[tuple[int, int]]:
    """TUM's ``associate.py``: index pairs ``(i, j)`` with ``|first[i] - (second[j] + offset)|
    < max_difference``, chosen greedily by smallest difference, each index used once, sorted by
    ``i``."""
    a = np.asarray(first, float)
    b = np.asarray(second, float) + offset
    order = np.argsort(b)
    bs = b[order]
    candidates = []
    for i, t in enumerate(a):
        lo = np.searchsorted(bs, t - max_difference, side="left")
        hi = np.searchsorted(bs, t + max_difference, side="right")
        for k in range(lo, hi):
            diff = abs(t - bs[k])
            if diff < max_difference:
                candidates.append((diff, i, int(order[k])))
    candidates.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def read_groundtruth(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """``(timestamps [N], poses [N, 4, 4])`` from ``groundtruth.txt``, sorted by time."""
    rows = []
    for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        vals = line.split()
        if len(vals) != 8:
            raise FormatError(f"{path}:{lineno}: expected 'timestamp tx ty tz qx qy qz qw'")
        rows.append([float(v) for v in vals])
    from scipy.spatial.transform import Rotation

    arr = np.asarray(rows, float).reshape(-1, 8)
    arr = arr[np.argsort(arr[:, 0], kind="stable")]
    poses = np.tile(np.eye(4), (len(arr), 1, 1))
    if len(arr):
        poses[:, :3, :3] = Rotation.from_quat(arr[:, 4:8]).as_matrix()
        poses[:, :3, 3] = arr[:, 1:4]
    return arr[:, 0], poses


def interpolate_poses(times: np.ndarray, poses: np.ndarray, query: np.ndarray,
                      max_gap: float) -> list[np.ndarray | None]:
    """Poses at ``query`` times: linear translation and slerp between the two neighbouring
    samples; None where the query is outside the samples or they are more than ``max_gap`` s
    apart."""
    from scipy.spatial.transform import Rotation, Slerp

    out: list[np.ndarray | None] = [None] * len(query)
    if len(times) < 2:
        return out
    idx = np.searchsorted(times, query, side="right")
    for q, (t, k) in enumerate(zip(query, idx, strict=True)):
        if k == 0 or k >= len(times):
            if k >= 1 and times[k - 1] == t:
                out[q] = poses[k - 1].copy()
            continue
        t0, t1 = times[k - 1], times[k]
        if t1 - t0 > max_gap:
            continue
        w = (t - t0) / (t1 - t0)
        slerp = Slerp([0.0, 1.0], Rotation.from_matrix(poses[k - 1:k + 1, :3, :3]))
        T = np.eye(4)
        T[:3, :3] = slerp([w]).as_matrix()[0]
        T[:3, 3] = (1 - w) * poses[k - 1, :3, 3] + w * poses[k, :3, 3]
        out[q] = T
    return out


class TUMSource(FrameSource):
    """Frames of a TUM RGB-D sequence folder.

    Args:
        folder: the sequence folder (with rgb.txt and depth.txt).
        intrinsics: overrides the camera; by default ``intrinsics.json`` in the folder, else the
            published calibration of the freiburg1/2/3 camera named in the folder name, else the
            ROS default (525, 525, 319.5, 239.5).
        max_difference: seconds allowed between paired RGB and depth timestamps (associate.py's
            default 0.02). Depth frames without a partner are skipped (reason
            ``"no rgb within max_difference"``).
        max_pose_gap: ground-truth samples further apart than this (s) are not interpolated
            between; such frames get ``pose=None``.
    """

    def __init__(self, folder: str | os.PathLike, *, intrinsics: Intrinsics | None = None,
                 max_difference: float = 0.02, max_pose_gap: float = 0.1) -> None:
        super().__init__()
        self.folder = Path(folder)
        if not is_tum_folder(self.folder):
            raise SourceError(f"{self.folder}: not a TUM RGB-D folder (needs rgb.txt and "
                              "depth.txt)")
        self._intrinsics = intrinsics or self._default_intrinsics()
        self.depth_scale = 1.0 / DEPTH_FACTOR
        self.depth_list = read_timestamped_list(self.folder / "depth.txt")
        self.rgb_list = read_timestamped_list(self.folder / "rgb.txt")
        self.pairs = associate([t for t, _ in self.depth_list], [t for t, _ in self.rgb_list],
                               max_difference)
        self.poses: list[np.ndarray | None] = [None] * len(self.depth_list)
        gt = self.folder / "groundtruth.txt"
        if gt.is_file():
            times, poses = read_groundtruth(gt)
            self.poses = interpolate_poses(times, poses,
                                           np.array([t for t, _ in self.depth_list]), max_pose_gap)

    def _default_intrinsics(self) -> Intrinsics:
        own = self.folder / "intrinsics.json"
        if own.is_file():
            return read_intrinsics_json(own)[0]
        for key, intr in TUM_INTRINSICS.items():
            if key in self.folder.resolve().name:
                return intr
        return ROS_DEFAULT

    @property
    def intrinsics(self) -> Intrinsics:
        return self._intrinsics

    def _read(self) -> Iterator[Frame | SkippedFrame]:
        partner = dict(self.pairs)
        for i, (t, name) in enumerate(self.depth_list):
            if i not in partner:
                yield SkippedFrame("no rgb within max_difference", f"depth {name} at {t}", i)
                continue
            try:
                depth = read_depth_png(self.folder / name)
                color = read_color(self.folder / self.rgb_list[partner[i]][1])
            except FormatError as exc:
                yield SkippedFrame("unreadable image", str(exc), i)
                continue
            yield Frame(depth=depth, depth_scale=self.depth_scale, intrinsics=self._intrinsics,
                        color=color, timestamp=t, index=i, pose=self.poses[i])
