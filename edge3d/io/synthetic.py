"""``synthetic:<k=v,...>`` sources: frames rendered by :func:`edge3d.synth.sequence`."""

from __future__ import annotations

from collections.abc import Iterator

from edge3d.errors import SourceError
from edge3d.io.source import FrameSource, SkippedFrame
from edge3d.types import Frame, Intrinsics

PREFIX = "synthetic"


def parse_spec(spec: str) -> dict[str, str]:
    """``"synthetic:seed=3,frames=30"`` -> ``{"seed": "3", "frames": "30"}``; ``"synthetic"`` or
    ``"synthetic:"`` -> ``{}``. Values stay text; :func:`edge3d.synth.sequence` parses them (so
    ranges such as ``room_size=4:7`` work). Raises SourceError for a malformed item."""
    head, _, body = spec.partition(":")
    if head.strip() != PREFIX:
        raise SourceError(f"{spec!r} is not a synthetic spec (it starts with '{PREFIX}:')")
    params: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in body.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise SourceError(f"synthetic spec item {item!r} is not key=value (in {spec!r}); "
                              "example: synthetic:seed=3,frames=30,trajectory=walkthrough")
        if key in params:
            raise SourceError(f"synthetic spec sets {key!r} twice (in {spec!r})")
        params[key] = value.strip()
    return params


class SyntheticSource(FrameSource):
    """Frames of a synthetic world; ``params`` go to :func:`edge3d.synth.sequence` (text or
    values). ``last_rendered`` holds the :class:`edge3d.synth.RenderedFrame` of the latest frame
    (per-pixel instance and class ground truth, exact depth)."""

    def __init__(self, **params: object) -> None:
        super().__init__()
        from edge3d.synth import sequence

        try:
            self._frames = sequence(**params)
        except ValueError as exc:
            raise SourceError(f"cannot make the synthetic source: {exc}") from exc
        self.params = params
        self.last_rendered = None

    @property
    def intrinsics(self) -> Intrinsics:
        return self._first_frame_intrinsics("the synthetic source has no frames (frames=0)")

    def _read(self) -> Iterator[Frame | SkippedFrame]:
        for rendered in self._frames:
            self.last_rendered = rendered
            yield rendered.frame
