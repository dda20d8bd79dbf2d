"""The chart of the compare view: the accuracy of every run against the epoch, training accuracy solid
and test accuracy dashed, one colour per run, with a legend of the runs' names under the chart.

``begin(labels)`` sets up two curves per run; ``redraw(histories)`` hands them the runs' numbers;
``set_bold(rows)`` picks out the chosen runs; ``export_png`` writes the chart with its legend.

Left out: when to redraw (``compare_view`` does it from a timer) and the runs' numbers
(``studio.core.history``).
"""
from __future__ import annotations

import html
from collections.abc import Collection, Sequence
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers pg.exporters.ImageExporter)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from studio.core.history import RunHistory
from studio.gui.plot_style import run_color, style_plot

#: About how many characters of run names fit on one line of the legend under the chart.
LEGEND_CHARS = 80


def _legend_rows(labels: list[str], width: int = LEGEND_CHARS, most: int = 4) -> list[tuple[int, int]]:
    """Split the legend's entries into rows (start, end) of at most ``most`` entries and about
    ``width`` characters (a long entry gets a row of its own), so that no row runs off the chart."""
    rows: list[tuple[int, int]] = []
    start, used = 0, 0
    for i, label in enumerate(labels):
        size = len(label) + 6                      # the colour mark and the gap
        if i > start and (used + size > width or i - start == most):
            rows.append((start, i))
            start, used = i, 0
        used += size
    if start < len(labels):
        rows.append((start, len(labels)))
    return rows


class CompareChart(pg.GraphicsLayoutWidget):
    """The runs' accuracy curves and their legend; see the module docstring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setMinimumSize(320, 220)
        self.scene().contextMenu = []        # pyqtgraph's SVG export fails with Qt 6.11+
        self.plot = self.addPlot(row=0, col=0)
        style_plot(self.plot, "Accuracy of each run", "accuracy (%)", "epoch")
        self.plot.setYRange(0, 100, padding=0.02)
        self.plot.enableAutoRange(axis="y", enable=False)
        self.plot.setDownsampling(auto=True, mode="peak")
        # The legend is text under the chart: inside the plot it would cover the curves.
        self.legend = pg.LabelItem(justify="left", color="k")
        self.addItem(self.legend, row=1, col=0)
        self.curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._update_legend([])

    def begin(self, labels: list[str]) -> None:
        """Replace the curves by a (training, test) pair for each run named in ``labels``."""
        for train_curve, test_curve in self.curves:
            self.plot.removeItem(train_curve)
            self.plot.removeItem(test_curve)
        self.curves = []
        for index in range(len(labels)):
            train_curve = pg.PlotDataItem(connect="finite")
            test_curve = pg.PlotDataItem(connect="finite")
            self.plot.addItem(train_curve)
            self.plot.addItem(test_curve)
            self.curves.append((train_curve, test_curve))
            self._style_run(index, bold=False)
        self.plot.enableAutoRange(axis="x", enable=True)
        self._update_legend(labels)

    def redraw(self, histories: Sequence[RunHistory]) -> None:
        """Hand every run's numbers to its curves."""
        for history, (train_curve, test_curve) in zip(histories, self.curves):
            epochs = history.column("epoch")
            train_curve.setData(epochs, history.column("train_acc") * 100.0)
            if history.has_test:
                test_curve.setData(epochs, history.column("test_acc") * 100.0)
            else:
                test_curve.setData([], [])

    def set_bold(self, rows: Collection[int]) -> None:
        """Draw the runs in ``rows`` bold and on top, the others plain."""
        for index in range(len(self.curves)):
            self._style_run(index, bold=index in rows)

    def export_png(self, path: str | Path, scale: float = 2.0) -> Path:
        """Write the chart (with its legend) to the PNG file ``path``, ``scale`` times the screen size."""
        exporter = pg.exporters.ImageExporter(self.scene())
        exporter.parameters()["width"] = max(int(self.width() * scale), 16)
        path = Path(path)
        if not exporter.export(str(path)) and not path.exists():
            raise OSError(f"could not write the image {path}")
        return path

    def _style_run(self, index: int, bold: bool) -> None:
        train_curve, test_curve = self.curves[index]
        color = pg.mkColor(run_color(index))
        width = 3 if bold else 1.5
        train_curve.setPen(pg.mkPen(color, width=width))
        test_curve.setPen(pg.mkPen(color.lighter(140), width=width, style=Qt.PenStyle.DashLine))
        train_curve.setZValue(10 if bold else 0)
        test_curve.setZValue(10 if bold else 0)

    def _update_legend(self, labels: list[str]) -> None:
        if not labels:
            self.legend.setText("Solid: training accuracy · dashed: test accuracy", size="9pt")
            return
        parts = [f"<span style='color:{run_color(i)}; font-size:14pt'>&#9473;&#9473;</span>"
                 f"&nbsp;{html.escape(label)}" for i, label in enumerate(labels)]
        rows = ["&nbsp;&nbsp;&nbsp; ".join(parts[a:b]) for a, b in _legend_rows(labels)]
        rows.append("<span style='color:#555'>solid: training accuracy · dashed: test accuracy</span>")
        self.legend.setText("<br>".join(rows), size="9pt")
