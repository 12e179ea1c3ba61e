"""A batch (concatenated samples with re-offset indices) gives each sample's own outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edge3d.models.toy_semantic import ToySemantic
from training.config import load_config
from training.data.batching import concat_samples
from training.data.dataset import Collate, SegmentationDataset, feature_channels
from training.data.scenes import SyntheticScenes
from training.losses.toy_semantic import build_targets, target_spec

BACKBONES = {
    "sparse_unet": {"channels": [8, 16, 16]},
    "pointnet2": {"npoints": [128, 32], "radii": [0.2, 0.4], "nsamples": [8, 8],
                  "sa_channels": [[8], [16]], "fp_channels": [[16], [8]]},
    "dense_cnn": {"width": 1, "stem_kernel": 3},
}


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_batched_outputs_equal_per_sample_outputs(backbone: str) -> None:
    torch.manual_seed(0)
    cfg = load_config(None, ["method.name=toy_semantic", "method.num_classes=6",
                             f"model.backbone={backbone}", "data.spacing=0.1",
                             "data.voxel_size=0.1", "data.grid_shape=[32,32,16]",
                             "data.features=[rgb,xyz]"])
    cfg["model"]["backbone_config"] = dict(BACKBONES[backbone], in_channels=feature_channels(cfg))
    data = SegmentationDataset(SyntheticScenes("toy", [1, 2, 3], 0.1), cfg, build_targets,
                               train=True)
    model = ToySemantic(backbone, cfg["model"]["backbone_config"], 6).eval()
    collate = Collate(list(model.input_spec()) + target_spec(cfg))
    samples = [data[i] for i in range(3)]
    names = [s.name for s in model.input_spec()]
    with torch.no_grad():
        whole = model({n: v for n, v in collate(samples).items() if n in names})
        parts = [model({n: v for n, v in collate([s]).items() if n in names}) for s in samples]
    torch.testing.assert_close(whole, torch.cat(parts), rtol=1e-5, atol=1e-5)


def test_padding_maps_to_the_batch_padding_row() -> None:
    from edge3d.tensor_spec import TensorSpec
    from training.data.batching import Sample

    specs = [TensorSpec("f", "float32", ("M", 1)),
             TensorSpec("nbr", "int32", ("M", 2), index_of="M", padded=True),
             TensorSpec("up", "int32", ("P",), index_of="M", index_scale=8)]
    a = Sample({"f": np.zeros((2, 1), np.float32), "nbr": np.array([[0, 2], [1, 2]], np.int32),
                "up": np.array([3, 9], np.int32)})
    b = Sample({"f": np.zeros((3, 1), np.float32),
                "nbr": np.array([[3, 0], [2, 1], [3, 3]], np.int32),
                "up": np.array([23], np.int32)})
    out = concat_samples([a, b], specs)
    np.testing.assert_array_equal(out["nbr"], [[0, 5], [1, 5], [5, 2], [4, 3], [5, 5]])
    np.testing.assert_array_equal(out["up"], [3, 9, 23 + 16])
    np.testing.assert_array_equal(out["point_batch"], [0, 0, 1])
