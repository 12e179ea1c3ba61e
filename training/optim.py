"""Optimisers and learning-rate schedules the papers use (``research/methods.md``).

3D-BoNet and MTML: Adam; SSEN: Adam with StepLR and gradient clipping; Spherical Mask: AdamW
with cosine decay. Schedules step once per optimiser step, expressed in epochs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import torch


def build_optimizer(params: Iterable[torch.nn.Parameter], train: Mapping[str, Any]
                    ) -> torch.optim.Optimizer:
    """``train.optimizer`` (adam | adamw | sgd) with ``lr``, ``weight_decay``, ``momentum``."""
    name = str(train["optimizer"]).lower()
    lr, wd = float(train["lr"]), float(train["weight_decay"])
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd, momentum=float(train["momentum"]))
    raise ValueError(f"unknown train.optimizer {name!r}; use adam, adamw or sgd")


class LrFactor:
    """Multiplier of the base learning rate at optimiser step ``it`` (picklable)."""

    def __init__(self, train: Mapping[str, Any], steps_per_epoch: int) -> None:
        self.schedule = str(train["schedule"]).lower()
        if self.schedule not in ("constant", "step", "cosine"):
            raise ValueError(f"unknown train.schedule {self.schedule!r}; use constant, step or "
                             "cosine")
        self.total = max(1, int(train["epochs"]) * steps_per_epoch)
        self.step_size = max(1, int(float(train["step_epochs"]) * steps_per_epoch))
        self.gamma = float(train["gamma"])
        self.floor = float(train["min_lr"]) / float(train["lr"])

    def __call__(self, it: int) -> float:
        if self.schedule == "step":
            return self.gamma ** (it // self.step_size)
        if self.schedule == "cosine":
            t = min(it, self.total) / self.total
            return self.floor + (1.0 - self.floor) * 0.5 * (1.0 + math.cos(math.pi * t))
        return 1.0


def build_scheduler(optimizer: torch.optim.Optimizer, train: Mapping[str, Any],
                    steps_per_epoch: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The ``train.schedule`` (constant | step every ``step_epochs`` by ``gamma`` | cosine to
    ``min_lr`` over ``epochs``) as a per-step LambdaLR."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, LrFactor(train, steps_per_epoch))
