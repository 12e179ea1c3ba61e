"""DDP on two CPU processes (gloo) gives the gradients of one process on the whole batch."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import torch

from training.config import load_config
from training.distributed import DistInfo
from training.trainer import Trainer

from .helpers import ROOT, TINY, TOY_CONFIG


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_gradients_equal_single_process(tmp_path) -> None:
    out = tmp_path / "ddp_grads.pt"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
         str(ROOT / "tests" / "training" / "ddp_worker.py"), str(out), str(tmp_path / "ddp")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ddp = torch.load(out, weights_only=True)

    trainer = Trainer(load_config(TOY_CONFIG, TINY), tmp_path / "single",
                      dist_info=DistInfo(0, 1, torch.device("cpu")))
    trainer.train_set.set_epoch(0)
    samples = [trainer.train_set[i] for i in range(4)]

    def grads(batch: list) -> dict[str, torch.Tensor]:
        trainer.forward_backward(trainer.collate(batch))
        return {n: p.grad.clone() for n, p in trainer.model.named_parameters()}

    single = grads(samples)
    assert ddp.keys() == single.keys()
    for name, grad in single.items():
        torch.testing.assert_close(ddp[name], grad, rtol=1e-5, atol=1e-7, msg=name)
    # What one rank alone would compute is far from it, so agreement is not an accident.
    half = grads(samples[:2])
    assert any(not torch.allclose(half[n], single[n], rtol=1e-2, atol=1e-4) for n in single)
