"""Pictures of segmented maps: a camera view and a top view, instances coloured by id.

Pure numpy + Pillow (a base dependency), so a robot without matplotlib can still write
pictures. Instance colours depend only on the id, so a tracked object keeps its colour across
updates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edge3d.geometry import invert_pose, transform_points
from edge3d.types import Intrinsics, SegmentationResult

if TYPE_CHECKING:
    from PIL import Image

    from edge3d.runtime.stream import StreamUpdate

_BACKGROUND = (24, 26, 30)
_TEXT = (235, 235, 235)
_GOLDEN = 0.618033988749895
_LIGHT = np.array([0.35, 0.5, 0.79], np.float32)  # unit vector, from above and to one side


def id_colors(ids: np.ndarray) -> np.ndarray:
    """A distinct, saturated uint8 RGB colour per instance id ([K] -> [K, 3]); the same id
    always gets the same colour (hues spaced by the golden ratio)."""
    ids = np.asarray(ids, np.int64)
    h = (ids * _GOLDEN) % 1.0
    s = np.where(ids % 2 == 0, 0.75, 0.95)
    v = np.where(ids % 3 == 0, 0.95, 0.85)
    i = np.floor(h * 6).astype(int) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    rgb = np.select([i[:, None] == k for k in range(6)],
                    [np.c_[v, t, p], np.c_[q, v, p], np.c_[p, v, t],
                     np.c_[p, q, v], np.c_[t, p, v], np.c_[v, p, q]])
    return (rgb * 255).round().astype(np.uint8)


def instance_point_colors(result: SegmentationResult, colors: np.ndarray | None,
                          n: int, normals: np.ndarray | None = None) -> np.ndarray:
    """uint8 [N, 3]: instance points in their id colour, the rest in dimmed grey scene colour
    (so that floor and walls read as context, not as objects); shaded by ``normals`` when
    given, so that shapes read in 3D."""
    if colors is None:
        base = np.full((n, 3), 150, np.float32)
    else:
        c = np.asarray(colors)
        base = c.astype(np.float32) * (255.0 if c.dtype != np.uint8 else 1.0)
    grey = base.mean(1, keepdims=True) * 0.55 + 40
    out = np.repeat(grey, 3, axis=1)
    lab = result.labels
    has = lab >= 0
    if has.any():
        uniq, inv = np.unique(lab[has], return_inverse=True)
        out[has] = id_colors(uniq)[inv]
    if normals is not None and len(normals) == n:
        out *= (0.7 + 0.3 * np.abs(np.asarray(normals, np.float32) @ _LIGHT))[:, None]
    return out.clip(0, 255).astype(np.uint8)


def render_camera(points: np.ndarray, colors: np.ndarray, pose: np.ndarray,
                  intrinsics: Intrinsics, width: int | None = None, point_size: float = 0.02,
                  depth: np.ndarray | None = None) -> np.ndarray:
    """Render world points [N, 3] with uint8 colours [N, 3] from camera pose ``T_W_C`` (OpenCV
    camera) with a z-buffer; each point is a square splat of ``point_size`` metres.

    Returns uint8 [H, W, 3] at the intrinsics' aspect (``width`` pixels wide, default its own).
    ``depth``, if given as float32 [H, W], receives the z-buffer (inf where nothing was drawn).
    """
    k = intrinsics if width is None else intrinsics.scaled(width / intrinsics.width)
    img = np.empty((k.height, k.width, 3), np.uint8)
    img[:] = _BACKGROUND
    if depth is not None:
        depth[:] = np.inf
    if len(points) == 0:
        return img
    pc = transform_points(invert_pose(pose), np.asarray(points, np.float32))
    z = pc[:, 2]
    front = z > 0.05
    pc, z, col = pc[front], z[front], colors[front]
    u = pc[:, 0] / z * k.fx + k.cx
    v = pc[:, 1] / z * k.fy + k.cy
    r = np.clip(np.ceil(point_size * k.fx / z / 2), 0, 6).astype(np.int64)
    us, vs, zs, cs = [], [], [], []
    for dy in range(-6, 7):
        for dx in range(-6, 7):
            m = (np.abs(dx) <= r) & (np.abs(dy) <= r)
            if not m.any():
                continue
            us.append(np.round(u[m]).astype(np.int64) + dx)
            vs.append(np.round(v[m]).astype(np.int64) + dy)
            zs.append(z[m])
            cs.append(np.flatnonzero(m))
    uu, vv, zz, ci = map(np.concatenate, (us, vs, zs, cs))
    inside = (uu >= 0) & (uu < k.width) & (vv >= 0) & (vv < k.height)
    pix = vv[inside] * k.width + uu[inside]
    order = np.lexsort((zz[inside], pix))
    pix, first = np.unique(pix[order], return_index=True)
    img.reshape(-1, 3)[pix] = col[ci[inside][order][first]]
    if depth is not None:
        depth.reshape(-1)[pix] = zz[inside][order][first]
    return img


def render_top(points: np.ndarray, colors: np.ndarray, width: int = 480, height: int = 480,
               bounds: tuple[np.ndarray, np.ndarray] | None = None, margin: float = 0.2
               ) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Orthographic view from above (x right, y up in the picture): higher points hide lower
    ones. Returns the uint8 [H, W, 3] image and the mapping (scale px/m, x0, y0) so that callers
    can draw at world positions: ``px = (x - x0) * scale``, ``py = height - (y - y0) * scale``.
    """
    img = np.empty((height, width, 3), np.uint8)
    img[:] = _BACKGROUND
    if len(points) == 0:
        return img, (1.0, 0.0, 0.0)
    lo, hi = bounds if bounds is not None else (points.min(0), points.max(0))
    lo, hi = np.asarray(lo, float)[:2] - margin, np.asarray(hi, float)[:2] + margin
    scale = float(min(width / max(hi[0] - lo[0], 1e-3), height / max(hi[1] - lo[1], 1e-3)))
    # Centre the map in the picture.
    x0 = lo[0] - (width / scale - (hi[0] - lo[0])) / 2
    y0 = lo[1] - (height / scale - (hi[1] - lo[1])) / 2
    px = ((points[:, 0] - x0) * scale).astype(np.int64)
    py = (height - 1 - (points[:, 1] - y0) * scale).astype(np.int64)
    ok = (px >= 0) & (px < width) & (py >= 0) & (py < height)
    pix = py[ok] * width + px[ok]
    order = np.lexsort((-points[ok, 2], pix))  # highest first within each pixel
    pix, first = np.unique(pix[order], return_index=True)
    img.reshape(-1, 3)[pix] = colors[ok][order][first]
    return img, (scale, x0, y0)


def render_update(update: StreamUpdate, panel_width: int = 480) -> Image.Image:
    """The picture the demo writes for each update: the camera's colour image, the segmented
    map seen from the camera, the map from above with instance ids and boxes, and a header
    line with the frame, instance count and stage rates."""
    from edge3d.geometry import point_spacing

    result, pts = update.result, update.points
    cols = instance_point_colors(result, update.colors, len(pts), update.normals)
    panels, titles = [], []
    frame = update.frame
    camera_view = None
    if frame is not None:
        k = frame.intrinsics.scaled(panel_width / frame.intrinsics.width)
        if frame.color is not None:
            panels.append(_resize(frame.color, k.width, k.height))
            titles.append("camera colour")
        if update.pose is not None:
            size = 1.3 * point_spacing(pts)
            camera_view = len(panels)
            zbuf = np.empty((k.height, k.width), np.float32)
            panels.append(render_camera(pts, cols, update.pose, frame.intrinsics, panel_width,
                                        point_size=size, depth=zbuf))
            titles.append("map from the camera")
        height = k.height
    else:
        height = panel_width * 3 // 4
    top, (scale, x0, y0) = render_top(pts, cols, panel_width, height)
    panels.append(top)
    titles.append("map from above")
    img = _compose(panels, titles, _header(update))
    _annotate_top(img, result, pts, scale, x0, y0, offset=(panel_width + 8) * (len(panels) - 1),
                  height=height, pose=update.pose)
    if camera_view is not None:
        _annotate_camera(img, result, update.pose, k, zbuf,
                         offset=(panel_width + 8) * camera_view)
    return img


def _header(update: StreamUpdate) -> str:
    c, r = update.counters, update.rates
    return (f"update {update.index}  frame {update.frame_index}  "
            f"{len(update.result.instances)} instances  |  fusion {r['fusion']:.0f} fps  "
            f"segment {r['segment']:.1f}/s  |  fused {c.frames_fused}  skipped "
            f"{c.frames_skipped}  dropped {c.frames_dropped}  tracking {c.tracking}")


def _resize(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((w, h), Image.BILINEAR))


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _compose(panels: list[np.ndarray], titles: list[str], header: str) -> Image.Image:
    from PIL import Image, ImageDraw

    gap, head, sub = 8, 30, 22
    w = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    h = max(p.shape[0] for p in panels) + head + sub
    img = Image.new("RGB", (w, h), (12, 13, 16))
    draw = ImageDraw.Draw(img)
    draw.text((8, 7), header, fill=_TEXT, font=_font(15))
    x = 0
    for p, t in zip(panels, titles, strict=True):
        img.paste(Image.fromarray(p), (x, head + sub))
        draw.text((x + 6, head + 3), t, fill=(170, 175, 185), font=_font(13))
        x += p.shape[1] + gap
    return img


def _label(draw, x: float, y: float, text: str, color: tuple[int, ...], font) -> None:
    tw = draw.textlength(text, font=font)
    draw.rectangle([x - tw / 2 - 3, y - 9, x + tw / 2 + 3, y + 8], fill=(0, 0, 0))
    draw.text((x - tw / 2, y - 8), text, fill=color, font=font)


def _annotate_camera(img: Image.Image, result: SegmentationResult, pose: np.ndarray,
                     k: Intrinsics, zbuf: np.ndarray, offset: int) -> None:
    """Instance ids at their centroids in the camera view (``k``: the panel's intrinsics),
    except for instances hidden behind something nearer (``zbuf``: the view's z-buffer)."""
    from PIL import ImageDraw

    if not result.instances:
        return
    draw = ImageDraw.Draw(img)
    font = _font(13)
    cents = np.array([i.centroid for i in result.instances], np.float32)
    pc = transform_points(invert_pose(pose), cents)
    for inst, (x, y, z) in zip(result.instances, pc, strict=True):
        if z < 0.1:
            continue
        u, v = x / z * k.fx + k.cx, y / z * k.fy + k.cy
        if not (0 <= u < k.width and 0 <= v < k.height):
            continue
        iu, iv = int(u), int(v)
        near = zbuf[max(iv - 6, 0):iv + 7, max(iu - 6, 0):iu + 7]
        # The centroid lies inside the object, so allow half its size behind the surface.
        if z <= float(near.min()) + 0.5 * float(np.max(inst.box_max - inst.box_min)) + 0.1:
            color = tuple(int(c) for c in id_colors(np.array([inst.id]))[0])
            _label(draw, offset + u, 30 + 22 + v, str(inst.id), color, font)


def _annotate_top(img: Image.Image, result: SegmentationResult, pts: np.ndarray, scale: float,
                  x0: float, y0: float, offset: int, height: int, pose: np.ndarray | None
                  ) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    top = 30 + 22
    font = _font(13)

    def to_px(x: float, y: float) -> tuple[float, float]:
        return offset + (x - x0) * scale, top + height - 1 - (y - y0) * scale

    for inst in result.instances:
        color = tuple(int(c) for c in id_colors(np.array([inst.id]))[0])
        (ax, ay), (bx, by) = to_px(*inst.box_min[:2]), to_px(*inst.box_max[:2])
        draw.rectangle([min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)], outline=color)
        _label(draw, *to_px(*inst.centroid[:2]), str(inst.id), color, font)
    if pose is not None:  # the camera: a dot and its viewing direction
        cx, cy = to_px(pose[0, 3], pose[1, 3])
        fwd = pose[:2, 2] / max(float(np.linalg.norm(pose[:2, 2])), 1e-6)
        ex, ey = to_px(pose[0, 3] + 0.4 * fwd[0], pose[1, 3] + 0.4 * fwd[1])
        draw.line([cx, cy, ex, ey], fill=(255, 255, 255), width=2)
        draw.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], fill=(255, 255, 255))
