""""What the network sees": the pad drawing as it goes into the network, and the option that shapes it.

With "Normalise like the data" on (the default), a drawing is deslanted, boxed, centred and given the
stroke width of the loaded data set's digits (``studio.core.pad_normalise``) before the network reads
it; the small picture shows exactly those 32x32 inputs. The data set's typical geometry is measured
when a data set is given (on at most ``STYLE_SAMPLE`` of its training images, so a 60,000-image set
costs no more than a small one); without one, the tutorial's digits are the model.

Left out: the pad itself, the network and the prediction (``pad_panel.py`` owns those and asks this
widget for ``network_input``).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from studio.core.data import Dataset
from studio.core.pad_normalise import TUTORIAL_STYLE, DigitStyle, normalise_drawing, style_of

#: Most training images measured for the data set's typical digit geometry.
STYLE_SAMPLE = 2000
#: Screen pixels per input pixel in the picture.
ZOOM = 3

NORMALISE_TIP = ("Before the network reads your drawing, scale it to the height, width and position of "
                 "the data set's digits, stand it upright and match their stroke width, as the data set's "
                 "own digits were prepared. A network trained on such digits reads drawings far more "
                 "reliably this way. Off: the network reads the pad exactly as drawn.")


class NetworkInputPreview(QWidget):
    """A check box "Normalise like the data" and a small picture of the network's 32x32 input.

    ``normalise_changed(bool)`` follows the check box. ``network_input(drawing)`` returns what the
    network should read for a pad drawing and shows it; ``show_input(image)`` shows an image as is.
    ``chosen_normalising()`` is the user's own choice, the one the window remembers between launches:
    ``set_normalising`` (the fooling panel turns normalising off for its searches) leaves it alone.
    """

    normalise_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._style: DigitStyle = TUTORIAL_STYLE
        self.normalise_check = QCheckBox("Normalise like the data")
        self.normalise_check.setChecked(True)
        self.normalise_check.setToolTip(NORMALISE_TIP)
        self.normalise_check.toggled.connect(self._on_normalise_check_toggled)
        self.normalise_check.clicked.connect(self._on_normalise_check_clicked)   # the user, not the program
        self._chosen = True
        self.picture = QLabel()
        self.picture.setFixedSize(32 * ZOOM + 2, 32 * ZOOM + 2)
        self.picture.setStyleSheet("QLabel { border: 1px solid #888; background: white; }")
        self.picture.setToolTip("What the network sees: the 32x32 image it reads for the pad's drawing.")
        caption = QLabel("What the network sees")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(caption)
        layout.addWidget(self.picture)
        layout.addWidget(self.normalise_check)
        self._shown = np.zeros(32 * 32, dtype=np.uint8)
        self.show_input(self._shown)

    # -- public API -------------------------------------------------------------------------------

    def normalising(self) -> bool:
        return self.normalise_check.isChecked()

    def set_normalising(self, on: bool) -> None:
        """Turn normalising on or off for now, without changing the user's choice."""
        self.normalise_check.setChecked(on)

    def chosen_normalising(self) -> bool:
        """What the user last chose with the check box (or ``choose_normalising``): the value to remember."""
        return self._chosen

    def choose_normalising(self, on: bool) -> None:
        """Set the check box as the user's own choice (the remembered one, at launch)."""
        self._chosen = bool(on)
        self.normalise_check.setChecked(self._chosen)

    def style(self) -> DigitStyle:
        return self._style

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Measure the typical digit of ``dataset``'s training images (the tutorial's without one)."""
        self._style = TUTORIAL_STYLE
        if dataset is not None and len(dataset.train) > 0:
            images = dataset.train.images
            step = max(1, len(images) // STYLE_SAMPLE)
            try:
                self._style = style_of(images[::step])
            except ValueError:          # no image with ink: keep the tutorial's geometry
                pass

    def network_input(self, drawing: np.ndarray) -> np.ndarray:
        """(1024,) uint8: ``drawing`` normalised when the option is on, else a copy; shown in the picture."""
        image = normalise_drawing(drawing, self._style) if self.normalising() else np.array(drawing, np.uint8)
        image = image.reshape(32 * 32)
        self.show_input(image)
        return image

    def show_input(self, image: np.ndarray) -> None:
        """Show ``image`` (1024,) 0/1 as the network's input."""
        self._shown = np.array(image, dtype=np.uint8).reshape(32 * 32)
        grey = np.ascontiguousarray(255 - 255 * self._shown.reshape(32, 32).astype(np.uint8))
        qimage = QImage(grey.data, 32, 32, 32, QImage.Format.Format_Grayscale8).copy()
        self.picture.setPixmap(QPixmap.fromImage(qimage).scaled(
            32 * ZOOM, 32 * ZOOM, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation))

    def shown(self) -> np.ndarray:
        """A copy of the image in the picture, (1024,) uint8."""
        return self._shown.copy()

    # -- slots ------------------------------------------------------------------------------------

    def _on_normalise_check_toggled(self, on: bool) -> None:
        self.normalise_changed.emit(on)

    def _on_normalise_check_clicked(self, on: bool) -> None:
        self._chosen = on
