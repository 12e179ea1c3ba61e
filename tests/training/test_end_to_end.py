"""The framework end to end on the toy method: train, checkpoint, resume, evaluate (CLI)."""

from __future__ import annotations

import csv
import json

import torch

from edge3d.models.checkpoint import load_checkpoint
from training.__main__ import main

from .helpers import TINY, TOY_CONFIG


def test_train_resume_evaluate(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", "--config", str(TOY_CONFIG), "--run-dir", str(run),
                 "train.epochs=2", *TINY]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["epoch"] == 2 and first["ap50"] is not None
    for name in ("config.yaml", "last.pt", "train.csv", "val.csv"):
        assert (run / name).is_file(), name
    assert any((run / "tb").iterdir())
    rows = list(csv.DictReader((run / "val.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert main(["train", "--config", str(TOY_CONFIG), "--run-dir", str(run)]) == 2  # exists

    assert main(["resume", "--run", str(run), "train.epochs=3"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["epoch"] == 3 and resumed["step"] == 3 * first["step"] // 2
    assert load_checkpoint(run / "last.pt")["epoch"] == 3

    assert main(["evaluate", "--checkpoint", str(run / "last.pt")]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert set(evaluated) == {"ap", "ap50", "ap25", "val_loss"}
    assert evaluated["ap50"] == resumed["ap50"]  # same weights, same validation scenes


def test_resumed_run_equals_uninterrupted_run(tmp_path, capsys) -> None:
    common = [*TINY, "train.schedule=step", "train.step_epochs=1", "train.val_every=0",
              "augment.jitter=0.01"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert main(["train", "--config", str(TOY_CONFIG), "--run-dir", str(straight),
                 "train.epochs=2", *common]) == 0
    # The interrupted run also builds its samples in a DataLoader worker process: results do
    # not depend on where the native index building runs.
    assert main(["train", "--config", str(TOY_CONFIG), "--run-dir", str(split),
                 "train.epochs=1", "data.num_workers=1", *common]) == 0
    assert main(["resume", "--run", str(split), "train.epochs=2"]) == 0
    capsys.readouterr()
    a = load_checkpoint(straight / "last.pt")["model"]
    b = load_checkpoint(split / "last.pt")["model"]
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
