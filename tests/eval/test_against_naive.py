"""The vectorised evaluator equals a literal per-pair transcription of the protocol on random
scenes full of edge cases (overlaps, duplicates, small masks, void, ties)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from edge3d.eval import PredInstance, evaluate_scannet
from tests.eval.naive_protocol import naive_ap_matrix

CLASS_IDS = [4, 5, 7]


def random_case(rng: np.random.Generator):
    gt, preds = {}, {}
    for s in range(int(rng.integers(1, 4))):
        v = int(rng.integers(200, 1500))
        ids = rng.choice([0, 1000, 2000, 40001], size=v)
        perm, pos, objects = rng.permutation(v), 0, []
        for k in range(int(rng.integers(0, 7))):
            size = min(int(rng.choice([20, 99, 100, 101, 150, 300])), v - pos)
            members = perm[pos:pos + size]
            pos += size
            gid = int(rng.choice([*CLASS_IDS, 3])) * 1000 + k + 1
            ids[members] = gid
            objects.append((gid, members))
        scene_preds = []
        for _ in range(int(rng.integers(0, 10))):
            mask = np.zeros(v, bool)
            label = int(rng.choice([*CLASS_IDS, 1]))
            if objects and rng.random() < 0.7:
                gid, members = objects[int(rng.integers(len(objects)))]
                mask[members[: int(len(members) * rng.choice([0.5, 0.6, 0.8, 1.0]))]] = True
                label = gid // 1000 if rng.random() < 0.8 else label
            extra = int(rng.choice([0, 10, 60, 150]))
            mask[rng.choice(v, size=extra, replace=False)] = True
            if scene_preds and rng.random() < 0.15:
                mask = scene_preds[-1].mask.copy()
            scene_preds.append(PredInstance(mask, label, float(rng.choice([0.2, 0.5, 0.5, 0.9]))))
        gt[f"s{s}"] = ids.astype(np.int64)
        preds[f"s{s}"] = scene_preds
    return gt, preds


@pytest.mark.parametrize("seed", range(60))
def test_equals_the_literal_transcription(seed: int) -> None:
    gt, preds = random_case(np.random.default_rng(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = evaluate_scannet(gt, preds, [str(c) for c in CLASS_IDS], CLASS_IDS)
    np.testing.assert_allclose(fast.ap_matrix, naive_ap_matrix(gt, preds, CLASS_IDS),
                               atol=1e-12, equal_nan=True)
