"""Input builders: from points, per-point features and a ``preprocess`` section (a model
package's, or one built from a training config) to a network's inputs, one per backbone
family (no torch).

The training data loader and the runtime call the same builder, so the network sees the same
neighbourhoods in training, export and on the robot. A method's description names its
backbone; the builder checks the manifest's ``preprocess`` section when a package loads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge3d.runtime import preprocess
from edge3d.runtime.methods.param_types import matches
from edge3d.runtime.preprocess import NetworkInputs

FEATURE_CHANNELS = {"rgb": 3, "xyz": 3, "normals": 3}  # preprocess.point_features


@dataclass(frozen=True)
class InputBuilder:
    """How one backbone family's inputs are built.

    Attributes:
        backbone: the backbone name (``edge3d.models.backbones.BACKBONES``).
        check: ``(preprocess section) -> [problem]``, empty when the section is usable.
        build: ``(positions float32 [P, 3], features float32 [P, C], voxel_size, preprocess
            section) -> NetworkInputs``; ``point_map`` in it (when present) is the output row
            each point reads.
    """

    backbone: str
    check: Callable[[Mapping[str, Any]], list[str]]
    build: Callable[[np.ndarray, np.ndarray, float, Mapping[str, Any]], NetworkInputs]


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


def runtime_inputs(builder: InputBuilder, points: np.ndarray, colors: np.ndarray | None,
                   voxel_size: float, pre: Mapping[str, Any]
                   ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The network's feeds for a cloud as a Segmenter receives it (points and colours), and
    the int32 [P] output row of each point."""
    if "normals" in pre["features"]:
        raise ValueError("this model was trained with normals as an input feature, which "
                         "Segmenter.segment(points, colors) does not receive; re-train it "
                         "without 'normals' in data.features")
    feats = preprocess.point_features(points, colors, None, pre["features"])
    arrays = dict(builder.build(points, feats, voxel_size, pre).arrays)
    point_map = arrays.pop("point_map", None)
    if point_map is None:  # the network's rows are the points
        point_map = np.arange(len(points), dtype=np.int32)
    return arrays, point_map


def _missing(pre: Mapping[str, Any], fields: tuple[str, ...]) -> list[str]:
    missing = [k for k in (*fields, "features") if k not in pre]
    return [f"it lacks {', '.join(missing)}"] if missing else []


def _positive(values: Any, kind: type) -> bool:
    """A non-empty list of positive numbers of ``kind``."""
    return isinstance(values, list) and bool(values) and matches(values, tuple[kind, ...]) \
        and all(v > 0 for v in values)


def _check_sparse_voxels(pre: Mapping[str, Any]) -> list[str]:
    problems = _missing(pre, ("levels", "kernel_size"))
    if problems:
        return problems
    if not (matches(pre["levels"], int) and 1 <= pre["levels"] <= 8):
        problems.append(f"levels must be an integer from 1 to 8, got {pre['levels']!r}")
    if not (matches(pre["kernel_size"], int) and pre["kernel_size"] in (1, 3, 5)):
        problems.append(f"kernel_size must be 1, 3 or 5, got {pre['kernel_size']!r}")
    return problems + check_features(pre["features"])


def _build_sparse_voxels(positions: np.ndarray, features: np.ndarray, voxel_size: float,
                         pre: Mapping[str, Any]) -> NetworkInputs:
    return preprocess.sparse_unet_inputs(positions, features, voxel_size, int(pre["levels"]),
                                         int(pre["kernel_size"]))


def _check_point_sets(pre: Mapping[str, Any]) -> list[str]:
    problems = _missing(pre, ("npoints", "radii", "nsamples"))
    if problems:
        return problems
    if not (_positive(pre["npoints"], int) and _positive(pre["nsamples"], int)):
        problems.append(f"npoints and nsamples must be lists of positive integers, got "
                        f"{pre['npoints']!r} and {pre['nsamples']!r}")
    radii = pre["radii"]
    if not _positive(radii, float):
        problems.append(f"radii must be a list of positive metres, got {radii!r}")
    if not problems and not len(pre["npoints"]) == len(radii) == len(pre["nsamples"]):
        problems.append("npoints, radii and nsamples must have one entry per level")
    if not isinstance(pre.get("voxelize", False), bool):
        problems.append(f"voxelize must be true or false, got {pre['voxelize']!r}")
    return problems + check_features(pre["features"])


def _build_point_sets(positions: np.ndarray, features: np.ndarray, voxel_size: float,
                      pre: Mapping[str, Any]) -> NetworkInputs:
    if not pre.get("voxelize", False):
        return preprocess.pointnet2_inputs(positions, features, pre["npoints"], pre["radii"],
                                           pre["nsamples"])
    from edge3d import native

    grid = native.voxelize(positions, voxel_size, features)
    net = preprocess.pointnet2_inputs(grid.centroids, grid.features, pre["npoints"],
                                      pre["radii"], pre["nsamples"])
    net.arrays["point_map"] = grid.point_to_voxel
    return net


def _check_dense_grid(pre: Mapping[str, Any]) -> list[str]:
    problems = _missing(pre, ("grid_shape",))
    if problems:
        return problems
    shape = pre["grid_shape"]
    if not (isinstance(shape, list) and matches(shape, tuple[int, int, int])
            and all(s >= 2 and s % 2 == 0 for s in shape)):
        problems.append(f"grid_shape must be 3 even integers >= 2, got {shape!r}")
    return problems + check_features(pre["features"])


def _build_dense_grid(positions: np.ndarray, features: np.ndarray, voxel_size: float,
                      pre: Mapping[str, Any]) -> NetworkInputs:
    # ``origin`` (metres) places a crop; without it the grid starts at the points' minimum.
    return preprocess.dense_grid_inputs(positions, features, voxel_size, pre["grid_shape"],
                                        pre.get("origin"))


#: backbone -> its builder
INPUT_BUILDERS: dict[str, InputBuilder] = {
    "sparse_unet": InputBuilder("sparse_unet", _check_sparse_voxels, _build_sparse_voxels),
    "pointnet2": InputBuilder("pointnet2", _check_point_sets, _build_point_sets),
    "dense_cnn": InputBuilder("dense_cnn", _check_dense_grid, _build_dense_grid),
}


def input_builder(backbone: str) -> InputBuilder:
    """The builder of ``backbone``; KeyError naming the known ones otherwise."""
    if backbone not in INPUT_BUILDERS:
        raise KeyError(f"no input builder for backbone {backbone!r} (known: "
                       f"{', '.join(INPUT_BUILDERS)})")
    return INPUT_BUILDERS[backbone]
