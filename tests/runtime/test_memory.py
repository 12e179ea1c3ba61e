"""Memory budgets: for every model a Segmenter opens by name, a cloud that cannot fit is
refused before anything is allocated (chunked runs: tests/spherical_mask/test_memory.py)."""

from __future__ import annotations

import numpy as np
import pytest

import edge3d
from edge3d.errors import CapacityError
from edge3d.runtime.memory import resolve_budget
from tests.runtime.scenes import room_scene, runnable_models


@pytest.fixture(scope="module")
def room():
    pts, _ = room_scene(spacing=0.03)
    return pts, np.full(pts.shape, 128, np.uint8)


@pytest.mark.parametrize("method", runnable_models())
def test_a_cloud_over_the_budget_is_refused_by_name(method, room):
    pts, cols = room
    seg = edge3d.Segmenter(method, max_memory_mb=4)
    with pytest.raises(CapacityError, match=r"GiB, over the memory budget.*max_memory_mb"):
        seg.segment(pts, cols)
    # CapacityError is a MemoryError, so code that guards against running out catches it too.
    assert issubclass(CapacityError, MemoryError)
    assert len(edge3d.Segmenter(method).segment(pts, cols).labels) == len(pts)


@pytest.mark.parametrize("bad", [0, -5, "1GB", float("nan")])
def test_bad_budgets_are_refused(bad):
    with pytest.raises(ValueError, match="max_memory_mb"):
        resolve_budget(bad)
    assert resolve_budget(None) > 0 and resolve_budget(100) == 100 << 20
