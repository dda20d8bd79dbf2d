"""The "Data set" box of the settings panel: the loaded set's name, its samples per digit beside the
user's own drawings ("my digits"), the Open button and the "Train with my digits too" check box.

``set_dataset`` and ``set_my_digits_counts`` fill it; ``open_requested(kind)`` (``"folder"``, ``"file"``
or ``"tutorial"``) and ``my_digits_requested()`` ask for the window's dialogs. The row of my digits is
always there ("none yet"), so adding the first drawing does not push the panel down.

Left out: loading anything (the window's), and locking the check box during a run (``controls_panel``).
"""
from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QGroupBox, QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from studio.core.data import Dataset

MY_DIGITS_TIP = ("Add your own drawings (saved with \"Add to my digits as...\" under the pad) to the "
                 "training set when a run starts. They never join the test set, so the test accuracy "
                 "still measures digits the network has not seen.")
_NO_DATA_TEXT = ("Open a folder with trainingDigits/ and testDigits/, a folder of digit files, a .zip of "
                 "either, MNIST files, or pictures in folders 0/ to 9/.")


class DatasetBox(QGroupBox):
    """The data set's name and counts, Open, and the user's own drawings; see the module docstring."""

    open_requested = Signal(str)
    my_digits_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Data set", parent)
        self._dataset: Dataset | None = None
        self._my_counts: list[int] = [0] * 10
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
        menu.addAction("Open folder...", lambda: self.open_requested.emit("folder"))
        menu.addAction("Open file (.zip, MNIST)...", lambda: self.open_requested.emit("file"))
        menu.addAction("Get the tutorial's data set...", lambda: self.open_requested.emit("tutorial"))
        self.open_button.setMenu(menu)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.my_digits_check = QCheckBox("Train with my digits too")
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
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.data_counts_label)
        layout.addLayout(mine)

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show the data set's name and samples per digit (or how to open one)."""
        self._dataset = dataset
        if dataset is None:
            self.data_name_label.setText("No data set loaded")
            self.data_name_label.setToolTip("")
        else:
            self.data_name_label.setText(f"<b>{html.escape(dataset.name)}</b>")
            self.data_name_label.setToolTip(dataset.source)
        self._update_counts()

    def set_my_digits_counts(self, counts: Sequence[int]) -> None:
        """Show how many of the user's own drawings there are per digit (10 counts)."""
        self._my_counts = [int(c) for c in counts]
        total = sum(self._my_counts)
        self.my_digits_check.setText(f"Train with my digits too ({total if total else 'none yet'})")
        self._update_counts()

    def my_digits_tip(self) -> str:
        """The check box's tooltip: what training with my digits does, and how many there are."""
        total = sum(self._my_counts)
        per_digit = ", ".join(f"{digit}: {count}" for digit, count in enumerate(self._my_counts))
        return f"{MY_DIGITS_TIP}\n\nMy digits: {total} drawings ({per_digit})."

    def _update_counts(self) -> None:
        if self._dataset is None:
            self.data_counts_label.setText(_NO_DATA_TEXT)
        else:
            self.data_counts_label.setText(_counts_table(self._dataset, self._my_counts))

    @Slot()
    def _on_open_button_clicked(self) -> None:
        self.open_requested.emit("folder")


_CELL = "<td align='right' style='padding: 0 0 0 2px'>{}</td>"
_NAME_CELL = "<td style='padding: 0 4px 0 0'>{}</td>"


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


def _counts_row(name: str, counts: list[int], total: int) -> str:
    return "<tr>" + _NAME_CELL.format(name) + "".join(_CELL.format(c) for c in counts) + _CELL.format(total) + "</tr>"


def _table(rows: list[str]) -> str:
    header = ("<tr><td></td>" + "".join(_CELL.format(f"<b>{d}</b>") for d in range(10))
              + _CELL.format("<b>all</b>") + "</tr>")
    return "<table cellspacing='0'>" + header + "".join(rows) + "</table>"
