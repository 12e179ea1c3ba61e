"""``sequence``: a synthetic RGB-D stream, the source behind ``"synthetic:<params>"`` specs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from edge3d.synth import trajectories
from edge3d.synth.camera import RenderedFrame, VirtualCamera, d435_intrinsics
from edge3d.synth.worlds import make_world, world_parameters

TRAJECTORIES: dict[str, Callable[..., list[np.ndarray]]] = {
    "static": trajectories.static, "orbit": trajectories.orbit,
    "walkthrough": trajectories.walkthrough,
}

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def parse_bool(value: object) -> bool:
    """``True``/``False`` from a bool, a number or text (1/0, true/false, yes/no, on/off)."""
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE | _FALSE:
            return v in _TRUE
        raise ValueError(f"expected a boolean (true/false, 1/0, yes/no, on/off), got {value!r}")
    return bool(value)


def parse_range(value: object) -> float | tuple[float, float]:
    """A number or a (min, max) pair, from values or text ``"5"`` / ``"3:8"``."""
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) == 1:
            return float(parts[0])
        if len(parts) == 2:
            return float(parts[0]), float(parts[1])
        raise ValueError(f"expected a number or a range 'min:max', got {value!r}")
    if np.isscalar(value):
        return float(value)  # type: ignore[arg-type]
    lo, hi = value  # type: ignore[misc]
    return float(lo), float(hi)


def _optional_int(value: object) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    return int(value)  # type: ignore[arg-type]


# How each parameter is read from its value or its text form: the sequence's own, the camera
# options it passes on, and every world parameter of every kind.
SEQUENCE_PARSERS: dict[str, Callable[[object], object]] = {
    "seed": int, "kind": str, "frames": int, "trajectory": str, "width": int, "height": int,
    "noise": parse_bool,
}
CAMERA_PARSERS: dict[str, Callable[[object], object]] = {
    "holes": parse_bool, "depth_scale": float, "min_depth": float, "max_depth": float,
}
WORLD_PARSERS: dict[str, Callable[[object], object]] = {
    "room_size": parse_range, "wall_height": parse_range, "num_objects": _optional_int,
    "touching_fraction": float, "on_table_probability": float, "max_on_table": int, "gap": float,
    "plane_size": float,
}
PARSERS = {**SEQUENCE_PARSERS, **CAMERA_PARSERS, **WORLD_PARSERS}


def sequence(seed: object = 0, kind: object = "room", frames: object = 30,
             trajectory: object = "orbit", width: object = 640, height: object = 480,
             noise: object = True, **params: object) -> Iterator[RenderedFrame]:
    """Render ``frames`` views of ``make_world(seed, kind, **world_params)`` along a trajectory.

    Every value may be given in its text form (``"3"``, ``"true"``, ``"3:8"`` for ranges) as
    parsed from ``"synthetic:seed=3,frames=30,trajectory=walkthrough"``. Besides the world
    parameters of :func:`edge3d.synth.make_world`, the camera options ``holes``,
    ``depth_scale``, ``min_depth`` and ``max_depth`` of :class:`VirtualCamera` are accepted.
    Frame ``i`` has index ``i``, timestamp ``i / 30`` s and its exact pose; the camera noise
    seed is ``seed``.

    Raises:
        ValueError: at call time (not at the first frame) for an unknown parameter, kind or
            trajectory, or a value that does not parse; the message lists the valid choices.
    """
    kind_s = str(kind)
    try:
        world_keys = world_parameters(kind_s)
    except ValueError as exc:
        raise ValueError(f"synthetic parameter kind={kind_s!r} is invalid: {exc}") from None
    valid = [*SEQUENCE_PARSERS, *CAMERA_PARSERS, *world_keys]
    args = {"seed": seed, "kind": kind, "frames": frames, "trajectory": trajectory,
            "width": width, "height": height, "noise": noise, **params}
    unknown = sorted(k for k in args if k not in valid)
    if unknown:
        raise ValueError(f"unknown synthetic parameter(s) {', '.join(unknown)}; valid for kind "
                         f"{kind_s!r}: {', '.join(sorted(valid))}")
    parsed = {}
    for key, value in args.items():
        try:
            parsed[key] = PARSERS[key](value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"synthetic parameter {key}={value!r} is invalid: {exc}") from exc
    if parsed["trajectory"] not in TRAJECTORIES:
        raise ValueError(f"unknown trajectory {parsed['trajectory']!r}; expected one of "
                         f"{', '.join(TRAJECTORIES)}")
    if parsed["frames"] < 0 or parsed["width"] <= 0 or parsed["height"] <= 0:
        raise ValueError("frames must be >= 0 and width, height > 0")
    world_kw = {k: v for k, v in parsed.items() if k in world_keys}
    camera_kw = {k: v for k, v in parsed.items() if k in CAMERA_PARSERS}
    world = make_world(parsed["seed"], kind_s, **world_kw)
    camera = VirtualCamera(d435_intrinsics(parsed["width"], parsed["height"]),
                           noise=parsed["noise"], seed=parsed["seed"], **camera_kw)
    poses = TRAJECTORIES[parsed["trajectory"]](world, parsed["frames"])
    return (camera.render(world, pose, index=i) for i, pose in enumerate(poses))
