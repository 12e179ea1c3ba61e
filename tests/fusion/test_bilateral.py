"""The depth bilateral filter (edge3d.native.icp.bilateral_depth) against a NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.native.icp import bilateral_depth


def reference(depth: np.ndarray, radius: int = 2, sigma_px: float = 1.5,
              range_min: float = 0.005, range_per_m2: float = 0.025) -> np.ndarray:
    """A horizontal then a vertical pass; weights spatial * exp(-dz^2 / (2 sr^2)), dropped at
    dz^2 / (2 sr^2) >= 8; invalid pixels (<= 0, not finite) stay 0 and weigh nothing."""
    clean = np.where(np.isfinite(depth) & (depth > 0), depth, 0).astype(np.float32)

    def one_pass(img: np.ndarray, axis: int) -> np.ndarray:
        sr = np.maximum(np.float32(range_min), np.float32(range_per_m2) * img * img)
        inv2s = np.float32(1) / (np.float32(2) * sr * sr)
        total = np.zeros(img.shape, np.float64)
        weight = np.zeros(img.shape, np.float64)
        padded = np.pad(img, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)])
        for d in range(-radius, radius + 1):
            nb = np.take(padded, np.arange(img.shape[axis]) + radius + d, axis=axis)
            x = (nb - img) ** 2 * inv2s
            w = np.exp(-d * d / (2 * sigma_px**2)) * np.exp(-x.astype(np.float64))
            w = np.where((nb > 0) & (x < 8), w, 0)
            total += w * nb
            weight += w
        return np.where(img > 0, total / np.where(weight > 0, weight, 1), 0).astype(np.float32)

    return one_pass(one_pass(clean, 1), 0)


@pytest.mark.parametrize(("shape", "radius"), [((48, 64), 2), ((31, 17), 3), ((5, 200), 1),
                                               ((480, 640), 2), ((1, 1), 2)])
def test_matches_the_numpy_reference(shape: tuple[int, int], radius: int) -> None:
    rng = np.random.default_rng(radius)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    depth = (1.2 + 0.01 * xx + 0.6 * (yy > shape[0] // 2)
             + rng.normal(0, 0.01, shape)).astype(np.float32)
    depth[rng.random(shape) < 0.08] = 0
    depth[rng.random(shape) < 0.01] = np.nan
    got = bilateral_depth(depth, radius=radius)
    np.testing.assert_allclose(got, reference(depth, radius=radius), rtol=1e-6, atol=1e-6)


def test_keeps_holes_and_depth_edges() -> None:
    depth = np.full((40, 40), 1.0, np.float32)
    depth[:, 20:] = 2.0  # a 1 m step: far beyond the range sigma
    depth[5, 5] = 0
    depth[7, 7] = np.inf
    out = bilateral_depth(depth)
    assert out[5, 5] == 0 and out[7, 7] == 0
    np.testing.assert_array_equal(out[:, 19], 1.0)
    np.testing.assert_array_equal(out[:, 20], 2.0)


def test_smooths_noise() -> None:
    rng = np.random.default_rng(0)
    depth = (2.0 + rng.normal(0, 0.02, (100, 100))).astype(np.float32)
    assert bilateral_depth(depth).std() < 0.6 * depth.std()
