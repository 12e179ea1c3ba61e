"""A virtual RealSense D435-like depth camera with an aligned colour image.

Depth model (an active-stereo camera; ``research/runtime-anchors.md`` section 3.4 for depth
units): the camera measures disparity ``d = f_px * baseline / z``; sub-pixel matching error
``subpixel`` (pixels, 1 sigma) becomes a depth error ``sigma_z = z**2 * subpixel / (f_px *
baseline)``, growing with the square of depth. Depth is then quantised to device units
(``depth_scale`` metres per unit, D4xx default 0.001) and stored as uint16, 0 = invalid.

Invalid pixels (holes), as a stereo camera produces them:
- out of range: measured depth below ``min_depth`` or above ``max_depth``, or beyond uint16;
- grazing angles: the surface normal is more than ``max_incidence_deg`` from the viewing ray;
- occlusion shadows: points the left (depth) imager sees but the right imager, ``baseline`` to
  its right, cannot (a band left of each near object's left edge, as on a real D435);
- depth discontinuities: pixels next to a neighbour whose depth differs by more than
  ``edge_threshold`` times their depth (real cameras drop these "flying pixels");
- random dropout of a fraction ``dropout`` of pixels (texture-less or specular spots).

``noise=False`` gives exact depth, quantised only, and no holes except the range limits (pass
``holes=True`` to keep them without noise). Instance and semantic maps are ground truth of the
surface under each pixel, whether or not its depth is valid.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from edge3d.synth.raycast import raycast_numpy
from edge3d.synth.sensor import SensorParams, frame_key, sensor_model_numpy
from edge3d.synth.shading import AMBIENT, LIGHT_DIRECTION
from edge3d.synth.world import World
from edge3d.types import Frame, Intrinsics

# A D435's depth stream at 640x480 reports about this pinhole model, with brown_conrady and zero
# coefficients (no distortion).
D435_FOCAL_640 = 385.0
FPS = 30.0


def d435_intrinsics(width: int = 640, height: int = 480) -> Intrinsics:
    """D435-like depth intrinsics: focal 385 px at 640x480, scaled with the smaller image
    ratio to other sizes, principal point at the image centre."""
    f = D435_FOCAL_640 * min(width / 640.0, height / 480.0)
    return Intrinsics(width=width, height=height, fx=f, fy=f, cx=(width - 1) / 2.0,
                      cy=(height - 1) / 2.0, distortion_model="brown_conrady")


@dataclass(eq=False)
class RenderedFrame:
    """One rendered view with its ground truth.

    Attributes:
        frame: the RGB-D frame (uint16 depth, aligned uint8 colour, intrinsics, exact pose).
        instance: int32 [H, W], instance id of the surface under each pixel (0: stuff or none).
        semantic: int32 [H, W], class id of the surface under each pixel (-1: no surface).
        depth_true: float32 [H, W], exact depth in metres before noise, holes and quantisation
            (0 where no surface).
    """

    frame: Frame
    instance: np.ndarray
    semantic: np.ndarray
    depth_true: np.ndarray


class VirtualCamera:
    """Renders worlds as a D435-like RGB-D camera would see them.

    Args:
        intrinsics: of the depth image (colour is aligned to it); default D435-like 640x480.
        depth_scale: metres per depth unit.
        noise: add depth and colour noise and holes (see the module docs).
        seed: noise of frame ``index`` is drawn from ``(seed, index)``, so renders repeat
            (and the C++ and numpy backends draw the same numbers).
        min_depth, max_depth: valid measured range, metres.
        baseline: stereo baseline, metres (D435: 50 mm).
        subpixel: disparity error, pixels (1 sigma).
        max_incidence_deg: steeper viewing angles give no depth.
        edge_threshold: relative depth jump between neighbours that invalidates both.
        dropout: fraction of pixels dropped at random.
        holes: whether to make holes (grazing, shadows, edges, dropout); default: ``noise``.
        color_noise: colour noise, 1 sigma in 8-bit levels.
        backend: "native" (C++), "numpy" (the slow reference) or "auto" (native when built).
    """

    def __init__(self, intrinsics: Intrinsics | None = None, depth_scale: float = 0.001,
                 noise: bool = True, seed: int = 0, min_depth: float = 0.2,
                 max_depth: float = 6.0, baseline: float = 0.05, subpixel: float = 0.08,
                 max_incidence_deg: float = 80.0, edge_threshold: float = 0.04,
                 dropout: float = 0.002, holes: bool | None = None, color_noise: float = 2.0,
                 backend: str = "auto") -> None:
        self.intrinsics = intrinsics or d435_intrinsics()
        if not depth_scale > 0:
            raise ValueError(f"depth_scale must be > 0 metres per unit, got {depth_scale}")
        if not 0 <= min_depth < max_depth:
            raise ValueError(f"need 0 <= min_depth < max_depth, got {min_depth}, {max_depth}")
        if not 0 < max_incidence_deg <= 90 or not 0 <= dropout < 1:
            raise ValueError("max_incidence_deg must be in (0, 90] and dropout in [0, 1)")
        if backend not in ("auto", "native", "numpy"):
            raise ValueError(f"backend must be 'auto', 'native' or 'numpy', got {backend!r}")
        self.depth_scale, self.noise, self.seed = float(depth_scale), bool(noise), int(seed)
        self.min_depth, self.max_depth = float(min_depth), float(max_depth)
        self.baseline, self.subpixel = float(baseline), float(subpixel)
        self.max_incidence_deg, self.edge_threshold = float(max_incidence_deg), edge_threshold
        self.dropout, self.color_noise = float(dropout), float(color_noise)
        self.holes = self.noise if holes is None else bool(holes)
        self.backend = backend
        self._count = 0

    def depth_sigma(self, z: np.ndarray | float) -> np.ndarray | float:
        """Depth noise, 1 sigma in metres, at depth ``z`` metres: ``z**2 * subpixel / (f * b)``."""
        return np.square(z) * self.subpixel / (self.intrinsics.fx * self.baseline)

    def _native(self) -> bool:
        """Whether to use the C++ renderer (``backend="auto"`` falls back once, with a warning)."""
        if self.backend == "numpy":
            return False
        try:
            import edge3d.native.render as native

            native._ext()
        except ImportError as exc:
            if self.backend == "native":
                raise
            warnings.warn(f"native renderer unavailable ({exc}); using the slow numpy "
                          "reference", RuntimeWarning, stacklevel=3)
            self.backend = "numpy"
            return False
        return True

    def raycast(self, world: World, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact depth (float32 [H, W] metres, 0 = none), box index (int32 [H, W], -1 = none) and
        world normal (float32 [H, W, 3]) per pixel."""
        t = world.primitives
        if self._native():
            from edge3d.native.render import raycast_boxes

            return raycast_boxes(t.centers, t.rotations, t.halves, pose, self.intrinsics)
        return raycast_numpy(t.centers, t.rotations, t.halves, pose, self.intrinsics)

    def render(self, world: World, pose: np.ndarray, index: int | None = None) -> RenderedFrame:
        """Render ``world`` from camera pose ``T_W_C`` (float [4, 4]).

        ``index`` numbers the frame (timestamp ``index / 30`` s, noise stream); by default the
        camera counts its renders from 0.
        """
        pose = np.asarray(pose, np.float64)
        if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
            raise ValueError(f"pose must be a finite 4x4 T_W_C matrix, got shape {pose.shape}")
        if index is None:
            index = self._count
        self._count = index + 1
        key = frame_key(self.seed, index)
        t = world.primitives
        if self._native():
            from edge3d.native.render import render_frame

            depth, color, instance, semantic, z = render_frame(
                t.centers, t.rotations, t.halves, t.colors, t.instance, t.semantic, pose,
                self.intrinsics, key=key, light=LIGHT_DIRECTION, ambient=AMBIENT,
                **vars(self.sensor_params()))
        else:
            z, prim, normal = raycast_numpy(t.centers, t.rotations, t.halves, pose,
                                            self.intrinsics)
            depth, color = sensor_model_numpy(z, prim, normal, t.colors, pose, self.intrinsics,
                                              self.sensor_params(), key)
            surface = prim >= 0
            lookup = np.clip(prim, 0, None)
            instance = np.where(surface, t.instance[lookup], 0).astype(np.int32)
            semantic = np.where(surface, t.semantic[lookup], -1).astype(np.int32)
        frame = Frame(depth=depth, depth_scale=self.depth_scale, intrinsics=self.intrinsics,
                      color=color, timestamp=index / FPS, index=index, pose=pose.copy())
        return RenderedFrame(frame=frame, instance=instance, semantic=semantic, depth_true=z)

    def sensor_params(self) -> SensorParams:
        """The sensor model settings of this camera."""
        return SensorParams(
            depth_scale=self.depth_scale, noise=self.noise, holes=self.holes,
            min_depth=self.min_depth, max_depth=self.max_depth, baseline=self.baseline,
            subpixel=self.subpixel, max_incidence_deg=self.max_incidence_deg,
            edge_threshold=self.edge_threshold, dropout=self.dropout,
            color_noise=self.color_noise)
