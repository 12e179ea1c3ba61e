"""Metrics to CSV files and TensorBoard (rank 0 only).

``<run>/train.csv``: one row every ``train.log_every`` steps (epoch, step, lr, loss and the
loss's parts); ``<run>/val.csv``: one row per validation (epoch, step, ap, ap50, ap25, loss);
``<run>/tb/``: the same scalars as TensorBoard events (``tensorboard --logdir runs``).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any


class MetricsLog:
    """Appends rows to ``<run_dir>/<split>.csv`` and scalars to TensorBoard."""

    def __init__(self, run_dir: Path, tensorboard: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run_dir / "tb"))

    def log(self, split: str, row: dict[str, Any]) -> None:
        """Append ``row`` to ``<split>.csv`` (header from the first row) and to TensorBoard."""
        path = self.run_dir / f"{split}.csv"
        new = not path.exists()
        with path.open("a", newline="") as fh:
            if new:
                fields = list(row)
            else:
                with path.open() as rd:
                    fields = next(csv.reader(rd))
            writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)
        if self._writer is not None:
            step = int(row.get("step", 0))
            for key, value in row.items():
                if key in ("epoch", "step") or not isinstance(value, (int, float)):
                    continue
                if not math.isnan(float(value)):
                    self._writer.add_scalar(f"{split}/{key}", float(value), step)
            self._writer.flush()

    def close(self) -> None:
        """Flush and close TensorBoard."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
