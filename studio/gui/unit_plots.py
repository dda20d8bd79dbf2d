"""Two plots for the "One update" tab, each a picture of units you can hover and click.

``VectorBars`` draws one or two labelled vectors (z, a, δ, ...) as bars, one bar per unit, side by side
when there are two; ``PicturePair`` draws 32x32 pictures: the input drawing alone, or two mosaics of
one tile per hidden unit side by side (dC/dW^1 and W^1), each mosaic with one shared diverging colour
scale symmetric about 0, as the weights view does. Both report the unit under the mouse
(``unit_hovered(text)``) and a click on a unit (``unit_clicked(unit)``) and mark the chosen unit.

Left out: what the vectors mean (``studio.core.explain``) and any computing.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsRectItem, QWidget

from studio.core.explain import Vector
from studio.core.formula_text import num, sub
from studio.core.weights_mosaic import build_mosaic, grid_shape, symmetric_levels, tile_at, tile_origin

#: Bar colours: the stage's own vector, then the one it is compared with (target, after the step).
BAR_COLORS: tuple[str, ...] = ("#1f77b4", "#ff7f0e")
_COLOR_MAP = "CET-D1"
_GUTTER = 1
_SIDE = 32
_MARK_PEN = pg.mkPen("#d62728", width=2)


class _UnitPicking:
    """What both plots do with the mouse: tell the unit under it (tooltip and ``unit_hovered``) and a
    left click on a unit (``unit_clicked``). The plot gives ``unit_at(scene_pos)`` and ``describe(unit)``
    and declares both signals (a Qt signal belongs on the Qt class itself)."""

    def _listen_to_mouse(self) -> None:
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)

    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        unit = self.unit_at(scene_pos)
        if unit is not None:
            text = self.describe(unit)
            self.setToolTip(text)
            self.unit_hovered.emit(text)

    def _on_scene_mouse_clicked(self, event: object) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        unit = self.unit_at(event.scenePos())
        if unit is not None:
            self.unit_clicked.emit(unit)


class VectorBars(_UnitPicking, pg.PlotWidget):
    """Bars of one or two vectors of the same length; x is the unit number (from 0)."""

    unit_clicked = Signal(int)
    unit_hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self._vectors: list[Vector] = []
        self._items: list[pg.BarGraphItem] = []
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.showGrid(y=True, alpha=0.25)
        plot.setLabel("bottom", "unit")
        plot.getAxis("left").enableAutoSIPrefix(False)     # "0.02", not "20" with "(x0.001)" in the label
        self._legend = plot.addLegend(offset=(-8, 8), labelTextColor="#202020", brush=(255, 255, 255, 200))
        self._zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((90, 90, 90)))
        plot.addItem(self._zero)
        self._mark = pg.InfiniteLine(angle=90, pen=pg.mkPen("#d62728", width=1.5, style=Qt.PenStyle.DashLine))
        self._mark.setVisible(False)
        plot.addItem(self._mark)
        self._listen_to_mouse()

    @property
    def units(self) -> int:
        return int(self._vectors[0].values.size) if self._vectors else 0

    def set_vectors(self, vectors: tuple[Vector, ...] | list[Vector], selected: int | None = None) -> None:
        """Show ``vectors`` (all of one length) and mark unit ``selected``."""
        plot = self.getPlotItem()
        for item in self._items:
            plot.removeItem(item)
        self._legend.clear()
        self._items = []
        self._vectors = list(vectors)
        n = self.units
        width = 0.8 / max(len(self._vectors), 1)
        for i, vector in enumerate(self._vectors):
            x = np.arange(n) + (i - (len(self._vectors) - 1) / 2) * width
            # A copy, finite: pyqtgraph keeps what it is given, and a NaN bar would break the range.
            heights = np.nan_to_num(np.array(vector.values, dtype=np.float64))
            color = BAR_COLORS[i % len(BAR_COLORS)]
            item = pg.BarGraphItem(x=x, height=heights, width=width, brush=color, pen=pg.mkPen(color))
            plot.addItem(item)
            self._items.append(item)
            if len(self._vectors) > 1:
                self._legend.addItem(item, vector.name)
        self._legend.setVisible(len(self._vectors) > 1)
        axis = plot.getAxis("bottom")
        if 0 < n <= 32:
            axis.setTicks([[(k, str(k)) for k in range(n)]])
        else:
            axis.setTicks(None)
        plot.setLabel("left", self._vectors[0].name if self._vectors else "")
        plot.setXRange(-0.6, max(n, 1) - 0.4, padding=0)
        if self._vectors:
            values = np.concatenate([np.nan_to_num(v.values) for v in self._vectors] + [np.zeros(1)])
            low, high = float(values.min()), float(values.max())
            pad = 0.08 * (high - low) or 1.0
            plot.setYRange(low - pad, high + pad, padding=0)
        self.mark(selected)

    def mark(self, unit: int | None) -> None:
        """Draw the marker line through ``unit`` (None hides it)."""
        self._mark.setVisible(unit is not None and 0 <= unit < self.units)
        if unit is not None:
            self._mark.setValue(unit)

    def unit_at(self, scene_pos: QPointF) -> int | None:
        """The unit under scene position ``scene_pos``, or None."""
        view = self.getPlotItem().vb
        if not self.units or not view.sceneBoundingRect().contains(scene_pos):
            return None
        unit = int(round(view.mapSceneToView(scene_pos).x()))
        return unit if 0 <= unit < self.units else None

    def position_of_unit(self, unit: int) -> QPoint:
        """Where unit ``unit``'s bar is, in viewport coordinates (for tests and tooltips)."""
        view = self.getPlotItem().vb
        (_, _), (low, high) = view.viewRange()
        return self.mapFromScene(view.mapViewToScene(QPointF(unit, (low + high) / 2)))

    def describe(self, unit: int) -> str:
        return ",   ".join(f"{v.labels[unit]} = {num(v.values[unit])}" if len(self._vectors) == 1 else
                           f"{v.name}: {v.labels[unit]} = {num(v.values[unit])}" for v in self._vectors)


class _Picture:
    """One titled plot holding one image (a mosaic of 32x32 tiles, or one picture) and its colour bar."""

    def __init__(self, layout: pg.GraphicsLayoutWidget, column: int) -> None:
        self.plot = layout.addPlot(row=0, col=column)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image_item)
        self.color_bar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get(_COLOR_MAP), interactive=False,
                                         colorMapMenu=False, width=12)
        self.color_bar.setImageItem(self.image_item, insert_in=self.plot)
        self.color_bar.getAxis("right").enableAutoSIPrefix(False)
        self.frame = QGraphicsRectItem()
        self.frame.setPen(_MARK_PEN)
        self.frame.setZValue(10)
        self.plot.addItem(self.frame)
        self.image = np.zeros((1, 1))
        self.tiles = 0
        self.cols = 1

    def show(self, title: str, image: np.ndarray, levels: tuple[float, float], color_map: str,
             tiles: int, cols: int) -> None:
        self.image, self.tiles, self.cols = image, tiles, cols
        self.plot.setTitle(title, color="#202020", size="10pt")
        self.color_bar.setColorMap(pg.colormap.get(color_map))
        self.image_item.setImage(image.copy(), levels=levels, autoLevels=False)
        self.color_bar.setLevels(levels)
        self.plot.setRange(QRectF(0, 0, image.shape[1], image.shape[0]), padding=0.02)

    def unit_at(self, scene_pos: QPointF) -> int | None:
        """The tile (or, for a single picture, the pixel index row * 32 + col) under ``scene_pos``."""
        if not self.image_item.sceneBoundingRect().contains(scene_pos):
            return None
        local = self.image_item.mapFromScene(scene_pos)
        row, col = int(np.floor(local.y())), int(np.floor(local.x()))
        if not (0 <= row < self.image.shape[0] and 0 <= col < self.image.shape[1]):
            return None
        if self.tiles == 0:
            return row * self.image.shape[1] + col
        return tile_at(row, col, self.tiles, self.cols, (_SIDE, _SIDE), _GUTTER)

    def centre_of(self, unit: int) -> QPointF:
        if self.tiles == 0:
            return QPointF(unit % self.image.shape[1] + 0.5, unit // self.image.shape[1] + 0.5)
        top, left = tile_origin(unit, self.cols, (_SIDE, _SIDE), _GUTTER)
        return QPointF(left + _SIDE / 2, top + _SIDE / 2)

    def mark(self, unit: int | None) -> None:
        if unit is None:
            self.frame.setVisible(False)
            return
        if self.tiles == 0:
            rect = QRectF(unit % self.image.shape[1], unit // self.image.shape[1], 1, 1)
        else:
            top, left = tile_origin(unit, self.cols, (_SIDE, _SIDE), _GUTTER)
            rect = QRectF(left - 0.5, top - 0.5, _SIDE + 1, _SIDE + 1)
        self.frame.setRect(rect)
        self.frame.setVisible(True)


class PicturePair(_UnitPicking, pg.GraphicsLayoutWidget):
    """The input drawing alone (``show_drawing``) or two mosaics of per-unit 32x32 pictures
    (``show_tiles``): left what this sample would paint onto each unit's weights, right the weights."""

    unit_clicked = Signal(int)
    unit_hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.left = _Picture(self, 0)
        self.right = _Picture(self, 1)
        self._names: tuple[str, str] = ("", "")
        self._tiles: tuple[np.ndarray, np.ndarray] | None = None
        self._drawing: np.ndarray | None = None
        self._listen_to_mouse()

    @property
    def levels(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The colour levels of the left and right mosaics."""
        return self.left.color_bar.levels(), self.right.color_bar.levels()

    def show_drawing(self, image: np.ndarray, selected: int | None = None) -> None:
        """The input x (1024,) as a 32x32 picture; its units are pixels (row * 32 + col)."""
        self._drawing = np.asarray(image, dtype=np.float64).reshape(_SIDE, _SIDE)
        self._tiles = None
        self.left.show("Input x: ink is 1, paper 0", self._drawing, (0.0, 1.0), "CET-L1", 0, 1)
        # Ink dark on white, as on the pad: CET-L1 runs black to white, so invert the levels.
        self.left.image_item.setLevels((1.0, 0.0))
        self.left.color_bar.setVisible(False)
        self.right.plot.setVisible(False)
        self.left.mark(selected)

    def show_tiles(self, left: np.ndarray, right: np.ndarray, names: tuple[str, str], titles: tuple[str, str],
                   selected: int | None = None) -> None:
        """Two stacks of pictures (k, 32, 32), each as a mosaic on its own symmetric colour scale."""
        self._drawing = None
        self._tiles = (left, right)
        self._names = names
        k = left.shape[0]
        rows, cols = grid_shape(k)
        for picture, tiles, title in ((self.left, left, titles[0]), (self.right, right, titles[1])):
            picture.show(title, build_mosaic(tiles, rows, cols, _GUTTER), symmetric_levels(tiles), _COLOR_MAP, k, cols)
            picture.color_bar.setVisible(True)
        self.right.plot.setVisible(True)
        self.mark(selected)

    def mark(self, unit: int | None) -> None:
        self.left.mark(unit)
        self.right.mark(unit if self._tiles is not None else None)

    def position_of_unit(self, unit: int, side: str = "left") -> QPoint:
        """Viewport position of the centre of ``unit``'s tile (or pixel) on the ``side`` picture."""
        picture = self.left if side == "left" else self.right
        return self.mapFromScene(picture.image_item.mapToScene(picture.centre_of(unit)))

    def unit_at(self, scene_pos: QPointF) -> int | None:
        """The unit under scene position ``scene_pos`` on either picture, or None."""
        for picture in (self.left, self.right):
            if picture.plot.isVisible():
                unit = picture.unit_at(scene_pos)
                if unit is not None:
                    return unit
        return None

    def describe(self, unit: int) -> str:
        if self._drawing is not None:
            return f"x{sub(unit)} = {num(self._drawing.flat[unit])}  (row {unit // _SIDE}, column {unit % _SIDE})"
        if self._tiles is None:
            return ""
        left, right = self._tiles
        return (f"unit {unit}: {self._names[0]} from {num(left[unit].min())} to {num(left[unit].max())};   "
                f"{self._names[1]} from {num(right[unit].min())} to {num(right[unit].max())}")
