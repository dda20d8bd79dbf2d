"""Digits 0-9 as a new user draws them with the mouse, in several styles each, for the pad tests.

Each drawing is a list of strokes; each stroke a list of ``(x, y)`` grid points (cells, x to the
right, y down) that the mouse passes through with the button held. Curves are built from elliptic
arcs (``arc``) and straight pieces; ``densify`` puts a point every cell or so, as mouse-move events
come in. The styles are the ones other people's handwriting has and the tutorial's digits rarely do:
a 6 with a big open loop, a crossed 7, a 1 with a flag, a 4 open at the top, a small digit off-centre...
"""
from __future__ import annotations

import math

Point = tuple[float, float]
Stroke = list[Point]


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 16) -> Stroke:
    """Points on an ellipse from angle ``start`` to ``end`` (degrees; 0 = right, 90 = down, as y grows
    downwards; ``end < start`` goes anticlockwise on screen)."""
    return [(cx + rx * math.cos(math.radians(start + (end - start) * i / steps)),
             cy + ry * math.sin(math.radians(start + (end - start) * i / steps))) for i in range(steps + 1)]


def densify(stroke: Stroke, step: float = 1.0) -> Stroke:
    """``stroke`` with points inserted so that consecutive points are at most ``step`` cells apart."""
    out = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke[:-1], stroke[1:]):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        out.extend((x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1))
    return out


def _scaled(strokes: list[Stroke], scale: float, dx: float, dy: float) -> list[Stroke]:
    """Strokes shrunk by ``scale`` about the pad's centre and moved by (dx, dy): a small, off-centre drawing."""
    return [[(16 + (x - 16) * scale + dx, 16 + (y - 16) * scale + dy) for x, y in s] for s in strokes]


#: (label, style, strokes). Drawn in the middle ~24 rows of the pad, as people do, unless said otherwise.
DRAWINGS: list[tuple[int, str, list[Stroke]]] = [
    (0, "oval", [arc(16, 16, 8, 12, -90, 270, 24)]),
    (0, "narrow, slanted, overlapping", [[(x + (16 - y) * 0.25, y) for x, y in arc(16, 16, 6, 12, -80, 290, 24)]]),
    (0, "round and small, top left", _scaled([arc(16, 16, 9, 10, -90, 270, 24)], 0.7, -4, -4)),
    (1, "a bar", [[(16, 4), (16, 28)]]),
    (1, "with a flag", [[(11, 9), (17, 4), (17, 28)]]),
    (1, "with a flag and a base", [[(12, 9), (17, 4), (17, 27)], [(11, 27), (23, 27)]]),
    (1, "slanted", [[(20, 4), (13, 28)]]),
    (2, "curved with a flat base", [arc(16, 11, 7, 7, 200, 360, 12) + [(21, 17), (10, 27), (24, 27)]]),
    (2, "with a loop at the bottom", [arc(16, 10, 7, 6, 190, 380, 12) + [(12, 24), (10, 27), (13, 25), (17, 26),
                                                                          (24, 27)]]),
    (2, "like a Z", [[(9, 6), (23, 6), (9, 27), (23, 27)]]),
    (3, "two round bowls", [arc(15, 10, 7, 6, 200, 450, 14) + arc(15, 21, 8, 7, 270, 520, 14)]),
    (3, "flat top", [[(9, 5), (22, 5), (14, 14)] + arc(15, 20, 8, 7, 270, 520, 14)]),
    (3, "small, bottom right", _scaled([arc(15, 10, 7, 6, 200, 450, 14) + arc(15, 21, 8, 7, 270, 520, 14)],
                                       0.7, 4, 4)),
    (4, "open at the top", [[(11, 4), (9, 19), (24, 19)], [(20, 9), (20, 29)]]),
    (4, "closed, like a triangle", [[(19, 4), (8, 20), (25, 20)], [(19, 4), (19, 29)]]),
    (4, "open, with a long cross bar", [[(12, 4), (11, 18), (26, 18)], [(21, 6), (21, 28)]]),
    (5, "flag drawn last", [[(12, 4), (11, 14)] + arc(16, 20, 7, 7, 240, 500, 16), [(12, 4), (23, 4)]]),
    (5, "in one stroke", [[(23, 4), (11, 4), (10, 14)] + arc(16, 20, 7, 7, 240, 500, 16)]),
    (5, "round belly", [[(22, 5), (12, 5), (11, 15)] + arc(16, 21, 8, 7, 250, 490, 16)]),
    (6, "big open loop", [[(21, 4), (15, 8), (11, 14)] + arc(16, 21, 6, 7, 180, 520, 20)]),
    (6, "small loop", [[(20, 4), (14, 12)] + arc(16, 23, 5, 5, 200, 560, 18)]),
    (6, "straight back", [[(18, 4), (10, 20)] + arc(16, 21, 6, 6, 180, 540, 18)]),
    (7, "plain", [[(9, 5), (24, 5), (14, 28)]]),
    (7, "crossed", [[(9, 5), (24, 5), (14, 28)], [(12, 17), (23, 17)]]),
    (7, "curved stem", [[(9, 5), (24, 5)] + [(24 - 10 * t, 5 + 23 * t ** 0.8) for t in (0.2, 0.4, 0.6, 0.8, 1.0)]]),
    (8, "two loops", [arc(16, 10, 6, 6, 90, 450, 16), arc(16, 21, 7, 6, -90, 270, 16)]),
    (8, "one stroke, an S and back", [[(22, 7)] + arc(16, 9, 6, 5, -20, -270, 12)
                                      + [(22, 21)] + arc(16, 22, 6, 6, -90, 180, 12) + [(22, 7)]]),
    (8, "small, top right", _scaled([arc(16, 10, 6, 6, 90, 450, 16), arc(16, 21, 7, 6, -90, 270, 16)],
                                    0.7, 4, -4)),
    (9, "loop and straight stem", [arc(15, 10, 7, 6, 0, 360, 20) + [(22, 10), (21, 28)]]),
    (9, "loop and curved stem", [arc(15, 10, 7, 6, 0, 360, 20) + [(22, 10), (21, 20), (17, 28)]]),
    (9, "small loop, long stem", [arc(16, 9, 5, 5, 0, 360, 18) + [(21, 9), (20, 29)]]),
]


def draw(qtbot, pad, strokes: list[Stroke]) -> None:
    """Draw ``strokes`` on a ``PaintPad`` with the left button: press, a move every cell or so, release."""
    from PySide6.QtCore import QPoint, Qt

    rect = pad.grid_rect()
    cell = rect.width() / 32

    def at(point: Point) -> QPoint:
        return QPoint(round(rect.left() + point[0] * cell), round(rect.top() + point[1] * cell))

    for stroke in strokes:
        points = densify(stroke)
        qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=at(points[0]))
        try:
            for point in points[1:]:
                qtbot.mouseMove(pad, at(point))
        finally:
            qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=at(points[-1]))
