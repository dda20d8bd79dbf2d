"""The paint pad: a 32x32 grid of cells the learner draws a digit on with the mouse.

The left button draws, the right button erases with the same round brush, and a drag paints a
continuous stroke (a capsule from each mouse position to the next, see ``studio.core.drawing``).
The pad keeps the drawing as a (32, 32) uint8 array of 0/1 and tells listeners about every change
with ``drawing_changed``. Pressing a button on it gives it the keyboard focus (so the pad panel's
Delete/Backspace reach it). What it leaves out: predicting, loading samples and keyboard shortcuts
(``pad_panel`` and the main window do those).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.core.drawing import (DEFAULT_BRUSH_RADIUS, GRID_SIZE, MAX_BRUSH_RADIUS, MIN_BRUSH_RADIUS,
                                 square_layout, stamp_segment, widget_to_grid)

#: Pixels kept free around the grid, so its border is visible.
_MARGIN = 4.0
#: The pad's smallest side in pixels: a grid of 160 px (5 px a cell; cells are whole pixels).
MIN_SIDE = 5 * GRID_SIZE + 2 * int(_MARGIN)
#: During a stroke, ``drawing_changed`` is sent at most this often (ms); the last state follows as soon
#: as the interval is over, and always on release.
_EMIT_INTERVAL_MS = 30

_INK = QColor(0, 0, 0)
_PAPER = QColor(255, 255, 255)
# Semi-transparent so the lines are light grey on paper and all but invisible on ink.
_GRID_LINE = QColor(0, 0, 0, 40)
_BORDER = QColor(120, 120, 120)
_BRUSH_OUTLINE = QColor(220, 60, 30, 200)
#: The overlay's diverging colours: negative values blue, positive red, zero transparent.
_OVERLAY_NEGATIVE = (33, 102, 172)
_OVERLAY_POSITIVE = (200, 30, 40)


def overlay_colors(values: np.ndarray, levels: float) -> np.ndarray:
    """RGBA (n, 4) uint8 for ``values`` (n,) on a diverging map over ``(-levels, levels)``: blue below
    zero, red above, more opaque the larger ``|value|``; NaN is fully transparent."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    t = np.clip(np.abs(np.nan_to_num(values)) / max(float(levels), 1e-300), 0.0, 1.0)
    rgba = np.zeros((values.size, 4), dtype=np.uint8)
    rgba[:, :3] = np.where((values < 0)[:, None], _OVERLAY_NEGATIVE, _OVERLAY_POSITIVE)
    rgba[:, 3] = np.where(np.isnan(values), 0, np.round(255 * t)).astype(np.uint8)
    return rgba


class PaintPad(QWidget):
    """A square 32x32 drawing grid, scaled to the widget, ink black on white.

    ``drawing_changed(image)`` carries a copy of the drawing as a (1024,) uint8 array, row-major like
    the data files, after each change: during a stroke at most every 30 ms, and always when the mouse
    button is released; after ``clear()`` and ``set_image()`` at once.
    """

    drawing_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None,
                 brush_radius: float = DEFAULT_BRUSH_RADIUS) -> None:
        super().__init__(parent)
        self._grid = np.zeros((GRID_SIZE, GRID_SIZE), dtype=np.uint8)
        self._brush_radius = DEFAULT_BRUSH_RADIUS
        self._stroke_button: Qt.MouseButton | None = None
        self._last_point: tuple[float, float] | None = None
        self._hover: QPointF | None = None
        self._overlay: np.ndarray | None = None     # (1024,) values painted over the cells, or None
        self._overlay_levels = 1.0
        self._pending_emit = False
        self._since_emit = QElapsedTimer()
        self._emit_timer = QTimer(self)
        self._emit_timer.setSingleShot(True)
        self._emit_timer.timeout.connect(self._on_emit_timer_timeout)
        self.setMouseTracking(True)            # to draw the brush outline while hovering
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
        # Drawing takes the keyboard focus, so Delete/Backspace then clear the pad rather than a field.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.brush_radius = brush_radius

    # -- public API -------------------------------------------------------------------------------

    @property
    def brush_radius(self) -> float:
        """Brush radius in cells: every cell whose centre is this close to the stroke is painted."""
        return self._brush_radius

    @brush_radius.setter
    def brush_radius(self, radius: float) -> None:
        radius = float(radius)
        if not MIN_BRUSH_RADIUS <= radius <= MAX_BRUSH_RADIUS:
            raise ValueError(f"brush radius must be between {MIN_BRUSH_RADIUS} and {MAX_BRUSH_RADIUS} "
                             f"cells, got {radius}")
        self._brush_radius = radius
        self.setToolTip(f"Left button: draw. Right button: erase.\n"
                        f"Drag to paint a stroke; the brush is {2 * radius:g} cells wide.")
        self.update()

    def image(self) -> np.ndarray:
        """A copy of the drawing, (1024,) uint8 of 0/1, row by row."""
        return self._grid.reshape(-1).copy()

    def set_image(self, image: np.ndarray) -> None:
        """Show ``image``: (1024,) or (32, 32) of 0/1 (any integer or bool dtype). Emits drawing_changed."""
        image = np.asarray(image)
        if image.size != GRID_SIZE * GRID_SIZE:
            raise ValueError(f"a drawing has {GRID_SIZE * GRID_SIZE} cells, got shape {image.shape}")
        if not np.isin(image, (0, 1)).all():
            raise ValueError("a drawing's cells must be 0 or 1")
        self._end_stroke(emit=False)
        self._grid[:] = image.reshape(GRID_SIZE, GRID_SIZE)
        self._emit_now()
        self.update()

    def clear(self) -> None:
        """Erase everything. Emits drawing_changed."""
        self._end_stroke(emit=False)
        self._grid[:] = 0
        self._emit_now()
        self.update()

    def set_overlay(self, values: np.ndarray | None, levels: float = 1.0) -> None:
        """Paint ``values`` (1024,) over the cells in a diverging map on ``(-levels, levels)`` (see
        ``overlay_colors``; NaN leaves a cell uncovered), or remove the overlay with ``None``. Each value
        fills a square inset in its cell, so the ink stays visible around it."""
        if values is not None:
            values = np.array(values, dtype=np.float64).reshape(-1)
            if values.size != GRID_SIZE * GRID_SIZE:
                raise ValueError(f"an overlay has {GRID_SIZE * GRID_SIZE} values, got {values.size}")
        self._overlay = values
        self._overlay_levels = float(levels)
        self.update()

    def overlay(self) -> np.ndarray | None:
        """A copy of the overlay's values (1024,), or None."""
        return None if self._overlay is None else self._overlay.copy()

    def grid_rect(self) -> QRectF:
        """Where the grid is drawn, in widget pixels (a square; cells are whole pixels when it is big)."""
        left, top, side = square_layout(self.width(), self.height(), _MARGIN, snap=GRID_SIZE)
        return QRectF(left, top, side, side)

    def to_grid(self, position: QPointF) -> tuple[float, float]:
        """A widget position as an ``(x, y)`` grid point (cells from the top-left; may lie outside)."""
        rect = self.grid_rect()
        return widget_to_grid(position.x(), position.y(), rect.left(), rect.top(), rect.width())

    # -- Qt overrides -----------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def minimumSizeHint(self) -> QSize:
        # Never below a 160 px grid: smaller, a 32x32 drawing is too fine to draw with a mouse.
        return QSize(MIN_SIDE, MIN_SIDE)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def paintEvent(self, event: QPaintEvent) -> None:
        rect = self.grid_rect()
        painter = QPainter(self)
        try:
            # The drawing as a 32x32 grey image scaled up without smoothing: crisp square cells.
            pixels = np.ascontiguousarray((1 - self._grid) * 255, dtype=np.uint8)
            picture = QImage(pixels.data, GRID_SIZE, GRID_SIZE, GRID_SIZE, QImage.Format.Format_Grayscale8)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(rect, picture)

            cell = rect.width() / GRID_SIZE
            if cell >= 4:                      # lines closer than 4 px would turn the pad grey
                pen = QPen(_GRID_LINE)
                pen.setCosmetic(True)
                painter.setPen(pen)
                for k in range(1, GRID_SIZE):
                    x = rect.left() + k * cell
                    y = rect.top() + k * cell
                    painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                    painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            if self._overlay is not None:
                self._paint_overlay(painter, rect, cell)
            border = QPen(_BORDER)
            border.setCosmetic(True)
            painter.setPen(border)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)

            if self._hover is not None and rect.contains(self._hover):
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                outline = QPen(_BRUSH_OUTLINE)
                outline.setCosmetic(True)
                painter.setPen(outline)
                r = self._brush_radius * cell
                painter.drawEllipse(self._hover, r, r)
        finally:
            painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if self._stroke_button is not None or button not in (Qt.MouseButton.LeftButton,
                                                            Qt.MouseButton.RightButton):
            event.ignore()
            return
        self._stroke_button = button
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._last_point = self.to_grid(event.position())
        self._hover = event.position()
        self._paint_to(self._last_point)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._hover = event.position()
        if self._stroke_button is not None:
            self._paint_to(self.to_grid(event.position()))
        self.update()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._stroke_button is None or event.button() != self._stroke_button:
            event.ignore()
            return
        self._paint_to(self.to_grid(event.position()))
        self._end_stroke(emit=True)
        event.accept()

    def leaveEvent(self, event: object) -> None:
        self._hover = None
        self.update()

    def contextMenuEvent(self, event: object) -> None:
        # The right button erases here; a context menu would interrupt the stroke.
        pass

    # -- helpers ----------------------------------------------------------------------------------

    def _paint_overlay(self, painter: QPainter, rect: QRectF, cell: float) -> None:
        assert self._overlay is not None
        colors = overlay_colors(self._overlay, self._overlay_levels)
        inset = 0.15 * cell if cell >= 6 else 0.0
        painter.setPen(Qt.PenStyle.NoPen)
        for index in np.flatnonzero(colors[:, 3]):
            i, j = divmod(int(index), GRID_SIZE)
            r, g, b, a = (int(v) for v in colors[index])
            square = QRectF(rect.left() + j * cell + inset, rect.top() + i * cell + inset,
                            cell - 2 * inset, cell - 2 * inset)
            # Paper first, as opaque as the colour: a strong value reads as clearly on ink as on paper.
            painter.fillRect(square, QColor(255, 255, 255, a))
            painter.fillRect(square, QColor(r, g, b, a))

    def _paint_to(self, point: tuple[float, float]) -> None:
        """Paint the segment from the last mouse position to ``point`` with the stroke's button."""
        assert self._last_point is not None
        value = 1 if self._stroke_button == Qt.MouseButton.LeftButton else 0
        before = self._grid.copy()
        stamp_segment(self._grid, self._last_point, point, self._brush_radius, value)
        self._last_point = point
        if not np.array_equal(before, self._grid):
            self._emit_throttled()
            self.update()

    def _end_stroke(self, emit: bool) -> None:
        self._stroke_button = None
        self._last_point = None
        self._emit_timer.stop()
        if emit and self._pending_emit:
            self._emit_now()
        self._pending_emit = False

    def _emit_throttled(self) -> None:
        if self._since_emit.isValid() and self._since_emit.elapsed() < _EMIT_INTERVAL_MS:
            self._pending_emit = True
            if not self._emit_timer.isActive():
                self._emit_timer.start(_EMIT_INTERVAL_MS - int(self._since_emit.elapsed()))
            return
        self._emit_now()

    def _emit_now(self) -> None:
        self._pending_emit = False
        self._since_emit.start()
        self.drawing_changed.emit(self.image())

    def _on_emit_timer_timeout(self) -> None:
        if self._pending_emit:
            self._emit_now()
