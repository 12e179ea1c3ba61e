"""``edge3d demo``: stream a recording (or a camera) through fusion and segmentation, and show it.

By default it plays the built-in synthetic recording: a synthetic room rendered by
:mod:`edge3d.synth`, written once as a real RealSense ``.db3`` recording (cached), then played
back through :func:`edge3d.io.open_source`, so the demo exercises the same recording path a
user's own recordings take. It writes, to ``--out``:

- ``updates/update_NNNN.png``: each update (camera colour, the map from the camera, the map from
  above; instances coloured by id, so a tracked object keeps its colour), and ``final.png``;
- ``map.ply``: the final fused map, coloured by instance, with ``instance`` and ``class`` fields;
- ``instances.json``: the model, the final instances, and every update's timings and counters.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from edge3d import methods

SYNTHETIC_RECORDING = {"seed": 0, "frames": 60, "width": 424, "height": 240,
                       "trajectory": "orbit"}
_CACHE_VERSION = 1  # bump when the synthetic recording's content changes
# The registry's default (the zero-shot method), not a bundled learned model: those were
# trained on synthetic rooms and score below it on real scans (docs/geometric.md).
DEFAULT_MODEL = methods.DEFAULT_MODEL


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo", help="stream a recording or camera through fusion and segmentation",
        description="Stream a recording or a camera through fusion and segmentation; write "
                    "pictures of each update, the fused map (PLY) and a JSON of instances and "
                    "timings.")
    p.add_argument("--source", default="synthetic",
                   help="'synthetic' (the built-in recording), 'realsense' (a live camera), or "
                        "a recording / folder / .sens path or any edge3d.io.open_source spec "
                        "(default: synthetic)")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help="a method that needs no model "
                        f"({', '.join(methods.packageless_methods())}), a bundled model name "
                        "or a model package directory "
                        f"(default: {DEFAULT_MODEL}, the best edge3d has on real scans)")
    p.add_argument("--backend", default="ort", choices=("auto", "ort", "tensorrt"),
                   help="inference backend for learned models (default: ort, ONNX Runtime)")
    p.add_argument("--device", default="cpu", type=_device,
                   help="cpu, cuda, cuda:N or auto (default: cpu)")
    p.add_argument("--frames", type=_positive_int, default=None,
                   help="stop after N frames (the synthetic recording has "
                        f"{SYNTHETIC_RECORDING['frames']} unless N is given)")
    p.add_argument("--every", type=_positive_int, default=10,
                   help="segment the map every K fused frames (default: 10)")
    p.add_argument("--voxel-size", type=_voxel_size, default=0.02,
                   help="TSDF voxel size in metres, 0.01 to 0.05 (default: 0.02)")
    p.add_argument("--out", default="edge3d-demo-out",
                   help="output folder (default: ./edge3d-demo-out)")
    p.add_argument("--no-window", action="store_true", help="never open a window")
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _voxel_size(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.01 <= value <= 0.05:
        raise argparse.ArgumentTypeError(f"expected metres from 0.01 to 0.05, got {text!r}")
    return value


def _device(text: str) -> str:
    if text in ("cpu", "cuda", "auto") or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"expected cpu, cuda, cuda:N or auto, got {text!r}")


def run(args: argparse.Namespace) -> int:
    from edge3d.errors import Edge3DError

    try:
        return _run(args)
    except Edge3DError as exc:
        print(f"\nedge3d demo: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:

    import edge3d

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"edge3d demo: --out {out} is a file, not a folder", file=sys.stderr)
        return 2
    source = _source_spec(args.source, args.frames)
    segmenter = edge3d.Segmenter(args.model, backend=args.backend, device=args.device)
    # This run's pictures go to a staging folder inside --out; they replace an earlier run's
    # only once this run has written everything, so a run that fails loses nothing.
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".edge3d-demo-", dir=out))
    try:
        return _stream(args, out, staging, source, segmenter)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stream(args: argparse.Namespace, out: Path, staging: Path, source: str, segmenter: Any
            ) -> int:
    import numpy as np

    from edge3d.io import write_ply
    from edge3d.runtime.pictures import instance_point_colors, render_update
    from edge3d.runtime.stream import Stream

    (staging / "updates").mkdir()
    print(f"edge3d demo: source {source}, model {segmenter.model} ({segmenter.method}), "
          f"backend {args.backend}, every {args.every} frames")
    window = _Window.open(disabled=args.no_window)
    log: list[dict[str, Any]] = []
    last = None
    status = _Status()
    t0 = time.perf_counter()
    with Stream(source, segmenter=segmenter, every=args.every,
                voxel_size=args.voxel_size, max_frames=args.frames) as stream:
        for update in stream:
            last = update
            picture = render_update(update)
            picture.save(staging / "updates" / f"update_{update.index:04d}.png")
            window.show(picture)
            log.append(_update_record(update))
            status.print(update)
    status.done()
    if last is None:
        print("edge3d demo: the source produced no update", file=sys.stderr)
        return 1
    render_update(last).save(staging / "final.png")
    colors = instance_point_colors(last.result, last.colors, len(last.points))
    write_ply(staging / "map.ply", last.points, colors=colors, normals=last.normals,
              instance=last.result.labels.astype(np.int32),
              **{"class": last.result.classes.astype(np.int32)})
    summary = {
        "source": str(source), "model": segmenter.describe(),
        "class_names": last.result.class_names,
        "seconds": time.perf_counter() - t0,
        "instances": [i.to_dict() for i in last.result.instances],
        "counters": last.counters.to_dict(), "updates": log,
    }
    (staging / "instances.json").write_text(json.dumps(summary, indent=1) + "\n")
    _publish(staging, out)
    window.close()
    c = last.counters
    print(f"edge3d demo: {c.frames_fused} frames fused ({c.frames_skipped} skipped, "
          f"{c.frames_dropped} dropped), {len(log)} updates, "
          f"{len(last.result.instances)} instances in the final map, "
          f"{summary['seconds']:.1f} s")
    print(f"  pictures:  {out / 'updates'}/ ({len(log)} PNG) and {out / 'final.png'}")
    print(f"  map:       {out / 'map.ply'} ({len(last.points)} points, instance colours)")
    print(f"  instances: {out / 'instances.json'}")
    return 0


def _publish(staging: Path, out: Path) -> None:
    """Move a finished run from ``staging`` into ``out``, replacing an earlier run's files of
    the same names (its ``updates`` folder as a whole, so no stale picture stays)."""
    for name in ("final.png", "map.ply", "instances.json"):
        os.replace(staging / name, out / name)
    old = out / "updates"
    if old.exists():
        trash = staging / "previous-updates"
        os.replace(old, trash)
    os.replace(staging / "updates", old)


def _source_spec(source: str, frames: int | None) -> str:
    if source != "synthetic":
        return source
    n = frames or SYNTHETIC_RECORDING["frames"]
    try:
        return str(synthetic_recording(frames=max(n, 1)))
    except ImportError as exc:  # no pyrealsense2: render the same frames on the fly
        print(f"edge3d demo: cannot write a RealSense recording ({exc}); rendering the "
              "synthetic frames directly instead", file=sys.stderr)
        r = SYNTHETIC_RECORDING
        return (f"synthetic:seed={r['seed']},frames={n},width={r['width']},"
                f"height={r['height']},trajectory={r['trajectory']}")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edge3d" / "demo"


def synthetic_recording(frames: int | None = None) -> Path:
    """The built-in synthetic recording (``.db3``), written on first use and cached."""
    from edge3d import synth
    from edge3d.io import write_recording

    r = dict(SYNTHETIC_RECORDING)
    if frames is not None:
        r["frames"] = frames
    name = (f"synthetic-v{_CACHE_VERSION}-seed{r['seed']}-{r['trajectory']}-{r['frames']}f-"
            f"{r['width']}x{r['height']}.db3")
    path = cache_dir() / name
    if path.is_file():
        return path
    print(f"edge3d demo: writing the synthetic recording once to {path}")
    rendered = synth.sequence(seed=r["seed"], frames=r["frames"], trajectory=r["trajectory"],
                              width=r["width"], height=r["height"])
    return write_recording((f.frame for f in rendered), path, progress=True)


def _update_record(update: Any) -> dict[str, Any]:
    return {"index": update.index, "frame_index": update.frame_index, "final": update.final,
            "points": len(update.points), "instances": len(update.result.instances),
            "ids": [i.id for i in update.result.instances],
            "timings": update.timings, "segment_stages": update.result.timings,
            "rates": update.rates, "counters": update.counters.to_dict()}


class _Status:
    """One status line, rewritten in place on a terminal, one line per update otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()

    def print(self, update: Any) -> None:
        c, r = update.counters, update.rates
        line = (f"frame {update.frame_index:5d} | source {r['source']:5.1f} fps | fusion "
                f"{r['fusion']:5.1f} fps | segment {r['segment']:4.1f}/s "
                f"({update.timings['segment'] * 1e3:4.0f} ms) | "
                f"{len(update.result.instances):3d} instances | skipped {c.frames_skipped} "
                f"dropped {c.frames_dropped} | tracking {c.tracking}")
        if self.tty:
            print("\r" + line, end="", flush=True)
        else:
            print(line, flush=True)

    def done(self) -> None:
        if self.tty:
            print()


class _Window:
    """A matplotlib window when a display exists; does nothing (quietly) otherwise."""

    def __init__(self, plt: Any) -> None:
        self._plt = plt
        self._image = None

    @classmethod
    def open(cls, disabled: bool) -> _Window:
        if disabled or not _has_display():
            return cls(None)
        try:
            import matplotlib

            if matplotlib.get_backend().lower() in ("agg", "pdf", "svg", "ps", "cairo",
                                                    "template"):
                return cls(None)
            import matplotlib.pyplot as plt

            plt.ion()
            return cls(plt)
        except Exception:
            return cls(None)

    def show(self, picture: Any) -> None:
        if self._plt is None:
            return
        try:
            if self._image is None:
                fig = self._plt.figure("edge3d demo", figsize=(picture.width / 100,
                                                              picture.height / 100))
                ax = fig.add_axes((0, 0, 1, 1))
                ax.axis("off")
                self._image = ax.imshow(picture)
            else:
                self._image.set_data(picture)
            self._plt.pause(0.001)
        except Exception:  # a window closed by the user or a broken display: carry on without
            self._plt = None

    def close(self) -> None:
        if self._plt is not None:
            try:
                self._plt.close("all")
            except Exception:
                pass


def _has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
