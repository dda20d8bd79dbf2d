"""The "One update" tab: one per-sample SGD update of the current network, walked through stage by stage.

The learner picks a sample (the pad's drawing with a label they choose, a data set sample, or the
mistake last chosen in the Mistakes gallery) and walks with ← / → or the slider through the stages of
``studio.core.explain``: input, each layer's z and a, output and target, loss, the deltas backwards,
the gradients, the step. Each stage shows its formula as rich text, its vectors as bars (or, for the
input and the first layer's gradient, as 32x32 pictures beside the unit's current weights), a sentence
derived from its numbers, and one unit's own sum written out: click any unit to see it.

"Apply this update" performs exactly that step and shows the outputs and loss before and after; Undo
puts the weights back. The view does not own the network: it sends the new weights with
``weights_changed(network)`` and the window copies them into its network, then hands the view the new
snapshot like every other view. Both buttons are disabled while a run is live (``set_run_live``).

Left out: every number (``studio.core.explain`` computes them with the readable engine), training and
files. Work is done only while the tab is visible: a snapshot that arrives while hidden is taken when
it is shown.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox,
                               QStackedWidget, QVBoxLayout, QWidget)

from studio.core.data import Dataset, Split
from studio.core.explain import DEFAULT_LR, Walkthrough, explain_update
from studio.core.formula_text import num, sub, to_html
from studio.core.network import Network
from studio.gui.unit_plots import PicturePair, VectorBars

SourceName = Literal["pad", "dataset", "mistake"]
SOURCES: tuple[tuple[SourceName, str], ...] = (("pad", "The pad's drawing"), ("dataset", "A data set sample"),
                                               ("mistake", "The chosen mistake"))
_NO_NETWORK = "No network yet: open a data set to build one."
_NO_MISTAKE = "No mistake chosen: click a cell in the Mistakes tab, then a sample in its gallery."
_NO_DATA = "No data set loaded."
_LIVE = "A run is training this network: stop it to apply an update."


def _same_weights(a: Network, b: Network) -> bool:
    return a.sizes == b.sizes and all(np.array_equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


class OneUpdateView(QWidget):
    """Sample chooser, stage slider, formula, bars or pictures, a worked unit, a reading, Apply / Undo.

    ``weights_changed(network)`` carries a new ``Network`` (a copy) whose weights the owner should
    put into its own network: after "Apply this update", the stepped weights; after Undo, the old ones.
    """

    weights_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._network: Network | None = None
        self._dataset: Dataset | None = None
        self._pad_image = np.zeros(1024)
        self._mistake: tuple[str, int] | None = None
        self._lr = DEFAULT_LR
        self._live = False
        self._walk: Walkthrough | None = None
        self._stale = True
        self._unit: int | None = None            # the clicked unit, None: the stage's default
        self._sent: Network | None = None        # the weights Apply or Undo sent, while they are the network's
        self._undo: Network | None = None        # the weights before the applied update
        self._result_text = ""
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self._source_combo = QComboBox()
        for _, text in SOURCES:
            self._source_combo.addItem(text)
        self._source_combo.setToolTip("Which sample the update is computed on")
        self._label_spin = QSpinBox()
        self._label_spin.setRange(0, 9)
        self._label_spin.setPrefix("target digit ")
        self._label_spin.setToolTip("The digit your drawing shows: the target y the loss compares the outputs with")
        self._split_combo = QComboBox()
        self._split_combo.addItems(["train", "test"])
        self._index_spin = QSpinBox()
        self._index_spin.setPrefix("sample ")
        self._index_spin.setKeyboardTracking(False)
        self._sample_label = QLabel("")
        self._sample_label.setTextFormat(Qt.TextFormat.PlainText)   # it may quote a file name
        self._sample_label.setWordWrap(True)      # long texts wrap: the tab fits a narrow window
        for signal in (self._source_combo.currentIndexChanged, self._label_spin.valueChanged,
                       self._split_combo.currentIndexChanged, self._index_spin.valueChanged):
            signal.connect(self._on_sample_controls_changed)

        self._previous_button = QPushButton("◀")
        self._next_button = QPushButton("▶")
        self._previous_button.setToolTip("The previous stage (←)")
        self._next_button.setToolTip("The next stage (→)")
        self._previous_button.clicked.connect(self._on_previous_button_clicked)
        self._next_button.clicked.connect(self._on_next_button_clicked)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self._stage_label = QLabel("")
        self._stage_label.setTextFormat(Qt.TextFormat.RichText)

        self._formula_label = QLabel("")
        self._formula_label.setTextFormat(Qt.TextFormat.RichText)
        self._formula_label.setStyleSheet("font-size: 15pt; padding: 2px 6px;")
        self._formula_label.setWordWrap(True)
        self.bars = VectorBars()
        self.pictures = PicturePair()
        self._plots = QStackedWidget()
        self._plots.addWidget(self.bars)
        self._plots.addWidget(self.pictures)
        for plot in (self.bars, self.pictures):
            plot.unit_clicked.connect(self._on_plot_unit_clicked)
            plot.unit_hovered.connect(self._on_plot_unit_hovered)
        self._hover_label = QLabel("Hover a unit for its numbers; click it to see its sum written out.")
        self._hover_label.setTextFormat(Qt.TextFormat.PlainText)
        self._work_label = QLabel("")
        self._work_label.setTextFormat(Qt.TextFormat.RichText)
        self._work_label.setWordWrap(True)
        self._work_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._reading_label = QLabel("")
        self._reading_label.setTextFormat(Qt.TextFormat.RichText)
        self._reading_label.setWordWrap(True)

        self.apply_button = QPushButton("Apply this update")
        self.apply_button.setToolTip("Take this one SGD step on the network: W ← W − η ∂C/∂W for every layer")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Put back the weights the network had before the update")
        self.apply_button.clicked.connect(self._on_apply_button_clicked)
        self.undo_button.clicked.connect(self._on_undo_button_clicked)
        self._result_label = QLabel("")
        self._result_label.setTextFormat(Qt.TextFormat.RichText)
        self._result_label.setWordWrap(True)

        sample_row = QHBoxLayout()
        sample_row.addWidget(QLabel("Sample:"))
        for widget in (self._source_combo, self._label_spin, self._split_combo, self._index_spin):
            sample_row.addWidget(widget)
        sample_row.addWidget(self._sample_label, 1)
        stage_row = QHBoxLayout()
        stage_row.addWidget(self._previous_button)
        stage_row.addWidget(self.slider, 1)
        stage_row.addWidget(self._next_button)
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.apply_button)
        apply_row.addWidget(self.undo_button)
        apply_row.addWidget(self._result_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(sample_row)
        layout.addLayout(stage_row)
        layout.addWidget(self._stage_label)
        layout.addWidget(self._formula_label)
        layout.addWidget(self._plots, 1)
        layout.addWidget(self._hover_label)
        layout.addWidget(self._work_label)
        layout.addWidget(self._reading_label)
        layout.addLayout(apply_row)
        self._update_sample_controls()
        self._show()

    # -- what the window hands over --------------------------------------------------------------

    def set_network(self, network: Network | None) -> None:
        """The latest snapshot (a copy nobody trains). Undo and the result stay while it holds the
        weights this view sent; any other network (training went on, a new one) forgets them."""
        self._network = network
        if network is None or self._sent is None or not _same_weights(network, self._sent):
            self._sent = self._undo = None
            self._result_text = ""
        self._invalidate()

    def set_dataset(self, dataset: Dataset | None) -> None:
        self._dataset = dataset
        self._mistake = None
        self._update_sample_controls()
        self._invalidate()

    def set_pad_drawing(self, image: np.ndarray) -> None:
        """The pad's drawing, (1024,) or (32, 32) of 0/1."""
        self._pad_image = np.asarray(image, dtype=np.float64).reshape(-1).copy()
        if self.source() == "pad":
            self._invalidate()

    def set_mistake(self, split: str, index: int) -> None:
        """The sample last chosen in the Mistakes gallery (``split`` 'test' or 'train')."""
        self._mistake = ("test" if split == "test" else "train", int(index))
        if self.source() == "mistake":
            self._invalidate()

    def set_learning_rate(self, lr: float) -> None:
        if np.isfinite(lr) and lr > 0 and lr != self._lr:
            self._lr = float(lr)
            self._invalidate()

    def set_run_live(self, live: bool) -> None:
        """While a run trains the network, the update cannot be applied or undone."""
        self._live = bool(live)
        self._update_buttons()

    # -- steering (the controls call these; so do tests) ----------------------------------------

    def source(self) -> SourceName:
        return SOURCES[self._source_combo.currentIndex()][0]

    def set_source(self, source: SourceName) -> None:
        self._source_combo.setCurrentIndex([name for name, _ in SOURCES].index(source))

    def set_label(self, label: int) -> None:
        """The target digit for the pad's drawing."""
        self._label_spin.setValue(label)

    def set_sample(self, split: str, index: int) -> None:
        """Use sample ``index`` of the ``train`` or ``test`` split."""
        self._split_combo.setCurrentText(split)
        self._index_spin.setValue(index)

    @property
    def walkthrough(self) -> Walkthrough | None:
        self._refresh_if_stale()
        return self._walk

    def stage_index(self) -> int:
        return self.slider.value()

    def set_stage(self, index: int) -> None:
        self.slider.setValue(index)

    def selected_unit(self) -> int | None:
        walk = self.walkthrough
        if walk is None:
            return None
        return self._unit if self._unit is not None else walk.stages[self.stage_index()].default_unit

    def select_unit(self, unit: int) -> None:
        self._unit = unit
        self._show_unit()

    def formula_text(self) -> str:
        return self._formula_label.text()

    def work_text(self) -> str:
        return self._work_label.text()

    def reading_text(self) -> str:
        return self._reading_label.text()

    def result_text(self) -> str:
        return self._result_label.text()

    def hover_text(self) -> str:
        return self._hover_label.text()

    def apply_update(self) -> bool:
        """Apply the shown step: send the new weights; False when it cannot be applied now."""
        walk = self.walkthrough
        if walk is None or self._live:
            return False
        result = walk.apply()
        self._undo, self._sent = result.before.copy(), result.after.copy()
        before, after = result.outputs_before, result.outputs_after
        label = walk.label
        self._result_text = (f"Applied (η = {num(walk.lr)}): loss {num(result.loss_before)} → "
                             f"<b>{num(result.loss_after)}</b>; a{sub(label)} (the target) {num(before[label])} → "
                             f"<b>{num(after[label])}</b>; reads {int(np.argmax(before))} → "
                             f"{int(np.argmax(after))}")
        self.weights_changed.emit(result.after.copy())
        self._update_buttons()
        self._result_label.setText(self._result_text)
        return True

    def undo_update(self) -> bool:
        """Send the weights from before the last applied update; False when there is none."""
        if self._undo is None or self._live:
            return False
        old, self._undo, self._sent = self._undo, None, self._undo
        self._result_text = "Undone: the network has its weights from before the update again."
        self.weights_changed.emit(old.copy())
        self._update_buttons()
        self._result_label.setText(self._result_text)
        return True

    # -- computing and showing ------------------------------------------------------------------------

    def _invalidate(self) -> None:
        self._stale = True
        if self.isVisible():
            self._refresh_if_stale()

    def _sample(self) -> tuple[np.ndarray, int, str] | str:
        """(x, label, description) of the chosen sample, or why there is none."""
        source = self.source()
        if source == "pad":
            inked = int(np.count_nonzero(self._pad_image))
            note = "" if inked else " (empty: draw on the pad in the Training tab)"
            return self._pad_image, self._label_spin.value(), f"The pad's drawing, {inked} pixels of ink{note}"
        if self._dataset is None:
            return _NO_DATA
        if source == "mistake":
            if self._mistake is None:
                return _NO_MISTAKE
            split_name, index = self._mistake
        else:
            split_name, index = self._split_combo.currentText(), self._index_spin.value()
        split = self._split(split_name)
        if split is None or not 0 <= index < len(split):
            return f"There is no {split_name} sample {index}."
        label = int(split.labels[index])
        return split.images[index].astype(np.float64), label, f"{split_name} sample {index} ({split.names[index]}), a {label}"

    def _split(self, name: str) -> Split | None:
        if self._dataset is None:
            return None
        return self._dataset.test if name == "test" else self._dataset.train

    def _refresh_if_stale(self) -> None:
        if not self._stale:
            return
        self._stale = False
        self._walk = None
        sample = self._sample()
        if self._network is None:
            self._sample_label.setText(_NO_NETWORK)
        elif isinstance(sample, str):
            self._sample_label.setText(sample)
        else:
            x, label, text = sample
            try:
                self._walk = explain_update(self._network, x, label, self._lr)
                self._sample_label.setText(text)
            except ValueError as error:       # a network of another shape than the samples
                self._sample_label.setText(str(error))
        self._show()

    def _show(self) -> None:
        walk = self._walk
        stages = len(walk.stages) if walk is not None else 1
        blocked = self.slider.blockSignals(True)
        self.slider.setRange(0, stages - 1)
        self.slider.blockSignals(blocked)
        self.slider.setEnabled(walk is not None)
        if walk is None:
            self._stage_label.setText("")
            self._formula_label.setText("")
            self._work_label.setText("")
            self._reading_label.setText("")
            self.bars.set_vectors([])
        else:
            self._show_stage()
        self._update_buttons()
        self._result_label.setText(self._result_text)

    def _show_stage(self) -> None:
        walk = self._walk
        index = self.stage_index()
        stage = walk.stages[index]
        self._previous_button.setEnabled(index > 0)
        self._next_button.setEnabled(index < len(walk.stages) - 1)
        self._stage_label.setText(f"Stage {index + 1} of {len(walk.stages)}: <b>{to_html(stage.title)}</b>")
        self._formula_label.setText(stage.formula_html)
        self._reading_label.setText(to_html(stage.reading))
        if self._unit is not None and not 0 <= self._unit < stage.units:
            self._unit = None
        unit = self.selected_unit()
        if stage.kind == "input":
            self._plots.setCurrentWidget(self.pictures)
            self.pictures.show_drawing(walk.x, unit)
        elif stage.kind == "gradient" and stage.layer == 1 and _is_picture(walk):
            gradient, weights = walk.first_layer_pictures()
            self._plots.setCurrentWidget(self.pictures)
            self.pictures.show_tiles(gradient, weights, ("∂C/∂W¹", "W¹"),
                                     ("∂C/∂W¹ = δ¹ xᵀ, one picture per unit (the step subtracts η times it)",
                                      "W¹ now: each unit's weights"), unit)
        else:
            self._plots.setCurrentWidget(self.bars)
            self.bars.set_vectors(stage.vectors, unit)
        self._show_unit()

    def _show_unit(self) -> None:
        walk = self._walk
        if walk is None:
            return
        stage = walk.stages[self.stage_index()]
        unit = self.selected_unit()
        self.bars.mark(unit)
        self.pictures.mark(unit)
        work = walk.unit_work(stage, unit)
        details = "".join(f"<br>&nbsp;&nbsp;&nbsp;{to_html(d)}" for d in work.details)
        self._work_label.setText(f"<span style='font-size:12pt'>{to_html(work.equation)}</span>"
                                 f"<span style='color:#505050'>{details}</span>")

    def _update_buttons(self) -> None:
        self.apply_button.setEnabled(self._walk is not None and not self._live)
        self.undo_button.setEnabled(self._undo is not None and not self._live)
        self.apply_button.setToolTip(_LIVE if self._live else
                                     "Take this one SGD step on the network: W ← W − η ∂C/∂W for every layer")

    def _update_sample_controls(self) -> None:
        source = self.source()
        self._label_spin.setVisible(source == "pad")
        self._split_combo.setVisible(source == "dataset")
        self._index_spin.setVisible(source == "dataset")
        split = self._split(self._split_combo.currentText())
        blocked = self._index_spin.blockSignals(True)
        self._index_spin.setRange(0, max(len(split) - 1, 0) if split is not None else 0)
        self._index_spin.blockSignals(blocked)

    # -- slots ----------------------------------------------------------------------------------------

    @Slot()
    def _on_sample_controls_changed(self) -> None:
        self._update_sample_controls()
        self._invalidate()

    @Slot(int)
    def _on_slider_value_changed(self, _value: int) -> None:
        self._unit = None
        if self._walk is not None:
            self._show_stage()

    @Slot()
    def _on_previous_button_clicked(self) -> None:
        self.slider.setValue(self.slider.value() - 1)

    @Slot()
    def _on_next_button_clicked(self) -> None:
        self.slider.setValue(self.slider.value() + 1)

    @Slot(int)
    def _on_plot_unit_clicked(self, unit: int) -> None:
        self.select_unit(unit)

    @Slot(str)
    def _on_plot_unit_hovered(self, text: str) -> None:
        self._hover_label.setText(text)

    @Slot()
    def _on_apply_button_clicked(self) -> None:
        self.apply_update()

    @Slot()
    def _on_undo_button_clicked(self) -> None:
        self.undo_update()

    # -- Qt events --------------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt's name
        if event.key() == Qt.Key.Key_Left:
            self.slider.setValue(self.slider.value() - 1)
        elif event.key() == Qt.Key.Key_Right:
            self.slider.setValue(self.slider.value() + 1)
        else:
            super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # Qt's name
        super().showEvent(event)
        self._refresh_if_stale()


def _is_picture(walk: Walkthrough) -> bool:
    return walk.network.sizes[0] == 1024

