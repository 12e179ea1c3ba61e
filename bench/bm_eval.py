"""ScanNet-protocol evaluation speed: edge3d.eval's one-bincount association against the
per-pair mask comparison the official script does, side by side in one run.

    .venv/bin/python bench/bm_eval.py [--scenes 20] [--vertices 150000]

Prints a markdown table for docs/benchmarks/eval.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from edge3d.eval import SCANNET_VALID_CLASS_IDS, PredInstance, evaluate_scannet
from edge3d.eval.matching import associate_scene


def make_scene(rng: np.random.Generator, vertices: int, num_gt: int,
               num_pred: int) -> tuple[np.ndarray, list[PredInstance]]:
    """ScanNet-like: num_gt objects of 300..4000 vertices, a third of the scene wall, and
    predictions that are noisy copies of objects."""
    ids = np.zeros(vertices, np.int64)
    perm = rng.permutation(vertices)
    pos, objects = 0, []
    for k, size in enumerate(rng.integers(300, 4000, num_gt)):
        members = perm[pos:pos + size]
        pos += size
        gid = int(rng.choice(SCANNET_VALID_CLASS_IDS)) * 1000 + k + 1
        ids[members] = gid
        objects.append((gid, members))
    ids[perm[pos:pos + vertices // 3]] = 1000
    preds = []
    for _ in range(num_pred):
        gid, members = objects[int(rng.integers(len(objects)))]
        mask = np.zeros(vertices, bool)
        mask[members[rng.random(len(members)) > 0.2]] = True
        mask[rng.integers(0, vertices, 200)] = True
        preds.append(PredInstance(mask, gid // 1000, float(rng.random())))
    return ids, preds


def per_pair_association(ids: np.ndarray, preds: list[PredInstance]) -> int:
    """The official script's association: one full-length mask comparison per (prediction,
    ground-truth instance of its class) pair, plus one for the void count."""
    valid = np.array(SCANNET_VALID_CLASS_IDS)
    void = ~np.isin(ids // 1000, valid)
    instances = [g for g in np.unique(ids) if g != 0 and g // 1000 in valid]
    nonzero = 0
    for p in preds:
        mask = np.not_equal(p.mask, 0)
        if np.count_nonzero(mask) < 100:
            continue
        np.count_nonzero(void & mask)
        for g in instances:
            if g // 1000 == p.label_id:
                nonzero += np.count_nonzero((ids == g) & mask) > 0
    return nonzero


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=20)
    ap.add_argument("--vertices", type=int, default=150_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print("| GT / preds per scene | per-pair association (ms/scene) | edge3d association "
          "(ms/scene) | speed-up | edge3d full evaluation (ms/scene) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    valid = np.array(SCANNET_VALID_CLASS_IDS)
    for num_gt, num_pred in ((20, 30), (40, 60), (80, 120)):
        scenes = [make_scene(rng, args.vertices, num_gt, num_pred) for _ in range(args.scenes)]
        gt = {f"s{i}": s[0] for i, s in enumerate(scenes)}
        preds = {f"s{i}": s[1] for i, s in enumerate(scenes)}
        t_pair = best_of(lambda scenes=scenes: [per_pair_association(*s) for s in scenes],
                         args.repeats)
        t_ours = best_of(lambda scenes=scenes: [associate_scene("s", g, p, valid, False, 100, {})
                                                for g, p in scenes], args.repeats)
        t_full = best_of(lambda gt=gt, preds=preds: evaluate_scannet(gt, preds), args.repeats)
        n = args.scenes
        print(f"| {num_gt} / {num_pred} | {t_pair / n * 1e3:.0f} | {t_ours / n * 1e3:.0f} | "
              f"{t_pair / t_ours:.1f}x | {t_full / n * 1e3:.0f} |")


if __name__ == "__main__":
    main()
