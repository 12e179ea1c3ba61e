"""``sequence``: parameters from text, errors that list valid keys, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.synth import sequence


def test_text_parameters_as_from_a_spec() -> None:
    frames = list(sequence(seed="3", frames="3", trajectory="walkthrough", width="160",
                           height="120", noise="false", room_size="4:5", num_objects="5",
                           touching_fraction="0.4", depth_scale="0.0005"))
    assert [f.frame.index for f in frames] == [0, 1, 2]
    f = frames[0].frame
    assert f.depth.shape == (120, 160) and f.depth_scale == 0.0005
    assert f.pose is not None and f.color.shape == (120, 160, 3)
    same = list(sequence(seed=3, frames=3, trajectory="walkthrough", width=160, height=120,
                         noise=False, room_size=(4, 5), num_objects=5, touching_fraction=0.4,
                         depth_scale=0.0005))
    for a, b in zip(frames, same, strict=True):
        np.testing.assert_array_equal(a.frame.depth, b.frame.depth)
        np.testing.assert_array_equal(a.instance, b.instance)


def test_toy_kind_and_noise() -> None:
    frames = list(sequence(seed=1, kind="toy", frames=2, width=80, height=60, plane_size="3"))
    assert len(frames) == 2 and frames[0].frame.depth.shape == (60, 80)
    assert set(np.unique(frames[0].semantic)) <= set(range(-1, 6))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"framez": 3}, "framez.*valid for kind 'room':.*frames"),
    ({"plane_size": 3}, "plane_size"),
    ({"kind": "toy", "room_size": "3:4"}, "room_size"),
    ({"trajectory": "spiral"}, "static, orbit, walkthrough"),
    ({"noise": "maybe"}, "noise='maybe'"),
    ({"kind": "castle"}, "room, toy"),
])
def test_bad_parameters_fail_at_call_time(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sequence(**kwargs)


def test_every_world_parameter_has_a_text_parser() -> None:
    from edge3d.synth.sequence import WORLD_PARSERS
    from edge3d.synth.worlds import WORLD_KINDS, world_parameters

    for kind in WORLD_KINDS:
        assert set(world_parameters(kind)) <= set(WORLD_PARSERS), kind


def test_bad_world_values_fail_at_call_time() -> None:
    with pytest.raises(ValueError, match="touching_fraction"):
        sequence(touching_fraction="1.5")
