"""Drawing on a ``PaintPad`` the way a user does: press, move through cells, release."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from studio.gui.paint_pad import PaintPad


def cell_centre(pad: PaintPad, row: int, col: int) -> QPoint:
    """Widget pixel at the centre of grid cell (row, col)."""
    rect = pad.grid_rect()
    cell = rect.width() / 32
    return QPoint(int(rect.left() + (col + 0.5) * cell), int(rect.top() + (row + 0.5) * cell))


def drag(qtbot, pad: PaintPad, cells: list[tuple[int, int]],
         button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    """Press at the first cell, move through the others, release at the last (pytest-qt has no drag)."""
    qtbot.mousePress(pad, button, pos=cell_centre(pad, *cells[0]))
    try:
        for row, col in cells[1:]:
            qtbot.mouseMove(pad, cell_centre(pad, row, col))
    finally:
        qtbot.mouseRelease(pad, button, pos=cell_centre(pad, *cells[-1]))
