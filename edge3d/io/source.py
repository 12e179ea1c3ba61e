"""The frame-source protocol every edge3d input implements.

A :class:`FrameSource` is an iterable of validated :class:`edge3d.Frame` objects and a context
manager. Subclasses implement :meth:`FrameSource._read`, a generator that yields frames or
:class:`SkippedFrame` markers; the base class validates every frame, counts what it skips (with
the reason) and never lets a bad frame end the stream.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from edge3d.errors import FrameError, SourceError
from edge3d.types import Frame, Intrinsics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkippedFrame:
    """A frame a reader could not turn into a :class:`Frame`.

    ``reason`` is a short category used as the counting key (for example ``"corrupt depth image"``);
    ``detail`` is the full message, logged once per reason.
    """

    reason: str
    detail: str = ""
    index: int | None = None


@dataclass(frozen=True)
class Gap:
    """A stretch without frames: a live camera that disconnected, or a jump in a recording.

    ``after_index`` is the index of the last frame before the gap (-1 if none), ``seconds`` its
    length in wall-clock (live) or stream (recorded) time.
    """

    after_index: int
    seconds: float
    reason: str


@dataclass
class SourceStats:
    """What a source has delivered so far.

    Attributes:
        frames_read: frames yielded (after validation).
        frames_skipped: frames dropped because they were corrupt, truncated or invalid.
        skip_reasons: how many frames were skipped per reason.
        reconnects: times a live camera was reopened after it disconnected.
        gaps: every gap in the stream, in order.
    """

    frames_read: int = 0
    frames_skipped: int = 0
    skip_reasons: Counter = field(default_factory=Counter)
    reconnects: int = 0
    gaps: list[Gap] = field(default_factory=list)

    def count_skip(self, reason: str) -> None:
        self.frames_skipped += 1
        self.skip_reasons[reason] += 1


class FrameSource(ABC):
    """Base class of every frame source; iterate it to get validated frames.

    Sources hold files or devices open: use them in a ``with`` block or call :meth:`close`.
    Iteration is single-pass (a live camera cannot rewind); open the source again to re-read.
    ``live`` is True for a camera, whose frames lose value as they age (a consumer may drop old
    ones), and False for files, whose every frame should be processed.
    """

    live: bool = False

    def __init__(self) -> None:
        self.stats = SourceStats()
        self._closed = False
        self._iterating = False
        self._reader: Iterator[Frame | SkippedFrame] | None = None
        self._peeked: list[Frame | SkippedFrame] = []

    @property
    @abstractmethod
    def intrinsics(self) -> Intrinsics:
        """Intrinsics of the depth images this source yields (after any resampling filter)."""

    @abstractmethod
    def _read(self) -> Iterator[Frame | SkippedFrame]:
        """Yield frames in order, or a :class:`SkippedFrame` for each one that cannot be read."""

    def __iter__(self) -> Iterator[Frame]:
        if self._closed:
            raise SourceError(f"{type(self).__name__} is closed; open the source again to read it")
        if self._iterating:
            raise SourceError(f"{type(self).__name__} can be iterated only once; open it again")
        self._iterating = True
        for item in self._items():
            if isinstance(item, SkippedFrame):
                self._skip(item)
                continue
            try:
                item.validate()
            except FrameError as exc:
                self._skip(SkippedFrame("invalid frame", str(exc), item.index))
                continue
            self.stats.frames_read += 1
            yield item

    def _items(self) -> Iterator[Frame | SkippedFrame]:
        while self._peeked:
            yield self._peeked.pop(0)
        if self._reader is None:
            self._reader = self._read()
        yield from self._reader

    def _peek_frame(self) -> Frame | None:
        """Read ahead to the first frame (kept for iteration), for sources whose intrinsics are
        known only from a frame; None if the source has no frame at all."""
        if self._reader is None:
            self._reader = self._read()
        for item in self._peeked:
            if isinstance(item, Frame):
                return item
        for item in self._reader:
            self._peeked.append(item)
            if isinstance(item, Frame):
                return item
        return None

    def _first_frame_intrinsics(self, none: str) -> Intrinsics:
        """The intrinsics of the first frame (kept for iteration), for sources that know them
        only from a frame; SourceError with ``none`` when there is no frame at all."""
        frame = self._peek_frame()
        if frame is None:
            raise SourceError(none)
        return frame.intrinsics

    def _skip(self, item: SkippedFrame) -> None:
        first = item.reason not in self.stats.skip_reasons
        self.stats.count_skip(item.reason)
        if first:
            log.warning("%s: skipping frame %s: %s (%s); further frames skipped for the same "
                        "reason are only counted", type(self).__name__, item.index, item.reason,
                        item.detail)

    def stop(self) -> None:  # noqa: B027 - an optional hook: most sources have nothing to stop
        """Ask the iteration, which may be running in another thread, to end soon: a read that
        can wait long (a camera that is gone and being reopened) returns, and the iteration
        ends. Thread-safe; call :meth:`close` afterwards, from the reading thread, to release
        the source. Reads of files are short, so by default there is nothing to interrupt."""

    def close(self) -> None:
        """Release files or devices. Safe to call more than once."""
        self._closed = True

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
