"""The "draw a digit" panel: the paint pad, what the network thinks of the drawing, and a sample browser.

Every change to the drawing is run through the panel's network at once (one sample through a
1024-16-16-10 network takes microseconds) and the outputs go to the prediction view. The network is a
snapshot: the caller hands over a copy that is never trained further, so the panel may read it at any
time from the GUI thread. The sample browser loads a training or test image into the pad so the learner
can see what the network makes of real data, and then edit it. An empty pad gets no prediction (a
network's outputs for a blank page mean nothing): the view shows a dash and asks for a drawing. A
network fresh from initialisation (``set_network(network, trained=False)``) is shown as untrained:
its outputs are random, so no digit is named. Opening another data set clears a sample of the old
one from the pad (the learner's own drawing stays). Drawing gives the pad the keyboard focus, and
Delete/Backspace clear it while the focus is in this panel (never while typing in a field).

"Add to my digits as..." only asks for it (``add_to_my_digits_requested``): the window owns the user's
drawings and the dialog that labels them.

What it leaves out: training, loading data sets or models from files, saving drawings, and window-wide
menus (the main window adds ``clear_action`` and ``add_to_my_digits_action`` to menus if it wants).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSpinBox,
                               QVBoxLayout, QWidget)

from studio.core.data import Dataset, Split
from studio.core.drawing import GRID_SIZE
from studio.core.network import Network
from studio.gui.network_input_preview import NetworkInputPreview
from studio.gui.paint_pad import PaintPad
from studio.gui.prediction_view import PredictionView

SplitName = Literal["train", "test"]

_NO_DATA = "No data set loaded."
_OWN_DRAWING = "Your own drawing."
#: The prediction view's hint for an empty pad.
DRAW_HINT = "Draw a digit on the pad to see what the network thinks it is."


class PadPanel(QWidget):
    """Paint pad + prediction view + Clear + a sample browser (split, index, Random).

    ``prediction_changed(p)`` follows every drawing change and every new network: ``p`` is the
    network's outputs for the drawing, a (k,) float array, or ``None`` while the pad is empty (there is
    nothing to predict). Nothing is sent without a network. ``add_to_my_digits_requested()`` asks the
    owner to save the drawing; its action is enabled only while the pad holds ink.
    ``seed`` seeds the generator used by Random.
    """

    prediction_changed = Signal(object)
    add_to_my_digits_requested = Signal()

    def __init__(self, parent: QWidget | None = None, seed: int = 0) -> None:
        super().__init__(parent)
        self._network: Network | None = None
        self._dataset: Dataset | None = None
        self._rng = np.random.default_rng(seed)
        self._loaded: tuple[SplitName, int] | None = None   # the sample in the pad, while unedited
        self._from_sample = False      # the drawing began as a data set's sample (edited or not)
        self._trained = True           # False for a network fresh from initialisation
        self._loading = False

        self.pad = PaintPad()
        self.prediction_view = PredictionView()
        # What the network reads: the drawing normalised like the data set's digits (on by default).
        self.input_preview = NetworkInputPreview()
        self.input_preview.normalise_changed.connect(self._on_input_preview_normalise_changed)

        self.clear_action = QAction("Clear drawing", self)
        self.clear_action.setShortcuts([QKeySequence(Qt.Key.Key_Delete), QKeySequence(Qt.Key.Key_Backspace)])
        self.clear_action.setToolTip("Erase the pad (Delete or Backspace while the pad has the focus: "
                                     "drawing gives it the focus)")
        # Only while the focus is in this panel: elsewhere Delete belongs to the focused field.
        self.clear_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.clear_action.triggered.connect(self._on_clear_action_triggered)
        self.addAction(self.clear_action)

        self._clear_button = QPushButton("Clear")
        self._clear_button.setToolTip("Erase the pad (shortcut: Delete or Backspace)")
        self._clear_button.clicked.connect(self.clear_action.trigger)

        self.add_to_my_digits_action = QAction("Add drawing to my digits...", self)
        self.add_to_my_digits_action.setToolTip("Save the drawing as one of your own digits: you say which "
                                                "digit it is. Your digits can join the training set "
                                                "(\"Train with my digits too\").")
        self.add_to_my_digits_action.triggered.connect(self.add_to_my_digits_requested)
        self.add_to_my_digits_button = QPushButton("Add to my digits as...")
        self.add_to_my_digits_button.setToolTip(self.add_to_my_digits_action.toolTip())
        self.add_to_my_digits_button.clicked.connect(self.add_to_my_digits_action.trigger)

        self._split_combo = QComboBox()
        self._split_combo.addItems(["train", "test"])
        self._split_combo.setToolTip("Which part of the data set to take samples from")
        self._index_spin = QSpinBox()
        self._index_spin.setToolTip("Sample number within the chosen part (from 0); changing it loads "
                                    "the sample into the pad")
        self._index_spin.setKeyboardTracking(False)   # typing "123" loads once, not 1, 12 and 123
        self._random_button = QPushButton("Random")
        self._random_button.setToolTip("Load a randomly chosen sample into the pad")
        self._sample_label = QLabel(_NO_DATA)
        self._sample_label.setWordWrap(True)
        # Two lines reserved: a description that wraps must not move the buttons above it.
        self._sample_label.setFixedHeight(self._sample_label.fontMetrics().lineSpacing() * 2 + 2)
        self._sample_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._sample_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        self._split_combo.currentIndexChanged.connect(self._on_split_combo_changed)
        self._index_spin.valueChanged.connect(self._on_index_spin_changed)
        self._random_button.clicked.connect(self._on_random_button_clicked)
        self.pad.drawing_changed.connect(self._on_pad_drawing_changed)

        browser = QGroupBox("Samples from the data set")
        row = QHBoxLayout()
        row.addWidget(self._split_combo)
        row.addWidget(self._index_spin, 1)
        row.addWidget(self._random_button)
        browser_layout = QVBoxLayout(browser)
        browser_layout.addLayout(row)
        browser_layout.addWidget(self._sample_label)

        right = QVBoxLayout()
        right.addWidget(self.input_preview)
        right.addWidget(self.prediction_view, 1)
        right.addWidget(browser)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_to_my_digits_button)
        buttons.addStretch(1)
        right.addLayout(buttons)
        # Clear under the pad it clears (and out of the right column, which sets the panel's width).
        left = QVBoxLayout()
        left.addWidget(self.pad, 1)
        left.addWidget(self._clear_button, 0, Qt.AlignmentFlag.AlignLeft)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)         # the window's box around it has its own
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

        self._update_browser()
        self._update_add_action(self.pad.image())
        self._predict()

    # -- public API -------------------------------------------------------------------------------

    def set_network(self, network: Network | None, trained: bool = True) -> None:
        """Predict with ``network`` from now on (a snapshot the caller never trains further), or none.

        ``trained=False`` for a network fresh from initialisation: its outputs are random, and the
        view says so instead of showing a big, confident-looking digit."""
        self._network = network
        self._trained = bool(trained)
        self._predict()

    def network(self) -> Network | None:
        return self._network

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Browse the samples of ``dataset`` (or none). The learner's own drawing is kept; a sample
        of the previous data set (edited or not) is cleared: it is not theirs, nor of this set."""
        self._dataset = dataset
        self.input_preview.set_dataset(dataset)
        self._loaded = None
        self._update_browser()
        if self._from_sample:
            self.pad.clear()
        self._sample_label.setText(_NO_DATA if dataset is None else _OWN_DRAWING)

    def image(self) -> np.ndarray:
        """A copy of the pad drawing, (1024,) uint8."""
        return self.pad.image()

    def clear(self) -> None:
        """Erase the pad."""
        self.pad.clear()

    def load_sample(self, split: SplitName, index: int) -> None:
        """Put sample ``index`` of the ``train`` or ``test`` split into the pad; show its name and label."""
        data = self._split(split)
        if data is None:
            raise ValueError(f"there is no {split} split to load from")
        if not 0 <= index < len(data):
            raise ValueError(f"sample {index} does not exist: the {split} split has {len(data)} samples")
        self._set_browser_position(split, index)
        self._loading = True
        try:
            self.pad.set_image(data.images[index])
        finally:
            self._loading = False
        self._loaded = (split, index)
        self._from_sample = True
        self._sample_label.setText(self._describe(split, index))

    def random_sample(self, seed: int | None = None) -> int:
        """Load a random sample of the chosen split and return its index.

        Draws from the panel's own generator; ``seed`` first replaces it with ``default_rng(seed)``.
        """
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        split = self.current_split()
        data = self._split(split)
        if data is None or len(data) == 0:
            raise ValueError(f"there are no {split} samples to choose from")
        index = int(self._rng.integers(len(data)))
        self.load_sample(split, index)
        return index

    def current_split(self) -> SplitName:
        return "test" if self._split_combo.currentText() == "test" else "train"

    def sample_text(self) -> str:
        """The browser's description of what is in the pad, such as ``sample 3_17.txt, label 3``."""
        return self._sample_label.text()

    # -- slots ------------------------------------------------------------------------------------

    def _on_clear_action_triggered(self) -> None:
        self.pad.clear()

    def _on_pad_drawing_changed(self, image: np.ndarray) -> None:
        if not self._loading:
            if not image.any():
                self._sample_label.setText(_NO_DATA if self._dataset is None else _OWN_DRAWING)
                self._loaded = None
                self._from_sample = False
            elif self._loaded is not None:
                self._sample_label.setText(self._describe(*self._loaded) + ", edited")
                self._loaded = None
        self._update_add_action(image)
        self._predict(image)

    def _on_input_preview_normalise_changed(self, _on: bool) -> None:
        self._predict()

    def _on_split_combo_changed(self, _index: int) -> None:
        self._update_index_range()
        self._load_from_browser()

    def _on_index_spin_changed(self, _value: int) -> None:
        self._load_from_browser()

    def _on_random_button_clicked(self) -> None:
        self.random_sample()

    # -- helpers ----------------------------------------------------------------------------------

    def _predict(self, image: np.ndarray | None = None) -> None:
        if image is None:
            image = self.pad.image()
        # What the network reads, and the preview shows: normalised like the data when that is on.
        image = self.input_preview.network_input(image)
        network = self._network
        if network is None:
            self.prediction_view.set_probabilities(None)
            return
        if network.sizes[0] != GRID_SIZE * GRID_SIZE:
            self.prediction_view.set_probabilities(None)
            self.prediction_view.setToolTip(f"This model takes {network.sizes[0]} inputs, not a "
                                            f"{GRID_SIZE}x{GRID_SIZE} drawing.")
            return
        self.prediction_view.setToolTip("")
        if not image.any():
            self.prediction_view.show_hint(DRAW_HINT)
            self.prediction_changed.emit(None)
            return
        p = network.predict_proba(image[None].astype(np.float64))[0]
        self.prediction_view.set_probabilities(p, trained=self._trained)
        self.prediction_changed.emit(p.copy())

    def _update_add_action(self, image: np.ndarray) -> None:
        has_ink = bool(image.any())
        self.add_to_my_digits_action.setEnabled(has_ink)
        self.add_to_my_digits_button.setEnabled(has_ink)

    def _split(self, split: SplitName) -> Split | None:
        if self._dataset is None:
            return None
        return self._dataset.train if split == "train" else self._dataset.test

    def _describe(self, split: SplitName, index: int) -> str:
        data = self._split(split)
        assert data is not None
        return f"sample {data.names[index]}, label {int(data.labels[index])} ({split} #{index})"

    def _update_browser(self) -> None:
        has_data = self._dataset is not None
        has_test = has_data and self._dataset.test is not None and len(self._dataset.test) > 0
        was_blocked = self._split_combo.blockSignals(True)
        try:
            if not has_test:
                self._split_combo.setCurrentIndex(0)
            self._split_combo.model().item(1).setEnabled(has_test)
        finally:
            self._split_combo.blockSignals(was_blocked)
        self._split_combo.setEnabled(has_data)
        self._update_index_range()

    def _update_index_range(self) -> None:
        data = self._split(self.current_split())
        n = 0 if data is None else len(data)
        was_blocked = self._index_spin.blockSignals(True)
        try:
            self._index_spin.setRange(0, max(n - 1, 0))
        finally:
            self._index_spin.blockSignals(was_blocked)
        self._index_spin.setEnabled(n > 0)
        self._random_button.setEnabled(n > 0)

    def _set_browser_position(self, split: SplitName, index: int) -> None:
        """Show ``split`` and ``index`` in the browser without loading again."""
        combo_blocked = self._split_combo.blockSignals(True)
        spin_blocked = self._index_spin.blockSignals(True)
        try:
            self._split_combo.setCurrentIndex(1 if split == "test" else 0)
            self._update_index_range()
            self._index_spin.setValue(index)
        finally:
            self._split_combo.blockSignals(combo_blocked)
            self._index_spin.blockSignals(spin_blocked)

    def _load_from_browser(self) -> None:
        split = self.current_split()
        data = self._split(split)
        if data is None or len(data) == 0:
            return
        self.load_sample(split, self._index_spin.value())
