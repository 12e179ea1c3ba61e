"""Core data types shared by every part of edge3d.

Conventions (used everywhere, checked where data enters):
- Camera frame C is OpenCV's: x right, y down, z forward, metres.
- World frame W is gravity-aligned with z up, metres.
- A pose ``T_W_C`` is a float64 [4, 4] rigid transform mapping camera points into the world.
- Depth images are uint16 in device units; ``depth_scale`` is metres per unit; 0 means invalid.
- Colour images are uint8 RGB [H, W, 3].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edge3d.errors import FrameError

DISTORTION_MODELS = ("none", "brown_conrady", "inverse_brown_conrady", "modified_brown_conrady",
                     "kannala_brandt4")


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of a depth (or aligned colour) image.

    ``distortion_model`` is one of :data:`DISTORTION_MODELS` (RealSense names); depth streams of
    D4xx cameras report ``brown_conrady`` with zero coefficients, i.e. no distortion.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion_model: str = "none"
    distortion_coeffs: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise FrameError(f"intrinsics size must be positive, got {self.width}x{self.height}")
        if not (self.fx > 0 and self.fy > 0):
            raise FrameError(f"focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        if self.distortion_model not in DISTORTION_MODELS:
            raise FrameError(
                f"unknown distortion model {self.distortion_model!r}; "
                f"expected one of {', '.join(DISTORTION_MODELS)}"
            )
        coeffs = tuple(float(c) for c in self.distortion_coeffs)
        object.__setattr__(self, "distortion_coeffs", coeffs)

    @property
    def K(self) -> np.ndarray:
        """The 3x3 camera matrix (float64)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def scaled(self, factor: float) -> Intrinsics:
        """Intrinsics of the image resized by ``factor`` (pixel centres kept aligned)."""
        return Intrinsics(
            width=round(self.width * factor),
            height=round(self.height * factor),
            fx=self.fx * factor,
            fy=self.fy * factor,
            cx=(self.cx + 0.5) * factor - 0.5,
            cy=(self.cy + 0.5) * factor - 0.5,
            distortion_model=self.distortion_model,
            distortion_coeffs=self.distortion_coeffs,
        )

    def to_dict(self) -> dict:
        return {
            "width": self.width, "height": self.height, "fx": self.fx, "fy": self.fy,
            "cx": self.cx, "cy": self.cy, "distortion_model": self.distortion_model,
            "distortion_coeffs": list(self.distortion_coeffs),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Intrinsics:
        return cls(
            width=int(d["width"]), height=int(d["height"]), fx=float(d["fx"]), fy=float(d["fy"]),
            cx=float(d["cx"]), cy=float(d["cy"]),
            distortion_model=d.get("distortion_model", "none"),
            distortion_coeffs=tuple(d.get("distortion_coeffs", (0.0,) * 5)),
        )


@dataclass
class Frame:
    """One RGB-D frame as every source yields it.

    Attributes:
        depth: uint16 [H, W], device units, 0 = invalid.
        depth_scale: metres per depth unit (from the device or recording, never assumed).
        intrinsics: of the depth image; colour, when present, is aligned to depth.
        color: uint8 [H, W, 3] RGB aligned to depth, or None.
        timestamp: seconds.
        index: frame number within its source.
        pose: float64 [4, 4] camera-to-world ``T_W_C``, or None when the source has none.
        accel: float64 [3], the camera IMU's accelerometer (m/s^2) in the depth camera's frame
            when the frame was taken (at rest it points up, opposite gravity), or None for a
            camera without an IMU; fusion uses it to find up.
    """

    depth: np.ndarray
    depth_scale: float
    intrinsics: Intrinsics
    color: np.ndarray | None = None
    timestamp: float = 0.0
    index: int = 0
    pose: np.ndarray | None = None
    accel: np.ndarray | None = None

    def validate(self) -> Frame:
        """Check dtypes, shapes and values; raise :class:`FrameError` naming the problem."""
        d = self.depth
        if not isinstance(d, np.ndarray) or d.dtype != np.uint16 or d.ndim != 2:
            raise FrameError(
                f"frame {self.index}: depth must be a uint16 [H, W] array, got "
                f"{getattr(d, 'dtype', type(d).__name__)} {getattr(d, 'shape', '')}"
            )
        h, w = d.shape
        if (w, h) != (self.intrinsics.width, self.intrinsics.height):
            raise FrameError(
                f"frame {self.index}: depth is {w}x{h} but intrinsics say "
                f"{self.intrinsics.width}x{self.intrinsics.height}"
            )
        if not (np.isfinite(self.depth_scale) and self.depth_scale > 0):
            raise FrameError(f"frame {self.index}: depth_scale must be > 0, got {self.depth_scale}")
        if self.color is not None:
            c = self.color
            if c.dtype != np.uint8 or c.shape != (h, w, 3):
                raise FrameError(
                    f"frame {self.index}: color must be uint8 [{h}, {w}, 3] aligned to depth, "
                    f"got {c.dtype} {c.shape}"
                )
        if self.pose is not None:
            p = np.asarray(self.pose)
            if p.shape != (4, 4) or not np.all(np.isfinite(p)):
                raise FrameError(f"frame {self.index}: pose must be a finite 4x4 matrix")
            r = p[:3, :3]
            if not np.allclose(r @ r.T, np.eye(3), atol=1e-4) or abs(np.linalg.det(r) - 1) > 1e-4:
                raise FrameError(f"frame {self.index}: pose rotation is not orthonormal")
        if self.accel is not None:
            a = np.asarray(self.accel)
            if a.shape != (3,) or not np.all(np.isfinite(a)):
                raise FrameError(f"frame {self.index}: accel must be a finite [3] vector (m/s^2)")
        return self

    def depth_m(self) -> np.ndarray:
        """Depth in metres as float32 [H, W]; invalid pixels are 0."""
        return self.depth.astype(np.float32) * np.float32(self.depth_scale)


@dataclass
class PointCloud:
    """Points with optional per-point attributes (plural keys, as Open3D's tensor API).

    ``positions`` float32 [N, 3] metres; ``colors`` uint8 [N, 3] or None; ``normals`` float32
    [N, 3] unit vectors or None.
    """

    positions: np.ndarray
    colors: np.ndarray | None = None
    normals: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.positions = np.ascontiguousarray(self.positions, dtype=np.float32)
        if self.positions.ndim != 2 or self.positions.shape[1] != 3:
            raise ValueError(f"positions must be [N, 3], got {self.positions.shape}")
        n = len(self.positions)
        for key in ("colors", "normals"):
            v = getattr(self, key)
            if v is not None and (v.ndim != 2 or v.shape != (n, 3)):
                raise ValueError(f"{key} must be [{n}, 3] like positions, got {v.shape}")

    def __len__(self) -> int:
        return len(self.positions)


@dataclass
class Instance:
    """One segmented object.

    ``indices`` are int64 indices into the segmented point array; the box (``box_min``,
    ``box_max``) is axis-aligned in the same frame as the points; box and centroid are float64
    [3], metres.
    """

    id: int
    class_id: int
    class_name: str
    score: float
    indices: np.ndarray
    box_min: np.ndarray
    box_max: np.ndarray
    centroid: np.ndarray

    @classmethod
    def from_points(cls, id: int, class_id: int, class_name: str, score: float,
                    indices: np.ndarray, points: np.ndarray) -> Instance:
        """Build an instance and compute its box and centroid from ``points[indices]``."""
        idx = np.asarray(indices, dtype=np.int64)
        lo, hi, centroid = _extent(points[idx])
        return cls(id=int(id), class_id=int(class_id), class_name=class_name, score=float(score),
                   indices=idx, box_min=lo, box_max=hi, centroid=centroid)

    def refit(self, points: np.ndarray) -> None:
        """Recompute the box and centroid from ``points[indices]`` (the same points in another
        frame, or at another precision)."""
        self.box_min, self.box_max, self.centroid = _extent(points[self.indices])

    def to_dict(self) -> dict:
        return {
            "id": self.id, "class_id": self.class_id, "class_name": self.class_name,
            "score": self.score, "num_points": len(self.indices),
            "box_min": [float(v) for v in self.box_min],
            "box_max": [float(v) for v in self.box_max],
            "centroid": [float(v) for v in self.centroid],
        }


def _extent(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 (box_min, box_max, centroid) of points [K, 3]."""
    from edge3d.geometry import column_bounds

    lo, hi = (b.astype(np.float64) for b in column_bounds(p))
    return lo, hi, np.array([p[:, k].mean(dtype=np.float64) for k in range(p.shape[1])])


@dataclass
class SegmentationResult:
    """What a segmenter returns for N input points.

    ``labels`` int32 [N]: instance id per point, -1 for none. ``classes`` int32 [N]: class id per
    point, -1 for none. ``instances`` is sorted by descending score. ``timings`` holds seconds per
    stage.
    """

    labels: np.ndarray
    classes: np.ndarray
    instances: list[Instance]
    class_names: list[str]
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.instances)
