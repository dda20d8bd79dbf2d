"""The ranges the live curves' axes take: stepped, so the curves grow into the plot.

The axes follow the drawn data in steps (x up to the next of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8
times a power of ten; loss from 0, or whole decades on the log scale; accuracy in tens of percent
with room above 100%) rather than rescaling at every epoch: pyqtgraph only recomputes an axis when
its range changes, which was the live plot's largest cost while training. ``AxisFollower`` applies
them to the plots until the user pans or zooms.

Left out: which runs are followed and when (``metrics_plot``), and drawing (``run_curves``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Slot

from studio.gui.plot_style import nice_ceiling

#: The accuracy axis ends here, so a 100% curve is drawn inside the frame, not on it.
ACCURACY_TOP = 103.0


def stepped_ranges(boxes: Sequence[dict[str, tuple[float, float]]], log_loss: bool) -> dict[str, tuple[float, float]]:
    """The ranges around the runs' drawn ``boxes`` (each ``RunCurves.bounds``): ``"x"`` always,
    ``"loss_y"`` (in decades when ``log_loss``) and ``"accuracy_y"`` (percent) when there is data."""
    last_epoch = max([b["epochs"][1] for b in boxes] + [0.0])
    targets = {"x": (0.0, nice_ceiling(max(last_epoch + 1, 10.0)))}   # room after the last point
    loss = [b["loss"] for b in boxes if "loss" in b]
    if loss:
        lo, hi = min(b[0] for b in loss), max(b[1] for b in loss)
        if log_loss:
            lo = max(lo, 1e-12)
            targets["loss_y"] = (float(np.floor(np.log10(lo))), float(np.ceil(np.log10(max(hi, lo * 10)))))
        else:
            targets["loss_y"] = (0.0, nice_ceiling(hi))
    accuracy = [b["accuracy"] for b in boxes if "accuracy" in b]
    if accuracy:
        lo = min(b[0] for b in accuracy)
        targets["accuracy_y"] = (float(np.clip(np.floor(lo / 10) * 10, 0, 90)), ACCURACY_TOP)
    return targets


class AxisFollower(QObject):
    """Keeps the live plots' axes on ``stepped_ranges`` around the followed runs, until the user pans
    or zooms; the plot's "A" button resumes following.

    ``boxes(everything)`` gives the drawn ranges of the runs to follow (``everything``: every run on
    the plots), ``log_loss()`` whether the loss axis is logarithmic. An axis is set only when its range
    changes (or when forced).
    """

    def __init__(self, loss_plot: pg.PlotItem, accuracy_plot: pg.PlotItem,
                 boxes: Callable[[bool], list[dict[str, tuple[float, float]]]], log_loss: Callable[[], bool],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._loss_plot, self._accuracy_plot = loss_plot, accuracy_plot
        self._boxes, self._log_loss = boxes, log_loss
        self.following = True
        self._ranges: dict[str, tuple[float, float]] = {}
        for plot in (loss_plot, accuracy_plot):
            plot.vb.disableAutoRange()
            plot.vb.sigRangeChangedManually.connect(self._on_view_range_changed_manually)
            if plot.autoBtn is not None:
                plot.autoBtn.clicked.connect(self._on_auto_button_clicked)

    def apply(self, force: bool = False, everything: bool = False) -> None:
        """Set the axes around the followed runs (around every run with ``everything``, even when not
        following); ``force`` sets them even where the range has not changed."""
        if not self.following and not everything:
            return
        for key, (lo, hi) in stepped_ranges(self._boxes(everything), self._log_loss()).items():
            if not force and self._ranges.get(key) == (lo, hi):
                continue
            self._ranges[key] = (lo, hi)
            if key == "x":
                self._loss_plot.setXRange(lo, hi, padding=0.02)
            elif key == "loss_y":
                self._loss_plot.setYRange(lo, hi, padding=0.03)
            else:
                self._accuracy_plot.setYRange(lo, hi, padding=0.0)

    def resume(self) -> None:
        """Follow the data again, from now."""
        self.following = True
        self.apply(force=True)

    def forget(self, *keys: str) -> None:
        """Set the axes ``keys`` (``"x"``, ``"loss_y"``, ``"accuracy_y"``) at the next ``apply`` even if
        their range is the same: the view changed under them."""
        for key in keys:
            self._ranges.pop(key, None)

    @Slot(object)
    def _on_view_range_changed_manually(self, _mask: object) -> None:
        self.following = False

    @Slot()
    def _on_auto_button_clicked(self) -> None:
        # pyqtgraph's own handler has just switched its auto-range on: take over again.
        for plot in (self._loss_plot, self._accuracy_plot):
            plot.vb.disableAutoRange()
        self.resume()
