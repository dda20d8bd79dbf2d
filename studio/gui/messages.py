"""Message boxes that quote files safely: plain text, and never longer than a screen.

A file name or a line from a file is data, not markup: Qt guesses rich text in a ``QMessageBox`` or a
``QLabel`` (``Qt.AutoText``), so a zip member named ``<a href=...>`` would become a link. Every box
here is ``Qt.TextFormat.PlainText``. And a message may quote a hostile file at length (a 6 MB error
text once made a box 524,309 px tall): ``cap_message`` keeps a few lines of at most a few hundred
characters each.

Left out: deciding what to say (the callers), and status bar messages (plain text already).
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

#: At most this many characters per line, and this many lines, of any message shown.
MAX_LINE = 300
MAX_LINES = 8


def cap_message(text: str, max_line: int = MAX_LINE, max_lines: int = MAX_LINES) -> str:
    """``text`` cut to ``max_lines`` lines of at most ``max_line`` characters, saying what was cut."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = [line if len(line) <= max_line else line[:max_line - 1] + "…" for line in lines[:max_lines]]
    if len(lines) > max_lines:
        kept.append(f"(… {len(lines) - max_lines:,} more lines)")
    return "\n".join(kept)


def plain_box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str,
              buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok) -> QMessageBox:
    """A message box showing ``text`` (capped) as plain text."""
    box = QMessageBox(icon, cap_message(title, 120, 1), "", buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(cap_message(text))
    return box


def show_error_box(parent: QWidget, title: str, text: str) -> QMessageBox:
    """Open a non-blocking warning box (deleted when closed) and return it."""
    box = plain_box(parent, QMessageBox.Icon.Warning, title, text)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def ask_to_discard(parent: QWidget, title: str, text: str) -> bool:
    """Ask (modally) whether to go on and discard what ``text`` describes; True for Discard."""
    box = plain_box(parent, QMessageBox.Icon.Question, title, text,
                    QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    answer = box.exec()
    box.deleteLater()
    return answer == QMessageBox.StandardButton.Discard
