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
table can be saved as CSV (``studio.core.compare.summaries_to_csv``) and the chart as PNG.

Left out: all maths (``vary``, summaries and milestones are core's), training itself, and choosing
the base settings (the window passes them with ``set_base_config``).
"""
from __future__ import annotations

import html
import os
from dataclasses import replace
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers pg.exporters.ImageExporter)
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QFileDialog, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
                               QSizePolicy, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from studio.core.compare import (THRESHOLDS, ComparisonEnded, RunEnded, RunEpochs, RunStarted, RunSummary,
                                 summaries_to_csv)
from studio.core.variations import distinct_labels, parse_vary, vary
from studio.core.data import Dataset
from studio.core.history import RunHistory
from studio.core.network import INITS
from studio.core.training import PRESETS, TrainingConfig
from studio.gui.plot_style import run_color, style_plot
from studio.gui.compare_runner import CompareBatch, ComparisonRunner
from studio.gui.messages import show_error_box

#: The settings a learner can vary: (field, label, example values, tooltip).
KNOB_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("init", "Initialiser", "randn,rand,zeros,ones,xavier,he",
     "How the weights start: randn (the tutorial's), rand, zeros, ones, uniform, xavier, he"),
    ("init_scale", "Weight scale", "0.1,1",
     "The initial weights are multiplied by this"),
    ("bias_init", "Initial biases", "randn,zeros", "randn (the tutorial's) or zeros"),
    ("lr", "Learning rate", "0.01,0.1,1", "The step size of every update"),
    ("loss", "Loss", "sse,ce",
     "sse: squared error with sigmoid outputs (the tutorial's); ce: cross-entropy with softmax outputs"),
    ("activation", "Hidden activation", "sigmoid,tanh,relu", "The function of the hidden units"),
    ("hidden", "Hidden layers", "16-16,32,64-32",
     "Hidden layer sizes, joined by '-' (16-16 is the tutorial's two layers of 16)"),
    ("batch_size", "Batch size", "1,16,64", "Samples per update (1: the tutorial's per-sample SGD)"),
    ("momentum", "Momentum", "0,0.9", "0 is plain SGD"),
    ("weight_decay", "Weight decay", "0,0.0001", "The L2 penalty on the weights"),
    ("shift", "Random shift (px)", "0,2", "Move each training image by up to this many pixels each epoch"),
    ("order", "Sample order", "permuted,shuffle",
     "permuted: one fixed order (the tutorial's); shuffle: a new order every epoch; dataset: file order"),
    ("seed", "Seed", "0,1,2", "The seed of the initial weights and the sample order"),
)

#: Comparisons above this many runs are refused: they would take very long and crowd the chart.
MAX_RUNS = 48

#: Table columns: the run, then its figures.
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Run", "The settings that tell this run apart (its colour on the chart)"),
    ("Epochs", "Epochs trained"),
    ("Seconds", "Training time of the run"),
    *((f"To {round(100 * t)}%", f"The first epoch at which training accuracy reached {round(100 * t)}%, "
                                 f"and the training seconds it took to get there") for t in THRESHOLDS),
    ("Best test", "The highest test accuracy after any epoch, and that epoch"),
    ("Final test", "Test accuracy after the last epoch"),
    ("End", "finished, diverged (NaN or infinity) or stopped; hover for details"),
)

#: About how many characters of run names fit on one line of the legend under the chart.
LEGEND_CHARS = 80

#: Redraw period of the chart's timer, ms.
REDRAW_MS = 33

_PRESET_INITIALISERS = "Every initialiser"
_PRESET_LEARNING_RATES = "Learning rates 0.01/0.1/1"


def _accuracy(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _seconds(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 1 else f"{seconds:.1f}"


def _milestone(summary: RunSummary, threshold: float) -> str:
    epoch = summary.epochs_to(threshold)
    seconds = summary.seconds_to(threshold)
    return "-" if epoch is None or seconds is None else f"{epoch} ({_seconds(seconds)} s)"


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


class _KnobLine:
    """One line of the form: a check box naming the setting and its comma-separated values."""

    def __init__(self, knob: str, label: str, example: str, tip: str) -> None:
        self.knob = knob
        self.tip = f"Values separated by commas. {tip}"
        self.check = QCheckBox(label)
        self.check.setToolTip(f"Vary {label.lower()}: {tip}")
        self.edit = QLineEdit(example)
        self.edit.setToolTip(self.tip)
        self.edit.setPlaceholderText(example)


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
        self._base = base_config if base_config is not None else PRESETS["article"]
        self._dataset: Dataset | None = None
        self._runner = runner if runner is not None else ComparisonRunner(self)
        self._configs: list[TrainingConfig] = []
        self._labels: list[str] = []
        self._histories: list[RunHistory] = []
        self._summaries: list[RunSummary | None] = []
        self._curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._dirty = False
        self._cancelled = False
        self._plan_ok = False
        self._plan_text = ""
        self._error = ""

        # -- the form -------------------------------------------------------------------------------
        self._base_label = QLabel()
        self._base_label.setWordWrap(True)
        self._base_label.setTextFormat(Qt.TextFormat.RichText)
        self._lines = [_KnobLine(*row) for row in KNOB_ROWS]
        grid = QGridLayout()
        grid.setVerticalSpacing(2)
        for r, line in enumerate(self._lines):
            grid.addWidget(line.check, r, 0)
            grid.addWidget(line.edit, r, 1)
            line.check.toggled.connect(self._on_knob_check_toggled)
            line.edit.textChanged.connect(self._on_knob_edit_text_changed)
            line.edit.textEdited.connect(self._on_knob_edit_text_edited)
        self.initialisers_button = QPushButton(_PRESET_INITIALISERS)
        self.initialisers_button.setToolTip("Compare every initialiser, everything else as in the base")
        self.learning_rates_button = QPushButton(_PRESET_LEARNING_RATES)
        self.learning_rates_button.setToolTip("Compare learning rates 0.01, 0.1 and 1, everything else "
                                              "as in the base")
        self.initialisers_button.clicked.connect(self._on_initialisers_button_clicked)
        self.learning_rates_button.clicked.connect(self._on_learning_rates_button_clicked)
        presets = QHBoxLayout()
        presets.addWidget(self.initialisers_button)
        presets.addWidget(self.learning_rates_button)

        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1_000_000)
        self.epochs_spin.setValue(100)
        self.epochs_spin.setToolTip("Every run trains this many epochs (the base's own limit is not used)")
        self.workers_spin = QSpinBox()
        cores = os.cpu_count() or 1
        self.workers_spin.setRange(1, max(4 * cores, 4))
        self.workers_spin.setValue(cores)
        self.workers_spin.setToolTip(f"Worker processes training runs at the same time. This computer has "
                                     f"{cores} cores; more workers than cores makes each run slower.")
        self.epochs_spin.valueChanged.connect(self._on_epochs_spin_value_changed)
        self.workers_spin.valueChanged.connect(self._on_workers_spin_value_changed)
        numbers = QGridLayout()
        numbers.addWidget(QLabel("Epochs per run:"), 0, 0)
        numbers.addWidget(self.epochs_spin, 0, 1)
        numbers.addWidget(QLabel("Worker processes:"), 1, 0)
        numbers.addWidget(self.workers_spin, 1, 1)

        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Train every run of the plan, in parallel")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop every run now; what they reached stays in the table")
        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        self._plan_label = QLabel()
        self._plan_label.setWordWrap(True)
        self._plan_label.setTextFormat(Qt.TextFormat.RichText)

        form_box = QGroupBox("What to compare")
        form = QVBoxLayout(form_box)
        form.addWidget(self._base_label)
        form.addWidget(QLabel("Tick the settings to vary and list their values:"))
        form.addLayout(grid)
        form.addLayout(presets)
        form.addLayout(numbers)
        form.addLayout(buttons)
        form.addWidget(self._plan_label)
        form.addStretch(1)
        form_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

        # -- the chart ------------------------------------------------------------------------------
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.graphics.setMinimumSize(320, 220)
        self.graphics.scene().contextMenu = []        # pyqtgraph's SVG export fails with Qt 6.11+
        self.plot = self.graphics.addPlot(row=0, col=0)
        style_plot(self.plot, "Accuracy of each run", "accuracy (%)", "epoch")
        self.plot.setYRange(0, 100, padding=0.02)
        self.plot.enableAutoRange(axis="y", enable=False)
        self.plot.setDownsampling(auto=True, mode="peak")
        # The legend is text under the chart: inside the plot it would cover the curves.
        self.legend = pg.LabelItem(justify="left", color="k")
        self.graphics.addItem(self.legend, row=1, col=0)
        self.export_png_button = QPushButton("Save chart as PNG…")
        self.export_csv_button = QPushButton("Save table as CSV…")
        self.export_png_button.clicked.connect(self._on_export_png_button_clicked)
        self.export_csv_button.clicked.connect(self._on_export_csv_button_clicked)

        # -- the table ------------------------------------------------------------------------------
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        for c, (title, tip) in enumerate(TABLE_COLUMNS):
            item = QTableWidgetItem(title)
            item.setToolTip(tip)
            self.table.setHorizontalHeaderItem(c, item)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Select a run to draw its curves bold")
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
        layout.addWidget(form_box, 0)
        layout.addLayout(right, 1)

        self._runner.batch_arrived.connect(self._on_runner_batch_arrived)
        self._runner.comparison_failed.connect(self._on_runner_comparison_failed)
        self._runner.state_changed.connect(self._on_runner_state_changed)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

        self._update_base_label()
        self._update_legend()
        self._update_plan()
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
        return self._base

    def set_base_config(self, config: TrainingConfig) -> None:
        """Vary around ``config`` from the next Run on (a running comparison keeps its own)."""
        self._base = config
        self._update_base_label()
        self._update_plan()

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Compare on ``dataset`` from the next Run on (a running comparison keeps its own copy)."""
        self._dataset = dataset
        self._update_plan()
        self._update_buttons()

    def set_knob(self, knob: str, values: str | None) -> None:
        """Tick ``knob`` (a ``TrainingConfig`` field) with comma-separated ``values``; None unticks it."""
        line = self._line(knob)
        if values is not None:
            line.edit.setText(values)
            line.edit.setCursorPosition(0)      # show the start of a long list
        line.check.setChecked(values is not None)

    def choices(self) -> dict[str, list[object]]:
        """The ticked settings and their values; raises ``ValueError`` saying what is wrong."""
        choices: dict[str, list[object]] = {}
        for line in self._lines:
            if line.check.isChecked():
                knob, values = parse_vary(f"{line.knob}={line.edit.text()}")
                choices[knob] = values
        return choices

    def plan(self) -> list[TrainingConfig]:
        """One config per run that Run would start; raises ``ValueError`` saying what is wrong."""
        configs = vary(replace(self._base, max_epochs=self.epochs_spin.value()), **self.choices())
        if len(configs) > MAX_RUNS:
            raise ValueError(f"that makes {len(configs)} runs; at most {MAX_RUNS} can be compared at once "
                             f"(untick a setting or list fewer values)")
        return configs

    def run(self) -> bool:
        """Start the comparison the form describes; False (and the reason shown) if it cannot start."""
        if self._runner.is_live:
            return False
        if self._dataset is None:
            self._show_status("Open a data set first.", error=True)
            return False
        try:
            configs = self.plan()
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
        return self._curves[index]

    def cell_text(self, row: int, column: str) -> str:
        """The text of the table cell of run ``row`` under heading ``column`` (e.g. ``"To 90%"``)."""
        c = [title for title, _ in TABLE_COLUMNS].index(column)
        item = self.table.item(row, c)
        return "" if item is None else item.text()

    def status_text(self) -> str:
        return self._status_label.text()

    def plan_text(self) -> str:
        """What Run would do, or why it cannot (plain text)."""
        return self._plan_text

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
        exporter = pg.exporters.ImageExporter(self.graphics.scene())
        exporter.parameters()["width"] = max(int(self.graphics.width() * scale), 16)
        path = Path(path)
        if not exporter.export(str(path)) and not path.exists():
            raise OSError(f"could not write the image {path}")
        return path

    def redraw(self) -> None:
        """Hand every run's numbers to its curves now (the timer does this when something changed)."""
        self._dirty = False
        for history, (train_curve, test_curve) in zip(self._histories, self._curves):
            epochs = history.column("epoch")
            train_curve.setData(epochs, history.column("train_acc") * 100.0)
            if history.has_test:
                test_curve.setData(epochs, history.column("test_acc") * 100.0)
            else:
                test_curve.setData([], [])

    # -- starting a comparison ----------------------------------------------------------------------

    def _begin(self, configs: list[TrainingConfig]) -> None:
        """Clear the chart and table and set them up for ``configs``."""
        for train_curve, test_curve in self._curves:
            self.plot.removeItem(train_curve)
            self.plot.removeItem(test_curve)
        self._configs = list(configs)
        self._labels = distinct_labels(configs)
        self._histories = [RunHistory(config, label) for config, label in zip(configs, self._labels)]
        self._summaries = [None] * len(configs)
        self._cancelled = False
        self._error = ""
        self._curves = []
        for index in range(len(configs)):
            train_curve = pg.PlotDataItem(connect="finite")
            test_curve = pg.PlotDataItem(connect="finite")
            self.plot.addItem(train_curve)
            self.plot.addItem(test_curve)
            self._curves.append((train_curve, test_curve))
            self._style_run(index, bold=False)
        self.plot.enableAutoRange(axis="x", enable=True)
        self.table.clearSelection()
        self.table.setRowCount(len(configs))
        for row, label in enumerate(self._labels):
            self._set_row(row, [label, "0", "-", *("-" for _ in THRESHOLDS), "-", "-", "waiting"])
            self.table.item(row, 0).setData(Qt.ItemDataRole.DecorationRole, QColor(self._color(row)))
            self.table.item(row, 0).setToolTip(self._configs[row].label())
        self._update_legend()
        self._fit_table()
        self._dirty = True

    def _fit_table(self) -> None:
        """Give the table the height of its rows, up to half of the results area."""
        total = sum(self._results.sizes())
        if total <= 0:
            return
        rows = self.table.rowCount()
        wanted = self.table.horizontalHeader().height() + rows * self.table.verticalHeader().defaultSectionSize() + 6
        height = min(wanted, total // 2)
        self._results.setSizes([total - height, height])

    def _color(self, index: int) -> str:
        return run_color(index)

    def _style_run(self, index: int, bold: bool) -> None:
        train_curve, test_curve = self._curves[index]
        color = pg.mkColor(self._color(index))
        width = 3 if bold else 1.5
        train_curve.setPen(pg.mkPen(color, width=width))
        test_curve.setPen(pg.mkPen(color.lighter(140), width=width, style=Qt.PenStyle.DashLine))
        train_curve.setZValue(10 if bold else 0)
        test_curve.setZValue(10 if bold else 0)

    def _set_row(self, row: int, texts: list[str]) -> None:
        for c, text in enumerate(texts):
            item = self.table.item(row, c)
            if item is None:
                item = QTableWidgetItem()
                if c > 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, c, item)
            item.setText(text)

    def _show_summary(self, index: int, summary: RunSummary, live: bool) -> None:
        best = "-" if summary.best_test_accuracy is None else \
            f"{_accuracy(summary.best_test_accuracy)} ({summary.best_test_epoch})"
        end = "running" if live else summary.outcome
        self._set_row(index, [self._labels[index], str(summary.epochs), _seconds(summary.seconds),
                              *(_milestone(summary, t) for t in THRESHOLDS), best,
                              _accuracy(summary.final_test_accuracy), end])
        end_item = self.table.item(index, len(TABLE_COLUMNS) - 1)
        end_item.setToolTip(summary.message or end)
        color = {"diverged": QColor("#b00020"), "stopped": QColor("#8a6d00")}.get(end)
        end_item.setForeground(color if color is not None else self.palette().text().color())

    # -- form helpers -------------------------------------------------------------------------------

    def _line(self, knob: str) -> _KnobLine:
        for line in self._lines:
            if line.knob == knob:
                return line
        raise ValueError(f"no line for the setting {knob!r}; the form has "
                         f"{', '.join(line.knob for line in self._lines)}")

    def _apply_preset(self, knob: str, values: str) -> None:
        for line in self._lines:
            if line.knob != knob:
                line.check.setChecked(False)
        self.set_knob(knob, values)

    def _update_base_label(self) -> None:
        base = self._base
        text = html.escape(base.label())
        self._base_label.setText(f"Every run starts from the <b>base settings</b>: {text}, seed {base.seed}, "
                                 f"order {html.escape(base.order)}; only what you tick below changes.")
        self._base_label.setToolTip("The base is the Train panel's settings when this page was last "
                                    "shown.")

    def _update_plan(self) -> None:
        for line in self._lines:
            line.edit.setStyleSheet("")
            line.edit.setToolTip(line.tip)
        try:
            configs = self.plan()
        except ValueError as error:
            self._mark_bad_lines()
            self._plan_text = str(error)
            self._plan_label.setText(f"<span style='color:#b00020'>{html.escape(self._plan_text)}</span>")
            self._plan_ok = False
        else:
            n = len(configs)
            workers = min(self.workers_spin.value(), n)
            what = "the base settings alone" if n == 1 else f"{n} runs"
            self._plan_text = f"Plan: {what}, {self.epochs_spin.value()} epochs each, {workers} at a time."
            self._plan_label.setText(html.escape(self._plan_text))
            self._plan_ok = True
        self._update_buttons()

    def _mark_bad_lines(self) -> None:
        for line in self._lines:
            if not line.check.isChecked():
                continue
            try:
                parse_vary(f"{line.knob}={line.edit.text()}")
            except ValueError as error:
                line.edit.setStyleSheet("QLineEdit { background: #fde7ea; }")
                line.edit.setToolTip(str(error))

    def _update_buttons(self) -> None:
        live = self._runner.is_live
        self.run_button.setEnabled(not live and self._plan_ok and self._dataset is not None)
        self.cancel_button.setEnabled(live and self._runner.state == "running")
        for line in self._lines:
            line.check.setEnabled(not live)
            line.edit.setEnabled(not live)
        for widget in (self.initialisers_button, self.learning_rates_button, self.epochs_spin,
                       self.workers_spin):
            widget.setEnabled(not live)
        ended = any(s is not None for s in self._summaries)
        self.export_csv_button.setEnabled(not live and ended)
        self.export_png_button.setEnabled(bool(self._histories))
        if self._dataset is None:
            self.run_button.setToolTip("Open a data set first")
        else:
            self.run_button.setToolTip("Train every run of the plan, in parallel")

    def _update_legend(self) -> None:
        if not self._labels:
            self.legend.setText("Solid: training accuracy · dashed: test accuracy", size="9pt")
            return
        parts = [f"<span style='color:{self._color(i)}; font-size:14pt'>&#9473;&#9473;</span>"
                 f"&nbsp;{html.escape(label)}" for i, label in enumerate(self._labels)]
        rows = ["&nbsp;&nbsp;&nbsp; ".join(parts[a:b]) for a, b in _legend_rows(self._labels)]
        rows.append("<span style='color:#555'>solid: training accuracy · dashed: test accuracy</span>")
        self.legend.setText("<br>".join(rows), size="9pt")

    def _show_status(self, text: str, error: bool = False) -> None:
        self._status_label.setStyleSheet("color: #b00020;" if error else "")
        self._status_label.setText(text)

    def _progress_text(self) -> str:
        ended = sum(s is not None for s in self._summaries)
        return f"{ended} of {len(self._summaries)} runs ended"

    # -- slots: the form --------------------------------------------------------------------------------

    @Slot(bool)
    def _on_knob_check_toggled(self, _checked: bool) -> None:
        self._update_plan()

    @Slot(str)
    def _on_knob_edit_text_changed(self, _text: str) -> None:
        self._update_plan()

    @Slot(str)
    def _on_knob_edit_text_edited(self, _text: str) -> None:
        # Typing values means "vary this".
        for line in self._lines:
            if line.edit is self.sender():
                line.check.setChecked(True)

    @Slot(int)
    def _on_epochs_spin_value_changed(self, _value: int) -> None:
        self._update_plan()

    @Slot(int)
    def _on_workers_spin_value_changed(self, _value: int) -> None:
        self._update_plan()

    @Slot()
    def _on_initialisers_button_clicked(self) -> None:
        self._apply_preset("init", ",".join(INITS))

    @Slot()
    def _on_learning_rates_button_clicked(self) -> None:
        self._apply_preset("lr", "0.01,0.1,1")

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
        selected = {index.row() for index in self.table.selectionModel().selectedRows()}
        for index in range(len(self._curves)):
            self._style_run(index, bold=index in selected)

    # -- slots: the runner and the timer ------------------------------------------------------------

    @Slot(object)
    def _on_runner_batch_arrived(self, batch: CompareBatch) -> None:
        for event in batch.events:
            if isinstance(event, RunEpochs):
                self._histories[event.index].extend(event.epochs)
                self._dirty = True
            elif isinstance(event, RunStarted):
                self.table.item(event.index, len(TABLE_COLUMNS) - 1).setText("running")
            elif isinstance(event, RunEnded):
                self._summaries[event.index] = event.summary
                self._show_summary(event.index, event.summary, live=False)
            elif isinstance(event, ComparisonEnded):
                self._cancelled = self._cancelled or event.cancelled
        for index, summary in batch.live.items():
            if self._summaries[index] is None:
                self._show_summary(index, summary, live=True)
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
