"""The settings panel: data set, network, initialisation, optimiser, presets and the run buttons.

The panel edits a ``TrainingConfig`` and says what the learner asks for; it trains nothing and loads
nothing. ``config()`` reads the form (``ValueError`` if a field is invalid), ``set_config`` fills it,
and ``config_changed(TrainingConfig)`` follows every valid edit. The run buttons are ``QAction``s
(``start_pause_action`` on Space, ``step_action``, ``stop_action``, ``reset_action``) so the window can
put the same actions in its Run menu; they emit ``*_requested`` signals.

The data set box shows the loaded set's samples per digit and the user's own drawings ("my digits",
counts given with ``set_my_digits_counts``) with a "Train with my digits too" check box
(``train_with_my_digits()``, ``train_with_my_digits_changed(bool)``); ``open_dataset_requested(kind)``
and ``my_digits_requested()`` ask the window for its dialogs.

While a run is live (``set_run_state`` with anything but ``idle``) every setting the run was started
with is locked, with a tooltip saying why, because the running worker would never see the change.
The learning rate stays editable: ``learning_rate_changed(float)`` lets the window pass it to the
run, which uses it from the next epoch.

Early stopping is not part of a ``TrainingConfig`` (the window stops the run, not the trainer): its
spin box in the Optimiser box has its own ``early_stopping_patience()`` (None when off) and
``early_stopping_changed(int | None)``, and stays editable during a run.

When a network setting is edited after training, the window calls ``set_new_network_pending(True)``
and a one-line hint under the run buttons says that Start will build a new network; the window clears
it once a network is built. Texts that come and go (that hint, the initialiser's description, the
row of my digits) have their room reserved, so nothing below them moves.

The boxes are their own modules: ``dataset_box`` (data set), ``run_box`` (run buttons and the hint),
``network_boxes`` (network, initialisation), ``optimiser_box`` (optimiser); this module puts them
together, reads and fills the whole config, and locks them during a run. Their fields stay attributes
of the panel (``panel.hidden_edit``, ``panel.lr_spin``, ...), which the window and tests use.

Left out: file dialogs (the window's), and deciding when a new network is needed
(``studio.core.training.NETWORK_FIELDS`` says which settings define one).
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from studio.core.data import Dataset
from studio.core.training import PRESET_DESCRIPTIONS, PRESETS, TrainingConfig
from studio.gui.dataset_box import DatasetBox
from studio.gui.network_boxes import InitBox, NetworkBox
from studio.gui.optimiser_box import OptimiserBox
from studio.gui.run_box import RunBox

LOCKED_TIP = "Locked while a run is live: Reset or stop to change."

# The teaching texts of every choice live once in core, beside what they describe; --help shows them too.
PRESET_TIPS = PRESET_DESCRIPTIONS


class ControlsPanel(QWidget):
    """The settings form and run buttons. See the module docstring for signals and actions."""

    config_changed = Signal(object)
    learning_rate_changed = Signal(float)
    early_stopping_changed = Signal(object)    # int, or None when off
    open_dataset_requested = Signal(str)       # "folder", "file" (.zip or MNIST) or "tutorial"
    my_digits_requested = Signal()
    train_with_my_digits_changed = Signal(bool)
    start_requested = Signal()
    pause_requested = Signal()
    resume_requested = Signal()
    step_requested = Signal()
    stop_requested = Signal()
    reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = "idle"
        self._has_data = False
        self._filling = False
        self._base_tips: dict[QWidget, str] = {}

        self.data_box = DatasetBox()
        self.run_box = RunBox()
        self.network_box = NetworkBox()
        self.init_box = InitBox()
        self.optimiser_box = OptimiserBox()
        self._share_fields()
        presets_row = self._build_presets_row()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 4)
        layout.addWidget(self.data_box)
        layout.addWidget(self.run_box)
        layout.addLayout(presets_row)
        layout.addWidget(self.network_box)
        layout.addWidget(self.init_box)
        layout.addWidget(self.optimiser_box)
        layout.addStretch(1)
        # Tight enough that the whole panel fits a 900-pixel-high window without scrolling.
        for box in (self.data_box, self.run_box, self.network_box, self.init_box, self.optimiser_box):
            box.layout().setContentsMargins(6, 4, 6, 6)
            if isinstance(box.layout(), QFormLayout):
                box.layout().setVerticalSpacing(4)

        self.data_box.open_requested.connect(self.open_dataset_requested)
        self.data_box.my_digits_requested.connect(self.my_digits_requested)
        self.my_digits_check.toggled.connect(self.train_with_my_digits_changed)
        self.start_pause_action.triggered.connect(self._on_start_pause_action_triggered)
        self.step_action.triggered.connect(self.step_requested)
        self.stop_action.triggered.connect(self.stop_requested)
        self.reset_action.triggered.connect(self.reset_requested)
        for box in (self.network_box, self.init_box, self.optimiser_box):
            box.edited.connect(self._on_form_edited)
        self.optimiser_box.learning_rate_edited.connect(self._on_lr_spin_value_changed)
        self.early_stopping_spin.valueChanged.connect(self._on_early_stopping_spin_value_changed)

        self._locked_widgets: list[QWidget] = [
            self.hidden_edit, self.activation_combo, self.loss_combo, self.init_combo, self.scale_spin,
            self.bias_combo, self.seed_spin, self.batch_spin, self.momentum_spin, self.decay_spin,
            self.shift_spin, self.augment_button, self.order_combo, self.max_epochs_spin, self.readable_check,
            self.schedule_combo, self.against_spin,
            self.article_button, self.best_button, self.fast_button, self.my_digits_check,
        ]
        for widget in self._locked_widgets + [self.lr_spin, self.early_stopping_spin]:
            self._base_tips[widget] = widget.toolTip()
        self._fill(PRESETS["article"])
        self.set_my_digits_counts([0] * 10)
        self._update_actions()

    # -- building -------------------------------------------------------------------------------------

    def _share_fields(self) -> None:
        """Make the boxes' fields the panel's own attributes: the window and the tests reach them here."""
        data, run, network, init, optimiser = (self.data_box, self.run_box, self.network_box, self.init_box,
                                               self.optimiser_box)
        self.data_name_label, self.data_counts_label = data.data_name_label, data.data_counts_label
        self.open_button, self.my_digits_check = data.open_button, data.my_digits_check
        self.my_digits_button = data.my_digits_button
        self.start_pause_action, self.step_action = run.start_pause_action, run.step_action
        self.stop_action, self.reset_action = run.stop_action, run.reset_action
        self.start_button, self.step_button = run.start_button, run.step_button
        self.stop_button, self.reset_button = run.stop_button, run.reset_button
        self.network_hint_label = run.network_hint_label
        self.hidden_edit, self.activation_combo = network.hidden_edit, network.activation_combo
        self.loss_combo = network.loss_combo
        self.init_combo, self.init_note, self.scale_spin = init.init_combo, init.init_note, init.scale_spin
        self.bias_combo, self.seed_spin = init.bias_combo, init.seed_spin
        self.lr_spin, self.batch_spin, self.momentum_spin = optimiser.lr_spin, optimiser.batch_spin, optimiser.momentum_spin
        self.decay_spin, self.shift_spin = optimiser.decay_spin, optimiser.shift_spin
        self.augment_button, self.augment_actions = optimiser.augment_button, optimiser.augment_actions
        self.order_combo, self.max_epochs_spin = optimiser.order_combo, optimiser.max_epochs_spin
        self.schedule_combo, self.against_spin = optimiser.schedule_combo, optimiser.against_spin
        self.early_stopping_spin, self.readable_check = optimiser.early_stopping_spin, optimiser.readable_check

    def _build_presets_row(self) -> QHBoxLayout:
        self.article_button = QPushButton("Article preset")
        self.best_button = QPushButton("Best preset")
        self.fast_button = QPushButton("Fast preset")
        self.article_button.setToolTip(PRESET_TIPS["article"])
        self.best_button.setToolTip(PRESET_TIPS["best"])
        self.fast_button.setToolTip(PRESET_TIPS["fast"])
        self.article_button.clicked.connect(self._on_article_button_clicked)
        self.best_button.clicked.connect(self._on_best_button_clicked)
        self.fast_button.clicked.connect(self._on_fast_button_clicked)
        row = QHBoxLayout()
        row.addWidget(self.article_button)
        row.addWidget(self.best_button)
        row.addWidget(self.fast_button)
        return row

    # -- the config -----------------------------------------------------------------------------------

    def config(self) -> TrainingConfig:
        """The settings in the form, validated. Raises ``ValueError`` naming what is wrong."""
        config = TrainingConfig(**self.network_box.fields(), **self.init_box.fields(),
                                **self.optimiser_box.fields())
        config.validate()
        return config

    def set_config(self, config: TrainingConfig) -> None:
        """Fill the form with ``config`` (validated first) and emit ``config_changed`` once."""
        config.validate()
        self._fill(config)
        self.config_changed.emit(self.config())

    def _fill(self, config: TrainingConfig) -> None:
        self._filling = True
        try:
            self.network_box.fill(config)
            self.init_box.fill(config)
            self.optimiser_box.fill(config)
        finally:
            self._filling = False
        self._update_notes()

    def _update_notes(self) -> None:
        self.optimiser_box.update_notes()
        self.init_box.update_notes()
        self.network_box.update_notes()

    @Slot()
    def _on_form_edited(self) -> None:
        if self._filling:
            return
        self._update_notes()
        try:
            config = self.config()
        except ValueError:
            return
        self.config_changed.emit(config)

    @Slot(float)
    def _on_lr_spin_value_changed(self, lr: float) -> None:
        if self._filling:
            return
        self.learning_rate_changed.emit(float(lr))
        self._on_form_edited()

    @Slot()
    def _on_article_button_clicked(self) -> None:
        self.set_config(PRESETS["article"])

    @Slot()
    def _on_best_button_clicked(self) -> None:
        self.set_config(PRESETS["best"])

    @Slot()
    def _on_fast_button_clicked(self) -> None:
        self.set_config(PRESETS["fast"])

    # -- early stopping -------------------------------------------------------------------------------

    def early_stopping_patience(self) -> int | None:
        """Epochs without a better test accuracy before the run should stop; None when off."""
        return self.early_stopping_spin.value() or None

    def set_early_stopping_patience(self, patience: int | None) -> None:
        """Show ``patience`` (None or 0: off); emits ``early_stopping_changed`` if it changed."""
        self.early_stopping_spin.setValue(int(patience or 0))

    @Slot(int)
    def _on_early_stopping_spin_value_changed(self, value: int) -> None:
        self.early_stopping_changed.emit(value or None)

    # -- data set -------------------------------------------------------------------------------------

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show the data set's name and samples per digit (or how to open one)."""
        self._has_data = dataset is not None
        self.data_box.set_dataset(dataset)
        self._update_actions()

    def set_my_digits_counts(self, counts: Sequence[int]) -> None:
        """Show how many of the user's own drawings there are per digit (10 counts)."""
        self.data_box.set_my_digits_counts(counts)
        self._base_tips[self.my_digits_check] = self.data_box.my_digits_tip()
        self._show_tip(self.my_digits_check)

    def train_with_my_digits(self) -> bool:
        """Whether a run should train on the user's drawings too."""
        return self.my_digits_check.isChecked()

    def set_train_with_my_digits(self, on: bool) -> None:
        self.my_digits_check.setChecked(on)

    # -- the pending new network -------------------------------------------------------------------

    def set_new_network_pending(self, pending: bool) -> None:
        """Say (under the run buttons) that a network setting was changed after training, so Start
        will build a new network; the window clears it once a network is built (Start, Reset, a
        preset or a model load)."""
        self.run_box.set_network_hint(pending)

    def new_network_pending(self) -> bool:
        return bool(self.network_hint_label.text())

    # -- run state ------------------------------------------------------------------------------------

    @property
    def run_state(self) -> str:
        return self._state

    def set_run_state(self, state: str) -> None:
        """``idle``, ``running``, ``paused`` or ``stopping``: relabels Start/Pause and locks settings."""
        self._state = state
        live = state != "idle"
        focused = self.focusWidget()
        if live and focused is not None and any(w is focused or w.isAncestorOf(focused)
                                                for w in self._locked_widgets):
            # Disabling the focused field would hand the focus to the next one (Learning rate), where
            # the next key would edit it: park it on the Start/Pause button instead.
            self.start_button.setFocus(Qt.FocusReason.OtherFocusReason)
        for widget in self._locked_widgets:
            widget.setEnabled(not live)
            self._show_tip(widget)
        self._update_actions()

    def _show_tip(self, widget: QWidget) -> None:
        """Give ``widget`` its own tooltip, after the reason it is locked while a run is live."""
        tip = self._base_tips.get(widget, "")
        widget.setToolTip(f"{LOCKED_TIP}\n\n{tip}" if self._state != "idle" else tip)

    def _update_actions(self) -> None:
        self.run_box.show_state(self._state, self._has_data)

    @Slot()
    def _on_start_pause_action_triggered(self) -> None:
        if self._state == "idle":
            self.start_requested.emit()
        elif self._state == "running":
            self.pause_requested.emit()
        elif self._state == "paused":
            self.resume_requested.emit()

    def sizeHint(self) -> QSize:  # Qt's name
        hint = super().sizeHint()
        return QSize(max(hint.width(), 300), hint.height())
