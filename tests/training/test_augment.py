"""Augmentation keeps shapes rigid up to scale, keeps labels, and is seeded."""

from __future__ import annotations

import numpy as np

from training.data.augment import augment
from training.data.scenes import SyntheticScenes

CONFIG = {"enabled": True, "rotate_z": True, "flip_x": 0.5, "flip_y": 0.5,
          "scale": [0.8, 1.2], "jitter": 0.0, "color_jitter": 0.1}


def test_rigid_up_to_scale_labels_kept_and_reproducible() -> None:
    scene = SyntheticScenes("toy", [5], 0.1)[0]
    out = augment(scene, CONFIG, np.random.default_rng(7))
    again = augment(scene, CONFIG, np.random.default_rng(7))
    np.testing.assert_array_equal(out.positions, again.positions)
    np.testing.assert_array_equal(out.semantic, scene.semantic)
    np.testing.assert_array_equal(out.instance, scene.instance)
    i, j = np.random.default_rng(0).integers(0, len(scene), (2, 500))
    d0 = np.linalg.norm(scene.positions[i] - scene.positions[j], axis=1)
    d1 = np.linalg.norm(out.positions[i] - out.positions[j], axis=1)
    ratio = d1[d0 > 0.05] / d0[d0 > 0.05]
    assert np.ptp(ratio) < 1e-4 and 0.8 <= ratio.mean() <= 1.2
    # z stays vertical: heights relative to the centroid scale but do not mix with x, y.
    dz0 = scene.positions[:, 2] - scene.positions[:, 2].mean()
    dz1 = out.positions[:, 2] - out.positions[:, 2].mean()
    np.testing.assert_allclose(dz1, dz0 * ratio.mean(), atol=1e-4)
    assert out.colors.min() >= 0 and out.colors.max() <= 1
    assert not np.allclose(out.colors, scene.colors)
    assert augment(scene, dict(CONFIG, enabled=False), np.random.default_rng(0)) is scene
