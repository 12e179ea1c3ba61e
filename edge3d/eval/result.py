"""The result of an instance-segmentation evaluation: AP per class and threshold, and its means."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np


def _json_float(x: float) -> float | None:
    # JSON has no NaN; a class without ground truth is null there.
    return None if math.isnan(x) else float(x)


@dataclass(frozen=True)
class InstanceEvalResult:
    """ScanNet-protocol AP.

    Attributes:
        class_labels: evaluated class names, in evaluation order.
        class_ids: their label ids (``("object",)`` / ``(-1,)`` for class-agnostic evaluation).
        overlaps: float64 [T] IoU thresholds: 0.50, 0.55, ..., 0.90 and 0.25 last.
        ap_matrix: float64 [C, T] AP of each class at each threshold; NaN where the class has
            no ground truth in any scene.
        num_gt: per class, ground-truth instances that count (id >= 1000, >= 100 vertices).
        num_pred: per class, predictions that count (evaluated label, >= 100 vertices).
        num_scenes: scenes evaluated.
    """

    class_labels: tuple[str, ...]
    class_ids: tuple[int, ...]
    overlaps: np.ndarray
    ap_matrix: np.ndarray
    num_gt: tuple[int, ...]
    num_pred: tuple[int, ...]
    num_scenes: int

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        o50 = np.where(np.isclose(self.overlaps, 0.5))[0]
        o25 = np.where(np.isclose(self.overlaps, 0.25))[0]
        main = np.where(np.logical_not(np.isclose(self.overlaps, 0.25)))[0]
        return main, o50, o25

    def _nanmean(self, cols: np.ndarray) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN -> NaN, as the script
            return float(np.nanmean(self.ap_matrix[:, cols]))

    @property
    def ap(self) -> float:
        """Mean over classes with ground truth and thresholds 0.50..0.90 (NaN if none)."""
        return self._nanmean(self._columns()[0])

    @property
    def ap50(self) -> float:
        """Mean over classes with ground truth at IoU 0.5."""
        return self._nanmean(self._columns()[1])

    @property
    def ap25(self) -> float:
        """Mean over classes with ground truth at IoU 0.25."""
        return self._nanmean(self._columns()[2])

    @property
    def per_class(self) -> dict[str, tuple[float, float, float]]:
        """``{name: (ap, ap50, ap25)}``; NaN for a class without ground truth."""
        main, o50, o25 = self._columns()
        return {
            name: (float(np.average(row[main])), float(np.average(row[o50])),
                   float(np.average(row[o25])))
            for name, row in zip(self.class_labels, self.ap_matrix, strict=True)
        }

    def to_dict(self) -> dict:
        """JSON-ready: ``ap``, ``ap50``, ``ap25``, ``classes`` ({name: {class_id, ap, ap50,
        ap25, num_gt, num_pred}}), ``overlaps``, ``num_scenes``; NaN is written as null."""
        return {
            "ap": _json_float(self.ap), "ap50": _json_float(self.ap50),
            "ap25": _json_float(self.ap25),
            "classes": {
                name: {"class_id": cid, "ap": _json_float(a), "ap50": _json_float(a50),
                       "ap25": _json_float(a25), "num_gt": ngt, "num_pred": npred}
                for (name, (a, a50, a25)), cid, ngt, npred in zip(
                    self.per_class.items(), self.class_ids, self.num_gt, self.num_pred,
                    strict=True)
            },
            "overlaps": [float(o) for o in self.overlaps],
            "num_scenes": self.num_scenes,
        }

    def table(self) -> str:
        """The per-class table and the means, laid out as the official script prints them."""
        width = max([15, *(len(n) + 1 for n in self.class_labels)])
        rule = "#" * (width + 1 + 3 * 15)
        lines = [rule, f"{'what':<{width}}:{'AP':>15}{'AP_50%':>15}{'AP_25%':>15}", rule]
        for name, (a, a50, a25) in self.per_class.items():
            lines.append(f"{name:<{width}}:{a:>15.3f}{a50:>15.3f}{a25:>15.3f}")
        lines.append("-" * len(rule))
        lines.append(f"{'average':<{width}}:{self.ap:>15.3f}{self.ap50:>15.3f}{self.ap25:>15.3f}")
        return "\n".join(lines)
