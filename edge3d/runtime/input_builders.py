"""Input builders: from a point cloud and a manifest's ``preprocess`` section to a network's
feeds, one per backbone family (no torch).

A method's description names its backbone; the builder registered for it here checks the
manifest's ``preprocess`` section when a package loads and builds the feeds at every call,
with the same :mod:`edge3d.runtime.preprocess` functions the training data loader uses, so the
network sees the same neighbourhoods in training, export and on the robot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge3d.runtime import preprocess

FEATURE_CHANNELS = {"rgb": 3, "xyz": 3, "normals": 3}  # preprocess.point_features


@dataclass(frozen=True)
class InputBuilder:
    """How one backbone family's inputs are built at run time.

    Attributes:
        backbone: the backbone name (``edge3d.models.backbones.BACKBONES``).
        check: ``(preprocess section) -> [problem]``, empty when the section is usable.
        build: ``(points, colors, voxel_size, preprocess section) -> (feeds, point_map)``, where
            ``point_map`` (int32 [P]) is the output row each point reads.
    """

    backbone: str
    check: Callable[[Mapping[str, Any]], list[str]]
    build: Callable[[np.ndarray, np.ndarray | None, float, Mapping[str, Any]],
                    tuple[dict[str, np.ndarray], np.ndarray]]


def feature_width(features: Any) -> int:
    """Input channels of a list of per-point feature names (1 for none: a constant)."""
    return sum(FEATURE_CHANNELS[f] for f in features) or 1


def check_features(features: Any) -> list[str]:
    """Problems with a manifest's ``features`` list."""
    if isinstance(features, list) and len(set(map(str, features))) == len(features) and \
            all(isinstance(f, str) and f in FEATURE_CHANNELS for f in features):
        return []
    return [f"features must be a list of distinct names from {', '.join(FEATURE_CHANNELS)}, "
            f"got {features!r}"]


def runtime_features(points: np.ndarray, colors: np.ndarray | None, features: Any
                     ) -> np.ndarray:
    """The per-point features a model was trained with, from what a Segmenter receives."""
    if "normals" in features:
        raise ValueError("this model was trained with normals as an input feature, which "
                         "Segmenter.segment(points, colors) does not receive; re-train it "
                         "without 'normals' in data.features")
    return preprocess.point_features(points, colors, None, features)


def _check_sparse_voxels(pre: Mapping[str, Any]) -> list[str]:
    missing = [k for k in ("levels", "kernel_size", "features") if k not in pre]
    if missing:
        return [f"it lacks {', '.join(missing)}"]
    problems = []
    if not (_is_int(pre["levels"]) and 1 <= pre["levels"] <= 8):
        problems.append(f"levels must be an integer from 1 to 8, got {pre['levels']!r}")
    if not (_is_int(pre["kernel_size"]) and pre["kernel_size"] in (1, 3, 5)):
        problems.append(f"kernel_size must be 1, 3 or 5, got {pre['kernel_size']!r}")
    return problems + check_features(pre["features"])


def _build_sparse_voxels(points: np.ndarray, colors: np.ndarray | None, voxel_size: float,
                         pre: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    feats = runtime_features(points, colors, pre["features"])
    net = preprocess.sparse_unet_inputs(points, feats, voxel_size, int(pre["levels"]),
                                        int(pre["kernel_size"]))
    arrays = dict(net.arrays)
    return arrays, arrays.pop("point_map")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


#: backbone -> its builder
INPUT_BUILDERS: dict[str, InputBuilder] = {
    "sparse_unet": InputBuilder("sparse_unet", _check_sparse_voxels, _build_sparse_voxels),
}


def input_builder(backbone: str) -> InputBuilder:
    """The builder of ``backbone``; KeyError naming the known ones otherwise."""
    if backbone not in INPUT_BUILDERS:
        raise KeyError(f"no runtime input builder for backbone {backbone!r} (known: "
                       f"{', '.join(INPUT_BUILDERS)})")
    return INPUT_BUILDERS[backbone]
