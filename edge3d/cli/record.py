"""``edge3d record``: write any frame source as a real RealSense ``.db3`` recording.

The source is any :func:`edge3d.io.open_source` spec: ``synthetic:seed=3,frames=60`` (a rendered
room with exact poses), a live ``realsense`` camera, a TUM / Redwood / ScanNet folder or ``.sens``
file, or another recording. The output plays back in librealsense like a camera recording; poses
and depth checksums go to ``<stem>.frames.json`` next to it.
"""

from __future__ import annotations

import argparse
import itertools
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "record", help="write a synthetic, camera or dataset source as a RealSense .db3",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("output", help="the recording to write; must end in .db3")
    p.add_argument("--source", default="synthetic",
                   help="an edge3d.io.open_source spec: 'synthetic[:k=v,...]', 'realsense"
                        "[:serial]', or a recording / folder / .sens path")
    p.add_argument("--frames", type=int, default=None,
                   help="stop after N frames (needed for a live camera)")
    p.add_argument("--fps", type=int, default=30, help="nominal rate stored in the recording")
    p.add_argument("--compress", action="store_true",
                   help="librealsense's lossless compression (then only librealsense plays it, "
                        "not ROS 2 tools)")
    return p


def run(args: argparse.Namespace) -> int:
    from edge3d.errors import Edge3DError
    from edge3d.io import open_source, write_recording

    if args.frames is not None and args.frames <= 0:
        print("edge3d record: --frames must be positive", file=sys.stderr)
        return 2
    if args.source.partition(":")[0] == "realsense" and args.frames is None:
        print("edge3d record: a live camera never ends; pass --frames N", file=sys.stderr)
        return 2
    try:
        with open_source(args.source) as source:
            frames = iter(source)
            if args.frames is not None:
                frames = itertools.islice(frames, args.frames)
            path = write_recording(frames, args.output, fps=args.fps, compress=args.compress,
                                   progress=True)
            stats = source.stats
    except Edge3DError as exc:
        print(f"edge3d record: {exc}", file=sys.stderr)
        return 1
    skipped = ""
    if stats.frames_skipped:
        reasons = ", ".join(f"{k}: {v}" for k, v in stats.skip_reasons.items())
        skipped = f"; skipped {stats.frames_skipped} bad frame(s) ({reasons})"
    print(f"wrote {path} ({stats.frames_read} frames{skipped})")
    return 0
