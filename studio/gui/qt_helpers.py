"""Small Qt helpers shared by the window's modules: building actions, formatting numbers for people.

Left out: anything that knows about networks, runs or data sets.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QWidget


def make_action(parent: QWidget, text: str, slot: Callable[[], object] | None = None,
                shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
                tip: str = "") -> QAction:
    """A ``QAction`` owned by ``parent`` with its text, optional shortcut, tooltip and slot."""
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(shortcut if isinstance(shortcut, QKeySequence) else QKeySequence(shortcut))
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    if slot is not None:
        action.triggered.connect(slot)
    return action


def format_duration(seconds: float) -> str:
    """``3725.2`` -> ``"1:02:05"``; under an hour ``"2:05"``; under ten seconds ``"4.2 s"``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_rate(samples_per_second: float) -> str:
    """``12345.6`` -> ``"12,346 samples/s"``."""
    return f"{samples_per_second:,.0f} samples/s"


class ReservedHeightLabel(QLabel):
    """A word-wrapped label as high as the tallest of ``texts`` would be at its width, whichever it
    shows: switching between them never moves what is below."""

    def __init__(self, texts: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts = list(texts) or [""]
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

    def hasHeightForWidth(self) -> bool:  # Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # Qt's name
        metrics = self.fontMetrics()
        flags = int(Qt.TextFlag.TextWordWrap)
        tallest = max(metrics.boundingRect(QRect(0, 0, max(width, 1), 100_000), flags, text).height()
                      for text in self._texts)
        margins = self.contentsMargins()
        return tallest + margins.top() + margins.bottom() + 2

    def sizeHint(self) -> QSize:  # Qt's name
        hint = super().sizeHint()
        return QSize(hint.width(), self.heightForWidth(hint.width()))

    def minimumSizeHint(self) -> QSize:  # Qt's name
        hint = super().minimumSizeHint()
        return QSize(hint.width(), self.heightForWidth(max(self.width(), hint.width())))
