"""Checkpoints are atomic and load with weights_only=True; bad files fail clearly."""

from __future__ import annotations

import pickle

import pytest
import torch

from edge3d.errors import FormatError
from edge3d.models.checkpoint import load_checkpoint, save_checkpoint


def test_round_trip(tmp_path) -> None:
    state = {"model": {"w": torch.arange(4.0)}, "epoch": 3, "config": "a: 1\n", "best": 0.5}
    save_checkpoint(tmp_path / "c.pt", state)
    back = load_checkpoint(tmp_path / "c.pt")
    torch.testing.assert_close(back["model"]["w"], state["model"]["w"])
    assert back["epoch"] == 3 and back["config"] == "a: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_failed_save_keeps_the_old_checkpoint(tmp_path) -> None:
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"epoch": 1})
    with pytest.raises(Exception):  # noqa: B017 - whatever torch.save raises for a lambda
        save_checkpoint(path, {"epoch": 2, "bad": lambda: None})
    assert load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


class _Payload:
    def __reduce__(self):
        return (print, ("code ran",))


def test_bad_files_are_rejected(tmp_path) -> None:
    truncated = tmp_path / "t.pt"
    save_checkpoint(truncated, {"model": {"w": torch.zeros(1000)}})
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(FormatError, match="not a readable checkpoint"):
        load_checkpoint(truncated)
    pickled = tmp_path / "p.pt"
    with pickled.open("wb") as fh:
        pickle.dump({"format": "edge3d-training-checkpoint", "x": _Payload()}, fh)
    with pytest.raises(FormatError):
        load_checkpoint(pickled)
    foreign = tmp_path / "f.pt"
    torch.save({"w": torch.zeros(1)}, foreign)
    with pytest.raises(FormatError, match="not an edge3d training checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "none.pt")
