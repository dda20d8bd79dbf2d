"""The form of the compare view, "What to compare": which settings to vary around the base settings
and their values, how many epochs each run trains, how many worker processes, Run and Cancel.

``set_base_config`` shows the base; ``set_knob`` ticks a setting with its values; ``choices()`` and
``plan()`` read the form (``ValueError`` saying what is wrong). Every edit re-reads the plan, shows it
(or why it cannot run, with the bad values framed) and says ``plan_changed()``. ``set_live`` locks the
form while a comparison runs.

Left out: running the comparison and showing its runs (``compare_view``), and what varying means
(``studio.core.variations``).
"""
from __future__ import annotations

import html
import os
from dataclasses import replace

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from studio.core.network import INITS
from studio.core.training import TrainingConfig
from studio.core.variations import parse_vary, vary

#: The settings a learner can vary: (field, label, example values, tooltip).
KNOB_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("init", "Initialiser", "randn,rand,zeros,ones,xavier,he",
     "How the weights start: randn (the tutorial's), rand, zeros, ones, uniform, xavier, he"),
    ("init_scale", "Weight scale", "0.1,1",
     "The initial weights are multiplied by this"),
    ("bias_init", "Initial biases", "randn,zeros", "randn (the tutorial's) or zeros"),
    ("lr", "Learning rate", "0.01,0.1,1", "The step size of every update"),
    ("lr_schedule", "Rate schedule", "constant,linear,cosine",
     "constant (the tutorial's), or decaying over the race's epochs: linear, cosine"),
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

_PRESET_INITIALISERS = "Every initialiser"
_PRESET_LEARNING_RATES = "Learning rates 0.01/0.1/1"


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


class CompareForm(QGroupBox):
    """What to compare; see the module docstring."""

    plan_changed = Signal()

    def __init__(self, base_config: TrainingConfig, parent: QWidget | None = None) -> None:
        super().__init__("What to compare", parent)
        self._base = base_config
        self.plan_ok = False
        self.plan_text = ""
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
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        self._plan_label = QLabel()
        self._plan_label.setWordWrap(True)
        self._plan_label.setTextFormat(Qt.TextFormat.RichText)

        form = QVBoxLayout(self)
        form.addWidget(self._base_label)
        form.addWidget(QLabel("Tick the settings to vary and list their values:"))
        form.addLayout(grid)
        form.addLayout(presets)
        form.addLayout(numbers)
        form.addLayout(buttons)
        form.addWidget(self._plan_label)
        form.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._update_base_label()

    # -- reading and filling ------------------------------------------------------------------------

    def base_config(self) -> TrainingConfig:
        return self._base

    def set_base_config(self, config: TrainingConfig) -> None:
        """Vary around ``config`` from now on."""
        self._base = config
        self._update_base_label()
        self.update_plan()

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

    def set_live(self, live: bool) -> None:
        """Lock the settings while a comparison runs (Run and Cancel are the view's to enable)."""
        for line in self._lines:
            line.check.setEnabled(not live)
            line.edit.setEnabled(not live)
        for widget in (self.initialisers_button, self.learning_rates_button, self.epochs_spin,
                       self.workers_spin):
            widget.setEnabled(not live)

    def update_plan(self) -> None:
        """Read the plan again, show it or why it cannot run, and say ``plan_changed``."""
        for line in self._lines:
            line.edit.setStyleSheet("")
            line.edit.setToolTip(line.tip)
        try:
            configs = self.plan()
        except ValueError as error:
            self._mark_bad_lines()
            self.plan_text = str(error)
            self._plan_label.setText(f"<span style='color:#b00020'>{html.escape(self.plan_text)}</span>")
            self.plan_ok = False
        else:
            n = len(configs)
            workers = min(self.workers_spin.value(), n)
            what = "the base settings alone" if n == 1 else f"{n} runs"
            self.plan_text = f"Plan: {what}, {self.epochs_spin.value()} epochs each, {workers} at a time."
            self._plan_label.setText(html.escape(self.plan_text))
            self.plan_ok = True
        self.plan_changed.emit()

    # -- helpers ------------------------------------------------------------------------------------

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

    def _mark_bad_lines(self) -> None:
        for line in self._lines:
            if not line.check.isChecked():
                continue
            try:
                parse_vary(f"{line.knob}={line.edit.text()}")
            except ValueError as error:
                line.edit.setStyleSheet("QLineEdit { background: #fde7ea; }")
                line.edit.setToolTip(str(error))

    # -- slots --------------------------------------------------------------------------------------

    @Slot(bool)
    def _on_knob_check_toggled(self, _checked: bool) -> None:
        self.update_plan()

    @Slot(str)
    def _on_knob_edit_text_changed(self, _text: str) -> None:
        self.update_plan()

    @Slot(str)
    def _on_knob_edit_text_edited(self, _text: str) -> None:
        # Typing values means "vary this".
        for line in self._lines:
            if line.edit is self.sender():
                line.check.setChecked(True)

    @Slot(int)
    def _on_epochs_spin_value_changed(self, _value: int) -> None:
        self.update_plan()

    @Slot(int)
    def _on_workers_spin_value_changed(self, _value: int) -> None:
        self.update_plan()

    @Slot()
    def _on_initialisers_button_clicked(self) -> None:
        self._apply_preset("init", ",".join(INITS))

    @Slot()
    def _on_learning_rates_button_clicked(self) -> None:
        self._apply_preset("lr", "0.01,0.1,1")
