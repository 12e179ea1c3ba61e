"""``open_source``: one entry point from a spec string or path to a :class:`FrameSource`."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

from edge3d.errors import FormatError, SourceError
from edge3d.io.source import FrameSource

SPEC_HELP = (
    "a .db3 or .bag RealSense recording, a .sens file, a folder (TUM RGB-D, Redwood, ScanNet scene "
    "or a plain depth/ + color/ folder), 'synthetic[:k=v,...]', or 'realsense[:<serial>]'"
)


def _build(cls: type, *args: Any, **options: Any) -> FrameSource:
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    has_var_kw = any(p.kind is p.VAR_KEYWORD
                     for p in inspect.signature(cls.__init__).parameters.values())
    unknown = sorted(set(options) - set(accepted)) if not has_var_kw else []
    if unknown:
        raise SourceError(f"{cls.__name__} does not take option(s) {', '.join(unknown)}; it "
                          f"takes {', '.join(a for a in accepted if a not in ('path', 'folder'))}")
    return cls(*args, **options)


def open_source(spec: str | os.PathLike, **options: Any) -> FrameSource:
    """Open a frame source (iterate it for validated :class:`edge3d.Frame` objects).

    Args:
        spec: one of

            - ``path/to/rec.db3`` or ``.bag``: a RealSense recording, played back through
              pyrealsense2 in non-real-time mode (every frame); options ``filters``, ``align``,
              ``use_sidecar``. Poses come from the ``<stem>.frames.json`` sidecar.
            - ``path/to/scene.sens``: a ScanNet stream (depth, registered colour, poses).
            - a folder: TUM RGB-D (``rgb.txt`` + ``depth.txt``; options ``intrinsics``,
              ``max_difference``, ``max_pose_gap``), Redwood (a ``.log`` trajectory; options
              ``intrinsics``, ``depth_scale``, ``trajectory``), a plain frame folder
              (``depth/`` + colour + intrinsics JSON, also ScanNet's exported frames; options
              ``intrinsics``, ``depth_scale``, ``fps``), or a ScanNet scene folder holding a
              ``.sens``.
            - ``"synthetic:seed=3,frames=30,..."``: :func:`edge3d.synth.sequence`; options are
              more parameters.
            - ``"realsense"`` or ``"realsense:<serial>"``: a live camera
              (:class:`edge3d.io.realsense.LiveCamera`; options ``width``, ``height``, ``fps``,
              ``filters``, ``align``, ``imu``, ...).
        options: passed to the source (see above).

    Raises:
        SourceError: nothing at the path, a spec of no known kind, an unknown option, or no camera.
        FormatError: a file that is corrupt or not what its name says.
        MissingDependencyError: pyrealsense2 is needed and not installed.
    """
    if isinstance(spec, str):
        kind, _, rest = spec.partition(":")
        if kind == "synthetic":
            from edge3d.io.synthetic import SyntheticSource, parse_spec

            params: dict[str, Any] = dict(parse_spec(spec))
            twice = sorted(set(params) & set(options))
            if twice:
                raise SourceError(f"synthetic parameter(s) {', '.join(twice)} given both in the "
                                  "spec and as options")
            return SyntheticSource(**params, **options)
        if kind == "realsense" and not Path(spec).exists():
            from edge3d.io.realsense import LiveCamera

            if rest:
                options = {**options, "serial": rest}
            return _build(LiveCamera, **options)
    path = Path(spec)
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder; a source is {SPEC_HELP}")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in (".db3", ".bag"):
            from edge3d.io.recording import RecordingSource

            return _build(RecordingSource, path, **options)
        if suffix == ".sens":
            from edge3d.io.sens import SensSource

            return _build(SensSource, path, **options)
        raise FormatError(f"{path}: unknown file type {suffix!r}; a source is {SPEC_HELP}")
    from edge3d.io import folder, redwood, tum

    if tum.is_tum_folder(path):
        return _build(tum.TUMSource, path, **options)
    if redwood.is_sequence(path):
        return _build(redwood.RedwoodSource, path, **options)
    if folder.is_frame_folder(path):
        return _build(folder.FolderSource, path, **options)
    sens = sorted(path.glob("*.sens"))
    if sens:
        from edge3d.io.sens import SensSource

        return _build(SensSource, sens[0], **options)
    raise SourceError(f"{path}: a folder of no known layout; a source is {SPEC_HELP}")
