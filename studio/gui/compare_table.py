"""The summary table of the compare view: one row per run, filled in as runs end.

Each row shows how many epochs and seconds the run took, when it reached 50 / 90 / 97 % training
accuracy (epoch and seconds), its best and final test accuracy, and whether it finished, diverged or
was stopped (coloured; the reason in the tooltip). ``begin(labels, colors, tips)`` sets up one waiting
row per run; ``show_summary`` writes a run's ``RunSummary`` (live while it trains); ``cell_text``
reads a cell by its heading.

Left out: the summaries themselves (``studio.core.compare``) and choosing a run's curves
(``compare_view`` listens to the selection).
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from studio.core.run_summary import THRESHOLDS, RunSummary

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


def _accuracy(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _seconds(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 1 else f"{seconds:.1f}"


def _milestone(summary: RunSummary, threshold: float) -> str:
    epoch = summary.epochs_to(threshold)
    seconds = summary.seconds_to(threshold)
    return "-" if epoch is None or seconds is None else f"{epoch} ({_seconds(seconds)} s)"


class SummaryTable(QTableWidget):
    """One row of figures per run; see the module docstring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(TABLE_COLUMNS), parent)
        self._labels: list[str] = []
        for c, (title, tip) in enumerate(TABLE_COLUMNS):
            item = QTableWidgetItem(title)
            item.setToolTip(tip)
            self.setHorizontalHeaderItem(c, item)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.setToolTip("Select a run to draw its curves bold")

    def begin(self, labels: list[str], colors: list[str], tips: list[str]) -> None:
        """One waiting row per run: its label with its colour, ``tips`` its full settings."""
        self._labels = list(labels)
        self.clearSelection()
        self.setRowCount(len(labels))
        for row, label in enumerate(labels):
            self._set_row(row, [label, "0", "-", *("-" for _ in THRESHOLDS), "-", "-", "waiting"])
            self.item(row, 0).setData(Qt.ItemDataRole.DecorationRole, QColor(colors[row]))
            self.item(row, 0).setToolTip(tips[row])

    def wanted_height(self) -> int:
        """The height that shows the header and every row."""
        return self.horizontalHeader().height() + self.rowCount() * self.verticalHeader().defaultSectionSize() + 6

    def show_started(self, row: int) -> None:
        self.item(row, len(TABLE_COLUMNS) - 1).setText("running")

    def show_summary(self, row: int, summary: RunSummary, live: bool) -> None:
        """Write run ``row``'s figures; ``live`` while it still trains."""
        best = "-" if summary.best_test_accuracy is None else \
            f"{_accuracy(summary.best_test_accuracy)} ({summary.best_test_epoch})"
        end = "running" if live else summary.outcome
        self._set_row(row, [self._labels[row], str(summary.epochs), _seconds(summary.seconds),
                            *(_milestone(summary, t) for t in THRESHOLDS), best,
                            _accuracy(summary.final_test_accuracy), end])
        end_item = self.item(row, len(TABLE_COLUMNS) - 1)
        end_item.setToolTip(summary.message or end)
        color = {"diverged": QColor("#b00020"), "stopped": QColor("#8a6d00")}.get(end)
        end_item.setForeground(color if color is not None else self.palette().text().color())

    def cell_text(self, row: int, column: str) -> str:
        """The text of the cell of run ``row`` under heading ``column`` (e.g. ``"To 90%"``)."""
        c = [title for title, _ in TABLE_COLUMNS].index(column)
        item = self.item(row, c)
        return "" if item is None else item.text()

    def selected_rows(self) -> set[int]:
        return {index.row() for index in self.selectionModel().selectedRows()}

    def _set_row(self, row: int, texts: list[str]) -> None:
        for c, text in enumerate(texts):
            item = self.item(row, c)
            if item is None:
                item = QTableWidgetItem()
                if c > 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, c, item)
            item.setText(text)
