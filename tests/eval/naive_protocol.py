"""A slow, literal transcription of the ScanNet protocol (research/methods.md section 6): one
mask comparison per pair, one loop per rule. The fast evaluator is checked against it on random
scenes so that vectorising never changes a number."""

from __future__ import annotations

import numpy as np

from edge3d.eval import OVERLAPS


def naive_ap_matrix(gt: dict, preds: dict, class_ids: list[int], min_size: int = 100):
    """AP [classes, thresholds] for in-memory predictions without shared keys."""
    scenes = []
    for s in preds:
        ids = gt[s]
        void = ~np.isin(ids // 1000, class_ids)
        insts = [(int(g), int((ids == g).sum())) for g in np.unique(ids)
                 if g != 0 and (g // 1000) in class_ids]
        kept = []
        for p in preds[s]:
            mask = np.asarray(p.mask) != 0
            if p.label_id not in class_ids or mask.sum() < min_size:
                continue
            inter = {g: int(((ids == g) & mask).sum()) for g, _ in insts if g // 1000 == p.label_id}
            kept.append(dict(label=p.label_id, score=p.score, n=int(mask.sum()),
                             void=int((void & mask).sum()), inter=inter))
        scenes.append((insts, kept))
    ap = np.zeros((len(class_ids), len(OVERLAPS)))
    for t, th in enumerate(OVERLAPS):
        visited = set()
        for c, cid in enumerate(class_ids):
            y, hard_fn, has_gt, has_pred = [], 0, False, False
            for si, (insts, kept) in enumerate(scenes):
                mine = [(k, p) for k, p in enumerate(kept) if p["label"] == cid]
                has_pred |= bool(mine)
                for g, n in insts:
                    if g // 1000 != cid or g < 1000 or n < min_size:
                        continue
                    has_gt = True
                    score = None
                    for k, p in mine:
                        inter = p["inter"][g]
                        if inter == 0 or (si, k) in visited:
                            continue
                        if inter / (n + p["n"] - inter) > th:
                            if score is None:
                                score = p["score"]
                                visited.add((si, k))
                            else:
                                y.append((0.0, min(score, p["score"])))
                                score = max(score, p["score"])
                    if score is None:
                        hard_fn += 1
                    else:
                        y.append((1.0, score))
                sizes = dict(insts)
                for _, p in mine:
                    if any(i / (sizes[g] + p["n"] - i) > th for g, i in p["inter"].items() if i):
                        continue
                    ignore = p["void"] + sum(i * ((g < 1000) + (sizes[g] < min_size))
                                             for g, i in p["inter"].items())
                    if ignore / p["n"] <= th:
                        y.append((0.0, p["score"]))
            ap[c, t] = (np.nan if not has_gt else 0.0 if not has_pred or not y
                        else _curve(y, hard_fn))
    return ap


def _curve(entries: list[tuple[float, float]], hard_fn: int) -> float:
    trues = np.array([e[0] for e in entries])
    scores = np.array([e[1] for e in entries])
    points = []
    for s in np.unique(scores):
        keep = scores >= s
        tp = trues[keep].sum()
        points.append((tp / keep.sum(), tp / (trues.sum() + hard_fn)))
    points.append((1.0, 0.0))
    p = np.array([q[0] for q in points])
    r = np.array([q[1] for q in points])
    prev = np.concatenate([[r[0]], r[:-1]])
    nxt = np.concatenate([r[1:], [0.0]])
    return float(np.sum(p * (prev - nxt) / 2))
