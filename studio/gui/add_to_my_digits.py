"""The pad's "Add to my digits": ask which digit a drawing is, then save it with ``MyDigits.add``.

``ask_and_add(parent, image, my_digits, predicted)`` shows ``DigitLabelDialog`` (the drawing, ten digit
buttons 0-9, OK/Cancel; typing a digit key picks it) with the network's predicted digit chosen to start
with, if one is given, and returns the saved file's name, or ``None`` if the user cancelled, the drawing
is empty, or the file could not be written (then a message box says why).

Left out: where the drawing comes from (the pad panel) and browsing saved drawings (``my_digits_dialog``).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout, QWidget)

from studio.core.my_digits import MyDigits
from studio.gui.my_digits_dialog import digit_pixmap
from studio.gui.messages import show_error_box


class DigitLabelDialog(QDialog):
    """Asks for the digit 0-9 a drawing ``(1024,)`` shows; ``digit()`` is the choice (``None`` until one
    is made). OK is enabled once a digit is chosen."""

    def __init__(self, image: np.ndarray, predicted: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add to my digits")
        picture = QLabel()
        picture.setPixmap(digit_pixmap(image, 96))
        question = QLabel("Which digit is this?" + (f"\nThe network reads it as {predicted}."
                                                     if predicted is not None else ""))
        question.setWordWrap(True)

        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        grid = QGridLayout()
        for digit in range(10):
            button = QPushButton(str(digit))
            button.setCheckable(True)
            button.setMinimumWidth(36)
            self.group.addButton(button, digit)
            grid.addWidget(button, digit // 5, digit % 5)
        self.group.idToggled.connect(self._on_group_id_toggled)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.ok_button.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(picture)
        side = QVBoxLayout()
        side.addWidget(question)
        side.addLayout(grid)
        top.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.buttons)
        if predicted is not None and 0 <= predicted <= 9:
            self.set_digit(int(predicted))

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def digit(self) -> int | None:
        chosen = self.group.checkedId()
        return chosen if chosen >= 0 else None

    def set_digit(self, digit: int) -> None:
        self.group.button(digit).setChecked(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt's name
        text = event.text()
        if len(text) == 1 and "0" <= text <= "9":
            self.set_digit(int(text))
            return
        super().keyPressEvent(event)

    @Slot(int, bool)
    def _on_group_id_toggled(self, _digit: int, _checked: bool) -> None:
        self.ok_button.setEnabled(self.digit() is not None)


def ask_and_add(parent: QWidget | None, image: np.ndarray, my_digits: MyDigits,
                predicted: int | None = None) -> str | None:
    """Ask for the drawing's digit and save it in ``my_digits``; return the new file's name or ``None``.

    ``image`` is the pad's drawing ``(1024,)`` or ``(32, 32)`` of 0/1; an empty drawing returns ``None``
    without asking (the caller should disable its action then). Blocks in a modal dialog.
    """
    image = np.asarray(image).reshape(-1)
    if not image.any():
        return None
    dialog = DigitLabelDialog(image, predicted, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.digit() is None:
            return None
        label = dialog.digit()
    finally:
        dialog.deleteLater()
    try:
        return my_digits.add(image.astype(np.uint8), int(label))
    except (OSError, ValueError) as error:
        show_error_box(parent, "Add to my digits", f"The drawing could not be saved: {error}")
        return None
