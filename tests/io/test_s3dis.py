"""S3DIS rooms: class names from file prefixes (including 'staris'), malformed lines."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.errors import SourceError
from edge3d.io.s3dis import CLASS_NAMES, load_room


def test_load_room(tmp_path):
    room = tmp_path / "Area_5" / "hallway_6"
    ann = room / "Annotations"
    ann.mkdir(parents=True)
    (ann / "ceiling_1.txt").write_text(
        "1.0 2.0 3.0 10 20 30\n"
        "1.5 2.5 3.5 11 21 31\n"
        "1.6 2.6 3.6 12 22\n"            # the dataset's 5-column line
        "1.7 2.7 3\x10.7 12 22 32\n"     # a stray control character
        "1.8 2.8 3.8 13 23 33\n")
    (ann / "chair_1.txt").write_text("0 0 0 255 0 0\n0 0 1 255 0 0\n")
    (ann / "chair_2.txt").write_text("5 5 5 0 255 0\n")
    (ann / "staris_1.txt").write_text("9 9 9 1 2 3\n")
    (room / "hallway_6.txt").write_text("not read: the room file duplicates the annotations\n")
    with pytest.warns(UserWarning, match="2 malformed"):
        r = load_room(room)
    assert len(r.points) == 7 and r.points.dtype == np.float32
    np.testing.assert_allclose(r.points[2], [1.8, 2.8, 3.8], rtol=1e-6)
    np.testing.assert_array_equal(r.colors[0], [10, 20, 30])
    names = [CLASS_NAMES[c] for c in r.semantic]
    assert names == ["ceiling"] * 3 + ["chair"] * 3 + ["clutter"]
    np.testing.assert_array_equal(r.instance, [1, 1, 1, 2, 2, 3, 4])
    assert len(CLASS_NAMES) == 13


def test_not_a_room(tmp_path):
    with pytest.raises(SourceError, match="Annotations"):
        load_room(tmp_path)
