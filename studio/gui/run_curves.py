"""One run on the live curves: its four curves (training and test loss on the loss plot, training and
test accuracy on the other), drawn from its ``RunHistory``.

``RunCurves`` makes the curves with peak downsampling, styles them (the current run bold; an earlier
run thin and faded; solid for the training set, dashed and lighter for the test set; points when the
run has one epoch), hands them the history's columns (smoothed for display only) and remembers the
ranges it drew and the run's learning-rate changes, for the axes and the marks. ``legend_html``
names the runs under the plots by their settings (``TrainingConfig.label()``).

Left out: which runs are shown, the axes and the marks (``metrics_plot``, ``curve_marks``).
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

from studio.core.history import RunHistory, smooth
from studio.gui.curve_marks import DisplayColumn, learning_rate_changes

#: The four curves of a run: (name, history column, plot, scale, dashed).
CURVES: tuple[tuple[str, str, str, float, bool], ...] = (
    ("train_loss", "train_loss", "loss", 1.0, False),
    ("test_loss", "test_loss", "loss", 1.0, True),
    ("train_acc", "train_acc", "accuracy", 100.0, False),
    ("test_acc", "test_acc", "accuracy", 100.0, True),
)

_FADED_ALPHA = 100


class RunCurves:
    """A run on the plots: its numbers (a reference to its owner's history), curves and colour."""

    def __init__(self, history: RunHistory, color: str, plots: dict[str, pg.PlotItem], current: bool) -> None:
        """``plots`` maps ``"loss"`` and ``"accuracy"`` to their plots."""
        self.history = history
        self.color = color
        self.bounds: dict[str, tuple[float, float]] | None = None   # per plot, (min, max) of what is drawn
        self.points = False                                          # drawn with symbols (a single epoch)
        self.lr_changes: list[tuple[int, float]] = []                # (epoch, new rate)
        self.lr_checked = 0                                          # epochs already searched for changes
        self._plots = plots
        self.curves: dict[str, pg.PlotDataItem] = {}
        for name, _, plot_name, _, _ in CURVES:
            curve = pg.PlotDataItem(connect="finite")
            plots[plot_name].addItem(curve)
            # After addItem, which applies the plot's own (default: off) downsampling to the item.
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            if "autoDownsampleFactor" in curve.opts:
                # Peak downsampling keeps each bin's min and max, so 2 bins a pixel (4 points) show
                # every spike; pyqtgraph's default of 5 draws 2.5 times as many for no visible gain.
                curve.opts["autoDownsampleFactor"] = 2.0
            self.curves[name] = curve
        self.style(current)

    def remove(self) -> None:
        """Take the curves off the plots."""
        for name, _, plot_name, _, _ in CURVES:
            self._plots[plot_name].removeItem(self.curves[name])

    def restart(self, history: RunHistory) -> None:
        """Draw ``history`` with these curves and this colour from now on, from scratch."""
        self.history, self.bounds = history, None
        self.lr_changes, self.lr_checked = [], 0

    def style(self, current: bool) -> None:
        """Bold for the current run, thin and faded for an earlier one."""
        for name, _, _, _, dashed in CURVES:
            color = pg.mkColor(self.color)
            if dashed:
                # The test curves: dashed and a lighter shade of the run's colour.
                color = color.lighter(150)
            if not current:
                color.setAlpha(_FADED_ALPHA)
            pen = pg.mkPen(color, width=2 if current else 1,
                           style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
            curve = self.curves[name]
            curve.setPen(pen)
            curve.setZValue(10 if current else 0)
            if self.points:
                curve.setSymbol("o")
                curve.setSymbolSize(7)
                curve.setSymbolBrush(color)
                curve.setSymbolPen(color)

    def draw(self, smoothing: int, current: bool, display: dict[str, DisplayColumn] | None = None) -> None:
        """Hand the history's columns to the curves, smoothed over ``smoothing`` epochs: incrementally
        through the ``display`` columns (the current run), or all at once without them (a finished
        run); remember the ranges drawn."""
        history = self.history
        x = history.column("epoch")
        has_test = history.has_test
        points = len(history) == 1          # one epoch is a point: a line needs two
        if points != self.points:
            self.points = points
            for curve in self.curves.values():
                curve.setSymbol(None)
            self.style(current)
        bounds: dict[str, list[float]] = {"loss": [], "accuracy": []}
        for name, column, plot_name, scale, _ in CURVES:
            curve = self.curves[name]
            if column.startswith("test") and not has_test:
                curve.setData([], [])
                continue
            raw = history.column(column)
            if display is None:
                # A finished run's curves are computed once; no incremental state to keep.
                y = smooth(raw, smoothing) * scale
            else:
                y = display[name].update(raw, smoothing, scale)
            curve.setData(x, y)
            finite = y[np.isfinite(y)]
            if finite.size:
                bounds[plot_name] += [float(finite.min()), float(finite.max())]
        self.bounds = {k: (min(v), max(v)) for k, v in bounds.items() if v}
        self.bounds["epochs"] = (0.0, float(history.last_epoch))

    def update_lr_changes(self) -> list[tuple[int, float]]:
        """Search the epochs not yet searched for changes of the learning rate; all changes so far."""
        self.lr_changes, self.lr_checked = learning_rate_changes(self.history, self.lr_changes, self.lr_checked)
        return self.lr_changes


def current_entry(history: RunHistory) -> str:
    """The current run's name in the legend: its label, "(current)", and the rate in use if it changed."""
    text = f"{history.label} (current)"
    if len(history):
        rate = float(history.column("lr")[-1])
        started = history.config.lr if history.config is not None else float(history.column("lr")[0])
        if np.isfinite(rate) and rate != started:
            text = f"{history.label} (current, lr now {rate:g})"
    return text


#: Points of the legend's text; its colour marks are bigger.
LEGEND_POINTS = 9
_MARK_POINTS = 14
_MARK = "\u2501\u2501"          # the colour mark: two heavy horizontal lines
_GAP = "\u00a0" * 4              # between two entries of a line


def _elided(text: str, font: QFont, width: float | None) -> str:
    """``text`` cut with "…" at the end to fit ``width`` pixels in ``font`` (whole when None or it fits)."""
    if width is None:
        return text
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, max(width, 0.0))


def legend_html(previous: list[RunCurves], current: RunCurves | None, width: float | None = None) -> str:
    """The legend under the plots, three runs a line: a colour mark and the name of each earlier run
    (lighter), then the current run's in bold (None: no current run to name). With ``width`` (pixels),
    each name is shortened with "…" so that a line of entries fits in it: a long legend must not widen
    the plots' scene, which would push the accuracy plot out of sight."""
    parts = []
    runs = [(run, False) for run in previous]
    if current is not None:
        runs.append((current, True))
    plain, bold, mark = QFont(), QFont(), QFont()
    plain.setPointSizeF(LEGEND_POINTS)
    bold.setPointSizeF(LEGEND_POINTS)
    bold.setBold(True)
    mark.setPointSizeF(_MARK_POINTS)
    overhead = QFontMetricsF(mark).horizontalAdvance(_MARK) + QFontMetricsF(plain).horizontalAdvance(_GAP + " ")
    for index, (run, is_current) in enumerate(runs):
        # Each entry gets an equal share of its line (three to a line; the last line may hold fewer).
        on_line = min(3, len(runs) - index // 3 * 3)
        share = None if width is None else width / on_line - overhead
        color = pg.mkColor(run.color)
        if not is_current:
            color = color.lighter(160)
        if is_current:
            label, rest = run.history.label, current_entry(run.history)[len(run.history.label):]
            rest_width = QFontMetricsF(plain).horizontalAdvance(rest)
            text = f"<b>{html.escape(_elided(label, bold, None if share is None else share - rest_width))}</b>" \
                   + html.escape(rest)
        else:
            text = html.escape(_elided(run.history.label, plain, share))
        parts.append(f"<span style='color:{color.name()}; font-size:{_MARK_POINTS}pt'>&#9473;&#9473;</span>"
                     f"&nbsp;{text}")
    rows = ["&nbsp;&nbsp;&nbsp; ".join(parts[i:i + 3]) for i in range(0, len(parts), 3)]
    return "<br>".join(rows) if rows else "&nbsp;"
