"""What the network thinks of the pad drawing: ten output bars and the winning digit, shown large.

The view shows the output layer's activations exactly as given. With the tutorial's sigmoid outputs
they need not sum to 1 (each is that digit's own "yes" score), so the axis is labelled "output", not
"probability". For an untrained network (``set_probabilities(p, trained=False)``) it draws the bars
but names no digit: a "?" and "Untrained network: its outputs are random." Its labels have fixed
sizes, so the bars never move as the texts change. What it leaves out: running the network
(``pad_panel`` does that and passes the result).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

_BAR = (150, 165, 185)
_WINNER = (230, 110, 20)
_NO_MODEL_HINT = "No model yet: train one or open a saved model to see what it thinks of your drawing."
_NOT_FINITE_HINT = "The model's outputs are not finite numbers (did training diverge?)."
#: Shown instead of a digit for a network fresh from initialisation: its outputs mean nothing yet.
UNTRAINED_HINT = "Untrained network: its outputs are random."
_UNTRAINED_DIGIT = "?"


class PredictionView(QWidget):
    """Output bars for the digits 0..9 (the predicted one highlighted) and the predicted digit in big type.

    Feed it with ``set_probabilities(p)``: ``p`` of shape (k,) (k = 10 for digits), or ``None`` when
    there is no model yet, which shows a dash and a hint. ``show_hint(text)`` shows a dash and ``text``
    when there is a model but nothing to predict (an empty pad).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._probabilities: np.ndarray | None = None
        self._predicted: int | None = None

        self._digit_label = QLabel("–")
        font = QFont(self._digit_label.font())
        font.setPointSize(36)
        font.setBold(True)
        self._digit_label.setFont(font)
        self._digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A fixed width: a digit, "?" and "–" differ, and the bars beside must not move.
        self._digit_label.setFixedWidth(QFontMetrics(font).horizontalAdvance("0") + 16)
        self._digit_label.setToolTip("The digit whose output unit is the largest")

        self._value_label = QLabel("")
        value_font = QFont(self._value_label.font())
        value_font.setPointSize(value_font.pointSize() + 3)
        self._value_label.setFont(value_font)
        self._value_label.setToolTip("The largest output: sigmoid outputs need not sum to 1, softmax ones do")
        self._hint_label = QLabel(_NO_MODEL_HINT)
        self._hint_label.setWordWrap(True)
        self._hint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Always there, two lines high: a hint that comes and goes would resize the bars under the
        # pointer. Its width follows the view, never the other way round.
        self._hint_label.setFixedHeight(self._hint_label.fontMetrics().lineSpacing() * 2 + 2)
        self._hint_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

        self._plot = pg.PlotWidget(background="w")
        self._plot.setMinimumSize(QSize(150, 100))
        self._plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        item = self._plot.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setXRange(-0.6, 9.6, padding=0)
        item.setYRange(0.0, 1.06, padding=0)
        item.setLabel("left", "output")
        item.setLabel("bottom", "digit")
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen((90, 90, 90)))
            axis.setTextPen(pg.mkPen((40, 40, 40)))
        item.getAxis("bottom").setTicks([[(d, str(d)) for d in range(10)]])
        item.showGrid(y=True, alpha=0.25)
        self._bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7,
                                     brushes=[pg.mkBrush(_BAR)] * 10, pen=pg.mkPen(None))
        item.addItem(self._bars)

        self._value_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._value_label.setFixedWidth(max(self._value_label.fontMetrics().horizontalAdvance(text)
                                            for text in ("output 0.00", "untrained")) + 8)
        top = QHBoxLayout()
        top.addStretch(1)
        top.addWidget(self._digit_label)
        top.addWidget(self._value_label)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self._plot, 1)
        layout.addWidget(self._hint_label)
        self.set_probabilities(None)

    # -- public API -------------------------------------------------------------------------------

    def set_probabilities(self, p: np.ndarray | None, trained: bool = True) -> None:
        """Show the output activations ``p`` (k,), or no model (``None``).

        ``trained=False`` (a network fresh from initialisation): the bars are drawn, all alike, with
        a "?" instead of a digit and a hint that the outputs are random; nothing is predicted."""
        if p is None:
            self._show_nothing(_NO_MODEL_HINT)
            return
        p = np.array(p, dtype=np.float64).reshape(-1)
        if p.size == 0:
            raise ValueError("need at least one output to show")
        if not np.isfinite(p).all():
            self._probabilities = p
            self._show_nothing(_NOT_FINITE_HINT, keep=True)
            return
        self._probabilities = p
        if not trained:
            self._predicted = None
            self._bars.setOpts(x=np.arange(p.size), height=p, brushes=[pg.mkBrush(_BAR)] * p.size)
            self._set_x_range(p.size)
            self._digit_label.setText(_UNTRAINED_DIGIT)
            self._value_label.setText("untrained")
            self._hint_label.setText(UNTRAINED_HINT)
            return
        self._predicted = int(np.argmax(p))
        brushes = [pg.mkBrush(_WINNER if d == self._predicted else _BAR) for d in range(p.size)]
        self._bars.setOpts(x=np.arange(p.size), height=p, brushes=brushes)
        self._set_x_range(p.size)
        self._digit_label.setText(str(self._predicted))
        self._value_label.setText(f"output {p[self._predicted]:.2f}")
        self._hint_label.setText("")

    def show_hint(self, hint: str) -> None:
        """Show no prediction: empty bars, a dash, and ``hint`` saying why."""
        self._show_nothing(hint)

    def probabilities(self) -> np.ndarray | None:
        """A copy of what is shown, or None."""
        return None if self._probabilities is None else self._probabilities.copy()

    def predicted_digit(self) -> int | None:
        """The highlighted digit (largest output), or None when nothing is predicted."""
        return self._predicted

    def digit_text(self) -> str:
        """The text of the big label: the digit, or a dash."""
        return self._digit_label.text()

    def value_text(self) -> str:
        """The text under the big digit, such as ``output 0.93``."""
        return self._value_label.text()

    def hint_text(self) -> str:
        """The hint under the bars; empty when none is shown."""
        return self._hint_label.text()

    def bar_heights(self) -> np.ndarray:
        """The heights given to the bar item (for tests)."""
        return np.asarray(self._bars.opts["height"], dtype=np.float64).copy()

    # -- helpers ----------------------------------------------------------------------------------

    def _show_nothing(self, hint: str, keep: bool = False) -> None:
        if not keep:
            self._probabilities = None
        self._predicted = None
        k = 10 if self._probabilities is None else self._probabilities.size
        self._bars.setOpts(x=np.arange(k), height=np.zeros(k), brushes=[pg.mkBrush(_BAR)] * k)
        self._set_x_range(k)
        self._digit_label.setText("–")
        self._value_label.setText("")
        self._hint_label.setText(hint)

    def _set_x_range(self, k: int) -> None:
        item = self._plot.getPlotItem()
        item.setXRange(-0.6, k - 0.4, padding=0)
        item.getAxis("bottom").setTicks([[(d, str(d)) for d in range(k)]])
