"""``edge3d record``: a synthetic source written as a .db3 that plays back."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyrealsense2")
pytest.importorskip("edge3d.synth")

from edge3d.cli import main
from edge3d.io import open_source


def test_record_synthetic(tmp_path, capsys):
    out = tmp_path / "syn.db3"
    spec = "synthetic:seed=4,frames=3,width=96,height=72"
    assert main(["record", str(out), "--source", spec]) == 0
    assert "3 frames" in capsys.readouterr().out
    with open_source(out) as rec, open_source(spec) as syn:
        for a, b in zip(rec, syn, strict=True):
            np.testing.assert_array_equal(a.depth, b.depth)
            np.testing.assert_array_equal(a.pose, b.pose)


def test_record_errors(tmp_path, capsys):
    assert main(["record", str(tmp_path / "x.bag"), "--source", "synthetic:frames=1"]) == 1
    assert ".db3" in capsys.readouterr().err
    assert main(["record", str(tmp_path / "x.db3"), "--source", "realsense"]) == 2
    assert not any(tmp_path.iterdir())
