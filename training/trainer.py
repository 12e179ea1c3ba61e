"""The training loop: data, model, loss, optimiser, validation, checkpoints, DDP.

:class:`Trainer` builds everything from a config (``training/config.py``) and the method
registry (``training/registry.py``). An epoch seeds torch, the sampler and the data pipeline
from ``(seed, epoch)``, so a run resumed from a checkpoint continues exactly as the uninterrupted
run would have. Validation post-processes each validation scene with the method's
post-processor and scores it with :func:`edge3d.eval.evaluate_segmentation` (ScanNet-protocol
AP). Only rank 0 writes logs and checkpoints.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from edge3d.models.checkpoint import load_checkpoint, save_checkpoint
from training import distributed
from training.config import dump_config
from training.data.dataset import Collate, SegmentationDataset, feature_channels
from training.data.scenes import scene_source
from training.metrics_log import MetricsLog
from training.optim import build_optimizer, build_scheduler
from training.registry import get_method


def seed_everything(seed: int) -> None:
    """Seed Python and torch (numpy randomness uses explicit, seeded generators)."""
    random.seed(seed)
    torch.manual_seed(seed)


def prepare_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Fill values derived from others: the backbone's ``in_channels`` from ``data.features``
    and ``method.num_classes`` from the training source's class list."""
    cfg = copy.deepcopy(dict(config))
    bcfg = cfg["model"].setdefault("backbone_config", {}) or {}
    cfg["model"]["backbone_config"] = bcfg
    bcfg.setdefault("in_channels", feature_channels(cfg))
    if cfg["method"].get("num_classes") is None:
        cfg["method"]["num_classes"] = len(class_names_of(cfg))
    return cfg


def class_names_of(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The class names of the configured data source."""
    data = config["data"]
    if data["source"] == "synthetic":
        from edge3d import synth

        return tuple(synth.TOY_CLASS_NAMES if data["kind"] == "toy" else synth.CLASS_NAMES)
    if data["source"] == "scannet":
        from edge3d.io import scannet

        return ("wall", "floor", *scannet.BENCHMARK_CLASS_NAMES)
    from edge3d.io import s3dis

    return tuple(s3dis.CLASS_NAMES)


def named_outputs(model: torch.nn.Module, outputs: Any) -> dict[str, Tensor]:
    """The model's outputs (a tensor or tuple, in ``output_spec()`` order) by name."""
    names = [s.name for s in model.output_spec()]
    if isinstance(outputs, Tensor):
        outputs = (outputs,)
    return dict(zip(names, outputs, strict=True))


class Trainer:
    """Builds a run from ``config`` and trains, validates and checkpoints it.

    Args:
        config: a full config (``training.config.load_config``).
        run_dir: where logs, ``config.yaml`` and checkpoints go.
        resume: a checkpoint to continue from (model, optimiser, schedule, epoch, best AP).
        dist_info: the process group position (default: from the torchrun environment).
    """

    def __init__(self, config: Mapping[str, Any], run_dir: str | Path,
                 resume: str | Path | None = None,
                 dist_info: distributed.DistInfo | None = None) -> None:
        self.dist = dist_info or distributed.init_distributed()
        self.config = prepare_config(config)
        self.run_dir = Path(run_dir)
        cfg = self.config
        seed_everything(int(cfg["seed"]))
        if cfg["train"]["deterministic"]:
            torch.use_deterministic_algorithms(True, warn_only=True)
            # Deterministic mode also fills every new tensor with NaN to expose reads of
            # uninitialised memory; that is a debugging aid, not part of the determinism, and
            # it cost a third of a CPU training step (the large gather outputs).
            torch.utils.deterministic.fill_uninitialized_memory = False
        self.method = get_method(cfg["method"]["name"])
        self.model = self.method.build_model(cfg).to(self.dist.device)
        self.loss_fn = self.method.build_loss(cfg)
        self.input_names = [s.name for s in self.model.input_spec()]
        specs = list(self.model.input_spec()) + list(self.method.target_spec(cfg))
        self.collate = Collate(specs, "P")
        self.train_set = SegmentationDataset(scene_source(cfg["data"], "train"), cfg,
                                             self.method.build_targets, train=True)
        self.val_set = SegmentationDataset(scene_source(cfg["data"], "val"), cfg,
                                           self.method.build_targets, train=False)
        self.sampler = torch.utils.data.DistributedSampler(
            self.train_set, num_replicas=self.dist.world, rank=self.dist.rank, shuffle=True,
            seed=int(cfg["seed"]), drop_last=self.dist.world > 1)
        self.loader = torch.utils.data.DataLoader(
            self.train_set, batch_size=int(cfg["data"]["batch_size"]), sampler=self.sampler,
            num_workers=int(cfg["data"]["num_workers"]), collate_fn=self.collate,
            drop_last=False, worker_init_fn=_worker_init)
        self.net: torch.nn.Module = self.model
        if self.dist.world > 1:
            # BatchNorm syncs its own statistics; DDP need not broadcast buffers each step.
            self.net = torch.nn.parallel.DistributedDataParallel(self.model,
                                                                 forward_sync_buffers=False)
        self.optimizer = build_optimizer(self.model.parameters(), cfg["train"])
        self.scheduler = build_scheduler(self.optimizer, cfg["train"], max(1, len(self.loader)))
        self.epoch = 0
        self.step = 0
        self.best = -math.inf
        self.metrics: dict[str, float] = {}
        if resume is not None:
            self._restore(load_checkpoint(resume))

    # -- state -----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The checkpoint contents (tensors and plain values only)."""
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "epoch": self.epoch,
                "step": self.step, "best": self.best, "metrics": dict(self.metrics),
                "config": dump_config(self.config)}

    def _restore(self, state: Mapping[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.best = float(state["best"])
        self.metrics = dict(state.get("metrics", {}))

    def save(self, name: str) -> Path | None:
        """Write ``<run_dir>/<name>`` atomically (rank 0 only)."""
        if not self.dist.main:
            return None
        return save_checkpoint(self.run_dir / name, self.state())

    # -- steps -----------------------------------------------------------------------------

    def model_inputs(self, batch: Mapping[str, Any]) -> dict[str, Tensor]:
        """The network's inputs from a batch, on the training device."""
        return {n: batch[n].to(self.dist.device) for n in self.input_names}

    def forward_backward(self, batch: Mapping[str, Any]) -> tuple[Tensor, dict[str, float]]:
        """Zero the gradients, compute the loss of ``batch`` and back-propagate (no step)."""
        self.optimizer.zero_grad(set_to_none=True)
        outputs = named_outputs(self.model, self.net(self.model_inputs(batch)))
        targets = {k: v.to(self.dist.device) for k, v in batch.items()
                   if isinstance(v, Tensor)}
        loss, parts = self.loss_fn(outputs, targets)
        loss.backward()
        return loss, parts

    def train_epoch(self, log: MetricsLog | None) -> float:
        """One epoch over the training set; returns the mean loss of this process's batches."""
        from tqdm import tqdm

        cfg = self.config["train"]
        seed = int(self.config["seed"])
        torch.manual_seed(seed * 100003 + self.epoch)
        self.train_set.set_epoch(self.epoch)
        self.sampler.set_epoch(self.epoch)
        self.net.train()
        total, count = 0.0, 0
        bar = tqdm(self.loader, desc=f"epoch {self.epoch + 1}/{cfg['epochs']}",
                   disable=not (self.dist.main and cfg["progress"]), leave=False)
        for batch in bar:
            loss, parts = self.forward_backward(batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {float(loss)} at step {self.step}; lower "
                                         "train.lr or set train.grad_clip")
            if cfg["grad_clip"]:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), float(cfg["grad_clip"]))
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            total += float(loss.detach())
            count += 1
            bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
            if log is not None and self.step % max(1, int(cfg["log_every"])) == 0:
                log.log("train", {"epoch": self.epoch + 1, "step": self.step,
                                  "lr": self.optimizer.param_groups[0]["lr"],
                                  "loss": float(loss.detach()), **parts})
        return total / max(count, 1)

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Post-process and evaluate every validation scene (ScanNet-protocol AP)."""
        from tqdm import tqdm

        from edge3d.eval import evaluate_segmentation

        self.model.eval()
        pairs, losses = [], []
        names, background = None, None
        for i in tqdm(range(len(self.val_set)), desc="validate", leave=False,
                      disable=not self.config["train"]["progress"]):
            sample = self.val_set[i]
            batch = self.collate([sample])
            outputs = named_outputs(self.model, self.model(self.model_inputs(batch)))
            targets = {k: v for k, v in batch.items() if isinstance(v, Tensor)}
            losses.append(float(self.loss_fn(outputs, targets)[0]))
            arrays = {k: v.cpu().numpy() for k, v in outputs.items()}
            scene = sample.scene
            result = self.method.postprocess(arrays, scene, self.config)
            pairs.append((scene.gt_ids, result))
            names, background = scene.class_names, scene.background_classes
        if not pairs:
            return {}
        ev = evaluate_segmentation(pairs, names, background,
                                   min_region_size=int(self.config["eval"]["min_region_size"]))
        return {"ap": ev.ap, "ap50": ev.ap50, "ap25": ev.ap25,
                "val_loss": float(np.mean(losses))}

    # -- the run ---------------------------------------------------------------------------

    def fit(self) -> dict[str, float]:
        """Train from the current epoch to ``train.epochs``; returns the last validation."""
        cfg = self.config["train"]
        log = None
        if self.dist.main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "config.yaml").write_text(dump_config(self.config))
            log = MetricsLog(self.run_dir)
        try:
            while self.epoch < int(cfg["epochs"]):
                mean_loss = self.train_epoch(log)
                self.epoch += 1
                every = int(cfg["val_every"])
                if self.dist.main and every and (self.epoch % every == 0
                                                 or self.epoch == int(cfg["epochs"])):
                    self.metrics = {"train_loss": mean_loss, **self.validate()}
                    log.log("val", {"epoch": self.epoch, "step": self.step, **self.metrics})
                    score = self.metrics.get("ap", math.nan)
                    if not math.isnan(score) and score > self.best:
                        self.best = score
                        self.save("best.pt")
                if self.dist.main and (self.epoch % max(1, int(cfg["checkpoint_every"])) == 0
                                       or self.epoch == int(cfg["epochs"])):
                    self.save("last.pt")
                distributed.barrier(self.dist)
        finally:
            if log is not None:
                log.close()
        return self.metrics


def _worker_init(worker_id: int) -> None:
    # Workers build indices with the native core's own threads; one torch thread each avoids
    # oversubscribing the cores the training step needs.
    torch.set_num_threads(1)
