"""Live curves of a run: loss and accuracy, on the training and the test set, against the epoch.

The plot is given the runs it shows (``set_runs(current, earlier)``): it keeps references to those
``RunHistory`` objects (``studio.core.history``) and reads them; whoever owns them appends epochs and
calls ``refresh()``. (``start_run`` and ``add_epochs`` remain as a thin owner of its own for callers
that have no session yet.) Nothing is drawn when epochs arrive: a 10 Hz timer redraws only when
something changed, handing pyqtgraph views of the history's columns (``setData`` on slices) with peak
downsampling, so a run of 100,000 epochs still redraws in a few milliseconds. Smoothing (a trailing
moving average) is for display only and is computed incrementally: each redraw smooths just the new
epochs.

The axes follow the current run (with "Fit all runs", every run on the plots; with no epoch in the
current run yet, the earlier ones) in steps rather than rescaling at every epoch (``curve_axes``);
the log-scale loss is labelled at decades only. Panning or zooming with the mouse stops the
following; the plot's "A" button resumes it. A run of one epoch is drawn as points.

Earlier runs stay on the plots as thin faded curves, one colour per run, named in the legend by their
settings; each run's curves are a ``RunCurves`` (``run_curves``). A learning rate changed during the
run is marked on the curves by a grey vertical line labelled with the new rate, and the legend gives
the rate in use. Hovering shows the numbers of the epoch under the pointer (``curve_hover``).

Export: ``export_png`` writes both plots as one PNG with every run fitted in (pyqtgraph's
``ImageExporter``; its SVG exporter fails with Qt 6.11+). ``export_csv`` writes the current run to
the chosen file and each earlier run to a file beside it, ``<name>-previous-<k>.csv`` (k = 1 is the
oldest), all with the columns of ``RunHistory.to_csv``.

The best epoch (``set_best_epoch``, from the window's ``BestEpochTracker``) is a green dashed vertical
line labelled "best" on both plots; a new current run clears it. The lines are ``curve_marks``'.

Left out: choosing the best epoch (``best_epoch``); training and its control (``training_runner``);
keeping runs (their owner); drawing one run (``run_curves``); the hover readout (``curve_hover``).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers pg.exporters.ImageExporter)
from PySide6.QtCore import QEvent, QObject, QPointF, QTimer, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from studio.core.history import RunHistory
from studio.core.training import EpochFinished, TrainingConfig
from studio.gui.curve_hover import EpochHover
from studio.gui.curve_marks import DisplayColumn, EpochLines
from studio.gui.curve_axes import AxisFollower
from studio.gui.plot_style import DecadeAxis, run_color, style_plot
from studio.gui.run_curves import CURVES, LEGEND_POINTS, RunCurves, current_entry, legend_html

#: Redraw period of the timer, ms (10 redraws a second at most). Each redraw runs pyqtgraph's Python
#: paint code, which takes the interpreter lock from a per-sample training run: at 30 Hz the GUI thread
#: used ~20% of a core while training the article preset, at 10 Hz ~13% (tests/benchmarks/bench_gui.py).
REDRAW_MS = 100


class MetricsPlot(QWidget):
    """Two live plots (loss; accuracy in %) of the current run and faded earlier runs.

    Give it the runs with ``set_runs(current, earlier)`` and call ``refresh()`` after appending
    epochs to them; or let it own them with ``start_run`` and ``add_epochs`` (connect the runner's
    ``epochs_arrived``). ``curves`` maps ``train_loss``, ``test_loss``, ``train_acc``, ``test_acc``
    to the current run's ``PlotDataItem``.
    """

    previous_runs_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run_count = 0
        self._smoothing = 1
        self._dirty = False
        self._previous: list[RunCurves] = []
        self._display = {name: DisplayColumn() for name, *_ in CURVES}
        self._legend_key: tuple = ()

        self.log_check = QCheckBox("Log-scale loss")
        self.log_check.setToolTip("Show the loss on a logarithmic axis. Late in a run the loss keeps "
                                  "falling by small amounts that a linear axis flattens into a line; "
                                  "on a log axis each tenfold drop takes the same height.")
        self.fit_all_check = QCheckBox("Fit all runs")
        self.fit_all_check.setToolTip("Scale the axes to every run on the plots. Off: they follow the "
                                      "current run, so a long earlier run does not squeeze it.")
        self.smoothing_spin = QSpinBox()
        self.smoothing_spin.setRange(1, 1000)
        self.smoothing_spin.setSpecialValueText("off")
        self.smoothing_spin.setSuffix(" epochs")
        self.smoothing_spin.setKeyboardTracking(False)
        self.smoothing_spin.setToolTip("Smooth the curves with a moving average over this many epochs "
                                       "(display only: the numbers and the CSV export stay raw). Helps "
                                       "to see the trend when the test curves are noisy.")
        smoothing_label = QLabel("Smoothing:")
        smoothing_label.setBuddy(self.smoothing_spin)
        self.clear_button = QPushButton("Clear previous runs")
        self.clear_button.setToolTip("Remove the faded curves of earlier runs (the current run stays).")
        self.clear_button.setEnabled(False)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.graphics.setMinimumSize(240, 150)
        self.graphics.installEventFilter(self)          # a new width shortens or lengthens the legend
        # pyqtgraph's own "Export..." menu offers SVG, which fails with Qt 6.11+: use File > Export.
        self.graphics.scene().contextMenu = []
        self.loss_plot = self._make_plot(0, "Loss", "loss (mean per sample)", DecadeAxis("left"))
        self.accuracy_plot = self._make_plot(1, "Accuracy", "accuracy (%)")
        self.accuracy_plot.setXLink(self.loss_plot)
        # The legend is a line of text under both plots: inside a plot it would cover the curves
        # (a label such as "he, lr 0.05, 256, relu, ce, batch 16, ..." is long), and being part of
        # the scene it is in the PNG export too.
        self.legend = pg.LabelItem(justify="left", color="k")
        self.graphics.addItem(self.legend, row=1, col=0, colspan=2)
        self.lines = EpochLines(self.loss_plot, self.accuracy_plot)
        self._best_epoch: int | None = None

        self.axes = AxisFollower(self.loss_plot, self.accuracy_plot, self._followed_boxes, lambda: self.log_loss,
                                 self)
        self._owned: RunHistory | None = RunHistory()   # the current run while no owner gives runs
        self._current = self._add_run(self._owned, current=True)
        self.hover = EpochHover(self.graphics, (self.loss_plot, self.accuracy_plot), self.lines,
                                lambda: self.history, self)
        self.readout, self.hover_box = self.hover.readout, self.hover.box

        controls = QHBoxLayout()
        controls.addWidget(self.readout, 1)
        controls.addWidget(self.log_check)
        controls.addWidget(self.fit_all_check)
        controls.addWidget(smoothing_label)
        controls.addWidget(self.smoothing_spin)
        controls.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)

        self.log_check.toggled.connect(self._on_log_check_toggled)
        self.fit_all_check.toggled.connect(self._on_fit_all_check_toggled)
        self.smoothing_spin.valueChanged.connect(self._on_smoothing_spin_value_changed)
        self.clear_button.clicked.connect(self._on_clear_button_clicked)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    # -- building -------------------------------------------------------------------------------------

    def _make_plot(self, col: int, title: str, y_label: str, left: pg.AxisItem | None = None) -> pg.PlotItem:
        plot = self.graphics.addPlot(row=0, col=col, axisItems={"left": left} if left is not None else None)
        style_plot(plot, title, y_label, "epoch")
        plot.setMouseEnabled(x=True, y=True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        return plot

    def _add_run(self, history: RunHistory, current: bool) -> RunCurves:
        color = run_color(self._run_count)
        self._run_count += 1
        return RunCurves(history, color, {"loss": self.loss_plot, "accuracy": self.accuracy_plot}, current)

    # -- the legend -----------------------------------------------------------------------------------

    @property
    def legend_entries(self) -> list[str]:
        """The legend's entries in order: previous runs (oldest first), then the current run."""
        entries = [run.history.label for run in self._previous]
        if len(self.history):
            entries.append(current_entry(self.history))
        return entries

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        if watched is self.graphics and event.type() == QEvent.Type.Resize \
                and self._legend_state() != self._legend_key:
            self._update_legend()
        return False

    def _update_legend(self) -> None:
        # Narrower than the view by the label's own margins, so that it never widens the scene.
        width = max(self.graphics.width() - 24, 60)
        self.legend.setText(legend_html(self._previous, self._current if len(self.history) else None, width),
                            size=f"{LEGEND_POINTS}pt")
        self._legend_key = self._legend_state()

    def _legend_state(self) -> tuple:
        return (tuple(id(run.history) for run in self._previous), id(self.history), bool(len(self.history)),
                current_entry(self.history), self.graphics.width())

    # -- the runs -------------------------------------------------------------------------------------

    @property
    def history(self) -> RunHistory:
        """The current run's numbers (an empty history when there is no current run)."""
        return self._current.history

    @property
    def previous_runs(self) -> tuple[RunHistory, ...]:
        """Earlier runs on the plots, oldest first."""
        return tuple(run.history for run in self._previous)

    @property
    def curves(self) -> dict[str, pg.PlotDataItem]:
        """The current run's curves by name (``train_loss``, ``test_loss``, ``train_acc``, ``test_acc``)."""
        return self._current.curves

    def set_runs(self, current: RunHistory | None, earlier: Sequence[RunHistory]) -> None:
        """Show ``current`` (None: no run yet) and the ``earlier`` runs (oldest first), faded.

        The plot keeps references and reads them at each redraw: after appending epochs to one,
        call ``refresh()``. A run shown before keeps its colour and curves; a new current run
        clears the best-epoch line."""
        self._owned = None
        self._set_runs(current if current is not None else RunHistory(), list(earlier))

    def _set_runs(self, current: RunHistory, earlier: list[RunHistory]) -> None:
        known = {id(run.history): run for run in [self._current, *self._previous]}
        old_current, old_previous = self._current, list(self._previous)
        new_current = current is not old_current.history
        kept: set[int] = set()
        previous: list[RunCurves] = []
        for history in earlier:
            run = known.get(id(history))
            if run is None or id(history) in kept:
                run = self._add_run(history, current=False)
            else:
                run.style(current=False)
            kept.add(id(history))
            run.draw(self._smoothing, current=False)
            previous.append(run)
        run = known.get(id(current))
        if run is not None and id(current) not in kept:
            kept.add(id(current))
        elif not len(old_current.history) and id(old_current.history) not in kept:
            # An empty current run leaves nothing to keep: its curves and colour go to the new one.
            run = old_current
            run.restart(current)
            kept.add(id(old_current.history))
        else:
            run = self._add_run(current, current=True)
        run.style(current=True)
        for old in [old_current, *old_previous]:
            if old is not run and all(old is not p for p in previous):
                old.remove()
        self._current, self._previous = run, previous
        if new_current:
            for column in self._display.values():
                column.reset()
            self.hover.hide()
            self.set_best_epoch(None)
        self._update_legend()
        self.clear_button.setEnabled(bool(previous))
        if [id(r.history) for r in previous] != [id(r.history) for r in old_previous]:
            self.previous_runs_changed.emit()
        self._dirty = True

    def refresh(self) -> None:
        """The owner appended epochs to a run shown: redraw at the next timer tick."""
        if self._legend_state() != self._legend_key:
            self._update_legend()
        self._dirty = True

    def start_run(self, config: TrainingConfig | None, label: str | None = None) -> RunHistory:
        """Begin a new current run that the plot owns; the old one, if it has any epochs, becomes a
        faded earlier run. (For callers that keep no runs themselves; see ``set_runs``.)"""
        earlier = list(self.previous_runs)
        if len(self.history):
            earlier.append(self.history)
        history = RunHistory(config, label)
        self._set_runs(history, earlier)
        self._owned = history
        return history

    @Slot(object)
    def add_epochs(self, events: list[EpochFinished]) -> None:
        """Append a runner delivery to the current run (one ``start_run`` made); the plot redraws at
        the next timer tick."""
        if not events:
            return
        self.history.extend(events)
        self.refresh()

    def clear_previous_runs(self) -> None:
        """Remove the faded curves of earlier runs; the current run stays."""
        owned = self._owned
        self._set_runs(self.history, [])
        self._owned = owned

    # -- the best epoch -------------------------------------------------------------------------------

    @property
    def best_epoch(self) -> int | None:
        """The epoch the best line marks, or None when it is hidden."""
        return self._best_epoch

    @property
    def best_lines(self) -> tuple[pg.InfiniteLine, ...]:
        """The best-epoch lines: on the loss plot, then on the accuracy plot."""
        return tuple(self.lines.best_lines)

    @Slot(object)
    def set_best_epoch(self, epoch: int | None) -> None:
        """Mark ``epoch`` with the "best" line on both plots at the next redraw; None hides it.

        Early in a run the best epoch changes almost every epoch; moving the lines once per frame
        instead of once per change keeps that off the GUI thread's budget."""
        self._best_epoch = None if epoch is None else int(epoch)
        self._dirty = True

    @property
    def best_label_anchor(self) -> tuple[float, float]:
        """Where the "best" label hangs on its line: (0, 0.5) right of it, (1, 0.5) left of it."""
        return self.lines.best_label_anchor

    # -- learning-rate changes ------------------------------------------------------------------------

    @property
    def learning_rate_changes(self) -> list[tuple[int, float]]:
        """(epoch, new rate) of each change of the learning rate in the current run, as marked."""
        return list(self._current.lr_changes)

    # -- display settings ---------------------------------------------------------------------------------

    @property
    def log_loss(self) -> bool:
        return self.log_check.isChecked()

    def set_log_loss(self, on: bool) -> None:
        self.log_check.setChecked(on)

    @property
    def fit_all_runs(self) -> bool:
        """True when the axes take in every run, False when they follow the current run."""
        return self.fit_all_check.isChecked()

    def set_fit_all_runs(self, on: bool) -> None:
        self.fit_all_check.setChecked(on)

    @property
    def smoothing(self) -> int:
        """Moving-average window in epochs (1 = off)."""
        return self._smoothing

    def set_smoothing(self, window: int) -> None:
        self.smoothing_spin.setValue(int(window))

    @Slot(bool)
    def _on_log_check_toggled(self, on: bool) -> None:
        self.loss_plot.setLogMode(x=False, y=on)
        self.axes.forget("loss_y")
        self._dirty = True

    @Slot(bool)
    def _on_fit_all_check_toggled(self, _on: bool) -> None:
        self.axes.resume()

    @Slot(int)
    def _on_smoothing_spin_value_changed(self, window: int) -> None:
        self._smoothing = max(int(window), 1)
        for run in self._previous:
            run.draw(self._smoothing, current=False)
        self._dirty = True

    @Slot()
    def _on_clear_button_clicked(self) -> None:
        self.clear_previous_runs()

    # -- drawing --------------------------------------------------------------------------------------

    @property
    def is_dirty(self) -> bool:
        return self._dirty

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._dirty:
            self.redraw()

    def redraw(self) -> None:
        """Hand the current run's numbers to its curves now (the timer does this when needed)."""
        self._dirty = False
        if self._legend_state() != self._legend_key:
            self._update_legend()
        self._current.draw(self._smoothing, current=True, display=self._display)
        changes = self._current.update_lr_changes()
        self.axes.apply()
        self.lines.place_best(self._best_epoch)
        self.lines.place_lr_changes(changes)

    # -- axis ranges ----------------------------------------------------------------------------------

    def _followed_boxes(self, everything: bool) -> list[dict[str, tuple[float, float]]]:
        """The drawn ranges of the runs the axes follow (see ``set_fit_all_runs``)."""
        if everything or self.fit_all_runs or not len(self.history):
            runs = [self._current, *self._previous]
        else:
            runs = [self._current]
        return [run.bounds for run in runs if run.bounds]

    @property
    def follows_data(self) -> bool:
        """True while the axes follow the data (until the user pans or zooms)."""
        return self.axes.following

    # -- hover readout --------------------------------------------------------------------------------

    @property
    def readout_text(self) -> str:
        """The numbers shown for the hovered epoch (one line), or the hint when nothing is hovered."""
        return self.readout.text()

    def show_epoch(self, epoch: int | None, plot: pg.PlotItem | None = None, at: QPointF | None = None) -> None:
        """Show the current run's numbers for ``epoch`` and mark it on both plots; with ``plot`` and
        ``at`` (view coordinates) also in a box beside that point. None hides them."""
        self.hover.show_epoch(epoch, plot, at)

    # -- export ---------------------------------------------------------------------------------------

    def export_png(self, path: str | Path, scale: float = 2.0) -> Path:
        """Write both plots (with legend and every run) to the PNG file ``path``, ``scale`` times the
        screen size."""
        self.redraw()
        self.hover.hide()
        self.axes.apply(force=True, everything=True)
        try:
            exporter = pg.exporters.ImageExporter(self.graphics.scene())
            width = max(int(self.graphics.width() * scale), 16)
            exporter.parameters()["width"] = width
            path = Path(path)
            if not exporter.export(str(path)) and not path.exists():
                raise OSError(f"could not write the image {path}")
        finally:
            if self.axes.following:
                self.axes.apply(force=True)
            else:
                self.axes.forget("x", "loss_y", "accuracy_y")
        return path

    def export_csv(self, path: str | Path) -> list[Path]:
        """Write the current run to ``path`` and each previous run beside it; return the files written.

        Previous run k (1 = oldest) goes to ``<stem>-previous-<k><suffix>`` in the same folder.
        """
        path = Path(path)
        written = [path]
        self.history.to_csv(path)
        for k, run in enumerate(self._previous, start=1):
            other = path.with_name(f"{path.stem}-previous-{k}{path.suffix or '.csv'}")
            run.history.to_csv(other)
            written.append(other)
        return written
