"""Frames pushed in from another thread as a :class:`~edge3d.io.source.FrameSource`."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any

from edge3d.errors import SourceError
from edge3d.io.source import FrameSource, SkippedFrame
from edge3d.types import Frame, Intrinsics

_POLL = 0.05  # seconds between checks for the end while no frame arrives


def put_latest(q: queue.Queue, item: Any) -> int:
    """Put without waiting, discarding the oldest items to make room; returns how many (a
    live source's policy: the newest frame matters most)."""
    dropped = 0
    while True:
        try:
            q.put_nowait(item)
            return dropped
        except queue.Full:
            with contextlib.suppress(queue.Empty):
                q.get_nowait()
                dropped += 1


class FrameFeed(FrameSource):
    """Frames pushed in from another thread (a ROS 2 subscription callback, a camera SDK's
    callback) as a source a :class:`edge3d.Stream` can consume.

    ``put`` never blocks: when ``maxsize`` frames wait, the oldest is dropped (counted in
    ``dropped``), as a live camera should. Iteration ends after :meth:`close` (frames still
    queued are delivered first) or at once after :meth:`stop`. The feed is ``live``, so the
    stream drops late frames too rather than falling behind; a stream that is closed stops its
    feed. Frames are validated as from every source: an invalid one is skipped and counted in
    ``stats``.

    Example::

        feed = edge3d.io.FrameFeed()
        stream = edge3d.Stream(feed, every=15)
        # in the depth callback: feed.put(edge3d.Frame(depth, scale, intrinsics, color,
        #                                               pose=T_W_C))
    """

    live = True

    def __init__(self, maxsize: int = 4) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        super().__init__()
        self._q: queue.Queue = queue.Queue(maxsize)
        self.closed = threading.Event()
        self._stopped = threading.Event()
        self.dropped = 0
        self._intrinsics: Intrinsics | None = None

    @property
    def intrinsics(self) -> Intrinsics:
        """The intrinsics of the last frame put."""
        if self._intrinsics is None:
            raise SourceError("a FrameFeed knows its intrinsics once a frame was put")
        return self._intrinsics

    def put(self, frame: Frame) -> bool:
        """Offer a frame; False once the feed is closed or stopped."""
        if self.closed.is_set():
            return False
        self._intrinsics = frame.intrinsics
        self.dropped += put_latest(self._q, frame)
        return True

    def _read(self) -> Iterator[Frame | SkippedFrame]:
        while not self._stopped.is_set():
            try:
                yield self._q.get(timeout=_POLL)
            except queue.Empty:
                if self.closed.is_set():
                    return

    def stop(self) -> None:
        """End the iteration now, from any thread; frames still queued are dropped."""
        self.closed.set()
        self._stopped.set()

    def close(self) -> None:
        """End the iteration once the frames still queued are delivered; ``put`` refuses
        frames from now on. Safe to call more than once, from any thread."""
        self.closed.set()
