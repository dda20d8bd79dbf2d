"""The "Optimiser" settings box: how the network is trained (learning rate and its schedule, batch size, momentum,
weight decay, random shift, augmentations, training against fooling, sample order, run length, early
stopping, engine).

The box says ``edited()`` when a field of the ``TrainingConfig`` changes, except the learning rate,
which has its own ``learning_rate_edited(float)`` (a run takes it from the next epoch); it reads its
part of a config with ``fields()`` and shows one with ``fill(config)``. Early stopping is not part of a
``TrainingConfig`` (the window stops the run, not the trainer): ``early_stopping_spin`` is read by the
panel. ``update_notes()`` spells out the chosen augmentations on their button and frames Max epochs
in red while a decaying schedule has no number of epochs to decay over.

Left out: the rest of the form and locking during a run (``controls_panel``).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QFormLayout, QGroupBox, QMenu, QSpinBox, QToolButton,
                               QWidget)

from studio.core.augment import AUGMENT_DESCRIPTIONS, AUGMENTS
from studio.core.lr_schedule import LR_SCHEDULE_DESCRIPTIONS, LR_SCHEDULES
from studio.core.train_against import AGAINST_FOOLING_DESCRIPTION, MAX_COPIES
from studio.core.training import (EARLY_STOPPING_DESCRIPTION, ENGINE_DESCRIPTIONS, ORDER_DESCRIPTIONS, ORDERS,
                                  TrainingConfig)
from studio.gui.form_fields import CompactSpinBox, choice_combo, select_data

#: The longest list of augmentations the Augment button spells out; a longer one is summed up.
AUGMENT_TEXT_CHARS = 28

ORDER_NAMES: dict[str, str] = {"shuffle": "new shuffle every epoch", "permuted": "one fixed random order",
                               "dataset": "data set order"}

SCHEDULE_NAMES: dict[str, str] = {"constant": "constant", "linear": "linear decay", "cosine": "cosine decay"}

MAX_EPOCHS_TIP = ("Stop after this many epochs in all (0 = unlimited: train until you press Stop). One epoch "
                  "is one pass over the training set. The article preset's 1,743 is the tutorial's own run "
                  "length. A decaying learning-rate schedule decays over this many epochs.")

EARLY_STOPPING_TIP = (f"{EARLY_STOPPING_DESCRIPTION} Off at 0. Editable during a run: it counts from the "
                      f"next epoch; Run > Restore best weights puts the best epoch back.")


class OptimiserBox(QGroupBox):
    """The training settings of the form; see the module docstring."""

    edited = Signal()
    learning_rate_edited = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Optimiser", parent)
        form = QFormLayout(self)
        self.lr_spin = CompactSpinBox()
        self.lr_spin.setRange(1e-6, 1e6)
        self.lr_spin.setDecimals(6)
        self.lr_spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr_spin.setToolTip("Step size of each update, W <- W - lr dC/dW. Too small: slow progress; "
                                "too large: the loss jumps about or the run diverges. Editable during a "
                                "run: the new value is used from the next epoch. With a decaying "
                                "schedule, each epoch uses this rate times the schedule's factor.")
        self.schedule_combo = choice_combo(
            LR_SCHEDULES, LR_SCHEDULE_DESCRIPTIONS, SCHEDULE_NAMES,
            tip="How the learning rate changes over the run: each epoch updates with the rate above times "
                "the schedule's factor. Decaying it lets the weights settle at the end instead of "
                "jittering, which makes runs more alike and reads other handwriting better.")
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 65_536)
        self.batch_spin.setToolTip("Samples per update. 1 is the tutorial's per-sample SGD; larger "
                                   "batches average the gradient (smoother, faster per epoch, but fewer "
                                   "updates, so a larger learning rate often suits them).")
        self.momentum_spin = CompactSpinBox()
        self.momentum_spin.setRange(0.0, 0.99)
        self.momentum_spin.setDecimals(3)
        self.momentum_spin.setSingleStep(0.05)
        self.momentum_spin.setToolTip("Keep this fraction of the previous update and add the new step: "
                                      "0 is plain SGD; 0.9 speeds up progress along consistent directions.")
        self.decay_spin = CompactSpinBox()
        self.decay_spin.setRange(0.0, 1.0)
        self.decay_spin.setDecimals(8)
        self.decay_spin.setSingleStep(1e-4)
        self.decay_spin.setToolTip("L2 weight decay lambda: every update also shrinks the weights by "
                                   "lr * lambda * W. Small values (1e-4) curb overfitting: the test "
                                   "accuracy stays closer to the training accuracy.")
        self.shift_spin = QSpinBox()
        self.shift_spin.setRange(0, 8)
        self.shift_spin.setSuffix(" px")
        self.shift_spin.setToolTip("Each epoch, move every training image by a random whole number of "
                                   "pixels up to this in x and y. The network sees more varied digits and "
                                   "generalises better; training accuracy rises more slowly.")
        self._build_augment_button()
        self.against_spin = QSpinBox()
        self.against_spin.setRange(0, MAX_COPIES)
        self.against_spin.setSpecialValueText("off")
        self.against_spin.setSuffix(" copies a batch")
        self.against_spin.setToolTip(AGAINST_FOOLING_DESCRIPTION)
        self.order_combo = choice_combo(ORDERS, ORDER_DESCRIPTIONS, ORDER_NAMES,
                                        tip="The order in which samples are presented in each epoch.")
        self.max_epochs_spin = QSpinBox()
        self.max_epochs_spin.setRange(0, 10_000_000)
        self.max_epochs_spin.setSpecialValueText("unlimited")
        self.max_epochs_spin.setGroupSeparatorShown(True)     # "1,743", as everywhere else
        self.max_epochs_spin.setToolTip(MAX_EPOCHS_TIP)
        form.addRow("Learning rate:", self.lr_spin)
        form.addRow("Schedule:", self.schedule_combo)
        form.addRow("Batch size:", self.batch_spin)
        form.addRow("Momentum:", self.momentum_spin)
        form.addRow("Weight decay:", self.decay_spin)
        form.addRow("Random shift:", self.shift_spin)
        form.addRow("Augment:", self.augment_button)
        form.addRow("Against fooling:", self.against_spin)
        form.addRow("Sample order:", self.order_combo)
        self.early_stopping_spin = QSpinBox()
        self.early_stopping_spin.setRange(0, 1_000_000)
        self.early_stopping_spin.setSpecialValueText("off")
        self.early_stopping_spin.setPrefix("after ")
        self.early_stopping_spin.setSuffix(" epochs")
        self.early_stopping_spin.setToolTip(EARLY_STOPPING_TIP)
        form.addRow("Max epochs:", self.max_epochs_spin)
        form.addRow("Early stopping:", self.early_stopping_spin)
        # The code you read is the code that runs: this trains with network.py's backward pass.
        self.readable_check = QCheckBox("Run the readable code (slower)")
        self.readable_check.setToolTip(f"{ENGINE_DESCRIPTIONS['readable']}\n\nOff: {ENGINE_DESCRIPTIONS['fast']}")
        self.readable_check.toggled.connect(self.edited)
        form.addRow(self.readable_check)
        for spin in (self.lr_spin, self.batch_spin, self.momentum_spin, self.decay_spin, self.shift_spin,
                     self.against_spin, self.max_epochs_spin, self.early_stopping_spin):
            spin.setKeyboardTracking(False)
        self.lr_spin.valueChanged.connect(self.learning_rate_edited)
        for spin in (self.batch_spin, self.momentum_spin, self.decay_spin, self.shift_spin,
                     self.against_spin, self.max_epochs_spin):
            spin.valueChanged.connect(self.edited)
        self.order_combo.currentIndexChanged.connect(self.edited)
        self.schedule_combo.currentIndexChanged.connect(self.edited)

    def _build_augment_button(self) -> None:
        # Augmentations: a menu of check boxes, one per distortion (several may be on at once).
        self.augment_button = QToolButton()
        self.augment_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.augment_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.augment_button.setToolTip("Each epoch, distort every training image at random in the chosen "
                                       "ways (applied before the shift). The network learns that these "
                                       "changes do not alter a digit, and reads other people's handwriting "
                                       "better. The strip 'What training sees' shows the effect.")
        augment_menu = QMenu(self.augment_button)
        self.augment_actions: dict[str, QAction] = {}
        for name in AUGMENTS:
            action = augment_menu.addAction(name)
            action.setCheckable(True)
            action.setToolTip(AUGMENT_DESCRIPTIONS[name])
            action.toggled.connect(self.edited)
            self.augment_actions[name] = action
        augment_menu.setToolTipsVisible(True)
        self.augment_button.setMenu(augment_menu)

    def fields(self) -> dict[str, object]:
        """This box's ``TrainingConfig`` fields."""
        return {
            "lr": float(self.lr_spin.value()),
            "lr_schedule": self.schedule_combo.currentData(),
            "batch_size": int(self.batch_spin.value()),
            "momentum": float(self.momentum_spin.value()),
            "weight_decay": float(self.decay_spin.value()),
            "shift": int(self.shift_spin.value()),
            "augment": tuple(name for name, action in self.augment_actions.items() if action.isChecked()),
            "order": self.order_combo.currentData(),
            "max_epochs": int(self.max_epochs_spin.value()) or None,
            "engine": "readable" if self.readable_check.isChecked() else "fast",
            "against_fooling": int(self.against_spin.value()),
        }

    def fill(self, config: TrainingConfig) -> None:
        self.lr_spin.setValue(config.lr)
        self.batch_spin.setValue(config.batch_size)
        self.momentum_spin.setValue(config.momentum)
        self.decay_spin.setValue(config.weight_decay)
        self.shift_spin.setValue(config.shift)
        self.against_spin.setValue(config.against_fooling)
        for name, action in self.augment_actions.items():
            action.setChecked(name in config.augment)
        self.readable_check.setChecked(config.engine == "readable")
        select_data(self.order_combo, config.order)
        select_data(self.schedule_combo, config.lr_schedule)
        self.max_epochs_spin.setValue(config.max_epochs or 0)

    def update_notes(self) -> None:
        """Spell out the chosen augmentations on their button, summed up when too long."""
        chosen = [name for name, action in self.augment_actions.items() if action.isChecked()]
        text = ", ".join(chosen) if chosen else "none"
        if len(text) > AUGMENT_TEXT_CHARS:       # the button must not widen the settings panel
            text = "all five" if len(chosen) == len(AUGMENTS) else f"{len(chosen)} of {len(AUGMENTS)}: {chosen[0]}, ..."
        self.augment_button.setText(text)
        schedule = self.schedule_combo.currentData()
        if schedule != "constant" and self.max_epochs_spin.value() == 0:
            self.max_epochs_spin.setStyleSheet("QSpinBox { border: 1px solid #d62728; }")
            self.max_epochs_spin.setToolTip(f"A {SCHEDULE_NAMES[schedule]} schedule decays over the run's "
                                            f"epochs: set a number of epochs, or choose the constant schedule.")
        else:
            self.max_epochs_spin.setStyleSheet("")
            self.max_epochs_spin.setToolTip(MAX_EPOCHS_TIP)
