"""The two settings boxes that define the network itself: "Network" (hidden layers, activation, output
and loss) and "Initialisation" (how the starting weights and biases are drawn, the seed).

Each box holds its fields, says ``edited()`` when one changes (the hidden layers only once typing is
done), reads its part of a ``TrainingConfig`` with ``fields()`` (``ValueError`` if invalid) and shows
one with ``fill(config)``; ``update_notes()`` refreshes the texts that follow the fields (the
initialiser's description, the red frame of unreadable hidden layers).

Left out: the rest of the form and locking during a run (``controls_panel``), and when an edit needs a
new network (``studio.core.training.NETWORK_FIELDS``).
"""
from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Signal, Slot
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLineEdit, QSpinBox, QWidget

from studio.core.network import (ACTIVATION_DESCRIPTIONS, ACTIVATIONS, BIAS_INITS, INIT_DESCRIPTIONS, INITS,
                                 LOSS_DESCRIPTIONS, LOSS_NAMES, LOSSES)
from studio.core.training import TrainingConfig, format_hidden_sizes, parse_hidden_sizes
from studio.gui.form_fields import CompactSpinBox, choice_combo, select_data
from studio.gui.qt_helpers import ReservedHeightLabel

# The teaching texts of every choice live once in core, beside what they describe; --help shows them too.
ACTIVATION_TIPS = ACTIVATION_DESCRIPTIONS
LOSS_TIPS = LOSS_DESCRIPTIONS

HIDDEN_TIP = ("Units in each hidden layer, separated by commas or dashes: 16,16 is the tutorial's two "
              "layers of 16. More units learn more but take longer; empty means no hidden layer at all "
              "(a linear classifier).")


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"16, 16"`` or ``"16-16"`` -> ``(16, 16)``; ``""`` -> ``()`` (no hidden layer). Raises
    ``ValueError``. The command line's parser (``training.parse_hidden_sizes``), with its limits."""
    return parse_hidden_sizes(text)


class NetworkBox(QGroupBox):
    """Hidden layers, activation, output and loss."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Network", parent)
        form = QFormLayout(self)
        self.hidden_edit = QLineEdit()
        self.hidden_edit.setValidator(QRegularExpressionValidator(
            QRegularExpression(r"^\s*(?:[1-9][0-9]{0,3}(?:\s*[,\-x ]\s*[1-9][0-9]{0,3}){0,7}\s*[,\-x]?\s*)?$")))
        self.hidden_edit.setPlaceholderText("none (inputs straight to outputs)")
        self.hidden_edit.setToolTip(HIDDEN_TIP)
        self.activation_combo = choice_combo(
            ACTIVATIONS, ACTIVATION_TIPS, tip="The function every hidden unit applies to its weighted input z.")
        self.loss_combo = choice_combo(LOSSES, LOSS_TIPS, LOSS_NAMES,
                                       tip="The output layer and the loss it is trained on.")
        form.addRow("Hidden layers:", self.hidden_edit)
        form.addRow("Activation:", self.activation_combo)
        form.addRow("Output / loss:", self.loss_combo)
        # Typing "128" must not build networks of 1 and 12 units on the way: announce when done.
        self.hidden_edit.textEdited.connect(self._on_hidden_edit_text_edited)
        self.hidden_edit.editingFinished.connect(self.edited)
        self.activation_combo.currentIndexChanged.connect(self.edited)
        self.loss_combo.currentIndexChanged.connect(self.edited)

    def fields(self) -> dict[str, object]:
        """This box's ``TrainingConfig`` fields. Raises ``ValueError`` for unreadable hidden layers."""
        return {"hidden": parse_hidden(self.hidden_edit.text()), "activation": self.activation_combo.currentData(),
                "loss": self.loss_combo.currentData()}

    def fill(self, config: TrainingConfig) -> None:
        self.hidden_edit.setText(format_hidden_sizes(config.hidden))
        select_data(self.activation_combo, config.activation)
        select_data(self.loss_combo, config.loss)

    def update_notes(self) -> None:
        """Frame the hidden layers in red, the reason in their tooltip, while they cannot be read."""
        try:
            parse_hidden(self.hidden_edit.text())
            self.hidden_edit.setStyleSheet("")
            self.hidden_edit.setToolTip(HIDDEN_TIP)
        except ValueError as error:
            self.hidden_edit.setStyleSheet("QLineEdit { border: 1px solid #d62728; }")
            self.hidden_edit.setToolTip(str(error))

    @Slot(str)
    def _on_hidden_edit_text_edited(self, _text: str) -> None:
        self.update_notes()


class InitBox(QGroupBox):
    """How the starting weights and biases are drawn: initialiser (with its description), scale, biases,
    seed."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Initialisation", parent)
        form = QFormLayout(self)
        self.init_combo = choice_combo(INITS, INIT_DESCRIPTIONS,
                                       tip="How the starting weights are drawn. Hover over each choice to see "
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
        self.bias_combo = choice_combo(BIAS_INITS, {}, tip="Initial biases: randn draws N(0, 1) as the tutorial "
                                                           "does; zeros starts every bias at 0.")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_147_483_647)
        self.seed_spin.setToolTip("Seed of the random draws (initial weights, sample order, shifts). "
                                  "The same seed and settings give the same run again.")
        form.addRow("Weights:", self.init_combo)
        form.addRow(self.init_note)
        form.addRow("Scale:", self.scale_spin)
        form.addRow("Biases:", self.bias_combo)
        form.addRow("Seed:", self.seed_spin)
        self.init_combo.currentIndexChanged.connect(self.edited)
        self.bias_combo.currentIndexChanged.connect(self.edited)
        for spin in (self.scale_spin, self.seed_spin):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self.edited)

    def fields(self) -> dict[str, object]:
        """This box's ``TrainingConfig`` fields."""
        return {"init": self.init_combo.currentData(), "init_scale": float(self.scale_spin.value()),
                "bias_init": self.bias_combo.currentData(), "seed": int(self.seed_spin.value())}

    def fill(self, config: TrainingConfig) -> None:
        select_data(self.init_combo, config.init)
        self.scale_spin.setValue(config.init_scale)
        select_data(self.bias_combo, config.bias_init)
        self.seed_spin.setValue(config.seed)

    def update_notes(self) -> None:
        """Describe the chosen initialiser under its combo box."""
        self.init_note.setText(INIT_DESCRIPTIONS.get(self.init_combo.currentData(), ""))
