"""Run by torchrun from test_ddp.py: one DDP gradient step on half of a fixed batch each.

Usage: torchrun --nproc_per_node 2 tests/training/ddp_worker.py OUT.pt RUN_DIR
Rank r takes samples [2r, 2r + 1] of the training set; after DDP's all-reduce every rank holds
the averaged gradients, which rank 0 saves.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.training.helpers import TINY, TOY_CONFIG
from training import distributed
from training.config import load_config
from training.trainer import Trainer

PER_RANK = 2


def main() -> None:
    torch.set_num_threads(1)
    out, run_dir = sys.argv[1], sys.argv[2]
    trainer = Trainer(load_config(TOY_CONFIG, TINY), run_dir)
    rank = trainer.dist.rank
    trainer.train_set.set_epoch(0)
    samples = [trainer.train_set[i] for i in range(PER_RANK * rank, PER_RANK * (rank + 1))]
    trainer.forward_backward(trainer.collate(samples))
    if trainer.dist.main:
        torch.save({n: p.grad for n, p in trainer.model.named_parameters()}, out)
    distributed.shutdown(trainer.dist)


if __name__ == "__main__":
    main()
