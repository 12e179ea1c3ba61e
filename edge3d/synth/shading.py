"""View-independent Lambertian shading shared by rendered colour images and labelled points.

One fixed world light means a surface has the same colour in every frame and in the point cloud,
so fused map colours can be compared with ground truth.
"""

from __future__ import annotations

import numpy as np

LIGHT_DIRECTION = np.array([0.35, 0.55, 1.0]) / np.linalg.norm([0.35, 0.55, 1.0])
AMBIENT = 0.55


def shade(base_colors: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Shaded colours uint8 [N, 3] from base colours uint8 [N, 3] and world unit normals [N, 3]
    (the formula of the renderer's sensor model, in float64)."""
    lambert = np.clip(normals.astype(np.float64) @ LIGHT_DIRECTION, 0.0, None)
    gain = AMBIENT + (1.0 - AMBIENT) * lambert
    return np.clip(base_colors * gain[:, None] + 0.5, 0.0, 255.0).astype(np.uint8)
