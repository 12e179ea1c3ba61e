"""Frame-to-model point-to-plane ICP (KinectFusion, Newcombe et al. 2011, section 3.5).

The new depth frame is aligned to the fused model ray-cast from the previous pose, coarse to
fine over a depth pyramid, with projective data association. The C++ core
(:mod:`edge3d.native.icp`) builds the normal equations; the 6x6 solve is here.

Tracking is declared lost (and the frame must not be fused) when:

- too few points find a model partner, or the inlier ratio is below ``min_inlier_ratio``;
- the RMS point-to-plane residual exceeds ``max_rmse``;
- the geometry does not constrain all six degrees of freedom (the smallest eigenvalue of the
  Hessian, expressed about the camera centre and per inlier, is below ``min_eigenvalue``: a
  single wall, an empty corridor);
- the estimate jumps farther from the prediction than a camera moves between frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge3d.native.icp import bilateral_depth, point_to_plane_system, vertex_normal_map
from edge3d.runtime.fusion.volume import TSDFVolume
from edge3d.types import Frame, Intrinsics


@dataclass(frozen=True)
class TrackingResult:
    """Outcome of one ICP alignment.

    Attributes:
        pose: float64 [4, 4] estimated ``T_W_C`` (the prediction when tracking failed).
        ok: whether the estimate passed every check.
        reason: why tracking was declared lost ("" when ok).
        inlier_ratio: inliers / source points with a normal at the finest level.
        rmse: RMS point-to-plane residual of the inliers, metres.
        min_eigenvalue: smallest Hessian eigenvalue per inlier (about the camera centre).
        iterations: Gauss-Newton steps taken over all levels.
    """

    pose: np.ndarray
    ok: bool
    reason: str
    inlier_ratio: float
    rmse: float
    min_eigenvalue: float
    iterations: int


def _skew(v: np.ndarray) -> np.ndarray:
    return np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])


def se3_exp(xi: np.ndarray) -> np.ndarray:
    """4x4 transform of a twist ``xi = (omega, t)`` (rotation by Rodrigues, then ``t``)."""
    omega, t = xi[:3], xi[3:]
    theta = float(np.linalg.norm(omega))
    K = _skew(omega / theta) if theta > 1e-12 else np.zeros((3, 3))
    out = np.eye(4)
    out[:3, :3] = np.eye(3) + np.sin(theta) * K + (1 - np.cos(theta)) * (K @ K)
    out[:3, 3] = t
    return out


def _halve(depth: np.ndarray, factor: int) -> np.ndarray:
    """Block mean of the valid pixels of ``factor`` x ``factor`` blocks; blocks that straddle a
    depth edge (spread over 5 % of the depth) become invalid rather than a flying pixel."""
    h, w = depth.shape[0] // factor, depth.shape[1] // factor
    blocks = depth[:h * factor, :w * factor].reshape(h, factor, w, factor)
    valid = blocks > 0
    count = valid.sum(axis=(1, 3))
    mean = blocks.sum(axis=(1, 3)) / np.maximum(count, 1)
    spread = np.where(valid, blocks, -np.inf).max(axis=(1, 3)) - np.where(
        valid, blocks, np.inf).min(axis=(1, 3))
    return np.where((count > 0) & (spread < 0.05 * mean), mean, 0.0).astype(np.float32)


def _shrink(k: Intrinsics, factor: int) -> Intrinsics:
    # Block f x f averaging: new pixel i is centred on old pixel f * i + (f - 1) / 2.
    return Intrinsics(width=k.width // factor, height=k.height // factor, fx=k.fx / factor,
                      fy=k.fy / factor, cx=(k.cx + 0.5) / factor - 0.5,
                      cy=(k.cy + 0.5) / factor - 0.5)


class ICPTracker:
    """Coarse-to-fine frame-to-model point-to-plane ICP.

    Args:
        voxel_size: of the model (sets the default residual thresholds).
        max_width: frames wider than this are subsampled by an integer factor first (speed).
        levels: pyramid levels (each halves the resolution).
        iterations: Gauss-Newton steps per level, coarse to fine.
        max_dist: association distance per level, coarse to fine, metres.
        min_inlier_ratio, max_rmse, min_eigenvalue: loss checks (module docstring).
        max_translation, max_rotation_deg: the largest credible change from the prediction.
        noise_floor, noise_per_m2: depth noise model ``sigma = floor + per_m2 * z^2`` (metres)
            that weights the residuals; the default suits a D435 at 640x480 after smoothing.
    """

    def __init__(self, voxel_size: float, max_width: int = 320, levels: int = 3,
                 iterations: tuple[int, ...] = (10, 6, 4),
                 max_dist: tuple[float, ...] = (0.15, 0.08, 0.04),
                 min_inlier_ratio: float = 0.3, max_rmse: float | None = None,
                 min_eigenvalue: float = 2e-3, max_translation: float = 0.3,
                 max_rotation_deg: float = 30.0, noise_floor: float = 0.002,
                 noise_per_m2: float = 0.003) -> None:
        if len(iterations) != levels or len(max_dist) != levels:
            raise ValueError(f"iterations and max_dist need one entry per level ({levels})")
        self.voxel_size = float(voxel_size)
        self.max_width, self.levels = int(max_width), int(levels)
        self.iterations, self.max_dist = tuple(iterations), tuple(max_dist)
        self.min_inlier_ratio = float(min_inlier_ratio)
        self.max_rmse = float(max_rmse) if max_rmse is not None else max(0.02, 1.5 * voxel_size)
        self.min_eigenvalue = float(min_eigenvalue)
        self.max_translation = float(max_translation)
        self.max_rotation = np.deg2rad(max_rotation_deg)
        self.noise_floor, self.noise_per_m2 = float(noise_floor), float(noise_per_m2)

    def _pyramid(self, frame: Frame) -> list[tuple[np.ndarray, np.ndarray, Intrinsics]]:
        """(vertices, normals, intrinsics) per level, finest first: the depth is reduced to at
        most ``max_width`` pixels, smoothed (bilateral), then halved per level."""
        k = frame.intrinsics
        factor = max(1, int(np.ceil(k.width / self.max_width)))
        depth = frame.depth_m()
        if factor > 1:
            depth, k = _halve(depth, factor), _shrink(k, factor)
        depth = bilateral_depth(depth)
        levels = []
        for level in range(self.levels):
            if level:
                depth, k = _halve(depth, 2), _shrink(k, 2)
            vertices, normals = vertex_normal_map(depth, (k.fx, k.fy, k.cx, k.cy))
            levels.append((vertices, normals, k))
        return levels

    def track(self, volume: TSDFVolume, frame: Frame, prediction: np.ndarray,
              model_pose: np.ndarray) -> TrackingResult:
        """Align ``frame`` to ``volume`` ray-cast from ``model_pose``, starting at
        ``prediction`` (both ``T_W_C`` float64 [4, 4])."""
        src = self._pyramid(frame)
        # One ray cast at the finest level; coarser model maps are its every 2^l-th pixel, with
        # the intrinsics of that subsampling (association only needs them to be consistent).
        k0 = src[0][2]
        finest = volume.raycast(model_pose, k0)
        models = []
        for level in range(self.levels):
            f = 2 ** level
            models.append((np.ascontiguousarray(finest.vertices[::f, ::f]),
                           np.ascontiguousarray(finest.normals[::f, ::f]),
                           (k0.fx / f, k0.fy / f, k0.cx / f, k0.cy / f)))
        pose = np.array(prediction, dtype=np.float64)
        steps = 0
        for level in reversed(range(self.levels)):
            vertices, normals, _ = src[level]
            model_vertices, model_normals, model_k = models[level]
            for _ in range(self.iterations[level]):
                A, b, inliers, _, _ = point_to_plane_system(
                    vertices, normals, pose, model_vertices, model_normals, model_pose, model_k,
                    self.max_dist[level],
                    noise_floor=self.noise_floor, noise_per_m2=self.noise_per_m2)
                if inliers < 50:
                    break
                try:
                    xi = -np.linalg.solve(A + 1e-9 * np.eye(6), b)
                except np.linalg.LinAlgError:
                    break
                pose = se3_exp(xi) @ pose
                steps += 1
                if np.linalg.norm(xi[:3]) < 1e-4 and np.linalg.norm(xi[3:]) < 1e-4:
                    break
        # Final statistics at the finest level and the converged pose, unweighted (unit sigma,
        # no Huber) so the Hessian check is in plain geometric units.
        vertices, normals, _ = src[0]
        model_vertices, model_normals, model_k = models[0]
        A, _, inliers, valid, sum_sq = point_to_plane_system(
            vertices, normals, pose, model_vertices, model_normals, model_pose, model_k,
            self.max_dist[0], noise_floor=1.0, noise_per_m2=0.0, huber=1e9)
        ratio = inliers / valid if valid else 0.0
        rmse = float(np.sqrt(sum_sq / inliers)) if inliers else float("inf")
        eig = self._min_eigenvalue(A, inliers, pose[:3, 3])
        reason = self._check(pose, prediction, inliers, ratio, rmse, eig)
        return TrackingResult(pose=pose if not reason else np.array(prediction, dtype=np.float64),
                              ok=not reason, reason=reason, inlier_ratio=float(ratio), rmse=rmse,
                              min_eigenvalue=eig, iterations=steps)

    @staticmethod
    def _min_eigenvalue(A: np.ndarray, inliers: int, centre: np.ndarray) -> float:
        """Smallest eigenvalue of the Hessian per inlier, with rotations about the camera
        centre (so it does not depend on where the world origin is)."""
        if inliers == 0:
            return 0.0
        # (omega, v) about the origin = (omega, v' - c x omega) about the centre c.
        M_inv = np.eye(6)
        M_inv[3:, :3] = _skew(centre)
        H = M_inv.T @ A @ M_inv / inliers
        return float(np.linalg.eigvalsh(H)[0])

    def _check(self, pose: np.ndarray, prediction: np.ndarray, inliers: int, ratio: float,
               rmse: float, eig: float) -> str:
        if inliers < 100:
            return f"only {inliers} points matched the model"
        if ratio < self.min_inlier_ratio:
            return f"inlier ratio {ratio:.2f} < {self.min_inlier_ratio:.2f}"
        if rmse > self.max_rmse:
            return f"residual {rmse * 100:.1f} cm > {self.max_rmse * 100:.1f} cm"
        if eig < self.min_eigenvalue:
            return f"degenerate geometry (Hessian eigenvalue {eig:.2e} < {self.min_eigenvalue:.0e})"
        delta = np.linalg.inv(prediction) @ pose
        angle = np.arccos(np.clip((np.trace(delta[:3, :3]) - 1) / 2, -1, 1))
        if np.linalg.norm(delta[:3, 3]) > self.max_translation or angle > self.max_rotation:
            return "pose jumped farther than a camera moves between frames"
        return ""
