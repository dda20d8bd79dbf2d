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

Left out: file dialogs (the window's), and deciding when a new network is needed
(``studio.core.training.NETWORK_FIELDS`` says which settings define one).
"""
from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QRegularExpression, QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QRegularExpressionValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QMenu, QPushButton, QSizePolicy, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from studio.core.augment import AUGMENT_DESCRIPTIONS, AUGMENTS
from studio.core.data import Dataset
from studio.core.network import (ACTIVATION_DESCRIPTIONS, ACTIVATIONS, BIAS_INITS, INIT_DESCRIPTIONS, INITS,
                                 LOSS_DESCRIPTIONS, LOSS_NAMES, LOSSES)
from studio.core.training import NETWORK_FIELDS, needs_new_network  # noqa: F401  (the rule lives in core; re-exported)
from studio.core.training import (EARLY_STOPPING_DESCRIPTION, ENGINE_DESCRIPTIONS, ORDER_DESCRIPTIONS, ORDERS,
                                  PRESET_DESCRIPTIONS, PRESETS, TrainingConfig, format_hidden_sizes,
                                  parse_hidden_sizes)
from studio.gui.qt_helpers import ReservedHeightLabel

#: Settings that define the network itself: changing one means a new network (a new run).
#: The longest list of augmentations the Augment button spells out; a longer one is summed up.
AUGMENT_TEXT_CHARS = 28

LOCKED_TIP = "Locked while a run is live: Reset or stop to change."

MY_DIGITS_TIP = ("Add your own drawings (saved with \"Add to my digits as...\" under the pad) to the "
                 "training set when a run starts. They never join the test set, so the test accuracy "
                 "still measures digits the network has not seen.")
_NO_DATA_TEXT = ("Open a folder with trainingDigits/ and testDigits/, a folder of digit files, a .zip of "
                 "either, MNIST files, or pictures in folders 0/ to 9/.")

ORDER_NAMES: dict[str, str] = {"shuffle": "new shuffle every epoch", "permuted": "one fixed random order",
                               "dataset": "data set order"}
# The teaching texts of every choice live once in core, beside what they describe; --help shows them too.
ACTIVATION_TIPS = ACTIVATION_DESCRIPTIONS
LOSS_TIPS = LOSS_DESCRIPTIONS
PRESET_TIPS = PRESET_DESCRIPTIONS

NETWORK_HINT = "Settings changed: Start builds a new network"
NETWORK_HINT_TIP = ("A setting that defines the network (layers, activation, loss, initialisation, "
                    "seed) was changed after training: Start builds a new network with it (a new run); "
                    "Reset does it now.")

EARLY_STOPPING_TIP = (f"{EARLY_STOPPING_DESCRIPTION} Off at 0. Editable during a run: it counts from the "
                      f"next epoch; Run > Restore best weights puts the best epoch back.")


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"16, 16"`` or ``"16-16"`` -> ``(16, 16)``; ``""`` -> ``()`` (no hidden layer). Raises
    ``ValueError``. The command line's parser (``training.parse_hidden_sizes``), with its limits."""
    return parse_hidden_sizes(text)


class CompactSpinBox(QDoubleSpinBox):
    """A double spin box that shows ``0.01`` rather than ``0.01000000``: small values need many
    decimals, and trailing zeros only hide them."""

    def textFromValue(self, value: float) -> str:  # Qt's name
        return f"{value:.8g}"


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
        self._dataset: Dataset | None = None
        self._my_counts: list[int] = [0] * 10

        self._build_actions()
        data_box = self._build_data_box()
        network_box = self._build_network_box()
        init_box = self._build_init_box()
        optimiser_box = self._build_optimiser_box()
        presets_row = self._build_presets_row()
        run_box = self._build_run_box()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 4)
        layout.addWidget(data_box)
        layout.addWidget(run_box)
        layout.addLayout(presets_row)
        layout.addWidget(network_box)
        layout.addWidget(init_box)
        layout.addWidget(optimiser_box)
        layout.addStretch(1)
        # Tight enough that the whole panel fits a 900-pixel-high window without scrolling.
        for box in (data_box, run_box, network_box, init_box, optimiser_box):
            box.layout().setContentsMargins(6, 4, 6, 6)
            if isinstance(box.layout(), QFormLayout):
                box.layout().setVerticalSpacing(4)

        self._locked_widgets: list[QWidget] = [
            self.hidden_edit, self.activation_combo, self.loss_combo, self.init_combo, self.scale_spin,
            self.bias_combo, self.seed_spin, self.batch_spin, self.momentum_spin, self.decay_spin,
            self.shift_spin, self.augment_button, self.order_combo, self.max_epochs_spin, self.readable_check,
            self.article_button, self.best_button, self.fast_button, self.my_digits_check,
        ]
        for widget in self._locked_widgets + [self.lr_spin, self.early_stopping_spin]:
            self._base_tips[widget] = widget.toolTip()
        self._fill(PRESETS["article"])
        self.set_my_digits_counts([0] * 10)
        self._update_actions()

    # -- building -------------------------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.start_pause_action = QAction("Start", self)
        self.start_pause_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.start_pause_action.triggered.connect(self._on_start_pause_action_triggered)
        self.step_action = QAction("Step one epoch", self)
        self.step_action.setShortcut(QKeySequence("Ctrl+Right"))
        self.step_action.setToolTip("Train exactly one more epoch, then pause (Ctrl+Right). Watch the "
                                    "weights and the pad's prediction change one epoch at a time.")
        self.step_action.triggered.connect(self.step_requested)
        self.stop_action = QAction("Stop", self)
        self.stop_action.setShortcut(QKeySequence("Ctrl+."))
        self.stop_action.setToolTip("End the run after the current batch (Ctrl+.). The network keeps what "
                                    "it learned; Start trains it further.")
        self.stop_action.triggered.connect(self.stop_requested)
        self.reset_action = QAction("Reset", self)
        self.reset_action.setShortcut(QKeySequence("Ctrl+R"))
        self.reset_action.setToolTip("Throw the trained network away and start again from fresh initial "
                                     "weights drawn with the current settings (Ctrl+R). The curves of this "
                                     "run stay on the plots, faded.")
        self.reset_action.triggered.connect(self.reset_requested)

    def _build_data_box(self) -> QGroupBox:
        box = QGroupBox("Data set")
        self.data_name_label = QLabel("No data set loaded")
        self.data_name_label.setWordWrap(True)
        self.data_name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.data_counts_label = QLabel(_NO_DATA_TEXT)
        self.data_counts_label.setWordWrap(True)
        self.data_counts_label.setToolTip("Samples per digit in the training and the test part, and "
                                          "your own drawings (mine). A network learns rarer digits less "
                                          "well.")
        font = self.data_counts_label.font()
        font.setPointSizeF(font.pointSizeF() * 0.75)
        self.data_counts_label.setFont(font)
        # Wide enough for a table of 4-digit counts, so the panel never cuts the table off.
        probe = QLabel(_counts_html("train", [9999] * 10, 9999))
        probe.setFont(self.data_counts_label.font())
        self.data_counts_label.setMinimumWidth(probe.sizeHint().width())
        self.open_button = QToolButton()
        self.open_button.setText("Open...")
        self.open_button.setToolTip("Open a data set folder: trainingDigits/ and testDigits/ inside, one "
                                    "folder of LABEL_SEQ.txt digit files, MNIST files, or pictures in "
                                    "folders 0/ to 9/. The arrow opens a .zip or an MNIST file, or gets "
                                    "the tutorial's data set.")
        self.open_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(self.open_button)
        menu.addAction("Open folder...", lambda: self.open_dataset_requested.emit("folder"))
        menu.addAction("Open file (.zip, MNIST)...", lambda: self.open_dataset_requested.emit("file"))
        menu.addAction("Get the tutorial's data set...", lambda: self.open_dataset_requested.emit("tutorial"))
        self.open_button.setMenu(menu)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.my_digits_check = QCheckBox("Train with my digits too")
        self.my_digits_check.toggled.connect(self._on_my_digits_check_toggled)
        self.my_digits_button = QToolButton()
        self.my_digits_button.setText("My digits...")
        self.my_digits_button.setToolTip("See and delete your own drawings")
        self.my_digits_button.clicked.connect(self.my_digits_requested)
        top = QHBoxLayout()
        top.addWidget(self.data_name_label, 1)
        top.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignTop)
        # Beside Open rather than beside the check box: that row would set the panel's width.
        top.addWidget(self.my_digits_button, 0, Qt.AlignmentFlag.AlignTop)
        mine = QHBoxLayout()
        mine.addWidget(self.my_digits_check, 1)
        layout = QVBoxLayout(box)
        layout.addLayout(top)
        layout.addWidget(self.data_counts_label)
        layout.addLayout(mine)
        return box

    def _build_run_box(self) -> QGroupBox:
        box = QGroupBox("Run")
        buttons = []
        for action in (self.start_pause_action, self.step_action, self.stop_action, self.reset_action):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            buttons.append(button)
        self.start_button, self.step_button, self.stop_button, self.reset_button = buttons
        self.start_button.setMinimumHeight(32)
        font = self.start_button.font()
        font.setBold(True)
        self.start_button.setFont(font)
        grid = QVBoxLayout(box)
        grid.addWidget(self.start_button)
        row = QHBoxLayout()
        for button in buttons[1:]:
            row.addWidget(button)
        grid.addLayout(row)
        # One line kept for it whether shown or not, so nothing below moves when it comes and goes.
        self.network_hint_label = QLabel("")
        self.network_hint_label.setStyleSheet("color: #8a6d00;")
        self.network_hint_label.setFixedHeight(self.network_hint_label.fontMetrics().lineSpacing() + 2)
        self.network_hint_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.network_hint_label.setToolTip(NETWORK_HINT_TIP)
        grid.addWidget(self.network_hint_label)
        return box

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

    def _build_network_box(self) -> QGroupBox:
        box = QGroupBox("Network")
        form = QFormLayout(box)
        self.hidden_edit = QLineEdit()
        self.hidden_edit.setValidator(QRegularExpressionValidator(
            QRegularExpression(r"^\s*(?:[1-9][0-9]{0,3}(?:\s*[,\-x ]\s*[1-9][0-9]{0,3}){0,7}\s*[,\-x]?\s*)?$")))
        self.hidden_edit.setPlaceholderText("none (inputs straight to outputs)")
        self.hidden_edit.setToolTip("Units in each hidden layer, separated by commas or dashes: 16,16 is the "
                                    "tutorial's two layers of 16. More units learn more but take longer; "
                                    "empty means no hidden layer at all (a linear classifier).")
        self.activation_combo = QComboBox()
        for i, name in enumerate(ACTIVATIONS):
            self.activation_combo.addItem(name, name)
            self.activation_combo.setItemData(i, ACTIVATION_TIPS.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.activation_combo.setToolTip("The function every hidden unit applies to its weighted input z.")
        self.loss_combo = QComboBox()
        for i, name in enumerate(LOSSES):
            self.loss_combo.addItem(LOSS_NAMES.get(name, name), name)
            self.loss_combo.setItemData(i, LOSS_TIPS.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.loss_combo.setToolTip("The output layer and the loss it is trained on.")
        form.addRow("Hidden layers:", self.hidden_edit)
        form.addRow("Activation:", self.activation_combo)
        form.addRow("Output / loss:", self.loss_combo)
        # Typing "128" must not build networks of 1 and 12 units on the way: announce when done.
        self.hidden_edit.textEdited.connect(self._on_hidden_edit_text_edited)
        self.hidden_edit.editingFinished.connect(self._on_form_edited)
        self.activation_combo.currentIndexChanged.connect(self._on_form_edited)
        self.loss_combo.currentIndexChanged.connect(self._on_form_edited)
        return box

    def _build_init_box(self) -> QGroupBox:
        box = QGroupBox("Initialisation")
        form = QFormLayout(box)
        self.init_combo = QComboBox()
        for i, name in enumerate(INITS):
            self.init_combo.addItem(name, name)
            self.init_combo.setItemData(i, INIT_DESCRIPTIONS.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.init_combo.setToolTip("How the starting weights are drawn. Hover over each choice to see "
                                   "what to expect; the weights view shows the result at once.")
        # As high as the longest description at any width: a shorter one must not pull the fields
        # below it up (they moved under the pointer while choosing).
        self.init_note = ReservedHeightLabel(list(INIT_DESCRIPTIONS.values()))
        self.init_note.setStyleSheet("color: #505050;")
        self.scale_spin = CompactSpinBox()
        self.scale_spin.setRange(0.001, 100.0)
        self.scale_spin.setDecimals(3)
        self.scale_spin.setSingleStep(0.1)
        self.scale_spin.setToolTip("Multiply every initial weight by this. Below 1 starts units in "
                                   "their sensitive range; far above 1 saturates sigmoid units.")
        self.bias_combo = QComboBox()
        for name in BIAS_INITS:
            self.bias_combo.addItem(name, name)
        self.bias_combo.setToolTip("Initial biases: randn draws N(0, 1) as the tutorial does; zeros "
                                   "starts every bias at 0.")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_147_483_647)
        self.seed_spin.setToolTip("Seed of the random draws (initial weights, sample order, shifts). "
                                  "The same seed and settings give the same run again.")
        form.addRow("Weights:", self.init_combo)
        form.addRow(self.init_note)
        form.addRow("Scale:", self.scale_spin)
        form.addRow("Biases:", self.bias_combo)
        form.addRow("Seed:", self.seed_spin)
        self.init_combo.currentIndexChanged.connect(self._on_form_edited)
        self.bias_combo.currentIndexChanged.connect(self._on_form_edited)
        for spin in (self.scale_spin, self.seed_spin):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self._on_form_edited)
        return box

    def _build_optimiser_box(self) -> QGroupBox:
        box = QGroupBox("Optimiser")
        form = QFormLayout(box)
        self.lr_spin = CompactSpinBox()
        self.lr_spin.setRange(1e-6, 1e6)
        self.lr_spin.setDecimals(6)
        self.lr_spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr_spin.setToolTip("Step size of each update, W <- W - lr dC/dW. Too small: slow progress; "
                                "too large: the loss jumps about or the run diverges. Editable during a "
                                "run: the new value is used from the next epoch.")
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
            action.toggled.connect(self._on_augment_action_toggled)
            self.augment_actions[name] = action
        augment_menu.setToolTipsVisible(True)
        self.augment_button.setMenu(augment_menu)
        self.order_combo = QComboBox()
        for i, name in enumerate(ORDERS):
            self.order_combo.addItem(ORDER_NAMES.get(name, name), name)
            self.order_combo.setItemData(i, ORDER_DESCRIPTIONS.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.order_combo.setToolTip("The order in which samples are presented in each epoch.")
        self.max_epochs_spin = QSpinBox()
        self.max_epochs_spin.setRange(0, 10_000_000)
        self.max_epochs_spin.setSpecialValueText("unlimited")
        self.max_epochs_spin.setGroupSeparatorShown(True)     # "1,743", as everywhere else
        self.max_epochs_spin.setToolTip("Stop after this many epochs in all (0 = unlimited: train until "
                                        "you press Stop). One epoch is one pass over the training set. "
                                        "The article preset's 1,743 is the tutorial's own run length.")
        form.addRow("Learning rate:", self.lr_spin)
        form.addRow("Batch size:", self.batch_spin)
        form.addRow("Momentum:", self.momentum_spin)
        form.addRow("Weight decay:", self.decay_spin)
        form.addRow("Random shift:", self.shift_spin)
        form.addRow("Augment:", self.augment_button)
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
        self.readable_check.toggled.connect(self._on_readable_check_toggled)
        form.addRow(self.readable_check)
        for spin in (self.lr_spin, self.batch_spin, self.momentum_spin, self.decay_spin, self.shift_spin,
                     self.max_epochs_spin, self.early_stopping_spin):
            spin.setKeyboardTracking(False)
        self.early_stopping_spin.valueChanged.connect(self._on_early_stopping_spin_value_changed)
        self.lr_spin.valueChanged.connect(self._on_lr_spin_value_changed)
        for spin in (self.batch_spin, self.momentum_spin, self.decay_spin, self.shift_spin,
                     self.max_epochs_spin):
            spin.valueChanged.connect(self._on_form_edited)
        self.order_combo.currentIndexChanged.connect(self._on_form_edited)
        return box

    # -- the config -----------------------------------------------------------------------------------

    def config(self) -> TrainingConfig:
        """The settings in the form, validated. Raises ``ValueError`` naming what is wrong."""
        config = TrainingConfig(
            hidden=parse_hidden(self.hidden_edit.text()),
            activation=self.activation_combo.currentData(),
            loss=self.loss_combo.currentData(),
            init=self.init_combo.currentData(),
            init_scale=float(self.scale_spin.value()),
            bias_init=self.bias_combo.currentData(),
            lr=float(self.lr_spin.value()),
            batch_size=int(self.batch_spin.value()),
            momentum=float(self.momentum_spin.value()),
            weight_decay=float(self.decay_spin.value()),
            shift=int(self.shift_spin.value()),
            augment=tuple(name for name, action in self.augment_actions.items() if action.isChecked()),
            order=self.order_combo.currentData(),
            max_epochs=int(self.max_epochs_spin.value()) or None,
            seed=int(self.seed_spin.value()),
            engine="readable" if self.readable_check.isChecked() else "fast",
        )
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
            self.hidden_edit.setText(format_hidden_sizes(config.hidden))
            _select(self.activation_combo, config.activation)
            _select(self.loss_combo, config.loss)
            _select(self.init_combo, config.init)
            self.scale_spin.setValue(config.init_scale)
            _select(self.bias_combo, config.bias_init)
            self.seed_spin.setValue(config.seed)
            self.lr_spin.setValue(config.lr)
            self.batch_spin.setValue(config.batch_size)
            self.momentum_spin.setValue(config.momentum)
            self.decay_spin.setValue(config.weight_decay)
            self.shift_spin.setValue(config.shift)
            for name, action in self.augment_actions.items():
                action.setChecked(name in config.augment)
            self.readable_check.setChecked(config.engine == "readable")
            _select(self.order_combo, config.order)
            self.max_epochs_spin.setValue(config.max_epochs or 0)
        finally:
            self._filling = False
        self._update_notes()

    def _update_notes(self) -> None:
        chosen = [name for name, action in self.augment_actions.items() if action.isChecked()]
        text = ", ".join(chosen) if chosen else "none"
        if len(text) > AUGMENT_TEXT_CHARS:       # the button must not widen the settings panel
            text = "all five" if len(chosen) == len(AUGMENTS) else f"{len(chosen)} of {len(AUGMENTS)}: {chosen[0]}, ..."
        self.augment_button.setText(text)
        self.init_note.setText(INIT_DESCRIPTIONS.get(self.init_combo.currentData(), ""))
        try:
            parse_hidden(self.hidden_edit.text())
            self.hidden_edit.setStyleSheet("")
            self.hidden_edit.setToolTip(self._tip(self.hidden_edit))
        except ValueError as error:
            self.hidden_edit.setStyleSheet("QLineEdit { border: 1px solid #d62728; }")
            self.hidden_edit.setToolTip(str(error))

    @Slot(bool)
    def _on_augment_action_toggled(self, _checked: bool) -> None:
        self._on_form_edited()

    @Slot(bool)
    def _on_readable_check_toggled(self, _checked: bool) -> None:
        self._on_form_edited()

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

    @Slot(str)
    def _on_hidden_edit_text_edited(self, _text: str) -> None:
        self._update_notes()

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

    @Slot()
    def _on_open_button_clicked(self) -> None:
        self.open_dataset_requested.emit("folder")

    # -- data set -------------------------------------------------------------------------------------

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show the data set's name and samples per digit (or how to open one)."""
        self._dataset = dataset
        self._has_data = dataset is not None
        if dataset is None:
            self.data_name_label.setText("No data set loaded")
            self.data_name_label.setToolTip("")
        else:
            self.data_name_label.setText(f"<b>{html.escape(dataset.name)}</b>")
            self.data_name_label.setToolTip(dataset.source)
        self._update_counts()
        self._update_actions()

    def set_my_digits_counts(self, counts: Sequence[int]) -> None:
        """Show how many of the user's own drawings there are per digit (10 counts)."""
        self._my_counts = [int(c) for c in counts]
        total = sum(self._my_counts)
        self.my_digits_check.setText(f"Train with my digits too ({total if total else 'none yet'})")
        per_digit = ", ".join(f"{digit}: {count}" for digit, count in enumerate(self._my_counts))
        self._base_tips[self.my_digits_check] = (f"{MY_DIGITS_TIP}\n\nMy digits: {total} drawings "
                                                 f"({per_digit}).")
        live = self._state != "idle"
        tip = self._tip(self.my_digits_check)
        self.my_digits_check.setToolTip(f"{LOCKED_TIP}\n\n{tip}" if live else tip)
        self._update_counts()

    def train_with_my_digits(self) -> bool:
        """Whether a run should train on the user's drawings too."""
        return self.my_digits_check.isChecked()

    def set_train_with_my_digits(self, on: bool) -> None:
        self.my_digits_check.setChecked(on)

    def _update_counts(self) -> None:
        if self._dataset is None:
            self.data_counts_label.setText(_NO_DATA_TEXT)
        else:
            self.data_counts_label.setText(_counts_table(self._dataset, self._my_counts))

    @Slot(bool)
    def _on_my_digits_check_toggled(self, on: bool) -> None:
        self.train_with_my_digits_changed.emit(on)

    # -- the pending new network -------------------------------------------------------------------

    def set_new_network_pending(self, pending: bool) -> None:
        """Say (under the run buttons) that a network setting was changed after training, so Start
        will build a new network; the window clears it once a network is built (Start, Reset, a
        preset or a model load)."""
        self.network_hint_label.setText(NETWORK_HINT if pending else "")

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
            widget.setToolTip(f"{LOCKED_TIP}\n\n{self._tip(widget)}" if live else self._tip(widget))
        self._update_actions()

    def _tip(self, widget: QWidget) -> str:
        return self._base_tips.get(widget, "")

    def _update_actions(self) -> None:
        state = self._state
        label, tip = {
            "idle": ("Start", "Train the network (Space). After a Stop it carries on from where it was."),
            "running": ("Pause", "Pause after the current batch (Space)."),
            "paused": ("Resume", "Carry on training (Space)."),
            "stopping": ("Stopping...", "The run is ending."),
        }.get(state, ("Start", ""))
        self.start_pause_action.setText(label)
        self.start_pause_action.setToolTip(tip)
        self.start_pause_action.setEnabled(self._has_data and state != "stopping")
        self.step_action.setEnabled(self._has_data and state in ("idle", "running", "paused"))
        self.stop_action.setEnabled(state in ("running", "paused"))
        self.reset_action.setEnabled(self._has_data and state != "stopping")

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


def _select(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    if index < 0:
        raise ValueError(f"{value!r} is not one of the choices ({', '.join(map(str, _choices(combo)))})")
    combo.setCurrentIndex(index)


def _choices(combo: QComboBox) -> list[object]:
    return [combo.itemData(i) for i in range(combo.count())]


_CELL = "<td align='right' style='padding: 0 0 0 2px'>{}</td>"


def _counts_table(dataset: Dataset, mine: Sequence[int] = ()) -> str:
    """Samples per digit as a small HTML table: a header of digits, then training and test rows, and
    a row of the user's own drawings (``mine``) if there are any."""
    rows = []
    for name, split in (("train", dataset.train), ("test", dataset.test)):
        if split is None:
            rows.append(f"<tr>{_NAME_CELL.format(name)}<td colspan='11'>none</td></tr>")
        else:
            rows.append(_counts_row(name, [int(c) for c in split.class_counts()], len(split)))
    # Always a row for my digits, so adding the first one does not push the panel down.
    rows.append(_counts_row("mine", list(mine), sum(mine)) if sum(mine)
                else f"<tr>{_NAME_CELL.format('mine')}<td colspan='11'>none yet</td></tr>")
    return _table(rows)


def _counts_html(name: str, counts: list[int], total: int) -> str:
    return _table([_counts_row(name, counts, total)])


_NAME_CELL = "<td style='padding: 0 4px 0 0'>{}</td>"


def _counts_row(name: str, counts: list[int], total: int) -> str:
    return "<tr>" + _NAME_CELL.format(name) + "".join(_CELL.format(c) for c in counts) + _CELL.format(total) + "</tr>"


def _table(rows: list[str]) -> str:
    header = ("<tr><td></td>" + "".join(_CELL.format(f"<b>{d}</b>") for d in range(10))
              + _CELL.format("<b>all</b>") + "</tr>")
    return "<table cellspacing='0'>" + header + "".join(rows) + "</table>"
