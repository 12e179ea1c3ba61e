"""Any iterable of frames as a :class:`~edge3d.io.source.FrameSource`, so that a consumer
treats a list or generator of frames like every other source."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from edge3d.io.source import FrameSource, SkippedFrame
from edge3d.types import Frame, Intrinsics


class IterableSource(FrameSource):
    """Frames from an iterable (a list, a generator), taken as recorded (``live`` False).

    Items that are not :class:`edge3d.Frame` raise TypeError: that is a programming error, not
    a bad frame. Closing the source does not close the iterable.
    """

    def __init__(self, frames: Iterable[Frame]) -> None:
        super().__init__()
        self._frames = frames

    @property
    def intrinsics(self) -> Intrinsics:
        return self._first_frame_intrinsics("the iterable holds no frame, so it has no intrinsics")

    def _read(self) -> Iterator[Frame | SkippedFrame]:
        for item in self._frames:
            if not isinstance(item, Frame):
                raise TypeError(f"the source yielded {type(item).__name__}, not an edge3d.Frame")
            yield item


def as_frame_source(source: FrameSource | Iterable[Frame]) -> FrameSource:
    """``source`` itself when it is a FrameSource, else an :class:`IterableSource` over it."""
    return source if isinstance(source, FrameSource) else IterableSource(source)
