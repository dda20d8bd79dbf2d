"""Reading the live curves with the pointer: the numbers of the epoch under it.

``EpochHover`` follows the pointer over the loss and accuracy plots (at most 30 times a second) and
shows the current run's numbers for the epoch under it three ways: a line of text above the plots
(``readout``), a box inside the plot beside the pointer (flipped near the edges, so never cut off)
and a dotted vertical line on both plots. All three go when the pointer leaves; the readout then
shows how to read the plots.

Left out: the runs and the curves (``metrics_plot``), and the lines themselves (``curve_marks``).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Slot
from PySide6.QtWidgets import QLabel, QSizePolicy

from studio.core.history import RunHistory
from studio.gui.curve_marks import EpochLines, format_epoch_row
from studio.gui.plot_style import HoverBox

HINT = "Solid: training set · dashed: test set · hover to read the numbers"


class EpochHover(QObject):
    """The hovered epoch's numbers in the readout, in a box and as a line; see the module docstring."""

    def __init__(self, graphics: pg.GraphicsLayoutWidget, plots: tuple[pg.PlotItem, ...], lines: EpochLines,
                 history: Callable[[], RunHistory], parent: QObject | None = None) -> None:
        """``history`` gives the current run (read at each move: the current run changes)."""
        super().__init__(parent)
        self._plots = plots
        self._lines = lines
        self._history = history
        self.readout = QLabel(HINT)
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setToolTip(HINT)
        self.box = HoverBox()
        self._mouse_proxy = pg.SignalProxy(graphics.scene().sigMouseMoved, rateLimit=30,
                                           slot=self._on_scene_mouse_moved)
        graphics.viewport().installEventFilter(self)

    def show_epoch(self, epoch: int | None, plot: pg.PlotItem | None = None, at: QPointF | None = None) -> None:
        """Show the current run's numbers for ``epoch`` and mark it on both plots; with ``plot`` and
        ``at`` (view coordinates) also in a box beside that point. None hides them."""
        row = self._history().row(epoch) if epoch is not None else None
        if row is None:
            self.hide()
            return
        self._lines.show_hover(epoch)
        self.readout.setText(format_epoch_row(row))
        if plot is not None and at is not None:
            self.box.show_at(plot, at, format_epoch_row(row, lines=True))

    def hide(self) -> None:
        self._lines.show_hover(None)
        self.box.hide()
        self.readout.setText(HINT)

    @Slot(object)
    def _on_scene_mouse_moved(self, args: tuple[QPointF]) -> None:
        position = args[0]
        history = self._history()
        for plot in self._plots:
            if plot.vb.sceneBoundingRect().contains(position):
                point = plot.vb.mapSceneToView(position)
                if len(history):
                    epochs = history.column("epoch")
                    epoch = int(np.clip(round(point.x()), epochs[0], epochs[-1]))
                    self.show_epoch(epoch, plot, point)
                return
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        if event.type() == QEvent.Type.Leave:
            self.hide()          # no numbers left behind when the pointer goes
        return False
