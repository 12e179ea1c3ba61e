"""``make_world``: one entry point for every kind of synthetic world."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from edge3d.synth.room import make_room
from edge3d.synth.toy import make_toy_world
from edge3d.synth.world import World

WORLD_KINDS: dict[str, Callable[..., World]] = {"room": make_room, "toy": make_toy_world}


def world_parameters(kind: str) -> list[str]:
    """Names of the parameters ``make_world(seed, kind, **params)`` accepts for ``kind``."""
    _check_kind(kind)
    return [p for p in inspect.signature(WORLD_KINDS[kind]).parameters if p != "seed"]


def _check_kind(kind: str) -> None:
    if kind not in WORLD_KINDS:
        raise ValueError(f"unknown world kind {kind!r}; expected one of {', '.join(WORLD_KINDS)}")


def make_world(seed: int, kind: str = "room", **params: object) -> World:
    """A synthetic world, the same for the same ``seed``, ``kind`` and ``params``.

    ``kind="room"``: a 3-8 m room (floor and four walls) with furniture of the classes in
    :data:`~edge3d.synth.CLASS_NAMES` built from boxes with class-specific shapes and size priors,
    standing on the floor (cabinets, beds and bookshelves against walls), clutter on tables, and
    a fraction of the floor objects touching another. Parameters:

    - ``room_size``: side length range (min, max) or one number, metres; default (3, 8).
    - ``wall_height``: range or number, metres; default (2.5, 3.0).
    - ``num_objects``: floor-standing objects; default about one per 4 m^2 of floor (3-16).
    - ``touching_fraction``: fraction of floor objects placed in face contact with another;
      exactly ``round(fraction * n)`` of them touch (a count of 1 rounds to 0 or 2); default 0.3.
      Groups that cannot be placed are dropped whole.
    - ``on_table_probability``: chance that a table, desk or low cabinet carries clutter (1 to
      ``max_on_table`` items); default 0.7 and 3.
    - ``gap``: clearance, metres, between objects that do not touch; default 0.15.

    ``kind="toy"``: the MTML paper's synthetic toy scenes (see :mod:`edge3d.synth.toy`):
    parameters ``num_objects`` (default 6-12), ``plane_size`` (default 4 m),
    ``touching_fraction`` (default 0.5), ``gap`` (default 0.1).

    Raises:
        ValueError: for an unknown kind or parameter (the message lists the valid ones).
    """
    _check_kind(kind)
    valid = world_parameters(kind)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for world kind {kind!r}; "
                         f"valid: {', '.join(valid)}")
    return WORLD_KINDS[kind](int(seed), **params)
