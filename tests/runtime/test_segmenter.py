"""edge3d.Segmenter and the geometric baseline."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import edge3d
from edge3d.errors import PackageError
from edge3d.runtime.postprocess.geometric import GeometricParams

from .scenes import BOXES, room_scene


def _purity(result, gt, pts):
    """For each ground-truth box: the instance holding most of its points above the floor
    (a box's bottom face lies in the floor plane), and the share."""
    found = {}
    for k in range(1, gt.max() + 1):
        lab = result.labels[(gt == k) & (pts[:, 2] > 0.05)]
        total = len(lab)
        lab = lab[lab >= 0]
        if len(lab) == 0:
            continue
        ids, counts = np.unique(lab, return_counts=True)
        found[k] = (int(ids[np.argmax(counts)]), counts.max() / total)
    return found


def test_runtime_imports_never_import_torch():
    code = (
        "import sys\n"
        "import edge3d, edge3d.runtime\n"
        "from edge3d.runtime import Segmenter, Stream\n"
        "import edge3d.runtime.stream, edge3d.runtime.tracking, edge3d.runtime.render\n"
        "import edge3d.runtime.postprocess.geometric\n"
        "import numpy as np\n"
        "s = Segmenter('geometric')\n"
        "s.segment(np.zeros((10, 3), 'float32'))\n"
        "k = edge3d.Intrinsics(32, 24, 30, 30, 15.5, 11.5)\n"
        "frames = [edge3d.Frame(np.full((24, 32), 1500, np.uint16), 0.001, k, index=i,\n"
        "                       pose=np.eye(4)) for i in range(3)]\n"
        "with Stream(frames, segmenter=s, every=2, voxel_size=0.05) as st:\n"
        "    assert list(st)[-1].final\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_geometric_finds_every_box_and_removes_floor_and_walls():
    pts, gt = room_scene()
    result = edge3d.Segmenter("geometric").segment(pts)
    assert len(result.instances) == len(BOXES)
    found = _purity(result, gt, pts)
    assert sorted(found) == list(range(1, len(BOXES) + 1))
    assert len({i for i, _ in found.values()}) == len(BOXES)  # one instance per box
    assert all(share > 0.9 for _, share in found.values())
    # Floor and walls are not objects, and are classified as such.
    names = result.class_names
    assert np.mean(result.labels[gt == 0] >= 0) < 0.02
    cls = result.classes[gt == 0]
    assert np.mean(np.isin(cls, [names.index("floor"), names.index("wall")])) > 0.95
    # The documented contract: sorted by score, ids 1..K, boxes and centroids of their points.
    scores = [i.score for i in result.instances]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)
    for inst in result.instances:
        assert inst.class_name == "object"
        p = pts[inst.indices]
        np.testing.assert_allclose(inst.box_min, p.min(0))
        np.testing.assert_allclose(inst.centroid, p.mean(0), rtol=1e-5)
        assert np.all(result.labels[inst.indices] == inst.id)
    assert {"planes", "cluster", "total"} <= set(result.timings)


def test_geometric_is_translation_invariant_and_deterministic():
    pts, _gt = room_scene()
    a = edge3d.Segmenter("geometric").segment(pts)
    b = edge3d.Segmenter("geometric").segment(pts)
    np.testing.assert_array_equal(a.labels, b.labels)
    moved, _ = room_scene(offset=(12.3, -7.0, 1.5))
    c = edge3d.Segmenter("geometric").segment(moved)
    assert len(c.instances) == len(a.instances)


def test_touching_boxes_merge_and_separated_ones_do_not():
    # The documented weakness of connected components: touching objects become one.
    boxes = (((1.0, 1.0, 0.0), (1.6, 1.6, 0.8)), ((1.6, 1.0, 0.0), (2.2, 1.6, 0.5)),
             ((3.0, 2.0, 0.0), (3.5, 2.5, 0.6)))
    pts, gt = room_scene(boxes=boxes)
    result = edge3d.Segmenter("geometric").segment(pts)
    found = _purity(result, gt, pts)
    assert found[1][0] == found[2][0] != found[3][0]
    assert len(result.instances) == 2


def test_min_points_drops_small_clusters():
    pts, _gt = room_scene()
    small = np.random.default_rng(1).normal((2.5, 0.5, 1.0), 0.01, (20, 3)).astype(np.float32)
    result = edge3d.Segmenter("geometric").segment(np.concatenate([pts, small]))
    assert np.all(result.labels[len(pts):] == -1)
    result = edge3d.Segmenter("geometric", min_points=10, min_cells=1).segment(
        np.concatenate([pts, small]))
    assert len(np.unique(result.labels[len(pts):])) == 1
    assert result.labels[-1] >= 0


def test_colors_accepted_as_uint8_and_float_and_do_not_change_geometry():
    pts, _ = room_scene()
    rng = np.random.default_rng(0)
    c8 = rng.integers(0, 256, (len(pts), 3), dtype=np.uint8)
    seg = edge3d.Segmenter("geometric")
    a = seg.segment(pts, c8)
    b = seg.segment(pts.astype(np.float64), c8.astype(np.float32) / 255)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_empty_and_tiny_inputs():
    seg = edge3d.Segmenter("geometric")
    r = seg.segment(np.zeros((0, 3), np.float32))
    assert len(r) == 0 and r.labels.shape == (0,)
    r = seg.segment(np.zeros((5, 3), np.float32))
    assert len(r) == 0 and np.all(r.labels == -1)
    # A floor alone: no objects.
    g = np.stack(np.meshgrid(np.arange(0, 3, 0.02), np.arange(0, 3, 0.02)), -1).reshape(-1, 2)
    r = seg.segment(np.c_[g, np.zeros(len(g))].astype(np.float32))
    assert len(r) == 0


@pytest.mark.parametrize(("points", "colors", "match"), [
    (np.zeros((10, 2)), None, r"shape \[N, 3\]"),
    (np.zeros((10, 3, 1)), None, r"shape \[N, 3\]"),
    (np.array([["a", "b", "c"]]), None, "numeric"),
    (np.array([[0, 0, np.nan], [1, 1, 1]]), None, "NaN or infinite"),
    (np.array([[0, 0, np.inf]]), None, "NaN or infinite"),
    (np.array([[0, 0, 0], [2000.0, 0, 0]]), None, "millimetres"),
    (np.zeros((4, 3)), np.zeros((3, 3), np.uint8), "like points"),
    (np.zeros((4, 3)), np.full((4, 3), 200.0), "0-255 values"),
    (np.zeros((4, 3)), np.full((4, 3), -0.5), r"\[0, 1\]"),
    (np.zeros((4, 3)), np.zeros((4, 3), np.int32), "uint8"),
])
def test_bad_input_is_rejected_with_a_clear_error(points, colors, match):
    with pytest.raises(ValueError, match=match):
        edge3d.Segmenter("geometric").segment(points, colors)


def test_unknown_model_lists_what_is_available(tmp_path):
    with pytest.raises(PackageError, match="Available models: geometric"):
        edge3d.Segmenter("no-such-model")
    with pytest.raises(PackageError, match="not an edge3d model package"):
        edge3d.Segmenter(tmp_path)
    with pytest.raises(ValueError, match="unknown backend"):
        edge3d.Segmenter("geometric", backend="cuda")
    with pytest.raises(TypeError, match="cluster_distance"):
        edge3d.Segmenter("geometric", cluster_dist=0.1)
    with pytest.raises(ValueError, match="must be a positive number"):
        GeometricParams(cluster_distance=0.0)


def test_package_of_unknown_method_names_the_method(tmp_path):
    from edge3d.package import GraphSpec, write_package

    onnx = tmp_path / "x.onnx"
    onnx.write_bytes(b"not really onnx")
    pkg = write_package(tmp_path / "pkg", method="mystery", class_names=["a"], voxel_size=0.02,
                        graphs={"main": GraphSpec("main", {"portable": "x.onnx"}, (), ())},
                        files={"x.onnx": onnx})
    with pytest.raises(PackageError, match="'mystery' model, which this edge3d cannot run"):
        edge3d.Segmenter(pkg)


def test_segmenter_describe_and_repr():
    seg = edge3d.Segmenter("geometric", cluster_distance=0.05)
    d = seg.describe()
    assert d["method"] == "geometric" and d["cluster_distance"] == 0.05
    assert "geometric" in repr(seg)
    assert seg.class_names[0] == "object"
