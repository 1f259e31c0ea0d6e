"""Handwritten signatures as data: pen strokes, and the PNG drawn from them.

The strokes are what the signer drew — points (x, y, pressure) in pad pixels,
pressure 1.0 where the device gives none. They are the source; the PNG is
rendered from them here, with Pillow and without Qt, so the record window,
the printed volume and a re-rendering at print resolution all show the same
ink. Curves run through the midpoints of neighbouring points (the smoothing
the pad shows on screen), the width follows the pressure, and the image is
drawn four times larger and scaled down for smooth edges.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

from PIL import Image, ImageDraw

from app.errors import UserError

Point = tuple[float, float, float]
Strokes = list[list[Point]]

INK = (26, 35, 126)
PAPER = (255, 255, 255)
BASE_WIDTH = 2.5
SUPERSAMPLE = 4
MARGIN = 8
MAX_POINTS = 20_000
CURVE_STEPS = 8


def pen_width(pressure: float) -> float:
    """Pen width in pad pixels; the pad on screen uses the same rule."""
    return max(0.8, BASE_WIDTH * (0.4 + 1.2 * pressure))


def is_blank(strokes: Sequence[Sequence[Point]]) -> bool:
    return not any(strokes)


def to_json(strokes: Sequence[Sequence[Point]]) -> str:
    return json.dumps([[[round(x, 1), round(y, 1), round(p, 3)] for x, y, p in stroke] for stroke in strokes if stroke],
                      separators=(",", ":"))


def from_json(text: str) -> Strokes:
    """Strokes from their JSON; UserError when the data is not strokes."""
    try:
        data = json.loads(text)
        strokes = [[(float(x), float(y), float(p)) for x, y, p in stroke] for stroke in data]
    except (TypeError, ValueError) as exc:
        raise UserError("签名笔迹数据已损坏，无法读取") from exc
    if sum(len(stroke) for stroke in strokes) > MAX_POINTS:
        raise UserError("签名笔迹过长，请清除后重新签名")
    return strokes


def _smoothed(stroke: Sequence[Point]) -> list[Point]:
    """The points of the midpoint quadratic curve through ``stroke``."""
    if len(stroke) < 3:
        return list(stroke)
    points: list[Point] = [stroke[0]]
    start = stroke[0]
    for i in range(1, len(stroke) - 1):
        control = stroke[i]
        end = tuple((a + b) / 2 for a, b in zip(stroke[i], stroke[i + 1]))
        for step in range(1, CURVE_STEPS + 1):
            t = step / CURVE_STEPS
            points.append(tuple(
                (1 - t) ** 2 * s + 2 * (1 - t) * t * c + t**2 * e for s, c, e in zip(start, control, end)
            ))
        start = end
    points.append(stroke[-1])
    return points


def render_png(strokes: Sequence[Sequence[Point]], scale: float = 1.0) -> bytes:
    """The signature as a PNG cropped to the ink (plus a margin), at ``scale``
    times the pad's pixels; UserError when nothing was drawn."""
    if is_blank(strokes):
        raise UserError("签名板上没有笔迹")
    xs = [x for stroke in strokes for x, _, _ in stroke]
    ys = [y for stroke in strokes for _, y, _ in stroke]
    left, top = min(xs) - MARGIN, min(ys) - MARGIN
    width = max(xs) - left + MARGIN
    height = max(ys) - top + MARGIN
    factor = scale * SUPERSAMPLE
    big = Image.new("RGB", (max(1, round(width * factor)), max(1, round(height * factor))), PAPER)
    draw = ImageDraw.Draw(big)
    for stroke in strokes:
        points = [((x - left) * factor, (y - top) * factor, p) for x, y, p in _smoothed(stroke)]
        for x, y, p in points:
            # Round caps and joins: a disc at every point of the line.
            radius = pen_width(p) * factor / 2
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=INK)
        for (x0, y0, p0), (x1, y1, p1) in zip(points, points[1:]):
            draw.line((x0, y0, x1, y1), fill=INK, width=max(1, round(pen_width((p0 + p1) / 2) * factor)))
    image = big.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
