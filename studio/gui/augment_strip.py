""""What training sees": a few training digits over the copies a run trains on, under the current settings.

Augmentation (random shifts, rotations, stretches, slants, thicker or thinner strokes, elastic bends;
``studio.core.augment``) changes what a network learns from, and its effect is best judged by eye: too
strong and a 6 turns into a 0. The strip shows one training digit per class (as in the data)
and below each the image a run would train on in one epoch (``augment.epoch_images`` with the
settings' augmentations, shift and seed). "New draw" shows the next epoch's draw. Each epoch some
digits (``augment.KEEP_FRACTION``) are trained on as they are, so some copies match their original.

Left out: training and the settings form (the window calls ``set_config`` when the settings change and
``set_dataset`` when a data set is loaded).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.core.augment import AUGMENT_DESCRIPTIONS, epoch_images
from studio.core.data import Dataset
from studio.core.training import TrainingConfig

#: Digits shown (one per class, 0 to 9), in rows of COLUMNS digits, each over its augmented copy.
EXAMPLES = 10
COLUMNS = 5
#: Screen pixels per image pixel.
ZOOM = 1.5
SHOWN_SIDE = round(32 * ZOOM)


def _pixmap(image: np.ndarray) -> QPixmap:
    grey = np.ascontiguousarray(255 - 255 * np.asarray(image, np.uint8).reshape(32, 32))
    qimage = QImage(grey.data, 32, 32, 32, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(SHOWN_SIDE, SHOWN_SIDE, Qt.AspectRatioMode.IgnoreAspectRatio,
                                            Qt.TransformationMode.FastTransformation)


class AugmentStrip(QWidget):
    """Small pictures of training digits, each above the same digit as a run's epoch sees it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._originals = np.zeros((0, 32 * 32), np.uint8)
        self._config = TrainingConfig()
        self._epoch = 1
        self._shown = np.zeros((0, 32 * 32), np.uint8)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.new_draw_button = QPushButton("New draw")
        self.new_draw_button.setToolTip("Show the next epoch's random draw of the same digits")
        self.new_draw_button.clicked.connect(self._on_new_draw_button_clicked)
        self._originals_row = [QLabel() for _ in range(EXAMPLES)]
        self._augmented_row = [QLabel() for _ in range(EXAMPLES)]
        grid = QGridLayout()
        grid.setSpacing(2)
        for i, (top, bottom) in enumerate(zip(self._originals_row, self._augmented_row)):
            for row, label in enumerate((top, bottom)):
                label.setFixedSize(SHOWN_SIDE, SHOWN_SIDE)
                grid.addWidget(label, 2 * (i // COLUMNS) + row, i % COLUMNS)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(grid)
        layout.addWidget(self.new_draw_button)
        self._refresh()

    # -- public API -------------------------------------------------------------------------------

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show the first training digit of each class of ``dataset`` (nothing without one)."""
        if dataset is None or len(dataset.train) == 0:
            self._originals = np.zeros((0, 32 * 32), np.uint8)
        else:
            labels = dataset.train.labels
            firsts = [int(np.argmax(labels == d)) for d in range(10) if (labels == d).any()]
            self._originals = dataset.train.images[firsts[:EXAMPLES]].copy()
        self._refresh()

    def set_config(self, config: TrainingConfig) -> None:
        """Redraw with ``config``'s augmentations, shift and seed (from epoch 1) if they changed."""
        key = (config.augment, config.shift, config.seed)
        if key != (self._config.augment, self._config.shift, self._config.seed):
            self._epoch = 1
        self._config = config
        self._refresh()

    def originals(self) -> np.ndarray:
        """A copy of the top row's images, (k, 1024) uint8."""
        return self._originals.copy()

    def shown(self) -> np.ndarray:
        """A copy of the bottom row's images (what training sees), (k, 1024) uint8."""
        return self._shown.copy()

    def epoch(self) -> int:
        """The epoch whose draw is shown (from 1)."""
        return self._epoch

    # -- slots ------------------------------------------------------------------------------------

    def _on_new_draw_button_clicked(self) -> None:
        self._epoch += 1
        self._refresh()

    # -- helpers ----------------------------------------------------------------------------------

    def _refresh(self) -> None:
        config = self._config
        self._shown = np.asarray(epoch_images(self._originals, config.augment, config.shift, config.seed,
                                              self._epoch)).copy()
        for i, (top, bottom) in enumerate(zip(self._originals_row, self._augmented_row)):
            if i < len(self._originals):
                top.setPixmap(_pixmap(self._originals[i]))
                bottom.setPixmap(_pixmap(self._shown[i]))
            else:
                top.clear()
                bottom.clear()
        names = list(config.augment) + ([f"shift {config.shift} px"] if config.shift else [])
        what = ", ".join(names) if names else "no augmentation: the digits as they are"
        self.title.setText(f"Each digit from the data over its copy in epoch {self._epoch}: {what}")
        self.title.setToolTip("\n".join(f"{name}: {AUGMENT_DESCRIPTIONS[name]}" for name in config.augment))
        self.new_draw_button.setEnabled(bool(names) and len(self._originals) > 0)
