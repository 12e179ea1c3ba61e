"""Furniture built from boxes, with class-specific shapes and size priors.

Each builder draws its dimensions from uniform priors (metres, typical indoor furniture) and
returns the parts in the object's own frame: origin at the footprint centre on the floor, x to
the object's right, y towards its back (the side that goes against a wall), z up.

| class | shape | size prior (w x d x h, metres) |
|---|---|---|
| chair | seat, four legs, back rest | 0.40-0.50 x 0.40-0.50 x 0.77-0.98 |
| table | top, four legs | 0.90-1.80 x 0.60-1.00 x 0.70-0.78 |
| sofa | seat base, back, two arms | 1.50-2.40 x 0.80-1.00 x 0.75-0.95 |
| cabinet | plinth, body, door handles | 0.40-1.20 x 0.35-0.60 x 0.70-2.00 |
| bed | frame, mattress, headboard, pillows | 0.90-1.80 x 1.90-2.10 x 0.80-1.20 |
| bookshelf | two sides, top, bottom, back, 2-4 open shelves | 0.60-1.20 x 0.25-0.40 x 1.20-2.00 |
| desk | top, drawer pedestal, side panel, modesty panel | 1.00-1.60 x 0.55-0.80 x 0.72-0.76 |
| clutter | a box, or two stacked boxes | 0.08-0.45 x 0.08-0.45 x 0.05-0.55 |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge3d.synth.classes import BED, BOOKSHELF, CABINET, CHAIR, CLUTTER, DESK, SOFA, TABLE

Part = tuple[tuple[float, float, float], tuple[float, float, float]]


@dataclass(eq=False)
class Template:
    """An object in its own frame.

    ``parts``: (lo xyz, hi xyz) boxes; ``colors``: uint8 [len(parts), 3]; ``top``: for objects
    things can stand on, (x_lo, y_lo, x_hi, y_hi, z) of the free top surface, else None;
    ``against_wall``: whether the object usually stands with its back to a wall.
    """

    class_id: int
    parts: list[Part]
    colors: np.ndarray
    top: tuple[float, float, float, float, float] | None = None
    against_wall: bool = False

    def extents(self) -> tuple[np.ndarray, np.ndarray]:
        """Local bounds of all parts (lo [3], hi [3])."""
        lo = np.min([p[0] for p in self.parts], 0)
        hi = np.max([p[1] for p in self.parts], 0)
        return lo, hi


_PALETTES: dict[int, list[tuple[int, int, int]]] = {
    CHAIR: [(150, 90, 40), (40, 40, 45), (200, 60, 50), (60, 110, 170), (230, 230, 225)],
    TABLE: [(165, 115, 70), (120, 80, 45), (225, 220, 210), (90, 90, 95)],
    SOFA: [(70, 90, 140), (130, 60, 60), (110, 110, 100), (60, 120, 90), (180, 160, 130)],
    CABINET: [(235, 235, 230), (150, 105, 60), (80, 80, 90), (190, 170, 140)],
    BED: [(200, 180, 150), (120, 80, 50), (90, 90, 100)],
    BOOKSHELF: [(140, 95, 55), (230, 230, 225), (60, 50, 45)],
    DESK: [(175, 125, 80), (235, 235, 235), (70, 70, 75)],
    CLUTTER: [(220, 60, 60), (60, 170, 80), (240, 200, 50), (60, 90, 220), (160, 80, 200),
              (240, 140, 40), (50, 190, 200)],
}


def object_colors(class_id: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A main and a secondary (darker: legs, handles) colour, uint8 [3] each."""
    palette = _PALETTES[class_id]
    base = np.array(palette[rng.integers(len(palette))], float)
    main = np.clip(base + rng.uniform(-18, 18, 3), 0, 255)
    return main.astype(np.uint8), np.clip(main * 0.55, 0, 255).astype(np.uint8)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def chair(rng: np.random.Generator) -> Template:
    w, d = _u(rng, 0.40, 0.50), _u(rng, 0.40, 0.50)
    seat_h, seat_t = _u(rng, 0.42, 0.48), _u(rng, 0.04, 0.06)
    leg, back_h, back_t = _u(rng, 0.03, 0.045), _u(rng, 0.35, 0.50), _u(rng, 0.03, 0.05)
    x, y = w / 2, d / 2
    parts: list[Part] = [((-x, -y, seat_h - seat_t), (x, y, seat_h)),
                         ((-x, y - back_t, seat_h), (x, y, seat_h + back_h))]
    for sx in (-1, 1):
        for sy in (-1, 1):
            cx, cy = sx * (x - leg / 2), sy * (y - leg / 2)
            parts.append(((cx - leg / 2, cy - leg / 2, 0.0),
                          (cx + leg / 2, cy + leg / 2, seat_h - seat_t)))
    main, dark = object_colors(CHAIR, rng)
    return Template(CHAIR, parts, np.array([main, main] + [dark] * 4))


def table(rng: np.random.Generator, class_id: int = TABLE) -> Template:
    w, d, h = _u(rng, 0.90, 1.80), _u(rng, 0.60, 1.00), _u(rng, 0.70, 0.78)
    top_t, leg, inset = _u(rng, 0.03, 0.05), _u(rng, 0.05, 0.08), _u(rng, 0.02, 0.08)
    x, y = w / 2, d / 2
    parts: list[Part] = [((-x, -y, h - top_t), (x, y, h))]
    for sx in (-1, 1):
        for sy in (-1, 1):
            cx, cy = sx * (x - inset - leg / 2), sy * (y - inset - leg / 2)
            parts.append(((cx - leg / 2, cy - leg / 2, 0.0),
                          (cx + leg / 2, cy + leg / 2, h - top_t)))
    main, dark = object_colors(class_id, rng)
    return Template(class_id, parts, np.array([main] + [dark] * 4), top=(-x, -y, x, y, h))


def sofa(rng: np.random.Generator) -> Template:
    w, d = _u(rng, 1.50, 2.40), _u(rng, 0.80, 1.00)
    seat_h, back_h, back_t = _u(rng, 0.40, 0.46), _u(rng, 0.75, 0.95), _u(rng, 0.15, 0.25)
    arm_w, arm_h = _u(rng, 0.12, 0.22), _u(rng, 0.55, 0.68)
    x, y = w / 2, d / 2
    parts: list[Part] = [
        ((-x + arm_w, -y, 0.0), (x - arm_w, y - back_t, seat_h)),
        ((-x, y - back_t, 0.0), (x, y, back_h)),
        ((-x, -y, 0.0), (-x + arm_w, y - back_t, arm_h)),
        ((x - arm_w, -y, 0.0), (x, y - back_t, arm_h)),
    ]
    main, _ = object_colors(SOFA, rng)
    shade = np.clip(main.astype(int) - 15, 0, 255).astype(np.uint8)
    return Template(SOFA, parts, np.array([main, shade, shade, shade]),
                    against_wall=bool(rng.random() < 0.7))


def cabinet(rng: np.random.Generator) -> Template:
    w, d, h = _u(rng, 0.40, 1.20), _u(rng, 0.35, 0.60), _u(rng, 0.70, 2.00)
    plinth, handle = 0.06, 0.02
    x, y = w / 2, d / 2
    parts: list[Part] = [((-x + 0.03, -y + 0.03, 0.0), (x - 0.03, y, plinth)),
                         ((-x, -y, plinth), (x, y, h))]
    doors = 2 if w > 0.7 else 1
    hz = min(h - 0.1, 0.9)
    for k in range(doors):
        hx = (-0.06 if k == 0 else 0.06) if doors == 2 else x - 0.08
        parts.append(((hx - 0.01, -y - handle, hz - 0.08), (hx + 0.01, -y, hz + 0.08)))
    main, dark = object_colors(CABINET, rng)
    top = (-x, -y, x, y, h) if h < 1.2 else None
    return Template(CABINET, parts, np.array([dark, main] + [dark] * doors), top=top,
                    against_wall=True)


def bed(rng: np.random.Generator) -> Template:
    w, d = _u(rng, 0.90, 1.80), _u(rng, 1.90, 2.10)
    frame_h, mat_t = _u(rng, 0.25, 0.35), _u(rng, 0.18, 0.25)
    head_t, head_h = _u(rng, 0.04, 0.08), _u(rng, 0.80, 1.20)
    x, y = w / 2, d / 2
    mat_top = frame_h + mat_t
    parts: list[Part] = [((-x, -y, 0.0), (x, y - head_t, frame_h)),
                         ((-x + 0.03, -y + 0.03, frame_h), (x - 0.03, y - head_t, mat_top)),
                         ((-x, y - head_t, 0.0), (x, y, head_h))]
    pillows = 2 if w > 1.3 else 1
    pw = (w - 0.2) / pillows - 0.05
    for k in range(pillows):
        px = -x + 0.1 + k * (pw + 0.05)
        parts.append(((px, y - head_t - 0.38, mat_top),
                      (px + pw, y - head_t - 0.05, mat_top + 0.12)))
    frame, dark = object_colors(BED, rng)
    sheet = np.array([235, 235, 240], np.uint8) - rng.integers(0, 30, 3).astype(np.uint8)
    pillow = np.array([245, 245, 245], np.uint8)
    return Template(BED, parts, np.array([frame, sheet, dark] + [pillow] * pillows),
                    against_wall=True)


def bookshelf(rng: np.random.Generator) -> Template:
    w, d, h = _u(rng, 0.60, 1.20), _u(rng, 0.25, 0.40), _u(rng, 1.20, 2.00)
    t, back = _u(rng, 0.02, 0.03), 0.01
    x, y = w / 2, d / 2
    parts: list[Part] = [((-x, -y, 0.0), (-x + t, y, h)), ((x - t, -y, 0.0), (x, y, h)),
                         ((-x + t, -y, h - t), (x - t, y, h)),
                         ((-x + t, -y, 0.0), (x - t, y, 0.08)),
                         ((-x + t, y - back, 0.08), (x - t, y, h - t))]
    shelves = int(rng.integers(2, 5))
    for k in range(1, shelves + 1):
        z = 0.08 + k * (h - t - 0.08) / (shelves + 1)
        parts.append(((-x + t, -y, z - t / 2), (x - t, y - back, z + t / 2)))
    main, _ = object_colors(BOOKSHELF, rng)
    return Template(BOOKSHELF, parts, np.array([main] * len(parts)), against_wall=True)


def desk(rng: np.random.Generator) -> Template:
    w, d, h = _u(rng, 1.00, 1.60), _u(rng, 0.55, 0.80), _u(rng, 0.72, 0.76)
    top_t, ped_w, panel = 0.03, _u(rng, 0.35, 0.45), 0.03
    x, y = w / 2, d / 2
    side = 1.0 if rng.random() < 0.5 else -1.0
    ped = sorted((side * x, side * (x - ped_w)))
    other = sorted((-side * x, -side * (x - panel)))
    # The modesty panel spans the knee space between the pedestal and the side panel.
    gap = [min(ped[1], other[1]), max(ped[0], other[0])]
    parts: list[Part] = [((-x, -y, h - top_t), (x, y, h)),
                         ((ped[0], -y + 0.02, 0.0), (ped[1], y, h - top_t)),
                         ((other[0], -y + 0.02, 0.0), (other[1], y, h - top_t)),
                         ((gap[0], y - 0.02, h - top_t - 0.40), (gap[1], y, h - top_t))]
    main, dark = object_colors(DESK, rng)
    return Template(DESK, parts, np.array([main, dark, dark, dark]), top=(-x, -y, x, y, h),
                    against_wall=bool(rng.random() < 0.7))


def clutter(rng: np.random.Generator, max_size: float = 0.45) -> Template:
    w, d = _u(rng, 0.08, max_size), _u(rng, 0.08, max_size)
    h = _u(rng, 0.05, 0.35)
    x, y = w / 2, d / 2
    parts: list[Part] = [((-x, -y, 0.0), (x, y, h))]
    main, dark = object_colors(CLUTTER, rng)
    colors = [main]
    if rng.random() < 0.35:  # a smaller box on top: lamp, stacked boxes, bottle on a crate
        sx, sy = x * _u(rng, 0.3, 0.8), y * _u(rng, 0.3, 0.8)
        parts.append(((-sx, -sy, h), (sx, sy, h + _u(rng, 0.05, 0.2))))
        colors.append(dark)
    return Template(CLUTTER, parts, np.array(colors))


BUILDERS: dict[int, Callable[[np.random.Generator], Template]] = {
    CHAIR: chair, TABLE: table, SOFA: sofa, CABINET: cabinet, BED: bed,
    BOOKSHELF: bookshelf, DESK: desk, CLUTTER: clutter,
}


def build(class_id: int, rng: np.random.Generator) -> Template:
    """A random instance of ``class_id`` (one of the furniture classes)."""
    return BUILDERS[class_id](rng)
