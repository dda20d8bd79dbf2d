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
    """One rule for every duration the studio shows: seconds under a minute, clock time above.

    ``8.62`` -> ``"8.6 s"``; ``15.2`` -> ``"15 s"``; ``65`` -> ``"1:05"``; ``3725.2`` -> ``"1:02:05"``.
    """
    if not seconds >= 0:            # NaN or negative: nothing sensible to show
        return "–"
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_count(done: int, total: int | None = None) -> str:
    """Counts as people read them: ``1413`` -> ``"1,413"``; with ``total``, ``"1,413 / 1,743"``."""
    return f"{done:,}" if total is None else f"{done:,} / {total:,}"


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
