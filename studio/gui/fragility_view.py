"""The "Fragility" tab: how many pixel flips change the network's answers on a split, and compared with
another model.

Measure runs ``studio.core.fragility.measure_models`` on a worker thread (``fool_runner``) with a
progress bar and Cancel: for each chosen sample, the fewest flips (the improved search, up to a cap) that
change the current network's answer; with "Compare with model file..." also for a saved model, on the
same samples (the file is read on the worker thread too). The view shows one histogram per model
(flips needed; the last bar is "not changed within the cap"), each model's summary (median, quartiles,
share changed by 1, 3 and 10 flips), and the samples that needed the fewest flips: clicking one sends
it to the pad (``image_chosen``).

Left out: the measuring itself (``studio.core.fragility``), and loading into the pad (the window does).
"""
from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from studio.core.data import Dataset, Split
from studio.core.fooling import DEFAULT_MAX_FLIPS
from studio.core.fragility import Fragility, FragilityProgress, choose_samples, measure_models
from studio.core.model_reader import load_model
from studio.core.network import Network
from studio.gui.fool_panel import digit_pixmap
from studio.gui.fool_runner import JobRunner

#: How many of the easiest samples are shown (per model), clickable into the pad.
EASIEST_SHOWN = 10
#: ...in rows of this many buttons.
EASIEST_PER_ROW = 5
_COLOURS = ((40, 100, 200), (230, 130, 30))


def _measure(network: Network, other_path: str | None, images: np.ndarray, labels: np.ndarray,
             indices: np.ndarray, cap: int) -> Generator[FragilityProgress, None, list[tuple[str, Fragility]]]:
    """The worker's job: read the other model (if any), then measure both on the same samples."""
    models = [("this network", network)]
    if other_path is not None:
        other, _ = load_model(other_path)
        if other.sizes[0] != images.shape[1]:
            raise ValueError(f"{other_path} takes {other.sizes[0]} inputs, not {images.shape[1]} pixels")
        models.append((Path(other_path).name, other))
    return (yield from measure_models(models, images, labels, indices, cap))


class FragilityView(QWidget):
    """Measure and compare how fragile networks are on a split (see the module docstring).

    ``image_chosen(image, text)``: a sample clicked among the easiest, (1024,) uint8, and what it is.
    """

    image_chosen = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._network: Network | None = None
        self._dataset: Dataset | None = None
        self._results: list[tuple[str, Fragility]] = []
        self._split_measured: Split | None = None
        self.runner = JobRunner("fragility", self)

        self._split_combo = QComboBox()
        self._split_combo.addItems(["test", "train"])
        self._samples_spin = QSpinBox()
        self._samples_spin.setRange(1, 100_000)
        self._samples_spin.setValue(200)
        self._samples_spin.setToolTip("How many samples to measure, chosen at random (the same ones for "
                                      "every model); more is slower")
        self._cap_spin = QSpinBox()
        self._cap_spin.setRange(1, 1024)
        self._cap_spin.setValue(DEFAULT_MAX_FLIPS)
        self._cap_spin.setToolTip("Give up on a sample after this many flips")
        self.measure_button = QPushButton("Measure")
        self.measure_button.setToolTip("The fewest pixel flips that change the current network's answer, "
                                       "for each sample")
        self.compare_button = QPushButton("Compare with model file...")
        self.compare_button.setToolTip("Measure the current network and a saved model on the same samples")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status_label = QLabel("Open a data set and train or load a network, then Measure.")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)

        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.setLabel("bottom", "pixel flips needed to change the answer (last bar: not changed)")
        self.plot.setLabel("left", "% of samples")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.addLegend(offset=(-10, 10))
        self.plot.setMouseEnabled(x=False, y=False)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._easiest = QWidget()
        self._easiest_layout = QGridLayout(self._easiest)
        self.easiest_buttons: list[QToolButton] = []

        # Two rows (what to measure; the buttons and the progress): the tab fits a narrow window.
        controls = QHBoxLayout()
        for label, widget in (("Split", self._split_combo), ("Samples", self._samples_spin),
                              ("Cap (flips)", self._cap_spin)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.measure_button)
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary_label)
        layout.addWidget(QLabel("Needed the fewest flips (click to load into the pad):"))
        layout.addWidget(self._easiest)

        self.measure_button.clicked.connect(self._on_measure_button_clicked)
        self.compare_button.clicked.connect(self._on_compare_button_clicked)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.runner.progress.connect(self._on_runner_progress)
        self.runner.result_ready.connect(self._on_runner_result_ready)
        self.runner.failed.connect(self._on_runner_failed)
        self.runner.busy_changed.connect(self._on_runner_busy_changed)
        self._update_buttons()

    # -- public API -------------------------------------------------------------------------------

    def set_network(self, network: Network | None) -> None:
        """The network Measure uses (a snapshot nobody trains further)."""
        self._network = network
        self._update_buttons()

    def set_dataset(self, dataset: Dataset | None) -> None:
        self._dataset = dataset
        has_test = dataset is not None and dataset.test is not None and len(dataset.test) > 0
        self._split_combo.model().item(0).setEnabled(has_test)
        self._split_combo.setCurrentIndex(0 if has_test else 1)
        self._update_buttons()

    def measure(self, other_model: str | Path | None = None, samples: int | None = None,
                cap: int | None = None) -> bool:
        """Start measuring the current network (and ``other_model``, a model file); False if there is
        nothing to measure. ``samples`` and ``cap`` set the spin boxes first."""
        if samples is not None:
            self._samples_spin.setValue(samples)
        if cap is not None:
            self._cap_spin.setValue(cap)
        split = self._split()
        if self._network is None or split is None or len(split) == 0:
            return False
        if self._network.sizes[0] != split.images.shape[1]:
            self.status_label.setText(f"The network takes {self._network.sizes[0]} inputs, not "
                                      f"{split.images.shape[1]} pixels.")
            return False
        indices = choose_samples(len(split), self._samples_spin.value())
        self._split_measured = split
        self.progress.setRange(0, indices.size * (2 if other_model else 1))
        self.progress.setValue(0)
        self.status_label.setText("Measuring...")
        network, path = self._network, None if other_model is None else str(other_model)
        cap = self._cap_spin.value()        # read here: the job runs on the worker thread
        self.runner.start(lambda: _measure(network, path, split.images, split.labels, indices, cap))
        return True

    def results(self) -> list[tuple[str, Fragility]]:
        """The last measurement: ``(model name, Fragility)`` per model."""
        return list(self._results)

    def shutdown(self) -> None:
        """Cancel a measurement and join its thread."""
        self.runner.shutdown()

    # -- slots ------------------------------------------------------------------------------------

    @Slot()
    def _on_measure_button_clicked(self) -> None:
        self.measure()

    @Slot()
    def _on_compare_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Compare with a model", "", "Models (*.npz);;All files (*)")
        if path:
            self.measure(path)

    @Slot(object)
    def _on_runner_progress(self, step: FragilityProgress) -> None:
        self.progress.setValue(step.done)
        self.status_label.setText(f"Measuring... {step.done} of {step.total}")

    @Slot(object)
    def _on_runner_result_ready(self, results: list[tuple[str, Fragility]]) -> None:
        self._results = results
        self.progress.setValue(self.progress.maximum())
        self.status_label.setText(f"Measured {len(results[0][1])} {self._split_combo.currentText()} samples.")
        self._show_histograms()
        self.summary_label.setText("\n".join(f"{name}: {result.summary()}" for name, result in results))
        self._show_easiest()

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.status_label.setText(f"Could not measure: {message}")

    @Slot(bool)
    def _on_runner_busy_changed(self, _busy: bool) -> None:
        self._update_buttons()

    # -- helpers ----------------------------------------------------------------------------------

    def _split(self) -> Split | None:
        if self._dataset is None:
            return None
        return self._dataset.test if self._split_combo.currentText() == "test" else self._dataset.train

    def _update_buttons(self) -> None:
        ready = self._network is not None and self._dataset is not None and not self.runner.is_busy
        self.measure_button.setEnabled(ready)
        self.compare_button.setEnabled(ready)
        self.cancel_button.setEnabled(self.runner.is_busy)

    def _show_histograms(self) -> None:
        self.plot.clear()
        count = len(self._results)
        width = 0.8 / count
        cap = self._results[0][1].cap
        for k, (name, result) in enumerate(self._results):
            shares = 100.0 * result.histogram()[1:] / max(len(result), 1)   # flips 1 .. cap, then "not changed"
            x = np.arange(1, cap + 2) + (k - (count - 1) / 2) * width
            self.plot.addItem(pg.BarGraphItem(x=x, height=shares, width=width, brush=_COLOURS[k % 2],
                                              pen=None, name=name))
        ticks = [(f, str(f)) for f in range(1, cap - 2) if f in (1, 3, 10) or f % 10 == 0] + [(cap + 1, f">{cap}")]
        self.plot.getAxis("bottom").setTicks([ticks])
        self.plot.setXRange(0.4, cap + 1.6)

    def _show_easiest(self) -> None:
        while self._easiest_layout.count():
            item = self._easiest_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.easiest_buttons = []
        split = self._split_measured
        assert split is not None
        for row, (name, result) in enumerate(self._results):
            label = QLabel(name)
            label.setTextFormat(Qt.TextFormat.PlainText)      # a file name is not markup
            self._easiest_layout.addWidget(label, 2 * row, 0)      # two rows of buttons per model: narrow
            for column, position in enumerate(result.easiest(EASIEST_SHOWN), start=1):
                if not result.changed[position]:
                    break
                index = int(result.indices[position])
                flips = int(result.flips[position])
                text = (f"{split.names[index]}: {name} reads {int(result.predicted[position])}, "
                        f"{flips} flip{'s' if flips != 1 else ''} make it {int(result.new_digits[position])}")
                button = QToolButton()
                button.setIcon(QIcon(digit_pixmap(split.images[index], 48)))
                button.setIconSize(QSize(48, 48))
                button.setText(f"{result.predicted[position]}→{result.new_digits[position]}, {flips} flip"
                               + ("s" if flips != 1 else ""))
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
                button.setToolTip(text)
                image = split.images[index].copy()
                button.clicked.connect(lambda _=False, i=image, t=text: self.image_chosen.emit(i.copy(), t))
                self._easiest_layout.addWidget(button, 2 * row + (column - 1) // EASIEST_PER_ROW,
                                               1 + (column - 1) % EASIEST_PER_ROW)
                self.easiest_buttons.append(button)
