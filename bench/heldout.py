"""The held-out synthetic rooms every accuracy benchmark evaluates on (never used in training:
training uses seeds 0-149, validation 500-502, export validation 900001-900002).

``{subset: (seeds, make_world keyword arguments)}``:

- ``rooms``: ``make_world(seed)`` for seeds 1000-1019 (30 % of floor objects touching another,
  clutter on tables);
- ``touching``: seeds 2000-2009 with ``touching_fraction=1.0``;
- ``apart``: seeds 2000-2009 with ``touching_fraction=0.0`` and ``on_table_probability=0.0``.
"""

import numpy as np
from tqdm import tqdm

from edge3d import synth
from edge3d.eval import evaluate_segmentation

SUBSETS = {
    "rooms": (range(1000, 1020), {}),
    "touching": (range(2000, 2010), {"touching_fraction": 1.0}),
    "apart": (range(2000, 2010), {"touching_fraction": 0.0, "on_table_probability": 0.0}),
}


def evaluate_rooms(seeds, params, segmenters):
    """Segment each room's 2 cm surface samples with every segmenter: ({method: (agnostic
    eval, class-aware eval, mean timings, instances per room)}, mean points, GT instances per
    room)."""
    pairs = {name: [] for name in segmenters}
    timings = {name: {} for name in segmenters}
    points = []
    for s in tqdm(list(seeds), desc="rooms", leave=False):
        lp = synth.make_world(s, **params).surface_points(0.02)
        points.append(len(lp))
        for name, seg in segmenters.items():
            r = seg.segment(lp.positions, lp.colors)
            pairs[name].append((lp.gt_ids, r))
            for k, v in r.timings.items():
                timings[name].setdefault(k, []).append(v)
    out = {}
    for name in segmenters:
        agn = evaluate_segmentation(pairs[name], synth.CLASS_NAMES, synth.BACKGROUND_CLASSES,
                                    agnostic=True)
        cls = evaluate_segmentation(pairs[name], synth.CLASS_NAMES, synth.BACKGROUND_CLASSES)
        found = np.mean([len(r.instances) for _, r in pairs[name]])
        out[name] = (agn, cls, {k: float(np.mean(v)) for k, v in timings[name].items()}, found)
    gt = np.mean([len(np.unique(g[(g % 1000 > 0) & ~np.isin(g // 1000,
                                                             synth.BACKGROUND_CLASSES)]))
                  for g, _ in pairs[next(iter(segmenters))]])
    return out, int(np.mean(points)), gt
