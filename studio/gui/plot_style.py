"""How the studio's plots look, in one place: colours, axes, stepped ranges, decade ticks, and a
hover box that stays inside its plot.

Every pyqtgraph plot of the studio (the live curves, the saturation and gradient plots, the
comparison chart) is black text on white with light grid lines at the major ticks only: pyqtgraph's
default translucent grid costs ~15 ms a frame. ``style_plot`` applies that; ``PALETTE`` gives one
colour per run; ``nice_ceiling`` rounds an axis end up to a step (so axes move in steps, not at
every epoch); ``DecadeAxis`` labels a log axis at whole decades only, spaced so labels never
overlap; ``HoverBox`` is a readout drawn inside a plot beside the pointer, flipped near the edges
so it is never cut off.

Left out: what is plotted (each view's own module).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

#: One colour per run, in turn (matplotlib's "tab10").
PALETTE: tuple[str, ...] = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
                            "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")

#: Light grey of the grid lines (drawn opaque, at the major ticks only).
GRID_COLOR = (225, 225, 225)

_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def run_color(index: int) -> str:
    """The colour of run number ``index`` (0-based), cycling through ``PALETTE``."""
    return PALETTE[index % len(PALETTE)]


def style_plot(plot: pg.PlotItem, title: str | None = None, y_label: str | None = None,
               x_label: str | None = None, title_size: str = "11pt") -> pg.PlotItem:
    """Black axes and text, an opaque light grid at the major ticks, plain numbers (no SI prefix)."""
    if title is not None:
        plot.setTitle(title, color="k", size=title_size)
    if y_label is not None:
        plot.setLabel("left", y_label, color="k")
    if x_label is not None:
        plot.setLabel("bottom", x_label, color="k")
    plot.showGrid(x=True, y=True, alpha=1.0)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen("k"))
        axis.setTextPen(pg.mkPen("k"))
        axis.setTickPen(pg.mkPen(GRID_COLOR))
        axis.setStyle(tickAlpha=255, maxTickLevel=0)
        axis.enableAutoSIPrefix(False)
    return plot


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is >= ``value``
    (1.0 for a value that is not finite and positive)."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(value))
    for step in _STEPS:
        if step * power >= value * (1 - 1e-12):
            return float(step * power)
    return float(10 * power)


def decade_range(values: np.ndarray) -> tuple[float, float] | None:
    """(low, high) log10 bounds at whole decades around the finite positive ``values``, at least one
    decade apart; None if there are none."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size == 0:
        return None
    low, high = math.floor(math.log10(finite.min())), math.ceil(math.log10(finite.max()))
    return float(low), float(max(high, low + 1))


class DecadeAxis(pg.AxisItem):
    """A log axis ticked and labelled at whole decades only, every ``step`` decades so that labels
    stay at least two text lines apart (pyqtgraph's own labels every 1..9 times a power of ten,
    which overlap on a short axis)."""

    def logTickValues(self, minVal: float, maxVal: float, size: float,  # noqa: N802,N803 (pyqtgraph's)
                      stdTicks: list) -> list:  # noqa: N803
        low, high = math.floor(minVal), math.ceil(maxVal)
        decades = max(high - low, 1)
        room = max(int(size // 28), 1)           # a label needs ~2 lines of 14 px
        step = max(1, math.ceil(decades / min(room, 6)))
        return [(float(step), [float(v) for v in range(low, high + 1, step) if minVal <= v <= maxVal])]

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [_decade_text(v + math.log10(scale) if scale > 0 else v) for v in values]


def _decade_text(exponent: float) -> str:
    """10^k as plain text people read: 0.001, 0.01, 0.1, 1, 10, 100, then 1e+03 and 1e-04 beyond."""
    k = int(round(exponent))
    if -3 <= k <= 2:
        return f"{10.0 ** k:g}"
    return f"1e{k:+03d}"


class HoverBox(pg.TextItem):
    """A readout drawn in a plot beside the pointer, on the side with room: left of the pointer in
    the right half of the view, below it in the top half, so it is never cut off by the plot's edge.
    ``show_at(view_point, text)`` places it; ``hide()`` when the pointer leaves."""

    def __init__(self) -> None:
        super().__init__("", color=(20, 20, 20), fill=pg.mkBrush(255, 255, 255, 230),
                         border=pg.mkPen((150, 150, 150)), anchor=(0, 1))
        font = self.textItem.font()
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 7.0))
        self.setFont(font)
        self.setZValue(100)
        self.hide()

    def show_at(self, plot: pg.PlotItem, point: QPointF, text: str) -> None:
        """Show ``text`` beside ``point`` (view coordinates of ``plot``, log10 on a log axis)."""
        if self.getViewBox() is not plot.vb:
            if self.scene() is not None:
                self.scene().removeItem(self)
            plot.addItem(self, ignoreBounds=True)
        self.setText(text)
        size = self.textItem.boundingRect()           # pixels: the text is not scaled with the view
        w, h = size.width() + 2, size.height() + 2
        frame = plot.vb.sceneBoundingRect()
        at = plot.vb.mapViewToScene(point)
        gap = 12.0
        # Right of and above the pointer where there is room, else left of / below it; and never
        # past the frame, even in a plot narrower than twice the box.
        left = at.x() + gap if at.x() + gap + w <= frame.right() else at.x() - gap - w
        top = at.y() - gap - h if at.y() - gap - h >= frame.top() else at.y() + gap
        left = min(max(left, frame.left()), frame.right() - w)
        top = min(max(top, frame.top()), frame.bottom() - h)
        self.setAnchor((0.0, 0.0))
        self.setPos(plot.vb.mapSceneToView(QPointF(left, top)))
        self.show()

    def text(self) -> str:
        return self.textItem.toPlainText() if self.isVisible() else ""
