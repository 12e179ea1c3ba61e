"""Draws docs/images/evaluation_pr_curve.png: how the ScanNet protocol integrates a PR curve."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from edge3d.eval.average_precision import scannet_average_precision

OUT = Path(__file__).resolve().parent

# The worked example of docs/evaluation.md: entries by descending score, one GT missed.
SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
TRUES = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
HARD_FN = 1


def curve() -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at each unique threshold (ascending), then the artificial point."""
    total = TRUES.sum() + HARD_FN
    p, r = [], []
    for s in np.sort(np.unique(SCORES)):
        keep = SCORES >= s
        tp = TRUES[keep].sum()
        p.append(tp / keep.sum())
        r.append(tp / total)
    return np.array([*p, 1.0]), np.array([*r, 0.0])


def main() -> None:
    precision, recall = curve()
    ap = scannet_average_precision(TRUES, SCORES, HARD_FN)
    padded = np.concatenate([recall[:1], recall, [0.0]])
    # w_i = (r_{i-1} - r_{i+1}) / 2 is the span between the midpoints to both neighbours.
    lo = (padded[1:-1] + padded[2:]) / 2
    hi = (padded[:-2] + padded[1:-1]) / 2
    labels = [f"score >= {s:.1f}" for s in np.sort(np.unique(SCORES))] + ["artificial"]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for a, b, p, name in zip(lo, hi, precision, labels, strict=True):
        ax.add_patch(plt.Rectangle((a, 0), b - a, p, facecolor="tab:blue", alpha=0.3,
                                   edgecolor="tab:blue"))
        ax.text((a + b) / 2, p / 2, f"{name}\n{p:.3f} x {b - a:.3f}", ha="center",
                va="center", fontsize=7, rotation=90)
    order = np.argsort(recall, kind="stable")
    envelope = np.maximum.accumulate(precision[order][::-1])[::-1]
    ax.step(recall[order], envelope, where="post", ls="--", color="tab:gray",
            label="interpolated envelope (NOT used by ScanNet)")
    ax.plot(recall, precision, "o", color="tab:blue", ms=7,
            label="curve points: one per unique score, + artificial (r=0, p=1)")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(-0.02, 1.0)
    ax.set_ylim(0, 1.15)
    ax.set_title(f"ScanNet AP = shaded area = {ap:.4f}  (entries .9T .8F .7T .6F .5T, 1 GT missed)",
                 fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "evaluation_pr_curve.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
