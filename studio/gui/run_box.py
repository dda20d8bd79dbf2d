"""The "Run" box of the settings panel: the run actions as buttons, and the hint that Start will build a
new network.

The actions are ``QAction``s (``start_pause_action`` on Space, ``step_action``, ``stop_action``,
``reset_action``) so the window can put the same actions in its Run menu. ``show_state(state,
has_data)`` relabels Start/Pause/Resume and enables what can be done; ``set_network_hint(on)`` shows
or clears the hint. The hint's line is kept whether shown or not, so nothing below it moves.

Left out: what a click asks for (the panel connects the actions to its ``*_requested`` signals) and
when a new network is pending (the window says so).
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

NETWORK_HINT = "Settings changed: Start builds a new network"
NETWORK_HINT_TIP = ("A setting that defines the network (layers, activation, loss, initialisation, "
                    "seed) was changed after training: Start builds a new network with it (a new run); "
                    "Reset does it now.")

#: The Start/Pause button's text and tooltip in each run state.
START_PAUSE_LABELS: dict[str, tuple[str, str]] = {
    "idle": ("Start", "Train the network (Space). After a Stop it carries on from where it was."),
    "running": ("Pause", "Pause after the current batch (Space)."),
    "paused": ("Resume", "Carry on training (Space)."),
    "stopping": ("Stopping...", "The run is ending."),
}


class RunBox(QGroupBox):
    """Start/Pause, Step, Stop and Reset, and the new-network hint; see the module docstring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Run", parent)
        self.start_pause_action = QAction("Start", self)
        self.start_pause_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.step_action = QAction("Step one epoch", self)
        self.step_action.setShortcut(QKeySequence("Ctrl+Right"))
        self.step_action.setToolTip("Train exactly one more epoch, then pause (Ctrl+Right). Watch the "
                                    "weights and the pad's prediction change one epoch at a time.")
        self.stop_action = QAction("Stop", self)
        self.stop_action.setShortcut(QKeySequence("Ctrl+."))
        self.stop_action.setToolTip("End the run after the current batch (Ctrl+.). The network keeps what "
                                    "it learned; Start trains it further.")
        self.reset_action = QAction("Reset", self)
        self.reset_action.setShortcut(QKeySequence("Ctrl+R"))
        self.reset_action.setToolTip("Throw the trained network away and start again from fresh initial "
                                     "weights drawn with the current settings (Ctrl+R). The curves of this "
                                     "run stay on the plots, faded.")
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
        grid = QVBoxLayout(self)
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

    def show_state(self, state: str, has_data: bool) -> None:
        """Relabel Start/Pause for ``state`` (``idle``, ``running``, ``paused``, ``stopping``) and enable
        what can be done in it (nothing starts without a data set)."""
        label, tip = START_PAUSE_LABELS.get(state, ("Start", ""))
        self.start_pause_action.setText(label)
        self.start_pause_action.setToolTip(tip)
        self.start_pause_action.setEnabled(has_data and state != "stopping")
        self.step_action.setEnabled(has_data and state in ("idle", "running", "paused"))
        self.stop_action.setEnabled(state in ("running", "paused"))
        self.reset_action.setEnabled(has_data and state != "stopping")

    def set_network_hint(self, on: bool) -> None:
        self.network_hint_label.setText(NETWORK_HINT if on else "")
