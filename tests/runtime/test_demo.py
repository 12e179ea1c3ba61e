"""`edge3d demo` end to end, and the pictures it draws."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from PIL import Image

from edge3d.cli import main
from edge3d.io import read_ply
from edge3d.methods import DEFAULT_MODEL
from edge3d.runtime.pictures import id_colors, render_camera, render_top


def test_demo_writes_pictures_map_and_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "out"
    args = ["demo", "--frames", "8", "--every", "4", "--out", str(out), "--no-window"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    # the built-in recording was written as a real .db3 and played back
    recordings = list((tmp_path / "cache" / "edge3d" / "demo").glob("*.db3"))
    assert len(recordings) == 1 and str(recordings[0]) in printed
    assert str(out / "map.ply") in printed and "instances" in printed

    pictures = sorted((out / "updates").glob("update_*.png"))
    assert len(pictures) >= 2
    img = Image.open(out / "final.png")
    assert img.width > 3 * 400 and img.height > 200
    assert np.asarray(img).std() > 10  # not a blank picture

    summary = json.loads((out / "instances.json").read_text())
    assert summary["model"]["method"] == DEFAULT_MODEL
    assert summary["counters"]["frames_fused"] == 8
    assert len(summary["updates"]) == len(pictures)
    assert {"fusion", "extract", "segment", "tracking", "latency"} <= set(
        summary["updates"][-1]["timings"])
    ply = read_ply(out / "map.ply")
    assert len(ply["points"]) > 1000 and ply["colors"].shape == ply["points"].shape
    assert ply["instance"].max() >= 1  # per-point instance ids travel with the map

    # a second run reuses the cached recording
    assert main(args) == 0
    assert "writing the synthetic recording" not in capsys.readouterr().out


def test_the_default_model_is_the_registry_default():
    from edge3d.cli import demo

    parser = demo.add_parser(argparse.ArgumentParser().add_subparsers())
    assert parser.parse_args([]).model == DEFAULT_MODEL == demo.DEFAULT_MODEL


def test_demo_reports_bad_model_and_source(tmp_path, capsys):
    assert main(["demo", "--model", "nope", "--out", str(tmp_path), "--no-window"]) == 2
    assert f"Available models: {DEFAULT_MODEL}" in capsys.readouterr().err
    assert main(["demo", "--source", str(tmp_path / "missing.db3"), "--out", str(tmp_path),
                 "--no-window"]) == 2
    assert "missing.db3" in capsys.readouterr().err


def test_id_colors_are_stable_and_distinct():
    ids = np.arange(1, 40)
    a, b = id_colors(ids), id_colors(ids.copy())
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.uint8 and a.shape == (39, 3)
    assert len({tuple(c) for c in a}) == len(ids)


def test_renderers_put_points_where_they_belong():
    from edge3d.geometry import look_at
    from edge3d.types import Intrinsics

    pts = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]], np.float32)
    cols = np.array([[255, 0, 0], [0, 255, 0]], np.uint8)
    img, (scale, x0, y0) = render_top(pts, cols, 100, 100, margin=0.1)
    px = ((pts[:, 0] - x0) * scale).astype(int)
    py = (99 - (pts[:, 1] - y0) * scale).astype(int)
    assert tuple(img[py[0], px[0]]) == (255, 0, 0) and tuple(img[py[1], px[1]]) == (0, 255, 0)

    k = Intrinsics(64, 48, 50, 50, 31.5, 23.5)
    pose = look_at(np.array([0.0, -2.0, 0.0]), np.array([0.0, 0.0, 0.0]))
    near = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 0.0]], np.float32)  # same ray, 2 m and 2.5 m
    zbuf = np.empty((48, 64), np.float32)
    view = render_camera(near, cols, pose, k, point_size=0.05, depth=zbuf)
    assert tuple(view[23, 31]) == (255, 0, 0)  # the nearer point wins the z-test
    assert zbuf[23, 31] == pytest.approx(2.0) and np.isinf(zbuf[0, 0])
    assert not np.any(np.all(view == (0, 255, 0), axis=-1))


@pytest.mark.parametrize("n", [0, 1])
def test_renderers_handle_empty_maps(n):
    from edge3d.geometry import look_at
    from edge3d.types import Intrinsics

    pts = np.zeros((n, 3), np.float32)
    cols = np.zeros((n, 3), np.uint8)
    assert render_top(pts, cols, 50, 40)[0].shape == (40, 50, 3)
    k = Intrinsics(32, 24, 30, 30, 15.5, 11.5)
    pose = look_at(np.array([0.0, -2.0, 0.0]), np.array([0.0, 0.0, 0.0]))
    assert render_camera(pts, cols, pose, k).shape == (24, 32, 3)


@pytest.mark.parametrize(("option", "value"), [("--device", "gpu"), ("--every", "-1"),
                                               ("--voxel-size", "0"), ("--frames", "0"),
                                               ("--every", "x"), ("--device", "cuda:a")])
def test_bad_demo_options_are_usage_errors(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as exc:
        main(["demo", option, value, "--out", str(tmp_path / "out"), "--no-window"])
    assert exc.value.code == 2
    assert option in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing was created


def test_a_failing_demo_keeps_the_previous_run(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "updates").mkdir(parents=True)
    kept = [out / "updates" / "update_0000.png", out / "final.png", out / "map.ply"]
    for p in kept:
        p.write_bytes(b"an earlier run")
    assert main(["demo", "--source", str(tmp_path / "missing.db3"), "--out", str(out),
                 "--no-window"]) == 2
    assert all(p.read_bytes() == b"an earlier run" for p in kept)
    assert sorted(p.name for p in out.iterdir()) == ["final.png", "map.ply", "updates"]
    (tmp_path / "file").write_text("x")
    assert main(["demo", "--out", str(tmp_path / "file"), "--no-window"]) == 2
    assert "is a file" in capsys.readouterr().err
