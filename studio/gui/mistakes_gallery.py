"""The samples behind one cell of the confusion matrix, as pictures: what the network got wrong, and how.

Each tile shows one 32x32 sample, its true digit, what the network read, and the network's three
highest outputs (``studio.core.evaluation.top_k``), so a learner can see whether a mistake was a
near miss (a 3 read as 5 with 5: 0.48, 3: 0.45) or a confident error. Clicking a tile emits
``sample_chosen(split_name, index)``; the window loads that sample into the drawing pad, where the
learner can edit it and watch the prediction change.

The gallery is a non-modal window that shows what its opener hands it (``show_cell``): it computes
nothing. It opens beside the main window (``place_beside``), never over the pad its tiles load into,
and has a Close button. When the network moves on (training continues), the opener calls ``mark_stale`` and the
gallery says so; its Refresh button asks the opener (``refresh_requested``) to show the cell again
with the latest network.

Left out: choosing the samples and measuring the network (``confusion_view`` with core's
``samples_in_cell`` and ``top_k``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QHBoxLayout, QLabel, QListView, QListWidget,
                               QListWidgetItem, QPushButton, QVBoxLayout, QWidget)

from studio.gui.my_digits_dialog import digit_pixmap

#: Side of a tile's picture, in pixels (each of the 32x32 pixels a 3x3 square).
TILE = 96

_INDEX_ROLE = Qt.ItemDataRole.UserRole

SPLIT_TITLES: dict[str, str] = {"train": "training set", "test": "test set"}


@dataclass(frozen=True, eq=False)
class GallerySample:
    """One tile: sample ``index`` of its split (``name`` its file name), ``image`` (1024,) of 0/1,
    the true ``label``, the ``predicted`` class, and the highest outputs, highest first:
    ``top_classes`` and ``top_values`` (k,)."""

    index: int
    name: str
    image: np.ndarray
    label: int
    predicted: int
    top_classes: tuple[int, ...]
    top_values: tuple[float, ...]


def _framed_pixmap(image: np.ndarray) -> QPixmap:
    """The sample as a ``TILE`` x ``TILE`` picture with a thin grey frame (white paper on a white list
    would have no edge)."""
    pixmap = digit_pixmap(image, TILE)
    painter = QPainter(pixmap)
    try:
        painter.setPen(QColor(170, 170, 170))
        painter.drawRect(0, 0, TILE - 1, TILE - 1)
    finally:
        painter.end()
    return pixmap


def _tile_text(sample: GallerySample) -> str:
    verdict = "right" if sample.predicted == sample.label else f"read as {sample.predicted}"
    top = "  ".join(f"{c}:{v:.2f}" for c, v in zip(sample.top_classes, sample.top_values))
    return f"#{sample.index} · {sample.label}, {verdict}\n{top}"


def _tile_tooltip(sample: GallerySample) -> str:
    top = ", ".join(f"{c} ({v:.3f})" for c, v in zip(sample.top_classes, sample.top_values))
    return (f"{sample.name} (sample #{sample.index})\ntrue digit {sample.label}, the network reads "
            f"{sample.predicted}\nhighest outputs: {top}\nClick to load it into the drawing pad.")


def beside_rect(window: QRect, screen: QRect, size: QSize) -> QRect:
    """Where to put a ``size`` window so that it leaves the right part of ``window`` (the pad) free:
    right of the window, else left of it, else over its left part, narrowed to at most half the
    window's width; always inside ``screen`` (if given). Rectangles include the window frames."""
    width, height = size.width(), size.height()
    if screen.isValid():
        height = min(height, screen.height())
        if screen.right() - window.right() >= width:
            return QRect(window.right() + 1, max(window.top(), screen.top()), width, height)
        if window.left() - screen.left() >= width:
            return QRect(window.left() - width, max(window.top(), screen.top()), width, height)
    width = min(width, window.width() // 2)
    top = window.top() + 60
    if screen.isValid():
        top = max(screen.top(), min(top, screen.bottom() - height))
    return QRect(window.left(), top, width, height)


class MistakesGallery(QDialog):
    """A non-modal window of sample tiles. Signals: ``sample_chosen(split_name, index)`` when a tile is
    clicked; ``refresh_requested()`` when the learner asks for the latest network's view."""

    sample_chosen = Signal(str, int)
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModal(False)
        self.setWindowTitle("Samples")
        self._split_name = "test"
        self._cell: tuple[int, int] | None = None
        self._samples: list[GallerySample] = []

        self._title_label = QLabel()
        self._title_label.setWordWrap(True)
        self._title_label.setTextFormat(Qt.TextFormat.RichText)
        self._stale_label = QLabel("The network has changed since: press Refresh to see the cell as it "
                                   "is now.")
        self._stale_label.setWordWrap(True)
        self._stale_label.setStyleSheet("color: #8a6d00;")
        self._stale_label.setVisible(False)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Show this cell again with the latest network")
        self.refresh_button.clicked.connect(self._on_refresh_button_clicked)

        self.list_widget = QListWidget()
        self.list_widget.setViewMode(QListView.ViewMode.IconMode)
        self.list_widget.setIconSize(QSize(TILE, TILE))
        self.list_widget.setGridSize(QSize(TILE + 48, TILE + 46))
        self.list_widget.setResizeMode(QListView.ResizeMode.Adjust)
        self.list_widget.setMovement(QListView.Movement.Static)
        self.list_widget.setUniformItemSizes(True)
        self.list_widget.setWordWrap(True)
        self.list_widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_widget.itemClicked.connect(self._on_list_widget_item_clicked)
        self._empty_label = QLabel("No samples in this cell.")
        self._empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.close_button = QPushButton("Close")
        self.close_button.setToolTip("Close the samples (Esc)")
        self.close_button.clicked.connect(self.close)

        top = QHBoxLayout()
        top.addWidget(self._title_label, 1)
        top.addWidget(self.refresh_button)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self._stale_label)
        layout.addWidget(self.list_widget, 1)
        layout.addWidget(self._empty_label)
        layout.addLayout(bottom)
        self.resize(5 * (TILE + 48) + 40, 3 * (TILE + 46) + 120)
        self._placed = False

    # -- public API ---------------------------------------------------------------------------------

    def place_beside(self, window: QWidget) -> None:
        """Move the gallery off ``window``'s right-hand side, where the drawing pad its tiles load
        into is: beside the window if the screen has room, else over the window's left part. Only
        the first time it is shown: after that the learner's own placement stays."""
        if self._placed:
            return
        self._placed = True
        screen = window.screen().availableGeometry() if window.screen() is not None else QRect()
        frame = self.frameGeometry().size() - self.geometry().size()    # title bar and borders
        outer = beside_rect(window.frameGeometry(), screen, self.size() + frame)
        self.resize(max(outer.width() - frame.width(), self.minimumSizeHint().width()),
                    outer.height() - frame.height())
        self.move(outer.topLeft())

    def show_cell(self, split_name: str, true: int, predicted: int, samples: list[GallerySample],
                  outputs: str = "outputs") -> None:
        """Show ``samples``, those of ``split_name`` (``train`` or ``test``) with true class ``true``
        predicted as ``predicted``; ``outputs`` names what the top values are (e.g. ``probabilities``)."""
        self._split_name = split_name
        self._cell = (int(true), int(predicted))
        self._samples = list(samples)
        where = SPLIT_TITLES.get(split_name, split_name)
        count = len(samples)
        noun = "sample" if count == 1 else "samples"
        if true == predicted:
            what = f"{count} {where} {noun} of the digit <b>{true}</b> that the network reads right"
            self.setWindowTitle(f"{true} read as {predicted} ({where})")
        else:
            what = (f"{count} {where} {noun} of the digit <b>{true}</b> that the network reads as "
                    f"<b>{predicted}</b>")
            self.setWindowTitle(f"{true} mistaken for {predicted} ({where})")
        self._title_label.setText(f"{what}. Under each: its number, and the three highest {outputs}. "
                                  f"Click one to load it into the drawing pad.")
        self.list_widget.clear()
        for sample in self._samples:
            item = QListWidgetItem(QIcon(_framed_pixmap(sample.image)), _tile_text(sample))
            item.setData(_INDEX_ROLE, sample.index)
            item.setToolTip(_tile_tooltip(sample))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.list_widget.addItem(item)
        self.list_widget.setVisible(bool(self._samples))
        self._empty_label.setVisible(not self._samples)
        self._stale_label.setVisible(False)

    def mark_stale(self) -> None:
        """Say that the network has changed since the cell was shown."""
        if self._cell is not None:
            self._stale_label.setVisible(True)

    @property
    def is_stale(self) -> bool:
        return not self._stale_label.isHidden()

    def split_name(self) -> str:
        return self._split_name

    def cell(self) -> tuple[int, int] | None:
        """(true, predicted) of the cell shown."""
        return self._cell

    def samples(self) -> list[GallerySample]:
        return list(self._samples)

    def indices(self) -> list[int]:
        """The split indices of the tiles, in order."""
        return [sample.index for sample in self._samples]

    def title_text(self) -> str:
        return self._title_label.text()

    def tile_position(self, tile: int) -> QPoint:
        """The centre of tile number ``tile`` in ``list_widget.viewport()`` coordinates (for clicks)."""
        item = self.list_widget.item(tile)
        self.list_widget.scrollToItem(item)
        return self.list_widget.visualItemRect(item).center()

    # -- slots --------------------------------------------------------------------------------------

    @Slot(QListWidgetItem)
    def _on_list_widget_item_clicked(self, item: QListWidgetItem) -> None:
        self.sample_chosen.emit(self._split_name, int(item.data(_INDEX_ROLE)))

    @Slot()
    def _on_refresh_button_clicked(self) -> None:
        self.refresh_requested.emit()
