import numpy as np

from training.losses.voxel_targets import voxel_labels


def test_voxel_labels_majority():
    p2v = np.array([0, 0, 0, 1, 1, 2])
    labels = np.array([5, 7, 7, 3, 9, 4], np.int64)
    # voxel 1 ties 3 vs 9: the smallest wins
    assert voxel_labels(p2v, labels, 4).tolist() == [7, 3, 4, 0]
