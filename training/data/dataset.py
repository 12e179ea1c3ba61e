"""The training/validation dataset: scene -> augmentation -> native index building -> Sample.

``__getitem__`` runs in the DataLoader workers, so the native index builder
(``edge3d.runtime.preprocess``, which calls ``edge3d.native``) runs there too, in parallel with the
training step. Randomness is a pure function of ``(seed, epoch, index)``, so a run is
reproducible whatever the number of workers, and a resumed run sees the same data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from edge3d.models.backbones import preprocess_section
from edge3d.runtime import preprocess as model_inputs
from edge3d.runtime.input_builders import input_builder
from edge3d.tensor_spec import TensorSpec
from training.data.augment import augment
from training.data.batching import Sample, concat_samples
from training.data.scenes import Scene


def point_features(scene: Scene, names: Sequence[str]) -> np.ndarray:
    """float32 [N, C]: the per-point input features named in ``data.features``
    (:func:`edge3d.runtime.preprocess.point_features`, which the runtime uses too)."""
    return model_inputs.point_features(scene.positions, scene.colors, scene.normals, names)


def feature_channels(config: Mapping[str, Any]) -> int:
    """Input channels the features of ``data.features`` give (plus occupancy for dense grids)."""
    n = 3 * len(config["data"]["features"]) or 1
    return n + 1 if config["model"]["backbone"] == "dense_cnn" else n


def build_network_inputs(scene: Scene, config: Mapping[str, Any], rng: np.random.Generator | None
                         ) -> tuple[Scene, model_inputs.NetworkInputs]:
    """The backbone's inputs for ``scene``, by the input builder the runtime uses too (and the
    scene, cropped to the grid of a dense backbone: at random in training)."""
    data = config["data"]
    name = config["model"]["backbone"]
    pre = preprocess_section(config)
    if "grid_shape" in pre:
        inside, pre["origin"] = model_inputs.grid_crop_mask(scene.positions, data["voxel_size"],
                                                            pre["grid_shape"], rng)
        scene = scene.subset(inside)
    net = input_builder(name).build(scene.positions, point_features(scene, data["features"]),
                                    float(data["voxel_size"]), pre)
    return scene, net


class SegmentationDataset(torch.utils.data.Dataset):
    """Samples of a scene source for one method and backbone.

    Args:
        scenes: a scene source (``len`` and ``[i] -> Scene``).
        config: the training config.
        build_targets: the method's ``(scene, config) -> {name: array}``.
        train: augment and subsample (training) or not (validation).
    """

    def __init__(self, scenes: Any, config: Mapping[str, Any], build_targets: Any,
                 train: bool) -> None:
        self.scenes = scenes
        self.config = config
        self.build_targets = build_targets
        self.train = train
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch's random stream (call before iterating, in every process)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.scenes)

    def __getitem__(self, index: int) -> Sample:
        scene = self.scenes[index]
        rng = None
        if self.train:
            rng = np.random.default_rng([int(self.config["seed"]), self.epoch, int(index)])
            limit = self.config["data"].get("max_points")
            if limit and len(scene) > int(limit):
                scene = scene.subset(np.sort(rng.choice(len(scene), int(limit), replace=False)))
            scene = augment(scene, self.config["augment"], rng)
        scene, net = build_network_inputs(scene, self.config, rng)
        arrays = dict(net.arrays)
        arrays.update(self.build_targets(scene, self.config))
        return Sample(arrays, net.sizes, scene)


class Collate:
    """DataLoader ``collate_fn``: :func:`concat_samples` -> tensors, plus the scenes."""

    def __init__(self, specs: Sequence[TensorSpec], point_dim: str = "P") -> None:
        self.specs = list(specs)
        self.point_dim = point_dim

    def __call__(self, samples: Sequence[Sample]) -> dict[str, Any]:
        arrays = concat_samples(samples, self.specs, self.point_dim)
        batch: dict[str, Any] = {k: torch.from_numpy(v) for k, v in arrays.items()}
        batch["scenes"] = [s.scene for s in samples]
        return batch
