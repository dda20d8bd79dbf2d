"""Seeing the weights: each first-layer unit's 1024 weights as a 32x32 picture, other layers as heatmaps.

Layer 1 is shown as a mosaic of tiles, one per hidden unit (row ``k`` of ``W1`` reshaped to 32x32, the
same row-major order as the drawing), drawn as a single image with NaN gutters because one image
redraws far faster than many. Every tile shares one diverging colour map with levels symmetric about 0
(``-m .. m``, ``m`` the largest |w| of the whole layer), so white is always 0 and tiles can be compared.
Hovering a tile names the unit and its weight range; clicking it shows that unit alone, large, with the
same levels (click again, or press Back, to return). Later layers, and a first layer whose input is
not a 32x32 image, are shown as their whole weight matrix: output units down, input units across.

The caption under the picture always describes the network shown now: a new network (Reset, a
preset, a loaded model) re-reads the spot under the pointer, or shows help once it has left. The
page buttons and Back share one fixed-size place beside the caption, so nothing moves when they
come and go.

What it leaves out: the arithmetic of layouts, pages and levels (``studio.core.weights_mosaic``) and
any training; it shows the snapshot it is given with ``set_network``.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QStackedWidget,
                               QVBoxLayout, QWidget)

from studio.core.network import Network
from studio.core.weights_mosaic import (IMAGE_SIDE, build_mosaic, first_layer_tiles, grid_shape,
                                        is_image_layer, page_count, page_units, symmetric_levels,
                                        tile_at, tile_origin, tiles_per_page)

_COLOR_MAP = "CET-D1"
_GUTTER = 1
_BACKGROUND = (70, 70, 70)      # shows through the NaN gutters as thin dark lines
_NO_MODEL = "No model yet: train one or open a saved model to see its weights."
_MOSAIC_HELP = ("Each tile is one hidden unit's 1024 input weights laid out as the 32x32 drawing.\n"
                "Red pixels push the unit up where there is ink, blue ones push it down; white is 0.\n"
                "Click a tile to enlarge it.")
_MATRIX_HELP = "The whole weight matrix: one row per output unit, one column per input unit."


def _layer_title(sizes: tuple[int, ...], layer: int) -> str:
    """Combo box text for weight layer ``layer`` (0-based) of a network with ``sizes``."""
    def name(i: int) -> str:
        if i == 0:
            return "input"
        if i == len(sizes) - 1:
            return "output"
        return f"hidden {i}"

    # Short enough for a narrow pane; the matrix's shape is in the item's tooltip and on its axes.
    return f"Layer {layer + 1} ({name(layer)} -> {name(layer + 1)})"


class WeightsView(QWidget):
    """A layer chooser, page buttons and one image of the chosen layer's weights with a colour bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._network: Network | None = None
        self._layer = 0
        self._page = 0
        self._zoomed: int | None = None
        self._image = np.full((1, 1), np.nan)
        self._levels = (-1.0, 1.0)
        self._mode = "none"           # "mosaic", "zoom", "matrix" or "none"
        self._hover: QPointF | None = None   # scene position of the pointer while over the plot

        self._layer_combo = QComboBox()
        self._layer_combo.setToolTip("Which layer's weights to show")
        # Always as wide as its longest entry: squeezed into a narrow row it cut "hidden 1" off.
        self._layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._layer_combo.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self._layer_combo.currentIndexChanged.connect(self._on_layer_combo_changed)
        # Arrows only, so that the row fits beside the layer names in a narrow pane; tooltips say more.
        self._previous_button = QPushButton("◀")
        self._next_button = QPushButton("▶")
        self._previous_button.setToolTip("Show the previous units of this layer")
        self._next_button.setToolTip("Show the next units of this layer")
        for button in (self._previous_button, self._next_button):
            button.setFixedWidth(button.fontMetrics().horizontalAdvance("◀") + 28)
        self._previous_button.clicked.connect(self._on_previous_button_clicked)
        self._next_button.clicked.connect(self._on_next_button_clicked)
        self._page_label = QLabel("")
        self._page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._back_button = QPushButton("Back")
        self._back_button.setToolTip("Back to all units: show every unit of the layer again")
        self._back_button.clicked.connect(self._on_back_button_clicked)

        self.plot_widget = pg.PlotWidget(background=_BACKGROUND)
        self._plot = self.plot_widget.getPlotItem()
        self._plot.setMouseEnabled(x=False, y=False)
        self._plot.setMenuEnabled(False)
        self._plot.hideButtons()
        self._plot.invertY(True)               # row 0 at the top, like the drawing and the matrix
        self._plot.setLabel("bottom", "input unit")
        self._plot.setLabel("left", "output unit")
        for side in ("left", "bottom"):
            axis = self._plot.getAxis(side)
            axis.setPen(pg.mkPen((200, 200, 200)))
            axis.setTextPen(pg.mkPen((230, 230, 230)))
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self._plot.addItem(self.image_item)
        self.color_bar = pg.ColorBarItem(values=self._levels, colorMap=pg.colormap.get(_COLOR_MAP),
                                         interactive=False, colorMapMenu=False, width=15)
        self.color_bar.setImageItem(self.image_item, insert_in=self._plot)
        # The label goes on the value axis: ColorBarItem puts its own on the narrow left frame, over the bar.
        bar_axis = self.color_bar.getAxis("right")
        bar_axis.setTextPen(pg.mkPen((230, 230, 230)))
        bar_axis.setPen(pg.mkPen((200, 200, 200)))
        bar_axis.setLabel("weight", color="#e6e6e6")
        bar_axis.setWidth(64)
        bar_axis.enableAutoSIPrefix(False)     # "0.15", not "150" with "(x0.001)" in the label
        scene = self.plot_widget.scene()
        scene.sigMouseMoved.connect(self._on_scene_mouse_moved)
        scene.sigMouseClicked.connect(self._on_scene_mouse_clicked)

        self._status_label = QLabel(_NO_MODEL)
        self._status_label.setWordWrap(True)
        # Two lines, always: a caption that wraps onto a third line would shrink the picture under
        # the pointer. Ignored width: a long caption never widens the view.
        self._status_label.setFixedHeight(self._status_label.fontMetrics().lineSpacing() * 2 + 4)
        self._status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.plot_widget.installEventFilter(self)

        # The header's controls come and go (page buttons, Back): they sit in a stack, whose size is
        # that of its largest page whichever is shown, so the header never changes size and neither
        # the picture nor the pad beside it moves.
        pages_box = QWidget()
        pages_row = QHBoxLayout(pages_box)
        pages_row.setContentsMargins(0, 0, 0, 0)
        pages_row.addWidget(self._previous_button)
        pages_row.addWidget(self._page_label)
        pages_row.addWidget(self._next_button)
        self._header_stack = QStackedWidget()
        for page in (QWidget(), pages_box, self._back_button):
            self._header_stack.addWidget(page)
        header = QWidget()
        header.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        top = QHBoxLayout(header)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self._layer_combo)
        top.addStretch(1)
        # The page controls go under the picture, beside the caption: one row above it would be
        # the combo's width plus theirs, too wide for a small window.
        footer = QHBoxLayout()
        footer.addWidget(self._status_label, 1)
        footer.addWidget(self._header_stack, 0, Qt.AlignmentFlag.AlignTop)
        header.setFixedHeight(max(self._layer_combo.sizeHint().height(), self._back_button.sizeHint().height(),
                                  self._previous_button.sizeHint().height()))
        self.header = header
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)         # the window's box around it has its own
        layout.addWidget(header)
        layout.addWidget(self.plot_widget, 1)
        layout.addLayout(footer)
        self._refresh()

    # -- public API -------------------------------------------------------------------------------

    def set_network(self, network: Network | None) -> None:
        """Show the weights of ``network`` (a snapshot copy, never trained further), or none.

        The chosen layer, page and enlarged unit are kept when the new network has the same shape,
        so that snapshots arriving during training update the picture in place.
        """
        same_shape = (network is not None and self._network is not None
                      and network.sizes == self._network.sizes)
        self._network = network
        if not same_shape:
            self._zoomed = None
            self._page = 0
            combo_blocked = self._layer_combo.blockSignals(True)
            try:
                self._layer_combo.clear()
                if network is not None:
                    self._layer = 0          # a different architecture: start from its first layer
                    for l in range(network.num_layers):
                        self._layer_combo.addItem(_layer_title(network.sizes, l))
                        self._layer_combo.setItemData(
                            l, f"{network.sizes[l + 1]} x {network.sizes[l]} weights",
                            Qt.ItemDataRole.ToolTipRole)
                    self._layer_combo.setCurrentIndex(self._layer)
                    # Its size now, not at the next relayout (the header would widen later, under
                    # the pointer).
                    self._layer_combo.setMinimumWidth(self._layer_combo.sizeHint().width())
            finally:
                self._layer_combo.blockSignals(combo_blocked)
        self._refresh(fit=not same_shape)

    def layer(self) -> int:
        """The layer shown, 0-based (0 = the first weight matrix W1)."""
        return self._layer

    def set_layer(self, layer: int) -> None:
        """Show weight layer ``layer`` (0-based)."""
        self._layer_combo.setCurrentIndex(layer)

    def page(self) -> int:
        return self._page

    def page_count(self) -> int:
        """Pages of the shown layer (1 unless it is a first layer with more than 16 units)."""
        if self._mode not in ("mosaic", "zoom"):
            return 1
        n_units = self._network.sizes[1]
        return page_count(n_units, tiles_per_page(n_units))

    def set_page(self, page: int) -> None:
        """Show page ``page`` (0-based) of the first layer's tiles."""
        if not 0 <= page < self.page_count():
            raise ValueError(f"page {page} does not exist; there are {self.page_count()}")
        self._page = page
        self._zoomed = None
        self._refresh(fit=True)

    def units_on_page(self) -> range:
        """The units (rows of W1) whose tiles are on the current page; empty for a matrix view."""
        if self._mode not in ("mosaic", "zoom"):
            return range(0)
        n_units = self._network.sizes[1]
        return page_units(n_units, self._page, tiles_per_page(n_units))

    def zoom_to(self, unit: int | None) -> None:
        """Enlarge first-layer ``unit`` (0-based), or go back to the mosaic with ``None``."""
        if unit is not None:
            if self._mode not in ("mosaic", "zoom"):
                raise ValueError("only the first layer's units can be enlarged")
            if not 0 <= unit < self._network.sizes[1]:
                raise ValueError(f"unit {unit} does not exist; the layer has {self._network.sizes[1]}")
            per_page = tiles_per_page(self._network.sizes[1])
            self._page = unit // per_page
        self._zoomed = unit
        self._refresh(fit=True)

    def zoomed_unit(self) -> int | None:
        """The unit shown enlarged, or None when the mosaic (or a matrix) is shown."""
        return self._zoomed

    def mosaic(self) -> np.ndarray:
        """A copy of the image given to the ImageItem: the mosaic, the enlarged tile or the matrix."""
        return self._image.copy()

    def levels(self) -> tuple[float, float]:
        """The colour levels (-m, m) in use, m = max |w| over the shown layer."""
        return self._levels

    def tile(self, unit: int) -> np.ndarray:
        """First-layer unit ``unit``'s weights as the 32x32 picture shown for it."""
        if self._network is None or not is_image_layer(self._network.sizes[0]):
            raise ValueError("there is no first layer of 32x32 pictures to take a tile from")
        return first_layer_tiles(self._network.weights[0], [unit])[0].copy()

    def status_text(self) -> str:
        """The line under the plot: the hovered unit or weight, or help."""
        return self._status_label.text()

    def scene_position_of_unit(self, unit: int) -> QPointF:
        """The scene position of the centre of ``unit``'s tile on the current page (for tests)."""
        page = list(self.units_on_page())
        if unit not in page or self._mode != "mosaic":
            raise ValueError(f"unit {unit} is not on the mosaic shown")
        _, cols = self._grid()
        top, left = tile_origin(page.index(unit), cols, (IMAGE_SIDE, IMAGE_SIDE), _GUTTER)
        return self.image_item.mapToScene(QPointF(left + IMAGE_SIDE / 2, top + IMAGE_SIDE / 2))

    # -- slots ------------------------------------------------------------------------------------

    def _on_layer_combo_changed(self, index: int) -> None:
        if index < 0:
            return
        self._layer = index
        self._page = 0
        self._zoomed = None
        self._refresh(fit=True)

    def _on_previous_button_clicked(self) -> None:
        if self._page > 0:
            self.set_page(self._page - 1)

    def _on_next_button_clicked(self) -> None:
        if self._page + 1 < self.page_count():
            self.set_page(self._page + 1)

    def _on_back_button_clicked(self) -> None:
        self.zoom_to(None)

    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        self._hover = QPointF(scene_pos)
        self._show_caption()

    def _show_caption(self) -> None:
        """The hovered unit or weight of the network shown now, else help: never a number of an
        earlier network (after Reset, a preset or a model load the same spot shows the new weight)."""
        text = self._describe(self._hover) if self._hover is not None else None
        self._status_label.setText(text if text is not None else self._help_text())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        if watched is self.plot_widget and event.type() == QEvent.Type.Leave:
            self._hover = None
            self._show_caption()
        return False

    def _on_scene_mouse_clicked(self, event: object) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._mode == "zoom":
            self.zoom_to(None)
        elif self._mode == "mosaic":
            unit = self._unit_at(event.scenePos())
            if unit is not None:
                self.zoom_to(unit)

    # -- helpers ----------------------------------------------------------------------------------

    def _grid(self) -> tuple[int, int]:
        """(rows, cols) of the tile grid for the first layer: fixed per layer so pages line up."""
        return grid_shape(tiles_per_page(self._network.sizes[1]))

    def _pixel_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(row, col) of the image pixel under ``scene_pos``, or None outside the image."""
        if self._mode == "none" or not self.image_item.sceneBoundingRect().contains(scene_pos):
            return None
        local = self.image_item.mapFromScene(scene_pos)
        row, col = int(np.floor(local.y())), int(np.floor(local.x()))
        if 0 <= row < self._image.shape[0] and 0 <= col < self._image.shape[1]:
            return row, col
        return None

    def _unit_at(self, scene_pos: QPointF) -> int | None:
        pixel = self._pixel_at(scene_pos)
        if pixel is None or self._mode != "mosaic":
            return None
        units = self.units_on_page()
        _, cols = self._grid()
        t = tile_at(pixel[0], pixel[1], len(units), cols, (IMAGE_SIDE, IMAGE_SIDE), _GUTTER)
        return None if t is None else units[t]

    def _describe(self, scene_pos: QPointF) -> str | None:
        pixel = self._pixel_at(scene_pos)
        if pixel is None:
            return None
        row, col = pixel
        if self._mode == "mosaic":
            unit = self._unit_at(scene_pos)
            if unit is None:
                return None
            tile = self.tile(unit)
            return f"unit {unit}: min {tile.min():.3g}, max {tile.max():.3g}  (click to enlarge)"
        if self._mode == "zoom":
            tile = self._image
            return (f"unit {self._zoomed}, pixel (row {row}, col {col}): w = {tile[row, col]:.3g}; "
                    f"unit min {np.nanmin(tile):.3g}, max {np.nanmax(tile):.3g}  (click to go back)")
        return f"output unit {row}, input unit {col}: w = {self._image[row, col]:.3g}"

    def _help_text(self) -> str:
        if self._mode == "mosaic":
            return "Hover a tile for its range, click to enlarge."
        if self._mode == "zoom":
            return f"Unit {self._zoomed} enlarged. Click it or press Back to see all units."
        if self._mode == "matrix":
            return "Hover over a cell to read its weight."
        return _NO_MODEL

    def _refresh(self, fit: bool = False) -> None:
        """Rebuild the image for the current network, layer, page and zoom, and show it."""
        network = self._network
        self._layer_combo.setEnabled(network is not None)
        if network is None:
            self._mode = "none"
            self._image = np.full((1, 1), np.nan)
            self.image_item.clear()
            self._show_controls()
            self.plot_widget.setToolTip("")
            self._status_label.setText(_NO_MODEL)
            return

        weights = network.weights[self._layer]
        self._levels = symmetric_levels(weights)
        if self._layer == 0 and is_image_layer(weights.shape[1]):
            if self._zoomed is not None:
                self._mode = "zoom"
                self._image = self.tile(self._zoomed)
            else:
                self._mode = "mosaic"
                rows, cols = self._grid()
                tiles = first_layer_tiles(weights, self.units_on_page())
                self._image = build_mosaic(tiles, rows, cols, _GUTTER)
            rect = QRectF(0, 0, self._image.shape[1], self._image.shape[0])
            self.plot_widget.setToolTip(_MOSAIC_HELP)
        else:
            self._mode = "matrix"
            self._zoomed = None
            self._image = np.array(weights, dtype=np.float64)
            # Pixel centres on whole numbers, so unit k sits at tick k.
            rect = QRectF(-0.5, -0.5, self._image.shape[1], self._image.shape[0])
            self.plot_widget.setToolTip(_MATRIX_HELP)

        # A copy: pyqtgraph keeps a view of the array it is given, and mosaic() hands ours out.
        self.image_item.setImage(self._image.copy(), levels=self._levels, autoLevels=False)
        self.image_item.setRect(rect)
        self.color_bar.setLevels(self._levels)
        self._show_controls()
        if fit:
            self._plot.setRange(rect=rect, padding=0.0 if self._mode == "matrix" else 0.02)
        self._show_caption()

    def _show_controls(self) -> None:
        image_mode = self._mode in ("mosaic", "zoom")
        pages = self.page_count()
        if self._mode == "mosaic" and pages > 1:
            self._header_stack.setCurrentIndex(1)
        elif self._mode == "zoom":
            self._header_stack.setCurrentIndex(2)
        else:
            self._header_stack.setCurrentIndex(0)
        if self._mode in ("mosaic", "zoom") and pages > 1:
            # As wide as the widest page's text, so paging never changes the header.
            n = self._network.sizes[1]
            self._page_label.setFixedWidth(self._page_label.fontMetrics().horizontalAdvance(
                f"{n - 1}-{n - 1} of {n}") + 8)
            self._page_label.parentWidget().layout().invalidate()   # let the header see it now
            self._header_stack.updateGeometry()
            units = self.units_on_page()
            self._page_label.setText(f"{units.start}-{units.stop - 1} of {self._network.sizes[1]}")
            self._page_label.setToolTip(f"Units {units.start} to {units.stop - 1} of the layer's "
                                        f"{self._network.sizes[1]} are shown")
            self._previous_button.setEnabled(self._page > 0)
            self._next_button.setEnabled(self._page + 1 < pages)
        # Tiles are pictures: square pixels, no axes. A matrix fills the plot, cells may be oblong.
        self._plot.setAspectLocked(image_mode)
        self._plot.showAxis("left", self._mode == "matrix")
        self._plot.showAxis("bottom", self._mode == "matrix")
        self.color_bar.setVisible(self._mode != "none")
