"""Scene augmentation: rotation about z, mirroring, scaling, position and colour jitter.

The transforms the papers use (``research/methods.md``: SSEN 4.1 and Spherical Mask 5.1 rotate
about z, flip x/y, scale and jitter colours; 3D-BoNet uses none). Rotations are about the
vertical axis only, since every segmenter assumes a gravity-aligned, z-up world.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from training.data.scenes import Scene


def augment(scene: Scene, config: Mapping[str, Any], rng: np.random.Generator) -> Scene:
    """A randomly transformed copy of ``scene`` (the ``augment`` config section).

    Positions are transformed about the scene's centroid: rotation by a uniform angle about z
    (``rotate_z``), mirroring of x and y with probabilities ``flip_x`` / ``flip_y``, an
    isotropic scale uniform in ``scale``, then Gaussian noise of std ``jitter`` metres. Normals
    follow the rotation and mirroring. Colours get Gaussian noise of std ``color_jitter`` per
    point and channel, clipped to [0, 1]. Labels are unchanged.
    """
    if not config.get("enabled", True):
        return scene
    center = scene.positions.mean(axis=0)
    transform = np.eye(3)
    if config.get("rotate_z"):
        a = rng.uniform(0.0, 2.0 * np.pi)
        c, s = np.cos(a), np.sin(a)
        transform = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ transform
    mirror = np.ones(3)
    if rng.random() < float(config.get("flip_x", 0.0)):
        mirror[0] = -1.0
    if rng.random() < float(config.get("flip_y", 0.0)):
        mirror[1] = -1.0
    transform = np.diag(mirror) @ transform
    low, high = config.get("scale") or (1.0, 1.0)
    scale = rng.uniform(float(low), float(high))
    positions = (scene.positions - center) @ (scale * transform).T + center
    jitter = float(config.get("jitter") or 0.0)
    if jitter > 0:
        positions = positions + rng.normal(0.0, jitter, positions.shape)
    colors = scene.colors
    color_jitter = float(config.get("color_jitter") or 0.0)
    if color_jitter > 0:
        colors = np.clip(colors + rng.normal(0.0, color_jitter, colors.shape), 0.0, 1.0)
    normals = None if scene.normals is None else scene.normals @ transform.T
    return replace(scene, positions=positions.astype(np.float32),
                   colors=colors.astype(np.float32),
                   normals=None if normals is None else normals.astype(np.float32))
