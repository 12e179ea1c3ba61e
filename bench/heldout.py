"""The held-out synthetic rooms every accuracy benchmark evaluates on (never used in training:
training uses seeds 0-149, validation 500-502, export validation 900001-900002).

``{subset: (seeds, make_world keyword arguments)}``:

- ``rooms``: ``make_world(seed)`` for seeds 1000-1019 (30 % of floor objects touching another,
  clutter on tables);
- ``touching``: seeds 2000-2009 with ``touching_fraction=1.0``;
- ``apart``: seeds 2000-2009 with ``touching_fraction=0.0`` and ``on_table_probability=0.0``.
"""

SUBSETS = {
    "rooms": (range(1000, 1020), {}),
    "touching": (range(2000, 2010), {"touching_fraction": 1.0}),
    "apart": (range(2000, 2010), {"touching_fraction": 0.0, "on_table_probability": 0.0}),
}
