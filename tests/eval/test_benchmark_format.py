"""The benchmark's text format: round trip, and the official parser's rules."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edge3d.errors import FormatError
from edge3d.eval import (
    evaluate_scannet,
    read_gt_dir,
    read_ids,
    read_pred_dir,
    write_gt,
    write_ids,
    write_predictions,
    write_scenes,
)
from tests.eval.builders import CHAIR, CLASSES, TABLE, gt_scene, pred

V = 500


def make_scenes(rng: np.random.Generator):
    gt = {"scene0000_00": gt_scene(V, {5001: (0, 150), 5002: (150, 300), 7003: (300, 420)}),
          "scene0001_00": gt_scene(V, {7001: (0, 250)}, fill=1001)}
    preds = {
        "scene0000_00": [pred(V, [(0, 140)], CHAIR, 0.875), pred(V, [(140, 300)], CHAIR, 0.1),
                         pred(V, [(300, 500)], TABLE, 1 / 3)],
        "scene0001_00": [pred(V, [(0, 260)], TABLE, float(rng.random()))],
    }
    return gt, preds


def test_round_trip_is_exact(tmp_path: Path) -> None:
    gt, preds = make_scenes(np.random.default_rng(0))
    write_scenes(gt, preds, tmp_path / "gt", tmp_path / "pred")
    gt2 = read_gt_dir(tmp_path / "gt")
    preds2 = read_pred_dir(tmp_path / "pred")
    assert sorted(gt2) == sorted(gt)
    for s in gt:
        np.testing.assert_array_equal(gt2[s], gt[s])
        assert gt2[s].dtype == np.int64
        assert len(preds2[s]) == len(preds[s])
        for a, b in zip(preds[s], preds2[s], strict=True):
            np.testing.assert_array_equal(b.mask != 0, a.mask)
            assert b.label_id == a.label_id and b.score == a.score  # repr: bit-exact
            assert b.key == os.path.abspath(b.key) and "pred_mask" in b.key
    r1 = evaluate_scannet(gt, preds, **CLASSES)
    r2 = evaluate_scannet(gt2, preds2, **CLASSES)
    np.testing.assert_array_equal(r1.ap_matrix, r2.ap_matrix)


def test_written_layout(tmp_path: Path) -> None:
    path = write_predictions("scene7", [pred(4, [(1, 3)], CHAIR, 0.5)], tmp_path)
    assert path.read_text() == "pred_mask/scene7_000.txt 5 0.5\n"
    assert (tmp_path / "pred_mask" / "scene7_000.txt").read_text() == "0\n1\n1\n0\n"
    write_gt("scene7", np.array([0, 5001, 5001, 1002]), tmp_path / "gt")
    assert (tmp_path / "gt" / "scene7.txt").read_text() == "0\n5001\n5001\n1002\n"


def test_scene_names_with_spaces_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="spaces"):
        write_predictions("my scene", [], tmp_path)


def test_ids_parse_like_the_official_loader(tmp_path: Path) -> None:
    p = tmp_path / "ids.txt"
    p.write_text("0\n1\n1\n0")  # no final newline: same lines
    np.testing.assert_array_equal(read_ids(p), [0, 1, 1, 0])
    p.write_bytes(b"5001\r\n-3\r\n 7\r\n")  # universal newlines, int() whitespace rules
    np.testing.assert_array_equal(read_ids(p), [5001, -3, 7])
    p.write_text("")
    assert read_ids(p).shape == (0,)
    for bad in ("1\n\n2\n", "1.0\n", "x\n"):
        p.write_text(bad)
        with pytest.raises(FormatError, match="one integer per line"):
            read_ids(p)


def test_fast_mask_parser_agrees_with_the_general_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 10, size=1000)
    write_ids(tmp_path / "a.txt", ids)
    (tmp_path / "b.txt").write_text("".join(f"{i}\r\n" for i in ids))  # general path
    np.testing.assert_array_equal(read_ids(tmp_path / "a.txt"), ids)
    np.testing.assert_array_equal(read_ids(tmp_path / "b.txt"), ids)


def _pred_dir(tmp_path: Path, lines: str, masks: dict[str, str]) -> Path:
    d = tmp_path / "pred"
    (d / "pred_mask").mkdir(parents=True)
    for name, text in masks.items():
        (d / "pred_mask" / name).write_text(text)
    (d / "s.txt").write_text(lines)
    return d


def test_prediction_lines_follow_the_official_parser(tmp_path: Path) -> None:
    d = _pred_dir(tmp_path, "pred_mask/a.txt 5.7 1e-1\npred_mask/b.txt 7 inf\n",
                  {"a.txt": "1\n0\n", "b.txt": "2\n-1\n"})
    (d / "semantic_instance_evaluation.txt").write_text("the official result file\n")
    preds = read_pred_dir(d)
    assert list(preds) == ["s"]
    a, b = preds["s"]
    assert (a.label_id, a.score) == (5, 0.1)  # int(float("5.7"))
    assert (b.label_id, b.score) == (7, float("inf"))
    np.testing.assert_array_equal(b.mask, [2, -1])  # non-zero = member, decided later


def test_a_mask_listed_twice_keeps_its_first_place_and_last_values(tmp_path: Path) -> None:
    d = _pred_dir(tmp_path, "pred_mask/a.txt 5 0.1\npred_mask/b.txt 5 0.2\n"
                            "pred_mask/./a.txt 7 0.3\n", {"a.txt": "1\n", "b.txt": "1\n"})
    a, b = read_pred_dir(d)["s"]
    assert a.key.endswith("a.txt") and (a.label_id, a.score) == (7, 0.3)
    assert b.key.endswith("b.txt")


def test_label_filter_skips_masks_like_the_script(tmp_path: Path) -> None:
    # The script never opens the mask of a line whose label it does not evaluate.
    d = _pred_dir(tmp_path, "pred_mask/missing.txt 1 0.5\npred_mask/a.txt 5 0.5\n",
                  {"a.txt": "1\n"})
    with pytest.raises(FormatError, match=r"missing\.txt"):
        read_pred_dir(d)
    assert [p.label_id for p in read_pred_dir(d, label_ids={5})["s"]] == [5]


@pytest.mark.parametrize(("line", "message"), [
    ("pred_mask/a.txt 5", "single spaces"),
    ("pred_mask/a.txt  5 0.5", "single spaces"),
    ("pred_mask/a.txt\t5\t0.5", "single spaces"),
    ("/abs/a.txt 5 0.5", "relative"),
    ("../outside.txt 5 0.5", "outside"),
    ("pred_mask/a.txt five 0.5", "numbers"),
    ("pred_mask/a.txt 5 high", "numbers"),
])
def test_malformed_prediction_lines_are_rejected(tmp_path: Path, line: str, message: str) -> None:
    d = _pred_dir(tmp_path, line + "\n", {"a.txt": "1\n"})
    with pytest.raises(FormatError, match=message):
        read_pred_dir(d)


def test_empty_prediction_file_is_a_scene_without_predictions(tmp_path: Path) -> None:
    d = _pred_dir(tmp_path, "", {})
    assert read_pred_dir(d) == {"s": []}


def test_reading_only_some_ground_truth_scenes(tmp_path: Path) -> None:
    write_gt("a", np.array([5001, 0]), tmp_path)
    (tmp_path / "notes.txt").write_text("not ids\n")
    assert list(read_gt_dir(tmp_path, scenes=["a"])) == ["a"]
    with pytest.raises(FormatError, match="one integer per line"):
        read_gt_dir(tmp_path)
    with pytest.raises(FormatError, match=r"b\.txt"):
        read_gt_dir(tmp_path, scenes=["a", "b"])


def test_missing_folders_are_reported(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="does not exist"):
        read_gt_dir(tmp_path / "nope")
    with pytest.raises(FormatError, match="does not exist"):
        read_pred_dir(tmp_path / "nope")
