"""Distributed data parallel through ``torchrun``: gloo on CPU, nccl on GPU.

``torchrun --nproc_per_node N -m training train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; :func:`init_distributed` reads them. Without them everything runs in one
process. BatchNorm statistics are synchronised by :class:`edge3d.models.backbones.layers.BatchNorm`
(PyTorch's SyncBatchNorm needs a GPU).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """This process's place: ``rank`` of ``world`` processes, and its device."""

    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Whether this process writes logs and checkpoints (rank 0)."""
        return self.rank == 0


def init_distributed() -> DistInfo:
    """Join the process group torchrun describes, or return a single-process DistInfo."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo(0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank()
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    return DistInfo(rank, dist.get_world_size(), device)


def barrier(info: DistInfo) -> None:
    """Wait for every process (no-op in one process)."""
    if info.world > 1:
        dist.barrier()


def shutdown(info: DistInfo) -> None:
    """Leave the process group, once every process got here: a rank that tears down its
    connections while another still uses them aborts the other (gloo's "terminate called
    without an active exception", seen on a busy machine)."""
    if info.world > 1 and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
