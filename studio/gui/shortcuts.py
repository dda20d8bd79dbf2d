"""Window-wide keys that must win over the focused field: Space starts and pauses training.

Qt lets the focused widget claim a key before any shortcut sees it (a ``ShortcutOverride`` event):
line edits and spin boxes claim every printable key, Space included, so with the caret in Learning
rate a Space would replace the selected "0.01" by a blank instead of pausing the run. ``SpaceStarts``
is an application event filter that refuses that claim for a bare Space inside one window, so the
window's Start/Pause shortcut always gets it, and no number field is ever edited by it.

Delete and Backspace are left to the fields: they clear the pad only while the pad has the focus
(``PadPanel`` gives its clear action that context, and drawing focuses the pad).

Left out: the actions themselves (``run_box``, ``pad_panel``).
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QWidget


class SpaceStarts(QObject):
    """Sends a bare Space pressed anywhere in ``window`` to ``action`` (Start/Pause), never to a field.

    Install it with ``install_space_shortcut``; it is removed when ``window`` is destroyed (it is the
    window's child). Dialogs and other windows keep their own Space (it presses their buttons).
    """

    def __init__(self, window: QWidget, action: QAction) -> None:
        super().__init__(window)
        self._window = window
        self._action = action

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        if not isinstance(event, QKeyEvent) or event.key() != Qt.Key.Key_Space:
            return False
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self._window:
            return False
        if kind == QEvent.Type.ShortcutOverride:
            # Not accepted: the field does not get to keep the key, so the window's shortcut fires.
            event.ignore()
            return True
        # A key press gets here only when no shortcut took it (the action is disabled, or another
        # shortcut claims Space too): in a field, never type it; trigger the action if it can.
        if not _is_text_field(watched):
            return False
        if self._action.isEnabled():
            self._action.trigger()
        return True


def _is_text_field(widget: QWidget | None) -> bool:
    while widget is not None:
        if isinstance(widget, (QLineEdit, QAbstractSpinBox, QComboBox)):
            return True
        widget = widget.parentWidget()
    return False


def install_space_shortcut(window: QWidget, action: QAction) -> SpaceStarts:
    """Make Space trigger ``action`` from anywhere in ``window`` (focused fields included)."""
    keeper = SpaceStarts(window, action)
    app = QApplication.instance()
    if app is not None:
        app.installEventFilter(keeper)
    return keeper
