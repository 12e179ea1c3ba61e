"""``edge3d eval``: folders in, table and JSON out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge3d.cli import main
from edge3d.eval import write_scenes
from tests.eval.builders import CHAIR, TABLE, gt_scene, pred

V = 600


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    # chair: one exact TP; table: GT missed, a table prediction on a chair -> FP; bed: nothing.
    gt = {"scene0000_00": gt_scene(V, {5001: (0, 200), 7001: (200, 400)}),
          "scene0001_00": gt_scene(V, {5001: (0, 150)})}
    preds = {"scene0000_00": [pred(V, [(0, 200)], CHAIR, 0.9)],
             "scene0001_00": [pred(V, [(0, 150)], TABLE, 0.4), pred(V, [(0, 150)], CHAIR, 0.8)]}
    write_scenes(gt, preds, tmp_path / "gt", tmp_path / "pred")
    return tmp_path / "gt", tmp_path / "pred"


def test_prints_table_and_writes_json(folders, tmp_path: Path, capsys) -> None:
    gt, pr = folders
    out = tmp_path / "res" / "eval.json"
    assert main(["eval", "--gt", str(gt), "--pred", str(pr), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "evaluated 2 scene(s)" in text and "chair" in text and "average" in text
    d = json.loads(out.read_text())
    assert d["classes"]["chair"]["ap"] == 1.0
    assert d["classes"]["table"]["ap"] == 0.0
    assert d["classes"]["bed"]["ap"] is None  # no GT: NaN, written as null
    assert d["ap"] == d["ap50"] == d["ap25"] == 0.5
    assert len(d["classes"]) == 18 and d["num_scenes"] == 2


def test_agnostic(folders, tmp_path: Path) -> None:
    gt, pr = folders
    out = tmp_path / "a.json"
    assert main(["eval", "--gt", str(gt), "--pred", str(pr), "--classes", "agnostic",
                 "--out", str(out)]) == 0
    d = json.loads(out.read_text())
    assert list(d["classes"]) == ["object"]
    # GT: 3 instances, entries .9T .8T .4F (table pred duplicates the chair 2 match) and the
    # table missed: sorted .4F .8T .9T, hard FN 1 -> (p, r) = (2/3, 2/3), (1, 2/3), (1, 1/3),
    # (1, 0); widths (r_{i-1} - r_{i+1}) / 2 = 0, 1/6, 1/3, 1/6.
    expected = 2 / 3 * 0 + 1 * 1 / 6 + 1 * 1 / 3 + 1 * 1 / 6
    assert d["ap"] == pytest.approx(expected, abs=1e-12)


def test_class_file(folders, tmp_path: Path) -> None:
    gt, pr = folders
    classes = tmp_path / "classes.txt"
    classes.write_text("# id name\n5 chair\n7 table\n")
    out = tmp_path / "c.json"
    assert main(["eval", "--gt", str(gt), "--pred", str(pr), "--classes", str(classes),
                 "--out", str(out)]) == 0
    d = json.loads(out.read_text())
    assert list(d["classes"]) == ["chair", "table"] and d["ap"] == 0.5


def test_synthetic_classes(tmp_path: Path) -> None:
    from edge3d.synth import CLASS_NAMES

    chair = CLASS_NAMES.index("chair")
    ids = np.zeros(V, np.int64)        # floor
    ids[300:] = 1000                   # wall
    ids[:200] = chair * 1000 + 1
    write_scenes({"w": ids}, {"w": [pred(V, [(0, 200)], chair, 0.5),
                                     pred(V, [(200, 600)], chair, 0.9)]},
                 tmp_path / "gt", tmp_path / "pred")
    out = tmp_path / "s.json"
    assert main(["eval", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"),
                 "--classes", "synthetic", "--out", str(out)]) == 0
    d = json.loads(out.read_text())
    assert "floor" not in d["classes"] and "wall" not in d["classes"]
    assert d["classes"]["chair"]["ap"] == 1.0  # the floor/wall prediction is void, ignored
    assert main(["eval", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"),
                 "--classes", "toy", "--out", str(out)]) == 0
    assert "plane" not in json.loads(out.read_text())["classes"]


def test_errors_are_reported(folders, tmp_path: Path, capsys) -> None:
    gt, pr = folders
    (gt / "scene0001_00.txt").unlink()
    assert main(["eval", "--gt", str(gt), "--pred", str(pr)]) == 2
    assert "no ground truth" in capsys.readouterr().err
    (gt / "README.txt").write_text("not ids\n")  # never opened: no prediction names it
    (pr / "scene0001_00.txt").unlink()
    assert main(["eval", "--gt", str(gt), "--pred", str(pr)]) == 0
    capsys.readouterr()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["eval", "--gt", str(gt), "--pred", str(empty)]) == 2
    assert "no prediction files" in capsys.readouterr().err
    assert main(["eval", "--gt", str(gt), "--pred", str(pr), "--classes", "nope"]) == 2
    assert "class file" in capsys.readouterr().err


def test_unevaluated_ground_truth_is_noted(folders, capsys) -> None:
    gt, pr = folders
    (pr / "scene0001_00.txt").unlink()
    assert main(["eval", "--gt", str(gt), "--pred", str(pr)]) == 0
    assert "not evaluated" in capsys.readouterr().err


def test_runs_as_a_command(folders) -> None:
    gt, pr = folders
    out = subprocess.run([sys.executable, "-m", "edge3d", "eval", "--gt", str(gt), "--pred",
                          str(pr)], capture_output=True, text=True, check=True)
    assert "average" in out.stdout
