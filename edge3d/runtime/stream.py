"""``edge3d.Stream``: fuse every frame, segment the fused map now and then, yield updates.

NOTE [ Stream threads, queues and shutdown ]
============================================

Three stages run in their own named threads, joined by bounded queues; the caller's thread
consumes updates::

    source ─▶ [edge3d-source] ─frames─▶ [edge3d-fusion] ─requests─▶ [edge3d-segment] ─updates─▶ you
              read, sample      (F)     fuse every      (1)     extract the map,   (U)
              the IMU                   frame; every            downsample,
                                        k frames (or            segment, keep
                                        on request) ask         ids stable
                                        for an update

Queues (all ``queue.Queue(maxsize)``; no unbounded queue anywhere):

- ``frames`` (maxsize ``frame_queue``). A live camera (``drop_frames`` default) puts with
  *drop-oldest*: a camera must never wait for fusion, and a late frame is worth less than the
  newest (counted in ``frames_dropped``). A recording puts with *wait*: every recorded frame
  is fused.
- ``requests`` (maxsize 1, drop-oldest). A request to segment the map. The segment thread
  extracts the surface itself when it takes a request, so it always segments the newest map,
  and a request that waited while the segmenter was busy is replaced by the next one
  (counted in ``maps_dropped``): fusion never waits for the segmenter, and no map is extracted
  only to be thrown away. Extraction and ``Fusion.add`` share one lock (``_map_lock``), so a
  map is never read half-updated; that lock is the only point where fusion waits for the
  segment thread, for the duration of one extraction.
- ``updates`` (maxsize ``update_queue``, drop-oldest). A consumer that falls behind loses the
  oldest updates (counted in ``updates_dropped``), never the newest, and never stalls the stages.

Protocol, followed by every loop below:

1. **No wait is unbounded.** Every ``get``/``put`` uses a timeout of ``_POLL`` seconds and then
   re-checks ``self._done`` (a ``threading.Event``). A stage blocked inside a long call (a
   segmentation, a camera read) notices ``_done`` when the call returns.
2. **End of stream travels as a value.** When the source is exhausted the source thread puts
   ``_END``; fusion puts a final request (so the final map is always segmented), then
   forwards ``_END``; the segmenter forwards ``_END``; the consumer stops iterating. ``_END`` is
   put with *wait* semantics so that drop-oldest can never discard it, and it is the last thing
   its producer puts.
3. **Errors travel as values.** An exception in a stage is wrapped as ``_Failure(where, exc)``,
   forwarded downstream like ``_END``, and re-raised by the consumer with a note naming the
   thread. A bad *frame* is not an error: it is skipped and counted (``frames_skipped``).
4. **Liveness.** When the consumer's wait times out it checks that the stage threads are still
   alive; a thread that died without sending ``_END`` or ``_Failure`` raises "edge3d <name>
   thread exited unexpectedly" instead of waiting forever.
5. **Shutdown** (``close()``, the context manager, the end of iteration, an exception or
   ``KeyboardInterrupt`` in the consumer): set ``_done``, ask the source to ``stop()`` (a
   camera's frame wait or reconnect returns within 0.1 s), then join the threads downstream
   first (segment, fusion, source), each with ``join_timeout``. A thread still alive after its
   timeout (a plain iterable blocked in its own read, a long segmentation) is reported with a
   warning (it is a daemon thread, so it cannot keep the process alive, but nothing relies on
   that). A source the stream opened is closed by the source thread itself, in the thread
   that reads it.
   The threads run on ``_StreamCore`` and never hold the user's ``Stream``, so a stream that is
   dropped without ``close()`` is collected, and its finalizer does the first two steps.
6. **Threads** are named ``edge3d-source``, ``edge3d-fusion``, ``edge3d-segment`` and recorded
   only after ``start()`` succeeds.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import os
import queue
import threading
import time
import warnings
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from edge3d.errors import FrameError
from edge3d.io.feed import put_latest
from edge3d.methods import DEFAULT_MODEL
from edge3d.runtime.instance_ids import InstanceTracker
from edge3d.types import Frame, SegmentationResult

if TYPE_CHECKING:
    from edge3d.runtime.segmenter import Segmenter

log = logging.getLogger(__name__)

_POLL = 0.05  # seconds: the longest any wait lasts before re-checking the done event
# Streams still running when the interpreter exits are closed (threads joined) first: a daemon
# thread that is inside native code (ONNX Runtime, the TSDF) when Python finalizes is killed
# on its way back, which can abort the whole process.
_RUNNING: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_running_streams() -> None:
    for core in list(_RUNNING):
        with contextlib.suppress(Exception):
            core.close()
_RATE_WINDOW = 30  # stage timings averaged over this many recent calls


@dataclass
class StreamCounters:
    """What the stream has done so far (a snapshot travels with every update).

    Attributes:
        frames_read: frames taken from the source.
        frames_fused: frames integrated into the map.
        frames_skipped: frames rejected as corrupt or invalid (by the source, by validation, or
            by fusion, e.g. no valid depth), never fused.
        frames_dropped: frames discarded because fusion was behind a live source.
        frames_not_integrated: valid frames fusion did not integrate (tracking lost).
        maps_dropped: map snapshots replaced before the segmenter got to them (stale requests).
        updates: updates produced.
        updates_dropped: updates discarded because the consumer was behind.
        tracking: the fusion's tracking state after the last frame (e.g. ``"host"``, ``"ok"``,
            ``"lost"``).
        tracking_lost: frames for which tracking was reported lost.
        gravity_source: where the map's up direction comes from (host, imu, floor).
        source_gaps: gaps the source reported (a camera that disconnected and came back).
        map_blocks: TSDF blocks allocated at the last extraction.
        map_blocks_evicted: blocks evicted so far to stay within ``max_blocks``.
    """

    frames_read: int = 0
    frames_fused: int = 0
    frames_skipped: int = 0
    frames_dropped: int = 0
    frames_not_integrated: int = 0
    maps_dropped: int = 0
    updates: int = 0
    updates_dropped: int = 0
    tracking: str = "none"
    tracking_lost: int = 0
    gravity_source: str = "none"
    source_gaps: int = 0
    map_blocks: int = 0
    map_blocks_evicted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StreamUpdate:
    """One segmentation of the fused map.

    Attributes:
        index: update number, from 0.
        frame_index: index of the last frame fused into the segmented map.
        points: float32 [N, 3] surface points of the fused map (map frame, metres, z up),
            one per ``map_voxel`` cell.
        colors: uint8 [N, 3] or None.
        normals: float32 [N, 3] or None.
        result: the segmentation of ``points``, with ids kept stable across updates.
        pose: float64 [4, 4] camera-to-map pose of the last fused frame.
        frame: the last fused frame (its images and intrinsics).
        map_to_world: float64 [4, 4] from the map frame (points, boxes, pose) to the world of
            the source's poses; the identity unless those poses are far from their origin
            (GNSS / UTM frames) or were re-aligned with gravity
            (:attr:`edge3d.runtime.fusion.Fusion.map_to_world`).
        timings: seconds: ``fusion`` (mean per frame, recent frames), ``extract`` (surface
            extraction and downsampling), ``segment``, ``tracking`` and ``latency`` (update
            requested to update ready, waiting included).
        rates: per second: ``source`` (frames read), ``fusion`` (frames fused, from its busy
            time), ``segment`` (segmentations, from its busy time).
        counters: a snapshot of :class:`StreamCounters`.
        final: True for the update of the final map, after the source ended.
    """

    index: int
    frame_index: int
    points: np.ndarray
    colors: np.ndarray | None
    normals: np.ndarray | None
    result: SegmentationResult
    pose: np.ndarray | None
    frame: Frame | None
    timings: dict[str, float]
    rates: dict[str, float]
    counters: StreamCounters
    map_to_world: np.ndarray
    final: bool = False


@dataclass
class _Request:
    final: bool


@dataclass
class _Failure:
    where: str
    exc: BaseException


_END = object()


class _Rate:
    """Mean duration of the last few calls of a stage, and the rate it implies."""

    def __init__(self) -> None:
        self._d: collections.deque[float] = collections.deque(maxlen=_RATE_WINDOW)
        self._t: collections.deque[float] = collections.deque(maxlen=_RATE_WINDOW)

    def add(self, seconds: float) -> None:
        self._d.append(seconds)
        self._t.append(time.perf_counter())

    def mean(self) -> float:
        return float(np.mean(self._d)) if self._d else 0.0

    def busy_rate(self) -> float:
        """Calls per second the stage could sustain (1 / mean duration)."""
        m = self.mean()
        return 1.0 / m if m > 0 else 0.0

    def arrival_rate(self) -> float:
        """Calls per second actually seen over the window."""
        if len(self._t) < 2 or self._t[-1] <= self._t[0]:
            return 0.0
        return (len(self._t) - 1) / (self._t[-1] - self._t[0])


@dataclass
class _Queues:
    frames: queue.Queue
    maps: queue.Queue
    updates: queue.Queue


class Stream:
    """Fuse every frame of a source into a TSDF map and segment the map every ``every`` frames.

    Iterate it to get :class:`StreamUpdate` s; use it as a context manager (or call
    :meth:`close`) so that its threads stop::

        with edge3d.Stream("recording.db3", model="geometric", every=10) as stream:
            for update in stream:
                for inst in update.result.instances:
                    print(inst.id, inst.centroid)

    A stream that is dropped without ``close()`` (``del stream``, or a ``for`` loop over an
    unnamed stream left with ``break``) stops its threads too: they hold no reference to this
    object, and its finalizer tells them to stop.

    Args:
        source: a source spec for :func:`edge3d.io.open_source` (a recording path, a folder,
            ``"synthetic:seed=0,frames=60"``, ``"realsense"``), an open ``FrameSource``, or
            any iterable of :class:`edge3d.Frame`. The stream closes sources it opened itself.
        segmenter: the :class:`edge3d.Segmenter` to use; default: ``Segmenter(model,
            backend=backend, device=device)``.
        model, backend, device: used only when ``segmenter`` is None.
        every: segment the map after every ``every`` fused frames; 0 segments only on
            :meth:`request_update` and at the end of the source.
        voxel_size, tracking, max_blocks, gravity: passed to
            :class:`edge3d.runtime.fusion.Fusion`.
        drop_frames: drop the oldest queued frame when fusion falls behind (default: only for
            live sources).
        frame_queue, update_queue: queue sizes (see the note at the top of this module).
        max_frames: stop after this many frames from the source.
        track_ids: keep instance ids stable across updates (:class:`InstanceTracker`).
        map_voxel: the extracted surface (about three points per surface voxel, more where
            noise thickens it) is averaged to one point per cell of this size before
            segmentation; default ``2 * voxel_size``; 0 keeps every point.
        join_timeout: seconds :meth:`close` waits for each thread.
    """

    def __init__(self, source: str | os.PathLike | Iterable[Frame], *,
                 segmenter: Segmenter | None = None, model: str | os.PathLike = DEFAULT_MODEL,
                 backend: str = "auto", device: str = "auto", every: int = 10,
                 voxel_size: float = 0.02, tracking: str = "auto", max_blocks: int | None = None,
                 gravity: str = "auto", drop_frames: bool | None = None, frame_queue: int = 8,
                 update_queue: int = 4, max_frames: int | None = None, track_ids: bool = True,
                 map_voxel: float | None = None, join_timeout: float = 10.0) -> None:
        if every < 0:
            raise ValueError(f"every must be >= 0 (0: segment on request only), got {every}")
        if frame_queue < 1 or update_queue < 1:
            raise ValueError("frame_queue and update_queue must be at least 1")
        if max_frames is not None and max_frames < 1:
            raise ValueError(f"max_frames must be at least 1, got {max_frames}")
        from edge3d.runtime.fusion import Fusion

        if segmenter is None:
            from edge3d.runtime.segmenter import Segmenter

            segmenter = Segmenter(model, backend=backend, device=device)
        fusion = Fusion(voxel_size=voxel_size, tracking=tracking, max_blocks=max_blocks,
                        gravity=gravity)
        tracker = InstanceTracker(voxel_size=max(2.5 * voxel_size, 0.04)) if track_ids else None
        owns_source = isinstance(source, (str, os.PathLike))
        if owns_source:
            from edge3d.io import open_source

            source = open_source(source)
        else:
            from edge3d.io.iterable import as_frame_source

            source = as_frame_source(source)
        self._core = _StreamCore(
            source, owns_source, segmenter, fusion, tracker, every=every,
            map_voxel=2 * voxel_size if map_voxel is None else float(map_voxel),
            max_frames=max_frames, join_timeout=join_timeout,
            drop_frames=source.live if drop_frames is None else drop_frames,
            queues=_Queues(queue.Queue(frame_queue), queue.Queue(1), queue.Queue(update_queue)))
        # At exit _close_running_streams joins the threads instead (a finalizer must not).
        weakref.finalize(self, self._core.abandon).atexit = False

    @property
    def segmenter(self) -> Segmenter:
        return self._core.segmenter

    @property
    def source(self) -> Any:
        """The frame source (opened by the stream when it was given a spec)."""
        return self._core.source

    def __iter__(self) -> Iterator[StreamUpdate]:
        return self

    def __next__(self) -> StreamUpdate:
        return self._core.next_update()

    def request_update(self) -> None:
        """Ask for a segmentation of the map after the next fused frame (on-demand mode)."""
        self._core.request.set()

    @property
    def counters(self) -> StreamCounters:
        """A consistent snapshot of the counters now."""
        return self._core.counters()

    def rates(self) -> dict[str, float]:
        """Per second, recent: ``source`` (frames read), ``fusion`` and ``segment`` (from each
        stage's busy time)."""
        return self._core.rates()

    def close(self) -> None:
        """Stop every thread (downstream first) and release the source; prompt even when the
        source is a camera that is gone for good (its read is interrupted). Idempotent."""
        self._core.close()

    @property
    def closed(self) -> bool:
        """True once the stream was closed (or ended, or failed)."""
        return self._core.closed

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _StreamCore:
    """The stream's state and its three threads, apart from :class:`Stream` so that the
    threads (which hold this object) never keep the user's ``Stream`` alive."""

    def __init__(self, source: Any, owns_source: bool, segmenter: Segmenter, fusion: Any,
                 tracker: InstanceTracker | None, *, every: int, map_voxel: float,
                 max_frames: int | None, join_timeout: float, drop_frames: bool,
                 queues: _Queues) -> None:
        self.segmenter = segmenter
        self.every = every
        self.map_voxel = map_voxel
        self.max_frames = max_frames
        self.join_timeout = join_timeout
        self._fusion = fusion
        self._tracker = tracker
        self._owns_source = owns_source
        self.source = source
        self._drop_frames = drop_frames

        self._q = queues
        self._done = threading.Event()
        self.request = threading.Event()
        self._lock = threading.Lock()  # counters
        self._map_lock = threading.Lock()  # the fusion object: add() vs extraction
        self._latest: tuple[Frame | None, np.ndarray | None] = (None, None)
        self._counters = StreamCounters()
        self._extra_skipped = 0  # by our own validation and by fusion (the source counts its own)
        self._rates = {"source": _Rate(), "fusion": _Rate(), "segment": _Rate()}
        self._finished = False
        self.closed = False
        self._threads: list[threading.Thread] = []
        _RUNNING.add(self)
        try:
            for name, target in (("edge3d-source", self._source_loop),
                                 ("edge3d-fusion", self._fusion_loop),
                                 ("edge3d-segment", self._segment_loop)):
                t = threading.Thread(target=target, name=name, daemon=True)
                t.start()
                self._threads.append(t)
        except BaseException:
            self.close()
            raise

    # -- consumer side -------------------------------------------------------------------------

    def next_update(self) -> StreamUpdate:
        if self._finished or self.closed:
            raise StopIteration
        try:
            while True:
                try:
                    item = self._q.updates.get(timeout=_POLL)
                except queue.Empty:
                    self._check_alive()
                    continue
                if item is _END:
                    self._finished = True
                    self.close()
                    raise StopIteration
                if isinstance(item, _Failure):
                    self._finished = True
                    _add_note(item.exc, f"(raised {item.where})")
                    raise item.exc
                return item
        except BaseException:  # the end, an error from a stage, or Ctrl-C while waiting
            self.close()
            raise

    def counters(self) -> StreamCounters:
        with self._lock:
            c = replace(self._counters)
        c.frames_skipped += self._source_skipped()
        c.source_gaps = len(self.source.stats.gaps)
        return c

    def rates(self) -> dict[str, float]:
        return {"source": self._rates["source"].arrival_rate(),
                "fusion": self._rates["fusion"].busy_rate(),
                "segment": self._rates["segment"].busy_rate()}

    def abandon(self) -> None:
        """The user's Stream was dropped without close(): tell the threads to stop, without
        waiting for them (a finalizer must not block)."""
        if not self.closed:
            self._interrupt()

    def _interrupt(self) -> None:
        self._done.set()
        # A camera read or reconnect, or a feed waiting for its next frame, returns early.
        with contextlib.suppress(Exception):
            self.source.stop()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._interrupt()
        stuck = []
        for t in reversed(self._threads):
            if t is threading.current_thread():
                continue
            t.join(self.join_timeout)
            if t.is_alive():
                stuck.append(t.name)
        if self._owns_source and not any(t.name == "edge3d-source" for t in self._threads):
            with contextlib.suppress(Exception):  # no source thread ever ran to close it
                self.source.close()
        if stuck:
            warnings.warn(f"edge3d Stream.close(): thread(s) {', '.join(stuck)} did not stop "
                          f"within {self.join_timeout} s (blocked in a source read or a long "
                          "segmentation); they will exit when that call returns", stacklevel=3)
        for q in (self._q.frames, self._q.maps, self._q.updates):
            with contextlib.suppress(queue.Empty):
                while True:
                    q.get_nowait()

    def _check_alive(self) -> None:
        # The segment thread puts _END or a _Failure before it exits, so dead + empty queue
        # means it died some other way; upstream threads always hand their end to it.
        seg = self._threads[-1]
        if not seg.is_alive() and self._q.updates.empty():
            self._finished = True
            raise RuntimeError("edge3d segment thread exited unexpectedly")

    # -- stages (see the NOTE at the top: every loop follows that protocol) --------------------

    def _source_loop(self) -> None:
        frames = self._q.frames
        it = None
        try:
            it = iter(self.source)
            last = None
            while not self._done.is_set():
                try:
                    frame = next(it)
                except StopIteration:
                    break
                except FrameError as exc:  # a source that raises instead of skipping
                    self._count_skip(f"source: {exc}")
                    continue
                now = time.perf_counter()
                if last is not None:
                    self._rates["source"].add(now - last)
                last = now
                with self._lock:
                    self._counters.frames_read += 1
                if self._drop_frames:
                    dropped = put_latest(frames, frame)
                    if dropped:
                        with self._lock:
                            self._counters.frames_dropped += dropped
                elif not _put_wait(frames, frame, self._done):
                    return
                if self.max_frames is not None and self._counters.frames_read >= self.max_frames:
                    break
            _put_wait(frames, _END, self._done)
        except BaseException as exc:
            _put_wait(frames, _Failure("in the edge3d-source thread", exc), self._done)
        finally:
            with contextlib.suppress(Exception):
                if it is not None:
                    it.close()
            if self._owns_source:
                with contextlib.suppress(Exception):
                    self.source.close()

    def _fusion_loop(self) -> None:
        frames, requests = self._q.frames, self._q.maps
        since = 0  # frames fused since the last request
        fused_any = False
        try:
            while True:
                item = _get(frames, self._done)
                if item is None:
                    return
                if item is _END:
                    # Always a final update, even of an empty map: the consumer learns the end.
                    self._request_update(final=True)
                    _put_wait(requests, _END, self._done)
                    return
                if isinstance(item, _Failure):
                    _put_wait(requests, item, self._done)
                    return
                t0 = time.perf_counter()
                with self._map_lock:
                    step = self._fusion.add(item)
                    if step.integrated:
                        self._latest = (item, step.pose)
                self._rates["fusion"].add(time.perf_counter() - t0)
                self._count_step(step)
                if step.integrated:
                    since += 1
                    fused_any = True
                if (self.every and since >= self.every) or \
                        (self.request.is_set() and fused_any):
                    self.request.clear()
                    self._request_update(final=False)
                    since = 0
        except BaseException as exc:
            _put_wait(requests, _Failure("in the edge3d-fusion thread", exc), self._done)

    def _count_step(self, step: Any) -> None:
        with self._lock:
            c = self._counters
            if step.tracking == "skipped":  # fusion rejected the frame (corrupt, no depth)
                first = self._extra_skipped == 0
                self._extra_skipped += 1
                c.frames_skipped += 1
            else:
                first = False
                c.frames_fused += bool(step.integrated)
                c.frames_not_integrated += not step.integrated
                c.tracking = str(step.tracking)
                c.tracking_lost += step.tracking == "lost"
            c.gravity_source = str(step.gravity_source)
        if first:
            log.warning("edge3d Stream: skipping frame %s: %s (further skips are only counted)",
                        step.index, step.reason)

    def _request_update(self, final: bool) -> None:
        dropped = put_latest(self._q.maps, (_Request(final), time.perf_counter()))
        if dropped:
            with self._lock:
                self._counters.maps_dropped += dropped

    def _extract(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, Frame | None,
                                np.ndarray | None, np.ndarray]:
        """The map's surface, downsampled, the last fused frame and pose, and the map frame."""
        with self._map_lock:
            points, colors, normals = self._fusion.volume.extract_points()
            frame, pose = self._latest
            stats = self._fusion.volume.stats
            map_to_world = self._fusion.map_to_world
        with self._lock:
            self._counters.map_blocks = int(stats.blocks)
            self._counters.map_blocks_evicted = int(stats.evicted)
        points = np.asarray(points, np.float32)
        if self.map_voxel > 0 and len(points):
            points, colors, normals = voxel_downsample(points, colors, normals, self.map_voxel)
        return points, colors, normals, frame, pose, map_to_world

    def _segment_loop(self) -> None:
        requests, updates = self._q.maps, self._q.updates
        index = 0
        try:
            while True:
                item = _get(requests, self._done)
                if item is None:
                    return
                if item is _END or isinstance(item, _Failure):
                    _put_wait(updates, item, self._done)
                    return
                request, requested_at = item
                t0 = time.perf_counter()
                points, colors, normals, frame, pose, map_to_world = self._extract()
                t1 = time.perf_counter()
                result = self.segmenter.segment(points, colors)
                t2 = time.perf_counter()
                self._rates["segment"].add(t2 - t1)
                if self._tracker is not None:
                    result = self._tracker.update(points, result)
                t3 = time.perf_counter()
                with self._lock:
                    self._counters.updates += 1
                update = StreamUpdate(
                    index=index, frame_index=frame.index if frame is not None else -1,
                    points=points, colors=colors, normals=normals, result=result, pose=pose,
                    frame=frame,
                    timings={"fusion": self._rates["fusion"].mean(), "extract": t1 - t0,
                             "segment": t2 - t1, "tracking": t3 - t2,
                             "latency": t3 - requested_at},
                    rates=self.rates(), counters=self.counters(), map_to_world=map_to_world,
                    final=request.final)
                index += 1
                dropped = put_latest(updates, update)
                if dropped:
                    with self._lock:
                        self._counters.updates_dropped += dropped
        except BaseException as exc:
            _put_wait(updates, _Failure("in the edge3d-segment thread", exc), self._done)

    def _count_skip(self, reason: str) -> None:
        with self._lock:
            first = self._extra_skipped == 0
            self._extra_skipped += 1
            self._counters.frames_skipped += 1
        if first:
            log.warning("edge3d Stream: skipping a frame: %s (further skips are only counted)",
                        reason)

    def _source_skipped(self) -> int:
        return self.source.stats.frames_skipped


def voxel_downsample(points: np.ndarray, colors: np.ndarray | None, normals: np.ndarray | None,
                     voxel: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """One point per occupied cell of edge ``voxel``: the mean position, colour (uint8) and
    normal (renormalised) of the points in it; cells in a deterministic (sorted) order."""
    ijk = np.floor(points / voxel).astype(np.int64)
    ijk -= ijk.min(0)
    dims = ijk.max(0) + 1
    key = (ijk[:, 0] * dims[1] + ijk[:, 1]) * dims[2] + ijk[:, 2]
    _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)

    def mean(values: np.ndarray) -> np.ndarray:
        out = np.zeros((len(counts), values.shape[1]), np.float64)
        for c in range(values.shape[1]):
            out[:, c] = np.bincount(inv, weights=values[:, c], minlength=len(counts))
        return out / counts[:, None]

    pts = mean(points).astype(np.float32)
    cols = None if colors is None else np.clip(np.rint(mean(colors)), 0, 255).astype(np.uint8)
    nrm = None
    if normals is not None:
        n = mean(normals)
        nrm = (n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    return pts, cols, nrm


def _get(q: queue.Queue, done: threading.Event) -> Any:
    """Next item, or None once ``done`` is set."""
    while not done.is_set():
        try:
            return q.get(timeout=_POLL)
        except queue.Empty:
            continue
    return None


def _put_wait(q: queue.Queue, item: Any, done: threading.Event) -> bool:
    """Put, waiting for room; False if ``done`` was set first."""
    while not done.is_set():
        try:
            q.put(item, timeout=_POLL)
            return True
        except queue.Full:
            continue
    return False


def _add_note(exc: BaseException, note: str) -> None:
    if hasattr(exc, "add_note"):  # Python 3.11+
        exc.add_note(note)
