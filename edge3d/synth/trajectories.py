"""Camera trajectories through synthetic worlds, as exact ``T_W_C`` poses.

All three keep the camera 1.0-1.6 m above the floor, looking into the room slightly downwards,
away from tall furniture, with smooth motion: positions and view targets are smooth curves, and
a small deterministic hand-held wobble (about 5 mm and 0.5 degrees) is added on top.

- :func:`static`: one viewpoint near a wall looking across the room, repeated.
- :func:`orbit`: a loop around the room centre near the walls, looking across the room.
- :func:`walkthrough`: a walk along a smooth path through free floor space at walking pace
  (about 3 cm per frame, 1 m/s at 30 fps), looking ahead and into the room, for ICP tests.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from edge3d.geometry import look_at
from edge3d.synth.world import World

CAMERA_HEIGHT = (1.0, 1.6)
# Objects reaching above this height (metres) block the camera's path (a person or robot walks
# round chairs and tables, not over them); the camera keeps CLEARANCE metres from them and walls.
OBSTACLE_HEIGHT = 0.5
CLEARANCE = 0.4


def _rng(world: World, seed: int | None, salt: int) -> np.random.Generator:
    return np.random.default_rng([world.seed if seed is None else seed, salt])


def _footprints(world: World) -> list[tuple[np.ndarray, np.ndarray]]:
    """World xy bounds of objects tall enough to hit a hand-held camera."""
    out = []
    for obj in world.objects:
        lo, hi = obj.bounds()
        if hi[2] > OBSTACLE_HEIGHT:
            out.append((lo[:2], hi[:2]))
    return out


def _clearance(world: World, xy: np.ndarray) -> np.ndarray:
    """Distance (metres) from points float [N, 2] to the nearest wall or tall object."""
    lo, hi = world.interior
    d = np.min(np.concatenate([xy - lo[:2], hi[:2] - xy], axis=1), axis=1)
    if world.kind != "room":
        d = np.full(len(xy), np.inf)
    for flo, fhi in _footprints(world):
        gap = np.maximum(np.maximum(flo - xy, xy - fhi), 0.0)
        d = np.minimum(d, np.linalg.norm(gap, axis=1))
    return d


def _wobble(rng: np.random.Generator, n: int, amplitude: float) -> np.ndarray:
    """Smooth hand-held shake float [n, 3]: a sum of slow sines with random phases."""
    t = np.arange(n)[:, None]
    out = np.zeros((n, 3))
    for period in (47.0, 23.0, 11.0):
        phase = rng.uniform(0, 2 * np.pi, 3)
        out += np.sin(2 * np.pi * t / period + phase) * (period / 47.0)
    return out * amplitude / 2.0


def _poses(eyes: np.ndarray, targets: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    eyes = eyes + _wobble(rng, len(eyes), 0.005)
    targets = targets + _wobble(rng, len(eyes), 0.005) * np.linalg.norm(
        targets - eyes, axis=1, keepdims=True) * 1.7  # ~0.5 degree of look wobble
    return [look_at(e, t) for e, t in zip(eyes, targets, strict=True)]


def _centre(world: World) -> np.ndarray:
    lo, hi = world.interior
    c = (lo + hi) / 2
    c[2] = 0.5
    return c


def _half_size(world: World) -> np.ndarray:
    lo, hi = world.interior
    return (hi[:2] - lo[:2]) / 2


def static(world: World, n: int, seed: int | None = None) -> list[np.ndarray]:
    """``n`` copies of one pose: near a wall, 1.0-1.6 m high, looking at the room centre."""
    rng = _rng(world, seed, 1)
    centre, half = _centre(world), _half_size(world)
    best, best_d = None, -1.0
    for _ in range(64):
        ang = rng.uniform(0, 2 * np.pi)
        xy = centre[:2] + np.array([np.cos(ang), np.sin(ang)]) * half * rng.uniform(0.5, 0.8)
        d = _clearance(world, xy[None])[0]
        if d > best_d:
            best, best_d = xy, d
        if d > CLEARANCE:
            break
    eye = np.array([best[0], best[1], rng.uniform(1.2, 1.5)])
    pose = look_at(eye, centre)
    return [pose.copy() for _ in range(n)]


def orbit(world: World, n: int, seed: int | None = None, step: float = 0.04,
          turns: float | None = None) -> list[np.ndarray]:
    """``n`` poses on an ellipse around the room centre, looking across it.

    The ellipse is as wide as the room allows (up to 75 % of the half sizes, shrunk until
    furniture is ``CLEARANCE`` away). The camera moves about ``step`` metres per frame, or, with
    ``turns``, goes that many laps in ``n`` frames; the height bobs gently.
    """
    if n <= 0:
        return []
    rng = _rng(world, seed, 2)
    centre, half = _centre(world), _half_size(world)
    phase0 = rng.uniform(0, 2 * np.pi)
    unit = np.stack([np.cos(np.linspace(0, 2 * np.pi, 257)), np.sin(np.linspace(0, 2 * np.pi,
                                                                                257))], 1)
    scale = _orbit_scale(world, unit)
    if turns is None:  # constant speed: laps = distance / perimeter of the chosen ellipse
        turns = step * n / _length(centre[:2] + unit * half * scale)
    ang = phase0 + 2 * np.pi * turns * np.arange(n) / n
    ring = np.stack([np.cos(ang), np.sin(ang)], 1)
    xy = centre[:2] + ring * half * scale
    height = rng.uniform(1.25, 1.45) + 0.08 * np.sin(ang * 2 + rng.uniform(0, 2 * np.pi))
    eyes = np.column_stack([xy, height])
    # Looking past the centre, at furniture height, keeps the view of the far half of the room
    # rather than steeply down at the floor.
    targets = np.column_stack([centre[:2] - 0.5 * (xy - centre[:2]), np.full(n, 0.5)])
    return _poses(eyes, targets, rng)


def _orbit_scale(world: World, unit: np.ndarray) -> float:
    """The widest ellipse (fraction of the half sizes) that stays clear; in a crowded room, the
    one with the most clearance."""
    centre, half = _centre(world), _half_size(world)
    scales = np.arange(0.75, 0.19, -0.05)
    worst = [float(np.min(_clearance(world, centre[:2] + unit * half * s))) for s in scales]
    clear = [s for s, w in zip(scales, worst, strict=True) if w > CLEARANCE]
    return float(clear[0] if clear else scales[int(np.argmax(worst))])


def walkthrough(world: World, n: int, seed: int | None = None, step: float = 0.03
                ) -> list[np.ndarray]:
    """``n`` poses walking ``step`` metres per frame along a smooth path through free space.

    Waypoints are drawn in free floor space around the room (clear of walls and tall
    furniture), visited in angular order around the centre and joined by a Catmull-Rom spline;
    the camera looks at a point between the path ahead and the room centre, so it sees the
    room's contents while it moves through it.
    """
    if n <= 0:
        return []
    rng = _rng(world, seed, 3)
    centre, half = _centre(world), _half_size(world)
    candidates = centre[:2] + rng.uniform(-1, 1, (400, 2)) * half * 0.85
    free = candidates[_clearance(world, candidates) > CLEARANCE]
    if len(free) < 4:
        free = candidates[np.argsort(-_clearance(world, candidates))[:8]]
    ang = np.arctan2(*(free - centre[:2]).T[::-1])
    sectors = np.floor((ang + np.pi) / (2 * np.pi) * 6).astype(int)
    waypoints = [free[sectors == s][0] for s in range(6) if np.any(sectors == s)]
    if len(waypoints) < 3:  # cluttered room: walk a small loop round the centre instead
        waypoints = [centre[:2] + half * 0.3 * np.array([np.cos(a), np.sin(a)])
                     for a in np.arange(4) * np.pi / 2]
    start = int(rng.integers(len(waypoints)))
    loop = _closed_catmull_rom(np.array(waypoints[start:] + waypoints[:start]), 64)
    laps = int(np.ceil(step * (n + 40) / _length(loop)))  # long walks go round again
    path = np.concatenate([loop[:-1]] * laps + [loop[-1:]])
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    s = step * np.arange(n)
    xy = np.column_stack([np.interp(s, arc, path[:, 0]), np.interp(s, arc, path[:, 1])])
    ahead = np.column_stack([np.interp(s + 1.0, arc, path[:, 0]),
                             np.interp(s + 1.0, arc, path[:, 1])])
    height = rng.uniform(1.2, 1.45) + 0.03 * np.sin(2 * np.pi * s / 0.7)  # gait bob
    eyes = np.column_stack([xy, height])
    look = 0.5 * ahead + 0.5 * (centre[:2] - 0.5 * (xy - centre[:2]))
    # View directions: at least 1.5 m out, then low-pass filtered so the camera pans smoothly
    # (a person turns their head gradually, not at each bend of the path).
    off = look - xy
    off /= np.maximum(np.linalg.norm(off, axis=1, keepdims=True), 1e-6)
    off = gaussian_filter1d(off, sigma=10.0, axis=0, mode="nearest")
    off /= np.maximum(np.linalg.norm(off, axis=1, keepdims=True), 1e-6)
    targets = np.column_stack([xy + 2.0 * off, np.full(n, 0.5)])
    return _poses(eyes, targets, rng)


def _length(path: np.ndarray) -> float:
    return float(np.sum(np.linalg.norm(np.diff(path, axis=0), axis=1)))


def _closed_catmull_rom(points: np.ndarray, samples: int) -> np.ndarray:
    """Closed uniform Catmull-Rom spline through ``points`` [K, 2], ``samples`` per segment;
    the last row repeats the first."""
    k = len(points)
    t = np.linspace(0, 1, samples, endpoint=False)[:, None]
    out = []
    for i in range(k):
        p0, p1, p2, p3 = (points[(i + j) % k] for j in (-1, 0, 1, 2))
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(points[:1])
    return np.concatenate(out)
