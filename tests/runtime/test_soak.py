"""A long stream keeps its memory bounded (slow: about a minute on 2 cores)."""

from __future__ import annotations

import threading

import pytest

import edge3d


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@pytest.mark.slow
def test_2000_frames_with_bounded_memory():
    budget = 1500
    rss = []
    spec = "synthetic:seed=3,frames=2000,width=80,height=60,trajectory=walkthrough"
    with edge3d.Stream(spec, every=50, voxel_size=0.04, max_blocks=budget) as stream:
        for update in stream:
            rss.append(_rss_mb())
            assert update.counters.map_blocks <= budget
    c = update.counters
    assert c.frames_read == c.frames_fused == 2000
    assert c.map_blocks_evicted > 0  # the budget was reached and enforced
    assert c.updates >= 30
    # After warm-up (first tenth) memory stays flat: bounded queues, a bounded map, a tracker
    # that remembers voxels of the bounded map only.
    settled = rss[len(rss) // 10:]
    growth = max(settled) - settled[0]
    assert growth < 60, f"RSS grew by {growth:.0f} MB from {settled[0]:.0f} MB"
    assert not [t for t in threading.enumerate() if t.name.startswith("edge3d-")]
