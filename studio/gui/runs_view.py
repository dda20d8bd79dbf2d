"""The session's runs, listed so that nothing trained is lost without a word.

Every run of the session (``studio.core.session.Session.runs``: each network's training from its start
until Reset, Load model, a new data set or a new network replaced it) is one row: its number, label,
epochs, best epoch and whether it was saved. A run can be brought back (its final weights become the
network again, its curves the current ones), saved as a model (its final or its best epoch's weights),
or its numbers exported as CSV.

The view shows the session it is given and asks for everything through signals, each carrying the
run's index in ``session.runs``: ``bring_back_requested``, ``save_model_requested``,
``save_best_requested`` (an earlier run's best epoch; the current run's is Run > Restore best weights,
then Save model), ``export_csv_requested``.

Left out: doing any of it (the window), and the curves (the metrics plot).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QGridLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from studio.core.session import Run, Session


def describe(number: int, run: Run, current: bool) -> str:
    """One row: ``2. randn, lr 0.01 · 1,636 epochs · best 91.2% at 1,200 · not saved (current)``."""
    parts = [f"{number}. {run.label}", f"{run.history.last_epoch:,} epochs"]
    if run.best_epoch is not None and run.best_accuracy is not None:
        parts.append(f"best {100 * run.best_accuracy:.1f}% at {run.best_epoch:,}")
    parts.append("saved" if run.saved else "not saved")
    text = " · ".join(parts)
    return text + " (current)" if current else text


class RunsView(QWidget):
    """The list of the session's runs with Bring back, Save model and Export CSV buttons."""

    bring_back_requested = Signal(int)
    save_model_requested = Signal(int)
    save_best_requested = Signal(int)
    export_csv_requested = Signal(int)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._locked = False
        self.list = QListWidget()
        self.list.setToolTip("Every run of this session: bring one back to train on from its weights, "
                             "save it as a model, or export its numbers")
        self.bring_back_button = QPushButton("Bring back")
        self.bring_back_button.setToolTip("Make this run's final weights the network again and its "
                                          "curves the current ones (the current run is kept here)")
        self.save_button = QPushButton("Save model...")
        self.save_button.setToolTip("Save this run's final weights and settings as a model file")
        self.best_button = QPushButton("Save best...")
        self.best_button.setToolTip("Save the weights of this run's best epoch (highest test accuracy) as a "
                                    "model file")
        self.csv_button = QPushButton("Export CSV...")
        self.csv_button.setToolTip("Save this run's numbers, epoch by epoch, as CSV")
        buttons = QGridLayout()                   # two by two: the dock stays as narrow as the settings
        for k, button in enumerate((self.bring_back_button, self.save_button, self.best_button, self.csv_button)):
            buttons.addWidget(button, k // 2, k % 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.bring_back_button.clicked.connect(self._on_bring_back_button_clicked)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.best_button.clicked.connect(self._on_best_button_clicked)
        self.csv_button.clicked.connect(self._on_csv_button_clicked)
        self.refresh()

    def set_locked(self, locked: bool) -> None:
        """While a run is live nothing can be brought back (the network belongs to the run)."""
        self._locked = locked
        self._update_buttons()

    def refresh(self) -> None:
        """Show the session's runs again (after a run was added, replaced, saved or brought back)."""
        row = self.list.currentRow()
        runs = self._session.runs
        self.list.clear()
        for number, run in enumerate(runs, start=1):
            item = QListWidgetItem(describe(number, run, run is self._session.current))
            item.setData(Qt.ItemDataRole.UserRole, number - 1)
            self.list.addItem(item)
        if runs:
            self.list.setCurrentRow(min(max(row, 0), len(runs) - 1))
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.list.currentRow()
        runs = self._session.runs
        chosen = runs[row] if 0 <= row < len(runs) else None
        earlier = chosen is not None and chosen is not self._session.current
        self.bring_back_button.setEnabled(earlier and not self._locked and chosen.final_network is not None)
        self.save_button.setEnabled(chosen is not None and (not earlier or chosen.final_network is not None))
        self.best_button.setEnabled(earlier and chosen.best_network is not None)
        self.csv_button.setEnabled(chosen is not None)

    @Slot(int)
    def _on_list_current_row_changed(self, _row: int) -> None:
        self._update_buttons()

    @Slot()
    def _on_bring_back_button_clicked(self) -> None:
        self.bring_back_requested.emit(self.list.currentRow())

    @Slot()
    def _on_save_button_clicked(self) -> None:
        self.save_model_requested.emit(self.list.currentRow())

    @Slot()
    def _on_best_button_clicked(self) -> None:
        self.save_best_requested.emit(self.list.currentRow())

    @Slot()
    def _on_csv_button_clicked(self) -> None:
        self.export_csv_requested.emit(self.list.currentRow())
