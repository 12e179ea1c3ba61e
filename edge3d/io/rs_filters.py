"""librealsense depth post-processing filters, always run in the documented order.

librealsense's ``doc/post-processing-filters.md`` recommends: decimation -> depth-to-disparity ->
spatial -> temporal -> disparity-to-depth -> hole filling. :class:`DepthFilterChain` accepts the
filters in any order and runs them in that one; the disparity pair is inserted around spatial and
temporal automatically. Decimation changes the depth resolution, and the intrinsics of the
filtered frame's profile follow it (read them from the output, never from the input).

Keep one chain per camera: the temporal filter keeps history, which breaks if frames from another
source pass through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Union

from edge3d.errors import SourceError
from edge3d.io.rs_util import import_rs

ORDER = ("decimation", "spatial", "temporal", "hole_filling")
"""Filter names edge3d accepts, in the order they run."""

# edge3d option name -> pyrealsense2.option member, per filter
_OPTIONS = {
    "decimation": {"magnitude": "filter_magnitude"},
    "spatial": {"magnitude": "filter_magnitude", "alpha": "filter_smooth_alpha",
                "delta": "filter_smooth_delta", "hole_fill": "holes_fill"},
    "temporal": {"alpha": "filter_smooth_alpha", "delta": "filter_smooth_delta",
                 "persistency": "holes_fill"},
    "hole_filling": {"mode": "holes_fill"},
}

FilterSpec = Union[str, tuple[str, Mapping[str, float]]]  # noqa: UP007 - a runtime alias on 3.10
"""A filter name from :data:`ORDER`, or ``(name, {option: value})``, e.g.
``("decimation", {"magnitude": 2})``. Options: decimation ``magnitude`` (2-8); spatial
``magnitude`` (1-5), ``alpha`` (0.25-1), ``delta`` (1-50), ``hole_fill`` (0-5); temporal ``alpha``
(0-1), ``delta`` (1-100), ``persistency`` (0-8); hole_filling ``mode`` (0 fill from left,
1 farthest from around, 2 nearest from around)."""


def parse_filters(filters: Iterable[FilterSpec] | str | None) -> dict[str, dict[str, float]]:
    """Normalise filter specs to ``{name: options}`` in run order; raise SourceError on unknown
    names or options. A string is split on ``+`` or ``,`` (``"decimation+spatial"``)."""
    if filters is None:
        return {}
    if isinstance(filters, str):
        filters = [f for f in filters.replace(",", "+").split("+") if f.strip()]
    parsed: dict[str, dict[str, float]] = {}
    for spec in filters:
        name, opts = (spec, {}) if isinstance(spec, str) else (spec[0], dict(spec[1]))
        name = name.strip().replace("-", "_")
        if name not in _OPTIONS:
            raise SourceError(f"unknown depth filter {name!r}; choose from {', '.join(ORDER)}")
        unknown = set(opts) - set(_OPTIONS[name])
        if unknown:
            raise SourceError(f"unknown option(s) {sorted(unknown)} for the {name} filter; it "
                              f"takes {', '.join(_OPTIONS[name])}")
        parsed[name] = {k: float(v) for k, v in opts.items()}
    return {name: parsed[name] for name in ORDER if name in parsed}


class DepthFilterChain:
    """The librealsense filters of :func:`parse_filters` as one processing step.

    ``process`` takes a depth frame or a frameset (the filters replace the depth frame inside it)
    and returns the same kind.
    """

    def __init__(self, filters: Iterable[FilterSpec] | str | None) -> None:
        self.config = parse_filters(filters)
        rs = import_rs("RealSense depth filters")
        self._blocks: list[Any] = []
        factories = {"decimation": rs.decimation_filter, "spatial": rs.spatial_filter,
                     "temporal": rs.temporal_filter, "hole_filling": rs.hole_filling_filter}
        for name, opts in self.config.items():
            if name == "spatial" or (name == "temporal" and "spatial" not in self.config):
                self._blocks.append(rs.disparity_transform(True))
            block = factories[name]()
            for key, value in opts.items():
                option = getattr(rs.option, _OPTIONS[name][key])
                try:
                    block.set_option(option, value)
                except RuntimeError as exc:
                    raise SourceError(f"{name} filter: cannot set {key}={value} ({exc}); see "
                                      "edge3d.io.rs_filters.FilterSpec for the ranges") from exc
            self._blocks.append(block)
            if name == "temporal" or (name == "spatial" and "temporal" not in self.config):
                self._blocks.append(rs.disparity_transform(False))

    def __bool__(self) -> bool:
        return bool(self._blocks)

    @property
    def names(self) -> list[str]:
        return list(self.config)

    def process(self, frame: Any) -> Any:
        for block in self._blocks:
            frame = block.process(frame)
        return frame
