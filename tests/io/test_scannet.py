"""ScanNet scenes (mesh + segs + aggregation + label map) and .sens streams."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.errors import FormatError
from edge3d.io import open_source
from edge3d.io.scannet import BENCHMARK_CLASS_NAMES, SensReader, axis_alignment, load_scene
from edge3d.io.sens import SensSource
from tests.io.writers import write_scannet_scene, write_sens


def _scene(tmp_path, label_map=True):
    rng = np.random.default_rng(0)
    n = 12
    points = rng.normal(size=(n, 3)).astype(np.float32)
    colors = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    # segment ids are arbitrary integers, as in ScanNet
    seg = [7, 7, 7, 301, 301, 301, 55, 55, 9000, 9000, 12, 12]
    groups = [
        {"id": 0, "objectId": 0, "segments": [7, 301], "label": "couch"},
        {"id": 1, "objectId": 1, "segments": [55], "label": "office chair"},
        {"id": 2, "objectId": 2, "segments": [9000], "label": "chair"},  # an NYU40 name itself
    ]
    align = np.eye(4)
    align[:3, 3] = [1.0, 2.0, 0.0]
    write_scannet_scene(tmp_path / "scans" / "scene0000_00", points, colors, seg, groups,
                        {"couch": 6, "office chair": 5} if label_map else None, align)
    return tmp_path / "scans" / "scene0000_00", points, colors


def test_load_scene_benchmark_labels(tmp_path):
    scene_dir, points, colors = _scene(tmp_path)
    s = load_scene(scene_dir)
    np.testing.assert_array_equal(s.points, points)
    np.testing.assert_array_equal(s.colors, colors)
    # couch -> nyu40 6 (sofa), office chair -> 5 (chair), 'chair' -> 5, unlabelled -> 0
    np.testing.assert_array_equal(s.semantic, [6] * 6 + [5, 5, 5, 5, 0, 0])
    np.testing.assert_array_equal(s.instance, [1] * 6 + [2, 2, 3, 3, 0, 0])
    np.testing.assert_array_equal(s.gt_ids, [6001] * 6 + [5002, 5002, 5003, 5003, 0, 0])
    assert axis_alignment(scene_dir)[0, 3] == 1.0
    # the mesh segments, renumbered 0..S-1 in id order: 7, 12, 55, 301, 9000
    np.testing.assert_array_equal(s.superpoints, [0, 0, 0, 3, 3, 3, 2, 2, 4, 4, 1, 1])
    assert s.superpoints.dtype == np.int32
    assert len(s) == 6 and s[4] is s.gt_ids  # unpacks as the six arrays
    assert "sofa" in BENCHMARK_CLASS_NAMES and len(BENCHMARK_CLASS_NAMES) == 18


def test_unknown_raw_label_needs_the_label_map(tmp_path):
    scene_dir, _, _ = _scene(tmp_path, label_map=False)
    with pytest.raises(FormatError, match=r"scannetv2-labels\.combined\.tsv"):
        load_scene(scene_dir)
    s = load_scene(scene_dir, label_map={"couch": 6, "office chair": 5})
    assert s.semantic[0] == 6


def test_mismatched_segs_are_rejected(tmp_path):
    scene_dir, _, _ = _scene(tmp_path)
    segs = scene_dir / "scene0000_00_vh_clean_2.0.010000.segs.json"
    segs.write_text('{"segIndices": [1, 2, 3]}')
    with pytest.raises(FormatError, match="segIndices has 3 entries"):
        load_scene(scene_dir)


def _sens_data(n=3, corrupt=None, depth_compression=1, color_compression=0, ts=True):
    rng = np.random.default_rng(3)
    depths = [rng.integers(0, 65536, (12, 16), dtype=np.uint16) for _ in range(n)]
    colors = [rng.integers(0, 256, (24, 32, 3), dtype=np.uint8) for _ in range(n)]
    poses = []
    for i in range(n):
        T = np.eye(4)
        T[:3, 3] = [0.25 * i, 0.5, 1.0]
        poses.append(T)
    K_d = np.array([[20.0, 0, 7.5, 0], [0, 20.0, 5.5, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    K_c = np.array([[40.0, 0, 15.0, 0], [0, 40.0, 11.0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    return depths, colors, poses, K_d, K_c


@pytest.mark.parametrize("depth_compression,color_compression", [(0, 0), (1, 1)])
def test_sens_reader_and_source(tmp_path, depth_compression, color_compression):
    depths, colors, poses, K_d, K_c = _sens_data()
    path = tmp_path / "scene0000_00.sens"
    write_sens(path, depths, colors, poses, K_d, K_c, depth_compression, color_compression,
               timestamps=[0, 33_000, 66_000])
    with SensReader(path) as r:
        assert r.header.depth_width == 16 and r.header.color_width == 32
        assert r.depth_intrinsics.fx == 20.0 and r.color_intrinsics.cx == 15.0
        items = list(r)
    np.testing.assert_array_equal(items[1].depth, depths[1])
    np.testing.assert_array_equal(items[1].color, colors[1])
    with open_source(path) as src:
        assert isinstance(src, SensSource)
        frames = list(src)
    assert len(frames) == 3
    f = frames[2]
    assert f.depth_scale == pytest.approx(0.001)
    np.testing.assert_array_equal(f.depth, depths[2])
    np.testing.assert_allclose(f.pose, poses[2])
    assert f.timestamp == pytest.approx(0.066)
    assert f.color.shape == (12, 16, 3)
    # colour registered to depth: depth pixel (u, v) sees colour pixel (2u, 2v)
    valid = f.depth > 0
    v, u = np.nonzero(valid)
    expect = colors[2][2 * v, 2 * u]
    np.testing.assert_array_equal(f.color[valid], expect)


def test_sens_corrupt_truncated_and_tracking_failure(tmp_path):
    depths, colors, poses, K_d, K_c = _sens_data(n=4)
    poses[3][0, 0] = -np.inf  # ScanNet's tracking failure marker
    path = tmp_path / "a.sens"
    write_sens(path, depths, colors, poses, K_d, K_c, corrupt_frame=1)
    with open_source(path) as src:
        frames = list(src)
        assert [f.index for f in frames] == [0, 2]
        assert src.stats.skip_reasons == {"corrupt frame": 1, "tracking failure": 1}
    data = path.read_bytes()
    path.write_bytes(data[:-100])  # cut inside the last frame
    with open_source(path) as src:
        frames = list(src)
        assert src.stats.skip_reasons["truncated frame"] == 1
    assert [f.index for f in frames] == [0, 2]
    path.write_bytes(b"\x05\x00\x00\x00" + data[4:])
    with pytest.raises(FormatError, match="version 5"):
        open_source(path)


def test_scene_folder_with_sens_opens_the_stream(tmp_path):
    scene_dir, _, _ = _scene(tmp_path)
    depths, colors, poses, K_d, K_c = _sens_data(n=2)
    write_sens(scene_dir / "scene0000_00.sens", depths, colors, poses, K_d, K_c)
    with open_source(scene_dir) as src:
        assert isinstance(src, SensSource)
        assert len(list(src)) == 2
