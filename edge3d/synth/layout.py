"""Placing objects on a floor: free-standing, against walls, and touching each other.

Objects are placed one after another by rejection sampling. A *free* object keeps at least
``gap`` metres from every other object; a *touching* object is put next to an anchor object
(same yaw up to a quarter turn) and slid along one axis until its parts meet the anchor's, so
the two share a face and do not interpenetrate, while it keeps ``gap`` from everything else.
That makes the number of objects that touch another exactly the number planned as touching.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge3d.synth.furniture import Part, Template
from edge3d.synth.primitives import Box, boxes_within, yaw_matrix

# Rejection sampling tries this often per object before giving up on it.
MAX_ATTEMPTS = 60
# A touching group that cannot be completed is removed and tried again this often.
GROUP_ATTEMPTS = 8
# Parts must overlap by this much across the slide axis to count as a face contact.
MIN_CONTACT = 0.02


@dataclass(eq=False)
class Placed:
    """An object placed in the world: its template, yaw and pivot (footprint centre at its base)."""

    template: Template
    yaw: float
    pivot: np.ndarray
    against_wall: bool
    group: int = -1  # index of its touching group, -1 when free

    def primitives(self) -> list[Box]:
        return [Box.from_extents(lo, hi, self.yaw, self.pivot) for lo, hi in self.template.parts]

    def hull(self) -> Box:
        lo, hi = self.template.extents()
        return Box.from_extents(lo, hi, self.yaw, self.pivot)


def rotate_parts(parts: list[Part], quarter_turns: int) -> list[Part]:
    """Parts rotated by ``quarter_turns`` * 90 degrees about z (exact: boxes stay axis-aligned)."""
    out = []
    for lo, hi in parts:
        lo, hi = np.array(lo, float), np.array(hi, float)
        for _ in range(quarter_turns % 4):  # (x, y) -> (-y, x)
            lo, hi = np.array([-hi[1], lo[0], lo[2]]), np.array([-lo[1], hi[0], hi[2]])
        out.append((tuple(lo), tuple(hi)))
    return out


def _aabb(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    return np.min([p[0] for p in parts], 0), np.max([p[1] for p in parts], 0)


class Layout:
    """Places objects inside the floor rectangle ``[0, size_x] x [0, size_y]``.

    ``walls``: whether the rectangle is walled (objects may then stand with their back to it).
    """

    def __init__(self, rng: np.random.Generator, size: tuple[float, float], gap: float,
                 walls: bool) -> None:
        self.rng, self.size, self.gap, self.walls = rng, size, gap, walls
        self.placed: list[Placed] = []

    def _inside(self, p: Placed) -> bool:
        lo, hi = p.hull().aabb()
        return bool(lo[0] >= -1e-9 and lo[1] >= -1e-9 and hi[0] <= self.size[0] + 1e-9
                    and hi[1] <= self.size[1] + 1e-9)

    def _clear(self, p: Placed, ignore: set[int]) -> bool:
        hull = p.hull()
        return not any(boxes_within(hull, q.hull(), self.gap)
                       for i, q in enumerate(self.placed) if i not in ignore)

    def place_free(self, template: Template) -> Placed | None:
        """Put ``template`` somewhere clear of everything (against a wall if it likes walls)."""
        on_wall = self.walls and template.against_wall
        wall_margin = 0.0 if on_wall else self.gap
        for _ in range(MAX_ATTEMPTS):
            if on_wall:
                wall = int(self.rng.integers(4))  # 0 north (y max), 1 east, 2 south, 3 west
                yaw = (0.0, -np.pi / 2, np.pi, np.pi / 2)[wall]
            elif self.rng.random() < 0.5:
                yaw = float(self.rng.integers(4)) * np.pi / 2 + self.rng.normal(0, 0.05)
            else:
                yaw = float(self.rng.uniform(0, 2 * np.pi))
            lo, hi = Placed(template, yaw, np.zeros(3), on_wall).hull().aabb()
            span = [(wall_margin - lo[k], self.size[k] - wall_margin - hi[k]) for k in (0, 1)]
            if span[0][0] > span[0][1] or span[1][0] > span[1][1]:
                continue
            pivot = np.array([self.rng.uniform(*span[0]), self.rng.uniform(*span[1]), 0.0])
            if on_wall:  # push flush against the chosen wall
                pivot[(1, 0, 1, 0)[wall]] = (self.size[1] - hi[1], self.size[0] - hi[0],
                                             -lo[1], -lo[0])[wall]
            p = Placed(template, yaw, pivot, on_wall)
            if self._inside(p) and self._clear(p, set()):
                self.placed.append(p)
                return p
        return None

    def place_touching(self, template: Template, anchor_index: int, group: set[int]
                       ) -> Placed | None:
        """Put ``template`` in face contact with ``placed[anchor_index]``, clear of all but
        the members of ``group``."""
        anchor = self.placed[anchor_index]
        a_parts = anchor.template.parts
        a_lo, a_hi = _aabb(a_parts)
        for _ in range(MAX_ATTEMPTS):
            turns = 0 if anchor.against_wall else int(self.rng.integers(4))
            b_parts = rotate_parts(template.parts, turns)
            b_lo, b_hi = _aabb(b_parts)
            axis = 0 if anchor.against_wall else int(self.rng.integers(2))
            side = 1.0 if self.rng.random() < 0.5 else -1.0
            other = 1 - axis
            offset = np.zeros(3)
            offset[axis] = (a_hi[axis] - b_lo[axis] + 0.5) if side > 0 else \
                (a_lo[axis] - b_hi[axis] - 0.5)
            if anchor.against_wall:  # backs flush to the same wall
                offset[other] = a_hi[other] - b_hi[other]
            else:
                offset[other] = self.rng.uniform(a_lo[other] - b_hi[other] + 0.1,
                                                 a_hi[other] - b_lo[other] - 0.1)
            slide = self._slide_distance(a_parts, b_parts, offset, axis, side)
            if slide is None:
                continue
            offset[axis] -= side * slide
            # B's parts are pre-rotated into the anchor's frame, so B shares the anchor's yaw.
            p = Placed(_rotated(template, turns), anchor.yaw,
                       anchor.pivot + yaw_matrix(anchor.yaw) @ offset, anchor.against_wall)
            if self._inside(p) and self._clear(p, group) and self._apart(p, group):
                self.placed.append(p)
                return p
        return None

    def _apart(self, p: Placed, group: set[int]) -> bool:
        """No part of ``p`` overlaps a part of a group member (touching is fine)."""
        mine = p.primitives()
        return not any(boxes_within(a, b, -1e-6) for i in group
                       for b in self.placed[i].primitives() for a in mine)

    @staticmethod
    def _slide_distance(a_parts: list[Part], b_parts: list[Part], offset: np.ndarray,
                        axis: int, side: float) -> float | None:
        """How far B (at ``offset``) can move towards A along ``axis`` before the first contact."""
        best = None
        others = [k for k in range(3) if k != axis]
        for a_lo, a_hi in a_parts:
            for b_lo, b_hi in b_parts:
                b_lo_o, b_hi_o = np.add(b_lo, offset), np.add(b_hi, offset)
                if any(min(a_hi[k], b_hi_o[k]) - max(a_lo[k], b_lo_o[k]) < MIN_CONTACT
                       for k in others):
                    continue
                gap = (b_lo_o[axis] - a_hi[axis]) if side > 0 else (a_lo[axis] - b_hi_o[axis])
                best = gap if best is None else min(best, gap)
        return best


def _rotated(t: Template, turns: int) -> Template:
    """``t`` turned by ``turns`` quarter turns about z, its top surface included."""
    top = t.top
    if top is not None:
        x0, y0, x1, y1, z = top
        (lo, hi), = rotate_parts([((x0, y0, 0.0), (x1, y1, 1.0))], turns)
        top = (lo[0], lo[1], hi[0], hi[1], z)
    return Template(t.class_id, rotate_parts(t.parts, turns), t.colors, top, t.against_wall)


def plan_touching_groups(n: int, fraction: float) -> list[int]:
    """Sizes of touching groups for ``n`` objects: pairs, plus one triple when the planned count
    of touching objects, ``round(fraction * n)``, is odd (a lone touching object cannot exist,
    so a count of 1 becomes 0 or 2, whichever ``fraction * n`` is nearer)."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"touching_fraction must be in [0, 1], got {fraction}")
    k = round(fraction * n)
    if k == 1:
        k = 2 if fraction * n >= 1.0 and n >= 2 else 0
    if k < 2:
        return []
    groups = [2] * (k // 2)
    if k % 2:
        groups[-1] = 3
    return groups


def place_all(layout: Layout, templates: list[Template], fraction: float,
              make_partner: Callable[[Template], Template]) -> list[Placed]:
    """Place ``templates`` (largest footprint first), ``fraction`` of them in touching groups.

    The first template of a group is placed free; the others touch the previous member, built
    by ``make_partner(anchor_template)``. A group whose members cannot all be placed after
    ``GROUP_ATTEMPTS`` tries is dropped whole, so every placed touching object really touches;
    the caller sees dropped objects in the count of placed ones.
    """
    groups = plan_touching_groups(len(templates), fraction)
    n_touch = sum(groups)
    order = sorted(range(len(templates)), key=lambda i: -_footprint(templates[i]))
    anchors, singles = order[:len(groups)], order[len(groups):]
    singles = singles[:len(singles) - (n_touch - len(groups))]
    for gi, (size, ai) in enumerate(zip(groups, anchors, strict=True)):
        for _attempt in range(GROUP_ATTEMPTS):
            if _place_group(layout, templates[ai], size, gi, make_partner):
                break
    for i in singles:
        layout.place_free(templates[i])
    return layout.placed


def _place_group(layout: Layout, anchor: Template, size: int, group: int,
                 make_partner: Callable[[Template], Template]) -> bool:
    """Place ``anchor`` free and ``size - 1`` partners, each touching the previous member; on
    failure remove what was placed and return False."""
    start = len(layout.placed)
    first = layout.place_free(anchor)
    if first is None:
        return False
    first.group = group
    members = {start}
    for _ in range(size - 1):
        prev = max(members)
        partner = layout.place_touching(make_partner(layout.placed[prev].template), prev, members)
        if partner is None:
            del layout.placed[start:]
            return False
        partner.group = group
        members.add(len(layout.placed) - 1)
    return True


def _footprint(t: Template) -> float:
    lo, hi = t.extents()
    return float((hi[0] - lo[0]) * (hi[1] - lo[1]))
