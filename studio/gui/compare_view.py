"""Comparing runs side by side: which settings to vary, the runs' accuracy curves, and a summary table.

The tutorial ends by asking why different initialisations converge at such different speeds. This
view answers it by experiment: it takes the window's current settings as the *base*, lets the learner
tick the settings to vary and type their values ("randn,rand,zeros" for the initialiser), and trains
every combination on the same data with the same seed and sample order (``studio.core.variations.vary``),
in parallel worker processes. While they train, the accuracy of each run streams onto one chart
(training accuracy solid, test accuracy dashed, one colour per run) and the table fills in as runs
end: how many epochs and seconds each took to reach 50 / 90 / 97 % training accuracy, its best and
final test accuracy, and whether it finished, diverged or was stopped.

The comparison runs in ``studio.gui.compare_runner`` (a worker thread that owns the ``Comparison``);
its batches arrive here at most 20 times a second and the chart redraws from a ~30 Hz timer. The
table can be saved as CSV (``studio.core.run_summary.summaries_to_csv``) and the chart as PNG.

The form is ``compare_form``, the chart ``compare_chart`` and the table ``compare_table``; this
module puts them together, runs the comparison and keeps its runs.

Left out: all maths (``vary``, summaries and milestones are core's), training itself, and choosing
the base settings (the window passes them with ``set_base_config``).
"""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from studio.core.compare import ComparisonEnded, RunEnded, RunEpochs, RunStarted
from studio.core.run_summary import RunSummary, summaries_to_csv
from studio.core.data import Dataset
from studio.core.history import RunHistory
from studio.core.training import PRESETS, TrainingConfig
from studio.core.variations import distinct_labels
from studio.gui.compare_chart import CompareChart
from studio.gui.compare_form import CompareForm
from studio.gui.compare_runner import CompareBatch, ComparisonRunner
from studio.gui.compare_table import SummaryTable
from studio.gui.messages import show_error_box
from studio.gui.plot_style import run_color

#: Redraw period of the chart's timer, ms.
REDRAW_MS = 33


class CompareView(QWidget):
    """Vary settings around a base config, train every combination in parallel, compare the runs.

    ``set_base_config(config)`` and ``set_dataset(dataset)`` come from the window; ``run()`` and
    ``cancel()`` are the Run and Cancel buttons; ``shutdown()`` cancels and joins the comparison
    (call it when the window closes). ``state_changed(str)`` repeats the runner's state (``idle``,
    ``running``, ``cancelling``), e.g. for a status bar.
    """

    state_changed = Signal(str)

    def __init__(self, base_config: TrainingConfig | None = None, parent: QWidget | None = None,
                 runner: ComparisonRunner | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._runner = runner if runner is not None else ComparisonRunner(self)
        self._labels: list[str] = []
        self._histories: list[RunHistory] = []
        self._summaries: list[RunSummary | None] = []
        self._dirty = False
        self._cancelled = False
        self._error = ""

        self.form = CompareForm(base_config if base_config is not None else PRESETS["article"])
        self.epochs_spin, self.workers_spin = self.form.epochs_spin, self.form.workers_spin
        self.run_button, self.cancel_button = self.form.run_button, self.form.cancel_button
        self.initialisers_button = self.form.initialisers_button
        self.learning_rates_button = self.form.learning_rates_button
        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)

        self.graphics = CompareChart()
        self.plot, self.legend = self.graphics.plot, self.graphics.legend
        self.export_png_button = QPushButton("Save chart as PNG…")
        self.export_csv_button = QPushButton("Save table as CSV…")
        self.export_png_button.clicked.connect(self._on_export_png_button_clicked)
        self.export_csv_button.clicked.connect(self._on_export_csv_button_clicked)
        self.table = SummaryTable()
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)

        self._status_label = QLabel()
        self._status_label.setWordWrap(True)
        exports = QHBoxLayout()
        exports.addWidget(self._status_label, 1)
        exports.addWidget(self.export_png_button)
        exports.addWidget(self.export_csv_button)

        self._results = QSplitter(Qt.Orientation.Vertical)
        self._results.addWidget(self.graphics)
        self._results.addWidget(self.table)
        self._results.setStretchFactor(0, 3)
        self._results.setStretchFactor(1, 2)
        right = QVBoxLayout()
        right.addWidget(self._results, 1)
        right.addLayout(exports)
        layout = QHBoxLayout(self)
        layout.addWidget(self.form, 0)
        layout.addLayout(right, 1)

        self.form.plan_changed.connect(self._on_form_plan_changed)
        self._runner.batch_arrived.connect(self._on_runner_batch_arrived)
        self._runner.comparison_failed.connect(self._on_runner_comparison_failed)
        self._runner.state_changed.connect(self._on_runner_state_changed)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

        self.form.update_plan()
        self._update_buttons()
        self._status_label.setText("Choose what to compare, then press Run.")

    # -- public API ---------------------------------------------------------------------------------

    @property
    def runner(self) -> ComparisonRunner:
        return self._runner

    @property
    def is_running(self) -> bool:
        return self._runner.is_live

    def base_config(self) -> TrainingConfig:
        return self.form.base_config()

    def set_base_config(self, config: TrainingConfig) -> None:
        """Vary around ``config`` from the next Run on (a running comparison keeps its own)."""
        self.form.set_base_config(config)

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Compare on ``dataset`` from the next Run on (a running comparison keeps its own copy)."""
        self._dataset = dataset
        self.form.update_plan()
        self._update_buttons()

    def set_knob(self, knob: str, values: str | None) -> None:
        """Tick ``knob`` (a ``TrainingConfig`` field) with comma-separated ``values``; None unticks it."""
        self.form.set_knob(knob, values)

    def choices(self) -> dict[str, list[object]]:
        """The ticked settings and their values; raises ``ValueError`` saying what is wrong."""
        return self.form.choices()

    def plan(self) -> list[TrainingConfig]:
        """One config per run that Run would start; raises ``ValueError`` saying what is wrong."""
        return self.form.plan()
    def run(self) -> bool:
        """Start the comparison the form describes; False (and the reason shown) if it cannot start."""
        if self._runner.is_live:
            return False
        if self._dataset is None:
            self._show_status("Open a data set first.", error=True)
            return False
        try:
            configs = self.form.plan()
        except ValueError as error:
            self._show_status(str(error), error=True)
            return False
        self._begin(configs)
        try:
            self._runner.start(self._dataset, configs, self.workers_spin.value())
        except (ValueError, RuntimeError) as error:
            self._show_status(str(error), error=True)
            return False
        self._show_status(f"Starting {len(configs)} run{'s' * (len(configs) != 1)} on "
                          f"{min(self.workers_spin.value(), len(configs))} worker processes…")
        return True

    def cancel(self) -> None:
        """Stop every run now (returns at once; the table fills in as they end)."""
        if self._runner.is_live:
            self._cancelled = True
            self._runner.cancel()

    def shutdown(self) -> None:
        """Cancel any comparison and wait until its thread and processes have ended (window closing)."""
        self._runner.shutdown()

    def labels(self) -> list[str]:
        """The runs' names, as in the legend and the table."""
        return list(self._labels)

    def summaries(self) -> list[RunSummary | None]:
        """Per run, its final summary once it has ended, else None."""
        return list(self._summaries)

    def histories(self) -> list[RunHistory]:
        """Per run, its epochs so far."""
        return list(self._histories)

    def curves(self, index: int) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        """Run ``index``'s (training, test) accuracy curves."""
        return self.graphics.curves[index]

    def cell_text(self, row: int, column: str) -> str:
        """The text of the table cell of run ``row`` under heading ``column`` (e.g. ``"To 90%"``)."""
        return self.table.cell_text(row, column)

    def status_text(self) -> str:
        return self._status_label.text()

    def plan_text(self) -> str:
        """What Run would do, or why it cannot (plain text)."""
        return self.form.plan_text

    def export_csv(self, path: str | Path) -> Path:
        """Write the summaries of the runs that have ended to ``path`` (``summaries_to_csv`` columns)."""
        ended = [s for s in self._summaries if s is not None]
        if not ended:
            raise ValueError("no run has ended yet: there is nothing to save")
        path = Path(path)
        summaries_to_csv(ended, path)
        return path

    def export_png(self, path: str | Path, scale: float = 2.0) -> Path:
        """Write the chart (with its legend) to the PNG file ``path``, ``scale`` times the screen size."""
        self.redraw()
        return self.graphics.export_png(path, scale)

    def redraw(self) -> None:
        """Hand every run's numbers to its curves now (the timer does this when something changed)."""
        self._dirty = False
        self.graphics.redraw(self._histories)

    # -- starting a comparison ----------------------------------------------------------------------

    def _begin(self, configs: list[TrainingConfig]) -> None:
        """Clear the chart and table and set them up for ``configs``."""
        self._labels = distinct_labels(configs)
        self._histories = [RunHistory(config, label) for config, label in zip(configs, self._labels)]
        self._summaries = [None] * len(configs)
        self._cancelled = False
        self._error = ""
        self.graphics.begin(self._labels)
        self.table.begin(self._labels, [run_color(row) for row in range(len(configs))],
                         [config.label() for config in configs])
        self._fit_table()
        self._dirty = True

    def _fit_table(self) -> None:
        """Give the table the height of its rows, up to half of the results area."""
        total = sum(self._results.sizes())
        if total <= 0:
            return
        height = min(self.table.wanted_height(), total // 2)
        self._results.setSizes([total - height, height])

    # -- helpers ------------------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        live = self._runner.is_live
        self.run_button.setEnabled(not live and self.form.plan_ok and self._dataset is not None)
        self.cancel_button.setEnabled(live and self._runner.state == "running")
        self.form.set_live(live)
        ended = any(s is not None for s in self._summaries)
        self.export_csv_button.setEnabled(not live and ended)
        self.export_png_button.setEnabled(bool(self._histories))
        if self._dataset is None:
            self.run_button.setToolTip("Open a data set first")
        else:
            self.run_button.setToolTip("Train every run of the plan, in parallel")

    def _show_status(self, text: str, error: bool = False) -> None:
        self._status_label.setStyleSheet("color: #b00020;" if error else "")
        self._status_label.setText(text)

    def _progress_text(self) -> str:
        ended = sum(s is not None for s in self._summaries)
        return f"{ended} of {len(self._summaries)} runs ended"

    # -- slots: the form, the table and the exports ----------------------------------------------------

    @Slot()
    def _on_form_plan_changed(self) -> None:
        self._update_buttons()

    @Slot()
    def _on_run_button_clicked(self) -> None:
        self.run()

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        self.cancel()

    @Slot()
    def _on_export_csv_button_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the comparison table", "comparison.csv",
                                              "CSV files (*.csv)")
        if not path:
            return
        try:
            self.export_csv(path)
        except (OSError, ValueError) as error:
            show_error_box(self, "Could not save the table", str(error))
        else:
            self._show_status(f"Table saved to {path}.")

    @Slot()
    def _on_export_png_button_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the comparison chart", "comparison.png",
                                              "PNG images (*.png)")
        if not path:
            return
        try:
            self.export_png(path)
        except OSError as error:
            show_error_box(self, "Could not save the chart", str(error))
        else:
            self._show_status(f"Chart saved to {path}.")

    @Slot()
    def _on_table_selection_changed(self) -> None:
        self.graphics.set_bold(self.table.selected_rows())

    # -- slots: the runner and the timer ------------------------------------------------------------

    @Slot(object)
    def _on_runner_batch_arrived(self, batch: CompareBatch) -> None:
        for event in batch.events:
            if isinstance(event, RunEpochs):
                self._histories[event.index].extend(event.epochs)
                self._dirty = True
            elif isinstance(event, RunStarted):
                self.table.show_started(event.index)
            elif isinstance(event, RunEnded):
                self._summaries[event.index] = event.summary
                self.table.show_summary(event.index, event.summary, live=False)
            elif isinstance(event, ComparisonEnded):
                self._cancelled = self._cancelled or event.cancelled
        for index, summary in batch.live.items():
            if self._summaries[index] is None:
                self.table.show_summary(index, summary, live=True)
        if self._runner.state != "idle":
            verb = "Cancelling" if self._runner.state == "cancelling" else "Running"
            self._show_status(f"{verb}: {self._progress_text()}.")

    @Slot(str)
    def _on_runner_comparison_failed(self, message: str) -> None:
        self._error = message
        self._show_status(message, error=True)

    @Slot(str)
    def _on_runner_state_changed(self, state: str) -> None:
        self._update_buttons()
        if state == "idle":
            self.redraw()
            if not self._error:
                seconds = max((s.seconds for s in self._summaries if s is not None), default=0.0)
                if self._cancelled:
                    self._show_status(f"Cancelled: {self._progress_text()}. Runs that did not finish "
                                      f"are marked 'stopped'.")
                else:
                    self._show_status(f"Done: {len(self._summaries)} runs; the longest trained for "
                                      f"{seconds:.1f} s. Select a row to pick out its curves.")
        self.state_changed.emit(state)

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._dirty:
            self.redraw()
