"""Which digits the network confuses: the confusion matrix, and the samples behind each of its cells.

Row t, column p counts the samples of the true digit t that the network reads as p
(``studio.core.evaluation.confusion_matrix``), on the test split, or on the training split when the
data set has none (or the learner picks it). The diagonal holds the right answers, shaded blue by
the share of their row; every other cell is a kind of mistake, shaded red (the darkest is the most
common mistake). The last column says how many of each digit are right.

Clicking a cell opens a ``MistakesGallery`` of exactly those samples, each with the network's three
highest outputs; clicking a sample there emits ``sample_chosen(split_name, index)``, which the window
connects to the drawing pad's ``load_sample``.

Snapshots may come ~10 times a second while training: the matrix is recomputed (one forward pass of
the split) at most ~4 times a second (less often for wide networks), and only while the view is visible; a hidden view catches up
when it is shown. Left out: the arithmetic (core's ``confusion_matrix``, ``samples_in_cell``,
``top_k``), training, and the pad.
"""
from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from studio.core.data import N_CLASSES, Dataset, Split
from studio.core.evaluation import confusion_matrix, samples_in_cell, top_k
from studio.core.network import Network
from studio.gui.mistakes_gallery import SPLIT_TITLES, GallerySample, MistakesGallery

#: Shortest time between two recomputations of the matrix, in seconds.
MIN_INTERVAL = 0.25

#: At most about this share of the GUI thread's time goes to recomputing: one that took t seconds is
#: followed by a pause of at least t / MAX_SHARE (wide networks are measured less often).
MAX_SHARE = 0.1

#: The colours at full strength: right answers (diagonal) and mistakes.
_RIGHT = (31, 119, 180)
_WRONG = (214, 39, 40)

_NO_DATA = "Open a data set to see which digits the network confuses."
_NO_NETWORK = "No network yet: train one (or open a saved model) to see its confusion matrix."


def _shade(rgb: tuple[int, int, int], strength: float) -> QColor:
    """``rgb`` mixed with white: strength 0 is white, 1 the full colour."""
    s = min(max(strength, 0.0), 1.0)
    return QColor(*(round(255 + (c - 255) * s) for c in rgb))


class ConfusionView(QWidget):
    """The 10 x 10 confusion matrix as a clickable, coloured table, with a split chooser.

    ``sample_chosen(split_name, index)`` repeats a gallery's click: connect it to the pad's
    ``load_sample``. ``matrix()`` is the matrix shown (None before a network is measured).
    """

    sample_chosen = Signal(str, int)

    def __init__(self, parent: QWidget | None = None, min_interval: float = MIN_INTERVAL) -> None:
        super().__init__(parent)
        self._min_interval = float(min_interval)
        self._dataset: Dataset | None = None
        self._x: np.ndarray | None = None              # the chosen split's images as float64
        self._network: Network | None = None           # the network the matrix was computed for
        self._pending: Network | None = None
        self._predicted: np.ndarray | None = None
        self._matrix: np.ndarray | None = None
        self._last_compute = -math.inf
        self._cost = 0.0
        self._gallery: MistakesGallery | None = None
        self._gallery_network: Network | None = None   # the network the gallery's tiles come from

        self._split_combo = QComboBox()
        self._split_combo.addItem("Test set", "test")
        self._split_combo.addItem("Training set", "train")
        self._split_combo.setToolTip("Which samples to count: the test set shows how the network does on "
                                     "digits it never trained on")
        self._split_combo.currentIndexChanged.connect(self._on_split_combo_current_index_changed)
        self._summary_label = QLabel(_NO_DATA)
        self._summary_label.setWordWrap(True)

        self.table = QTableWidget(N_CLASSES, N_CLASSES + 1)
        self.table.setHorizontalHeaderLabels([str(d) for d in range(N_CLASSES)] + ["right"])
        self.table.setVerticalHeaderLabels([f"true {d}" for d in range(N_CLASSES)])
        self.table.horizontalHeaderItem(N_CLASSES).setToolTip("How many samples of this digit the network "
                                                             "reads right")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumSize(420, 320)
        for t in range(N_CLASSES):
            for p in range(N_CLASSES + 1):
                item = QTableWidgetItem("")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(t, p, item)
        self.table.cellClicked.connect(self._on_table_cell_clicked)

        axis_label = QLabel("Columns: the digit the network reads · rows: the true digit. "
                            "Click a cell to see its samples.")
        axis_label.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Count on:"))
        top.addWidget(self._split_combo)
        top.addWidget(self._summary_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(axis_label)
        layout.addWidget(self.table, 1)

        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.timeout.connect(self._on_throttle_timeout)
        self._update_split_choice()
        self._show_matrix()

    # -- public API ---------------------------------------------------------------------------------

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Count on ``dataset`` (its test split if it has one); the network is re-measured on it."""
        self._dataset = dataset
        self._update_split_choice()
        self._take_split()

    def update_network(self, network: Network | None) -> None:
        """Measure ``network`` (a snapshot the caller never trains further), at most ~4 times a second
        and only while visible; None clears the matrix."""
        if network is None:
            self._throttle.stop()
            self._pending = self._network = None
            self._predicted = self._matrix = None
            self._show_matrix()
            return
        self._pending = network
        wait = self._last_compute + max(self._min_interval, self._cost / MAX_SHARE) - time.monotonic()
        if not self.isVisible():
            return                                          # showEvent catches up
        if wait <= 0:
            self.refresh()
        elif not self._throttle.isActive():
            self._throttle.start(max(int(wait * 1000), 1))

    def refresh(self) -> None:
        """Measure the waiting network now (visible or not)."""
        self._throttle.stop()
        if self._pending is not None:
            self._network, self._pending = self._pending, None
        self._compute()

    def split_name(self) -> str:
        """``test`` or ``train``: the split counted."""
        return str(self._split_combo.currentData())

    def set_split(self, name: str) -> None:
        """Count on the ``test`` or ``train`` split (if the data set has it)."""
        index = self._split_combo.findData(name)
        if index < 0:
            raise ValueError(f"no split {name!r}; choose 'test' or 'train'")
        self._split_combo.setCurrentIndex(index)

    def matrix(self) -> np.ndarray | None:
        """The matrix shown, (10, 10) int64 (a copy), or None."""
        return None if self._matrix is None else self._matrix.copy()

    def gallery(self) -> MistakesGallery | None:
        """The gallery window, once a cell has been opened."""
        return self._gallery

    def cell_position(self, true: int, predicted: int) -> QPoint:
        """The centre of cell (true, predicted) in ``table.viewport()`` coordinates (for clicks)."""
        return self.table.visualItemRect(self.table.item(true, predicted)).center()

    def open_cell(self, true: int, predicted: int) -> MistakesGallery | None:
        """Show the samples of cell (true, predicted) in the gallery (what a click does); None if there
        is no matrix yet."""
        split = self._split()
        if split is None or self._predicted is None or self._network is None:
            return None
        indices = samples_in_cell(split.labels, self._predicted, true, predicted)
        samples: list[GallerySample] = []
        if indices.size:
            outputs = self._network.predict_proba(self._x[indices])
            classes, values = top_k(outputs, 3)
            for row, i in enumerate(indices.tolist()):
                samples.append(GallerySample(index=i, name=split.names[i], image=split.images[i],
                                             label=int(split.labels[i]), predicted=int(self._predicted[i]),
                                             top_classes=tuple(int(c) for c in classes[row]),
                                             top_values=tuple(float(v) for v in values[row])))
        gallery = self._ensure_gallery()
        self._gallery_network = self._network
        kind = "probabilities" if self._network.output == "softmax" else "outputs"
        gallery.show_cell(self.split_name(), true, predicted, samples, kind)
        gallery.place_beside(self.window())
        gallery.show()
        gallery.raise_()
        return gallery

    def close_gallery(self) -> None:
        if self._gallery is not None:
            self._gallery.close()

    def summary_text(self) -> str:
        return self._summary_label.text()

    # -- helpers ------------------------------------------------------------------------------------

    def _split(self) -> Split | None:
        if self._dataset is None:
            return None
        return self._dataset.test if self.split_name() == "test" else self._dataset.train

    def _update_split_choice(self) -> None:
        has_test = self._dataset is not None and self._dataset.test is not None and len(self._dataset.test) > 0
        blocked = self._split_combo.blockSignals(True)
        try:
            self._split_combo.model().item(0).setEnabled(has_test)
            self._split_combo.setCurrentIndex(0 if has_test else 1)
        finally:
            self._split_combo.blockSignals(blocked)
        self._split_combo.setEnabled(self._dataset is not None)

    def _take_split(self) -> None:
        """Cache the chosen split's images as floats, then re-measure the current network on them."""
        split = self._split()
        self._x = None if split is None else split.images.astype(np.float64)
        self._predicted = self._matrix = None
        self.close_gallery()
        if self._pending is None:
            self._pending = self._network
        self.refresh()

    def _compute(self) -> None:
        started = time.monotonic()
        split, network = self._split(), self._network
        if split is None or network is None or self._x is None or network.sizes[0] != self._x.shape[1]:
            self._predicted = self._matrix = None
        else:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                self._predicted = network.predict(self._x)
            self._matrix = confusion_matrix(split.labels, self._predicted, N_CLASSES)
            if self._gallery is not None and self._gallery.isVisible() and network is not self._gallery_network:
                self._gallery.mark_stale()
            self._last_compute = time.monotonic()       # only a real measurement holds the next back
            self._cost = self._last_compute - started
        self._show_matrix()

    def _show_matrix(self) -> None:
        matrix = self._matrix
        if matrix is None:
            for t in range(N_CLASSES):
                for p in range(N_CLASSES + 1):
                    item = self.table.item(t, p)
                    item.setText("")
                    item.setBackground(QBrush())
                    item.setToolTip("")
            self._summary_label.setText(_NO_DATA if self._dataset is None else _NO_NETWORK)
            return
        rows = matrix.sum(axis=1)
        off = matrix.copy()
        np.fill_diagonal(off, 0)
        worst = max(int(off.max()), 1)
        for t in range(N_CLASSES):
            for p in range(N_CLASSES):
                count = int(matrix[t, p])
                item = self.table.item(t, p)
                item.setText(str(count) if count else "·")
                strength = (count / rows[t] if rows[t] else 0.0) if t == p else count / worst
                color = _shade(_RIGHT if t == p else _WRONG, strength * (1.0 if t == p else 0.85))
                item.setBackground(color)
                item.setForeground(QColor("white") if strength > 0.55 else QColor("black"))
                if t == p:
                    item.setToolTip(f"{count} of the {rows[t]} {t}s are read right. Click to see them.")
                else:
                    item.setToolTip(f"{count} {t}{'s' if count != 1 else ''} read as {p}. Click to see them.")
            right = self.table.item(t, N_CLASSES)
            right.setText(f"{int(matrix[t, t])}/{int(rows[t])}")
            right.setBackground(QBrush())
            right.setForeground(QColor("black"))
        correct, total = int(np.trace(matrix)), int(matrix.sum())
        where = SPLIT_TITLES[self.split_name()]
        share = f" ({100 * correct / total:.1f}%)" if total else ""
        self._summary_label.setText(f"{where.capitalize()}: {correct} of {total} read right{share}.")

    def _ensure_gallery(self) -> MistakesGallery:
        if self._gallery is None:
            self._gallery = MistakesGallery(self)
            self._gallery.sample_chosen.connect(self._on_gallery_sample_chosen)
            self._gallery.refresh_requested.connect(self._on_gallery_refresh_requested)
        return self._gallery

    # -- events and slots ---------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # Qt's name
        super().showEvent(event)
        if self._pending is not None:
            self.refresh()

    @Slot(int, int)
    def _on_table_cell_clicked(self, row: int, column: int) -> None:
        if column < N_CLASSES:
            self.open_cell(row, column)

    @Slot(int)
    def _on_split_combo_current_index_changed(self, _index: int) -> None:
        self._take_split()

    @Slot()
    def _on_throttle_timeout(self) -> None:
        if self.isVisible():
            self.refresh()

    @Slot(str, int)
    def _on_gallery_sample_chosen(self, split_name: str, index: int) -> None:
        self.sample_chosen.emit(split_name, index)

    @Slot()
    def _on_gallery_refresh_requested(self) -> None:
        self.refresh()
        cell = self._gallery.cell() if self._gallery is not None else None
        if cell is not None:
            self.open_cell(*cell)
