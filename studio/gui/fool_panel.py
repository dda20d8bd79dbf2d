"""Fooling the network from the pad: what it looks at, "make it say k", fooling images, "make it unsure".

``FoolPanel`` sits under a ``PadPanel`` and works on its drawing and its network snapshot:

- **What it looks at** (button or L): an overlay on the pad with, for every pixel, the exact change of
  the predicted digit's output if that pixel alone were flipped (``fooling.single_flip_changes``: one
  batched pass of 1,024 flipped copies), red where a flip would raise it, blue where it would lower it,
  with a legend. "Gradient estimate" shows the usual saliency map instead (the gradient times the flip),
  and the legend says how the two differ.
- **Make it say** k (or "anything else"): the improved search finds a small set of flips; the panel plays
  them on the pad one by one (10 a second, the prediction bars moving) and then says how many it took.
  Undo puts the drawing back. **Make it unsure** does the same for "top output below 50%".
- **Fooling image**: from a blank pad, flips until the network is 99% sure of k, then shows the image
  beside the nearest training sample: confidence is not understanding.

Searches and the overlay run on worker threads (``fool_runner``), so the window never waits. What it
leaves out: the searches (``studio.core.fooling``), the pad's painting (``paint_pad.set_overlay``).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QLinearGradient, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from studio.core import fooling
from studio.core.data import Dataset
from studio.core.drawing import GRID_SIZE
from studio.core.fooling import FlipChanges, FlipResult
from studio.core.network import Network
from studio.gui.fool_runner import Job, JobRunner, job
from studio.gui.pad_panel import PadPanel
from studio.gui.paint_pad import overlay_colors

#: Time between two flips while a search's answer is played on the pad (10 a second)...
PLAY_INTERVAL_MS = 100
#: ...unless that would take longer than this: a long answer plays faster (ms in all).
PLAY_LONGEST_MS = 4000
#: A fooling image's climb: at most this many flips per start, and this many random pads after the
#: blank one. A trained network is usually fooled in 5-30 flips; a longer climb would not be watchable.
FOOLING_MAX_STEPS = 150
FOOLING_RESTARTS = 2

_ANYTHING = "anything else"
_EXACT, _GRADIENT = "Exact flip change", "Gradient estimate"
_EXACT_TEXT = ("Each pixel: how output {k} changes if that pixel alone is flipped, measured exactly "
               "(1,024 flipped copies in one pass). Red: the flip raises it; blue: lowers it.")
_GRADIENT_TEXT = ("Each pixel: the gradient's estimate of the same change (d output / d pixel times the "
                  "flip). It sees only the slope at your drawing, so where a sigmoid bends or saturates it "
                  "over- or under-states what a whole flip does: compare with the exact map.")
_FLIPS_TEXT = "Red: ink the search added. Blue: ink it removed."


class OverlayLegend(QWidget):
    """A horizontal colour bar of the pad overlay's map with its ends and zero labelled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._levels = 1.0
        self._labels = ("-1", "0", "+1")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_levels(self, levels: float, labels: tuple[str, str, str] | None = None) -> None:
        """Label the bar for values in ``(-levels, levels)`` (or with ``labels``: left, middle, right)."""
        self._levels = float(levels)
        self._labels = labels or (f"{-levels:+.3g}", "0", f"{levels:+.3g}")
        self.update()

    def labels(self) -> tuple[str, str, str]:
        return self._labels

    def sizeHint(self) -> QSize:
        return QSize(200, 34)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            bar = QRectF(4, 2, self.width() - 8, 14)
            painter.fillRect(bar, QColor(255, 255, 255))
            gradient = QLinearGradient(bar.left(), 0, bar.right(), 0)
            values = np.linspace(-1.0, 1.0, 21)
            for value, (r, g, b, a) in zip(values, overlay_colors(values, 1.0)):
                gradient.setColorAt((value + 1.0) / 2.0, QColor(int(r), int(g), int(b), int(a)))
            painter.fillRect(bar, gradient)
            painter.setPen(QColor(120, 120, 120))
            painter.drawRect(bar)
            painter.setPen(self.palette().windowText().color())
            text = QRectF(bar.left(), bar.bottom() + 1, bar.width(), 16)
            left, middle, right = self._labels
            painter.drawText(text, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), left)
            painter.drawText(text, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), middle)
            painter.drawText(text, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop), right)
        finally:
            painter.end()


def digit_pixmap(image: np.ndarray, side: int = 64) -> QPixmap:
    """A (1024,) 0/1 drawing as a ``side`` x ``side`` pixmap, ink black on white, crisp cells."""
    pixels = np.ascontiguousarray((1 - np.asarray(image).reshape(GRID_SIZE, GRID_SIZE)) * 255, dtype=np.uint8)
    picture = QImage(pixels.data, GRID_SIZE, GRID_SIZE, GRID_SIZE, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(picture.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation))


class FoolPanel(QWidget):
    """The fooling controls for ``pad_panel``'s drawing and network (see the module docstring).

    ``looks_action`` (checkable, shortcut L) toggles the overlay; the window may add it to a menu.
    Call ``set_dataset`` so fooling images can be compared with the training samples, and
    ``shutdown`` before the window closes (it joins the worker threads).
    """

    def __init__(self, pad_panel: PadPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pad_panel = pad_panel
        self._dataset: Dataset | None = None
        self._applying = False                       # the panel itself is changing the drawing
        self._undo_image: np.ndarray | None = None
        self._playing: FlipResult | None = None
        self._fooling_target: int | None = None      # set while the search builds a fooling image
        self._play_step = 0
        self._showing_flips = False
        self._overlay_pending = False
        self._changes: FlipChanges | np.ndarray | None = None

        self.search_runner = JobRunner("fooling search", self)
        self.overlay_runner = JobRunner("fooling overlay", self)
        self._play_timer = QTimer(self)

        self.looks_action = QAction("What it looks at", self)
        self.looks_action.setCheckable(True)
        self.looks_action.setShortcut(QKeySequence(Qt.Key.Key_L))
        self.looks_action.setIconText("What it looks at (L)")      # the button's text
        self.looks_action.setToolTip("Colour every pixel by how much flipping it would change the predicted "
                                     "digit's output (L)")
        self.addAction(self.looks_action)            # active while this panel's window has focus
        self._looks_button = QToolButton()
        self._looks_button.setDefaultAction(self.looks_action)
        self._mode_combo = QComboBox()
        self._mode_combo.addItems([_EXACT, _GRADIENT])
        self._mode_combo.setToolTip("Exact: every single flip measured. Gradient: the usual saliency map, a "
                                    "first-order estimate of the same thing")
        self.legend = OverlayLegend()
        self._legend_text = QLabel()
        self._legend_text.setWordWrap(True)
        self._legend_text.setTextFormat(Qt.TextFormat.PlainText)

        self._target_combo = QComboBox()
        self._target_combo.addItems([_ANYTHING] + [str(k) for k in range(10)])
        self._target_combo.setToolTip("The answer to push the network to")
        self.say_button = QPushButton("Make it say")
        self.say_button.setToolTip("Find a few pixel flips that make the network answer the chosen digit, and "
                                   "play them on the pad")
        self.unsure_button = QPushButton("Make it unsure")
        self.unsure_button.setToolTip("Find the fewest flips that bring the top output below 50%")
        self.fooling_image_button = QPushButton("Fooling image")
        self.fooling_image_button.setToolTip("From a blank pad, flip pixels until the network is 99% sure "
                                             "it sees the chosen digit")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Put back the drawing as it was before the flips")
        self.status_label = QLabel("Draw a digit, then ask the network to change its mind.")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self._fooling_picture = QLabel()
        self._nearest_picture = QLabel()
        for picture in (self._fooling_picture, self._nearest_picture):
            picture.setFrameShape(QLabel.Shape.Box)     # white digits need an edge on a light window
        self._comparison_text = QLabel()
        self._comparison_text.setWordWrap(True)
        self._comparison_text.setTextFormat(Qt.TextFormat.PlainText)

        overlay_row = QHBoxLayout()
        overlay_row.addWidget(self._looks_button)
        overlay_row.addWidget(self._mode_combo)
        overlay_row.addWidget(self.legend, 1)
        actions_row = QHBoxLayout()
        actions_row.addWidget(self.say_button)
        actions_row.addWidget(self._target_combo)
        actions_row.addWidget(self.unsure_button)
        actions_row.addWidget(self.fooling_image_button)
        actions_row.addWidget(self.undo_button)
        actions_row.addStretch(1)
        self._comparison = QWidget()
        comparison_row = QHBoxLayout(self._comparison)
        comparison_row.setContentsMargins(0, 0, 0, 0)
        comparison_row.addWidget(self._fooling_picture)
        comparison_row.addWidget(self._nearest_picture)
        comparison_row.addWidget(self._comparison_text, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(overlay_row)
        layout.addWidget(self._legend_text)
        layout.addLayout(actions_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self._comparison)
        self._comparison.hide()

        self.looks_action.toggled.connect(self._on_looks_action_toggled)
        self._mode_combo.currentIndexChanged.connect(self._on_mode_combo_changed)
        self._target_combo.currentIndexChanged.connect(self._on_target_combo_changed)
        self.say_button.clicked.connect(self._on_say_button_clicked)
        self.unsure_button.clicked.connect(self._on_unsure_button_clicked)
        self.fooling_image_button.clicked.connect(self._on_fooling_image_button_clicked)
        self.undo_button.clicked.connect(self._on_undo_button_clicked)
        self._play_timer.timeout.connect(self._on_play_timer_timeout)
        self.search_runner.result_ready.connect(self._on_search_runner_result_ready)
        self.search_runner.failed.connect(self._on_runner_failed)
        self.search_runner.busy_changed.connect(self._on_search_runner_busy_changed)
        self.overlay_runner.result_ready.connect(self._on_overlay_runner_result_ready)
        self.overlay_runner.failed.connect(self._on_runner_failed)
        pad_panel.prediction_changed.connect(self._on_pad_panel_prediction_changed)
        pad_panel.pad.drawing_changed.connect(self._on_pad_drawing_changed)
        self._update_legend()
        self._update_buttons()

    # -- public API -------------------------------------------------------------------------------

    def set_dataset(self, dataset: Dataset | None) -> None:
        """The data set whose training samples fooling images are compared with (or none)."""
        self._dataset = dataset

    def target(self) -> int | None:
        """The chosen digit, or None for "anything else"."""
        text = self._target_combo.currentText()
        return None if text == _ANYTHING else int(text)

    def set_target(self, target: int | None) -> None:
        self._target_combo.setCurrentIndex(0 if target is None else int(target) + 1)

    def make_it_say(self, target: int | None = None) -> None:
        """Search flips that make the network answer ``target`` (None: anything else), then play them."""
        self.set_target(target)
        self._on_say_button_clicked()

    def is_playing(self) -> bool:
        """Flips are being played on the pad, or a search for them is still running."""
        return self._play_timer.isActive() or self.search_runner.is_busy

    def last_result(self) -> FlipResult | None:
        """The last search's answer (kept after it has been played)."""
        return self._playing

    def overlay_changes(self) -> FlipChanges | None:
        """The exact single-flip changes behind the overlay, when it shows them."""
        return self._changes if isinstance(self._changes, FlipChanges) else None

    def shutdown(self) -> None:
        """Stop playing and join the worker threads."""
        self._play_timer.stop()
        self.search_runner.shutdown()
        self.overlay_runner.shutdown()

    # -- slots ------------------------------------------------------------------------------------

    @Slot(bool)
    def _on_looks_action_toggled(self, on: bool) -> None:
        self._showing_flips = False
        if not on:
            self._changes = None
            self._pad_panel.pad.set_overlay(None)
        self._update_legend()
        self._refresh_overlay()

    @Slot(int)
    def _on_mode_combo_changed(self, _index: int) -> None:
        self._refresh_overlay()
        self._update_legend()

    @Slot(int)
    def _on_target_combo_changed(self, _index: int) -> None:
        self._update_buttons()

    @Slot(object)
    def _on_pad_panel_prediction_changed(self, _outputs: object) -> None:
        self._update_buttons()
        if not self._showing_flips:
            self._refresh_overlay()

    @Slot(object)
    def _on_pad_drawing_changed(self, _image: object) -> None:
        if self._applying:
            return
        # The learner drew: stop playing, and forget the undo point rather than undo their stroke.
        self._play_timer.stop()
        self.search_runner.cancel()
        self._undo_image = None
        if self._showing_flips:
            self._showing_flips = False
            self._pad_panel.pad.set_overlay(None)
            self._update_legend()
        self._update_buttons()

    def _pixels_the_network_reads(self) -> np.ndarray:
        """The pad's drawing as the network reads it. With "Normalise like the data" on, that is a
        resized copy, so flips found on it would land on other pixels of the drawing: the drawing is
        replaced by that copy and normalising is turned off, so that pad, outputs and flips agree."""
        preview = self._pad_panel.input_preview
        image = self._pad_panel.image()
        if preview.normalising():
            seen = preview.network_input(image)
            preview.set_normalising(False)
            if not np.array_equal(seen, image):
                self._set_drawing(seen)
                self.status_label.setText("Fooling flips the pixels the network reads: the pad now shows your "
                                          "drawing as the network saw it, and normalising is off.")
            image = self._pad_panel.image()
        return image

    @Slot()
    def _on_say_button_clicked(self) -> None:
        network, image = self._network(), self._pixels_the_network_reads()
        if network is None or not image.any():
            return
        original = int(np.argmax(fooling.outputs_of(network, image)))
        goal = fooling.say_goal(self.target(), original)
        self._start_search(job(fooling.improved_search, network, image, goal), f"Searching: {goal.description}...")

    @Slot()
    def _on_unsure_button_clicked(self) -> None:
        network, image = self._network(), self._pixels_the_network_reads()
        if network is None or not image.any():
            return
        self._start_search(job(fooling.improved_search, network, image, fooling.unsure_goal()),
                           "Searching for the smallest change that makes it unsure...")

    @Slot()
    def _on_fooling_image_button_clicked(self) -> None:
        network, target = self._network(), self.target()
        if network is None or target is None:
            return
        self._pad_panel.input_preview.set_normalising(False)     # the image it builds is read as it is
        self._start_search(job(fooling.fooling_image, network, target, max_steps=FOOLING_MAX_STEPS,
                               restarts=FOOLING_RESTARTS),
                           f"Building an image the network calls {target} with 99% confidence...")
        self._fooling_target = target

    @Slot()
    def _on_undo_button_clicked(self) -> None:
        if self._undo_image is None:
            return
        self._play_timer.stop()
        self.search_runner.cancel()
        self._showing_flips = False
        self._set_drawing(self._undo_image)
        self._undo_image = None
        self._pad_panel.pad.set_overlay(None)
        self._comparison.hide()
        self.status_label.setText("Your drawing is back.")
        self._update_legend()
        self._update_buttons()
        self._refresh_overlay()

    @Slot(object)
    def _on_search_runner_result_ready(self, result: FlipResult) -> None:
        self._undo_image = self._pad_panel.image()
        self._playing = result
        self._play_step = 0
        self._showing_flips = True
        self._changes = None
        self._set_drawing(result.original)
        self._show_flips(result, 0)
        self._update_legend()
        self.status_label.setText(f"Playing {result.count} flips...")
        self._play_timer.start(max(1, min(PLAY_INTERVAL_MS, PLAY_LONGEST_MS // max(result.count, 1))))
        self._update_buttons()

    @Slot()
    def _on_play_timer_timeout(self) -> None:
        result = self._playing
        if result is None or self._play_step >= result.count:
            self._play_timer.stop()
            self._finish_play()
            return
        self._play_step += 1
        self._set_drawing(fooling.flip(result.original, result.flips[:self._play_step]))
        self._show_flips(result, self._play_step)
        if self._play_step >= result.count:
            self._play_timer.stop()
            self._finish_play()

    @Slot(bool)
    def _on_search_runner_busy_changed(self, _busy: bool) -> None:
        self._update_buttons()

    @Slot(object)
    def _on_overlay_runner_result_ready(self, changes: FlipChanges | np.ndarray) -> None:
        if self._overlay_pending:
            self._overlay_pending = False
            self._refresh_overlay()                   # the drawing changed while this was computed
            return
        if not self.looks_action.isChecked() or self._showing_flips:
            return
        self._changes = changes
        values = changes.changes if isinstance(changes, FlipChanges) else changes
        levels = float(np.max(np.abs(values))) or 1.0
        self._pad_panel.pad.set_overlay(values, levels)
        self.legend.set_levels(levels)
        self._update_legend()

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.status_label.setText(f"Could not finish: {message}")

    # -- helpers ----------------------------------------------------------------------------------

    def _network(self) -> Network | None:
        network = self._pad_panel.network()
        if network is None or network.sizes[0] != GRID_SIZE * GRID_SIZE:
            return None
        return network

    def _start_search(self, work: Job, message: str) -> None:
        self._play_timer.stop()
        self._fooling_target = None
        self.status_label.setText(message)
        self._comparison.hide()
        self.search_runner.start(work)

    def _set_drawing(self, image: np.ndarray) -> None:
        self._applying = True
        try:
            self._pad_panel.pad.set_image(image)
        finally:
            self._applying = False

    def _show_flips(self, result: FlipResult, step: int) -> None:
        """Mark the first ``step`` flips on the pad: red where ink was added, blue where removed."""
        values = np.full(result.original.size, np.nan)
        done = np.asarray(result.flips[:step], dtype=np.int64)
        values[done] = np.where(result.original[done] == 0, 1.0, -1.0)
        self._pad_panel.pad.set_overlay(values, 1.0)

    def _finish_play(self) -> None:
        result = self._playing
        if result is None:
            return
        if self._fooling_target is not None:
            text = self._describe_fooling_image(result, self._fooling_target)
        else:
            text = result.describe()
            self._comparison.hide()
        self.status_label.setText(text)
        self._update_buttons()

    def _describe_fooling_image(self, result: FlipResult, target: int) -> str:
        sure = f"{result.after[target]:.1%}"
        head = (f"{result.count} pixels on a blank pad: the network is {sure} sure this is a {target}."
                if result.reached else
                f"The network could be pushed only to {sure} for {target} ({result.count} pixels).")
        self._fooling_picture.setPixmap(digit_pixmap(result.image))
        if self._dataset is None or len(self._dataset.train) == 0:
            self._nearest_picture.clear()
            self._comparison_text.setText("Open a data set to compare it with the nearest training digit.")
        else:
            train = self._dataset.train
            index, distance = fooling.nearest_sample(train.images, result.image)
            self._nearest_picture.setPixmap(digit_pixmap(train.images[index]))
            self._comparison_text.setText(
                f"Left: the fooling image. Right: the training digit nearest to it ({train.names[index]}, "
                f"a {int(train.labels[index])}), {distance} of 1,024 pixels away. Confidence is not "
                f"understanding.")
        self._comparison.show()
        return head

    def _refresh_overlay(self) -> None:
        """Recompute the overlay for the current drawing and network (on the overlay thread)."""
        if not self.looks_action.isChecked() or self._showing_flips:
            return
        network, image = self._network(), self._pixels_the_network_reads()
        if network is None or not image.any():
            self._changes = None
            self._pad_panel.pad.set_overlay(None)
            return
        if self.overlay_runner.is_busy:
            self._overlay_pending = True
            return
        if self._mode_combo.currentText() == _GRADIENT:
            digit = int(np.argmax(fooling.outputs_of(network, image)))
            self.overlay_runner.start(job(fooling.gradient_saliency, network, image, digit))
        else:
            self.overlay_runner.start(job(fooling.single_flip_changes, network, image))

    def _update_legend(self) -> None:
        if self._showing_flips:
            self.legend.set_levels(1.0, ("removed", "", "added"))
            self._legend_text.setText(_FLIPS_TEXT)
            self.legend.setVisible(True)
            self._legend_text.setVisible(True)
            return
        on = self.looks_action.isChecked()
        self.legend.setVisible(on)
        self._legend_text.setVisible(on)
        if self._mode_combo.currentText() == _GRADIENT:
            self._legend_text.setText(_GRADIENT_TEXT)
        else:
            digit = self._changes.digit if isinstance(self._changes, FlipChanges) else "of the predicted digit"
            self._legend_text.setText(_EXACT_TEXT.format(k=digit))

    def _update_buttons(self) -> None:
        has_network = self._network() is not None
        has_ink = bool(self._pad_panel.image().any())
        busy = self.search_runner.is_busy or self._play_timer.isActive()
        self.say_button.setEnabled(has_network and has_ink and not busy)
        self.unsure_button.setEnabled(has_network and has_ink and not busy)
        self.fooling_image_button.setEnabled(has_network and self.target() is not None and not busy)
        self.undo_button.setEnabled(self._undo_image is not None)
        self.looks_action.setEnabled(has_network)
