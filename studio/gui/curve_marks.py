"""What the live curves draw besides the curves, and the numbers behind them.

``DisplayColumn`` smooths and scales one column of a run incrementally (each redraw does only the new
epochs); ``learning_rate_changes`` finds the epochs where the rate changed, also incrementally;
``EpochLines`` keeps the vertical lines on both plots: the hovered epoch, the best epoch (its label
flips to the line's left near the right edge, so it is never cut off) and each learning-rate change
(labelled with the new rate on the loss plot); ``format_epoch_row`` writes one epoch's numbers.

Left out: the plots and runs themselves (``metrics_plot``).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from studio.core.history import RunHistory, smooth

#: The best-epoch line: green, dashed, under the current run's curves.
BEST_PEN = pg.mkPen((0, 150, 60), width=1.5, style=Qt.PenStyle.DashLine)
#: A learning-rate change: grey, dotted.
LR_PEN = pg.mkPen((110, 110, 110), width=1, style=Qt.PenStyle.DotLine)

#: The hovered epoch: grey, dotted.
HOVER_PEN = pg.mkPen((120, 120, 120), style=Qt.PenStyle.DotLine)


class DisplayColumn:
    """The displayed values of one history column: smoothed and scaled, updated only where new.

    Smoothing is trailing, so the values already computed never change as epochs arrive.
    """

    def __init__(self) -> None:
        self._values = np.empty(0)
        self._done = 0
        self._window = 1

    def reset(self) -> None:
        self._done = 0

    def update(self, raw: np.ndarray, window: int, scale: float) -> np.ndarray:
        n = raw.shape[0]
        if window != self._window or n < self._done:
            self._window, self._done = window, 0
        if self._values.shape[0] < n:
            grown = np.empty(max(n, 2 * self._values.shape[0], 256))
            grown[:self._done] = self._values[:self._done]
            self._values = grown
        if self._done < n:
            lo = max(self._done - window + 1, 0)
            tail = smooth(raw[lo:n], window) if window > 1 else raw[lo:n]
            self._values[self._done:n] = tail[self._done - lo:] * scale
            self._done = n
        return self._values[:n]


def learning_rate_changes(history: RunHistory, known: list[tuple[int, float]],
                          checked: int) -> tuple[list[tuple[int, float]], int]:
    """(epoch, new rate) of each change of the learning rate in ``history``, given the ``known``
    changes among its first ``checked`` epochs (start with ``[]`` and 0); returns the changes and
    how many epochs they cover. A history shorter than ``checked`` (a new run) starts afresh."""
    n = len(history)
    if n < checked:
        known, checked = [], 0
    if n <= checked:
        return known, checked
    known = list(known)
    lr = history.column("lr")
    epochs = history.column("epoch")
    lo = max(checked - 1, 0)
    for i in np.flatnonzero(lr[lo + 1:n] != lr[lo:n - 1]) + lo + 1:
        known.append((int(epochs[i]), float(lr[i])))
    return known, n


class EpochLines:
    """The vertical lines on the loss and accuracy plots: hovered epoch, best epoch, rate changes."""

    def __init__(self, loss_plot: pg.PlotItem, accuracy_plot: pg.PlotItem) -> None:
        self._plots = (loss_plot, accuracy_plot)
        self.hover_markers: list[pg.InfiniteLine] = []
        for plot in self._plots:
            marker = pg.InfiniteLine(angle=90, movable=False, pen=HOVER_PEN)
            marker.hide()
            plot.addItem(marker, ignoreBounds=True)
            self.hover_markers.append(marker)
        self.best_lines: list[pg.InfiniteLine] = []
        # The label where the curves seldom are: high on the loss plot, low on the accuracy plot.
        for plot, position in zip(self._plots, (0.93, 0.07)):
            line = pg.InfiniteLine(angle=90, movable=False, pen=BEST_PEN, label="best",
                                   labelOpts={"position": position, "color": (0, 130, 50),
                                              "anchors": [(0, 0.5), (0, 0.5)]})
            line.setZValue(5)
            line.hide()
            plot.addItem(line, ignoreBounds=True)
            self.best_lines.append(line)
        self.lr_lines: list[pg.InfiniteLine] = []

    def show_hover(self, epoch: int | None) -> None:
        """Mark the hovered ``epoch`` on both plots; None hides the marks."""
        for marker in self.hover_markers:
            if epoch is None:
                marker.hide()
            else:
                marker.setValue(epoch)
                marker.show()

    def place_best(self, epoch: int | None) -> None:
        """Put the best lines at ``epoch`` (None hides them), the label on the side with room."""
        x0, x1 = self._plots[0].vb.viewRange()[0]
        left = epoch is not None and x1 > x0 and (epoch - x0) / (x1 - x0) > 0.85
        anchors = [(1, 0.5), (1, 0.5)] if left else [(0, 0.5), (0, 0.5)]
        for line in self.best_lines:
            if epoch is None:
                line.hide()
                continue
            if line.label.anchors != anchors:
                line.label.anchors = anchors
                line.label.updatePosition()
            if line.value() != epoch or not line.isVisible():   # moving a line costs a re-layout
                line.setValue(epoch)
                line.show()

    @property
    def best_label_anchor(self) -> tuple[float, float]:
        """Where the "best" label hangs on its line: (0, 0.5) right of it, (1, 0.5) left of it."""
        return tuple(self.best_lines[0].label.anchors[0])

    def place_lr_changes(self, changes: list[tuple[int, float]]) -> None:
        """One line per (epoch, new rate) on both plots, labelled "lr 0.05" on the loss plot."""
        wanted = 2 * len(changes)
        while len(self.lr_lines) < wanted:
            for plot, labelled in zip(self._plots, (True, False)):
                opts = {"label": "", "labelOpts": {"position": 0.75, "color": (80, 80, 80),
                                                   "anchors": [(0, 0.5), (0, 0.5)]}} if labelled else {}
                line = pg.InfiniteLine(angle=90, movable=False, pen=LR_PEN, **opts)
                line.setZValue(4)
                plot.addItem(line, ignoreBounds=True)
                self.lr_lines.append(line)
        for k, line in enumerate(self.lr_lines):
            if k >= wanted:
                line.hide()
                continue
            epoch, rate = changes[k // 2]
            if line.value() != epoch:
                line.setValue(epoch)
            label = getattr(line, "label", None)       # only the loss plot's lines are labelled
            if label is not None:
                label.setFormat(f"lr {rate:g}")
            line.show()


def format_epoch_row(row: dict[str, float], lines: bool = False) -> str:
    """The numbers of one epoch: one line for the readout (``Epoch 1,200 · training: loss 0.21, ...``)
    or, with ``lines``, four short lines for the hover box."""
    accuracy = "" if lines else "accuracy "       # the box is narrow: "92.9%" says it

    def test_part() -> str:
        if not np.isfinite(row["test_acc"]):
            return "test: none"
        return f"test: loss {row['test_loss']:.4g}, {accuracy}{100 * row['test_acc']:.1f}%"

    parts = [f"Epoch {int(row['epoch']):,}",
             f"training: loss {row['train_loss']:.4g}, {accuracy}{100 * row['train_acc']:.1f}%",
             test_part(), f"learning rate {row['lr']:g}"]
    return "\n".join(parts) if lines else " · ".join(parts)
