"""Inside the network while it learns: saturation, gradient flow and update sizes, layer by layer.

The tutorial's question, why some initialisations learn so much more slowly, has its answer here. The
view measures the network on a fixed sample of 256 training images each time it is given a snapshot
(``studio.core.diagnostics_tracker.DiagnosticsTracker.record``, at most ~4 times a second, less often for
wide networks) and shows:

* per layer, histograms of the weighted inputs z and of the outputs a at the latest measurement, the
  flat ends of the function (where f'(z) ~ 0 and backprop passes almost nothing back) shaded grey;
* over time, the share of saturated outputs and units per layer, the size of each layer's gradient
  and how far its weights moved between measurements (both on log scales);
* one plain-language sentence per layer (``plain_reading``), built only from those numbers;
* why squared error with sigmoid outputs learns slowly: its output error signal
  δᴸ = (a - y) a (1 - a) against cross-entropy's δᴸ = a - y, with the sizes of both on the sample
  for the current network (``output_delta_explanation``). One notation throughout: core's plain
  "delta^L" is shown as δᴸ, and "|g| = 2e-6" never breaks across lines (``_rich``).

The plots are rebuilt whenever the layers' functions change, not only their number (a ReLU/softmax
network must not keep a sigmoid's 0-1 axes and flat-end bands), and sit in a scroll area, so no
column is ever cut off in a small window.

Measuring is core's (it is cheap on 256 samples, so it runs in the GUI thread, throttled); drawing
waits until the view is visible. Left out: training, and any figure not computed by
``studio.core.diagnostics``.
"""
from __future__ import annotations

import html
import math
import re
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QGroupBox, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from studio.core.data import Dataset
from studio.core.diagnostics import SIGMOID_HIGH, SIGMOID_LOW, TANH_SATURATION, Diagnosis, diagnostic_sample
from studio.core.diagnostics_text import format_number, plain_reading
from studio.core.diagnostics_tracker import DiagnosticsTracker
from studio.core.output_delta import output_delta_explanation
from studio.core.network import Network
from studio.gui.plot_style import DecadeAxis, decade_range, style_plot

#: One colour per layer (input side first).
LAYER_COLORS: tuple[str, ...] = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                 "#e377c2", "#17becf")

#: Rows in the diagnostic sample, and its seed (the same rows for the whole of a data set's life).
SAMPLE_SIZE = 256
SAMPLE_SEED = 0

#: Shortest time between two measurements, in seconds (at most ~4 a second).
MIN_INTERVAL = 0.25

#: At most about this share of the GUI thread's time goes to measuring: a measurement that took t
#: seconds is followed by a pause of at least t / MAX_SHARE (wide networks are measured less often).
MAX_SHARE = 0.1

#: How many times less often the view measures while hidden (every 3 s at the default interval: a
#: measurement of a wide network takes ~25 ms of the GUI thread, so once a second kept the window's
#: timer lateness near 20 ms at its 99th percentile while training flat out; tests/benchmarks/bench_gui.py).
HIDDEN_SLOWDOWN = 12

_NO_DATA = "Open a data set and train (or build) a network to look inside it."
_WAITING = "Waiting for a network: press Start or Step."
_BAND_BRUSH = (160, 160, 160, 70)
#: The narrowest a column of plots may be before the plots scroll sideways, in pixels.
_MIN_COLUMN = 170

_FORMULAS = (
    "<p style='margin:0'><b>Squared error</b>, sigmoid outputs (the tutorial's):</p>"
    "<p style='margin:2px 0 0 12px; font-size:12pt'>δᴸ = (a &minus; y) &middot; "
    "<u>a(1 &minus; a)</u></p><p style='margin:0 0 6px 12px'>{sse_mark}</p>"
    "<p style='margin:0'><b>Cross-entropy</b>, softmax outputs:</p>"
    "<p style='margin:2px 0 0 12px; font-size:12pt'>δᴸ = a &minus; y</p>"
    "<p style='margin:0 0 6px 12px'>{ce_mark}</p>"
    "<p style='margin-top:4px'>δᴸ is the error signal the output layer passes back; "
    "every weight update is proportional to it. The underlined factor a(1 &minus; a) is at most "
    "&frac14; and close to 0 whenever an output is near 0 or 1, even when that output is confidently "
    "<i>wrong</i>. Cross-entropy's δᴸ has no such factor, so a wrong output always "
    "pushes back hard.</p>"
)


def _layer_name(layer: int, layers: int) -> str:
    return f"layer {layer} (output)" if layer == layers else f"layer {layer}"


#: ``|g| = 2e-6``, ``|δᴸ|``: a quantity in bars with its value, kept on one line.
_BARRED = re.compile(r"\|[^|\s]+\|(?: = \S+)?")


def _rich(text: str) -> str:
    """Core's plain text as rich text in the view's notation: δᴸ for "delta^L", and no line break
    inside "|g| = 2e-6" (escaped for rich text)."""
    text = html.escape(text.replace("delta^L", "δᴸ"))
    return _BARRED.sub(lambda m: "<nobr>" + m.group(0).replace(" ", "&nbsp;") + "</nobr>", text)


def _positive_or_nan(values: np.ndarray) -> np.ndarray:
    """For a log axis: values that are not finite and > 0 become NaN (a gap in the curve)."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


class DiagnosticsView(QWidget):
    """Histograms, saturation, gradient norms, update sizes and a plain reading, per layer.

    ``set_dataset(dataset)`` takes the diagnostic sample; ``record(epoch, snapshot)`` measures a
    snapshot (throttled: a snapshot that comes too soon is kept and measured when the interval is
    up, so the last one of a run is never lost); ``reset()`` forgets the run (a new network).
    """

    def __init__(self, parent: QWidget | None = None, min_interval: float = MIN_INTERVAL) -> None:
        super().__init__(parent)
        self._min_interval = float(min_interval)
        self._dataset: Dataset | None = None
        self._x: np.ndarray | None = None
        self._labels: np.ndarray | None = None
        self._tracker: DiagnosticsTracker | None = None
        self._shape: tuple[object, ...] | None = None    # sizes, activation, loss of the tracked network
        self._pending: tuple[int, Network] | None = None
        self._last_record = -math.inf
        self._cost = 0.0
        self._diagnosis: Diagnosis | None = None
        self._explanation: dict | None = None
        self._last_epoch: int | None = None
        self._stale = False
        self._drawn_epoch: int | None = None
        self._z_curves: list[pg.PlotDataItem] = []
        self._a_curves: list[pg.PlotDataItem] = []
        self._z_plots: list[pg.PlotItem] = []
        self._a_plots: list[pg.PlotItem] = []
        self._series_curves: dict[str, list[pg.PlotDataItem]] = {}
        self._built_for: tuple[str, ...] = ()     # the layers' functions the plots were built for

        self._header = QLabel(_NO_DATA)
        self._header.setWordWrap(True)

        self.histograms = pg.GraphicsLayoutWidget()
        self.histograms.setBackground("w")
        self.histograms.setMinimumHeight(240)
        self.histograms.scene().contextMenu = []
        self.timelines = pg.GraphicsLayoutWidget()
        self.timelines.setBackground("w")
        self.timelines.setMinimumHeight(200)
        self.timelines.scene().contextMenu = []
        self.saturation_plot = self._make_plot(self.timelines, 0, "Saturated (%)", "% of layer", log=False)
        self.saturation_plot.setYRange(0, 100, padding=0.03)
        self.saturation_plot.enableAutoRange(axis="y", enable=False)
        self.gradient_plot = self._make_plot(self.timelines, 1, "Gradient size ‖∂C/∂W‖", "norm (log)",
                                             log=True)
        self.update_plot = self._make_plot(self.timelines, 2, "Weights moved ‖ΔW‖ / ‖W‖", "ratio (log)",
                                           log=True)
        self.timeline_legend = pg.LabelItem(justify="left", color="k")
        self.timelines.addItem(self.timeline_legend, row=1, col=0, colspan=3)

        self._reading_label = QLabel()
        self._reading_label.setWordWrap(True)
        self._reading_label.setTextFormat(Qt.TextFormat.RichText)
        self._reading_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._reading_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        reading_box = QGroupBox("What the numbers say")
        QVBoxLayout(reading_box).addWidget(self._reading_label)

        self._formula_label = QLabel()
        self._formula_label.setWordWrap(True)
        self._formula_label.setTextFormat(Qt.TextFormat.RichText)
        self._numbers_label = QLabel()
        self._numbers_label.setWordWrap(True)
        self._numbers_label.setTextFormat(Qt.TextFormat.RichText)
        self._numbers_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        loss_box = QGroupBox("Squared error vs cross-entropy at the output layer")
        loss_layout = QVBoxLayout(loss_box)
        loss_layout.addWidget(self._formula_label)
        loss_layout.addWidget(self._numbers_label)
        loss_layout.addStretch(1)

        text_widget = QWidget()
        text_layout = QVBoxLayout(text_widget)
        text_layout.setContentsMargins(0, 0, 0, 0)
        text_layout.addWidget(reading_box)
        text_layout.addWidget(loss_box)
        text_layout.addStretch(1)
        text_scroll = QScrollArea()
        text_scroll.setWidget(text_widget)
        text_scroll.setWidgetResizable(True)
        text_scroll.setFrameShape(QFrame.Shape.NoFrame)
        text_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        text_scroll.setMinimumWidth(240)

        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.histograms)
        plots.addWidget(self.timelines)
        plots.setChildrenCollapsible(False)
        # Each column of plots needs room for its axis labels: below that the area scrolls rather
        # than cut the last column off.
        self.timelines.setMinimumWidth(3 * _MIN_COLUMN)
        self.plots_scroll = QScrollArea()
        self.plots_scroll.setWidget(plots)
        self.plots_scroll.setWidgetResizable(True)
        self.plots_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.plots_scroll.setMinimumWidth(2 * _MIN_COLUMN)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.plots_scroll)
        splitter.addWidget(text_scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([800, 380])
        layout = QVBoxLayout(self)
        layout.addWidget(self._header)
        layout.addWidget(splitter, 1)

        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.timeout.connect(self._on_throttle_timeout)
        self._show_empty()

    # -- public API ---------------------------------------------------------------------------------

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Measure on a fixed sample of ``dataset``'s training split (``diagnostic_sample``) from now on;
        forgets what was recorded."""
        self._dataset = dataset
        if dataset is None:
            self._x = self._labels = None
        else:
            self._x, self._labels = diagnostic_sample(dataset.train, SAMPLE_SIZE, SAMPLE_SEED)
        self.reset()

    def reset(self) -> None:
        """Forget the recorded run (call it when the window makes or loads a new network)."""
        self._throttle.stop()
        self._pending = None
        self._last_record = -math.inf
        self._cost = 0.0
        self._diagnosis = None
        self._explanation = None
        self._last_epoch = None
        self._shape = None
        self._tracker = None if self._x is None else DiagnosticsTracker(self._x, self._labels)
        self._show_empty()

    def record(self, epoch: int, network: Network) -> None:
        """Measure ``network`` (a snapshot the caller never trains further) as of ``epoch``.

        At most one measurement per ``min_interval`` seconds (longer for networks slow to measure, see
        ``MAX_SHARE``): a snapshot that comes sooner waits, and a newer one replaces it. A network of another shape than the recorded ones starts afresh.
        """
        if self._tracker is None:
            return
        self._pending = (int(epoch), network)
        # Hidden, the view still measures (so its time series has no gaps when shown) but less often:
        # every measurement is GUI-thread time taken from training.
        interval = self._min_interval * (1 if self.isVisible() else HIDDEN_SLOWDOWN)
        wait = self._last_record + max(interval, self._cost / MAX_SHARE) - time.monotonic()
        if wait <= 0:
            self.flush()
        elif not self._throttle.isActive():
            self._throttle.start(max(int(wait * 1000), 1))

    def flush(self) -> None:
        """Measure the waiting snapshot now, if there is one."""
        self._throttle.stop()
        if self._pending is None or self._tracker is None:
            return
        epoch, network = self._pending
        self._pending = None
        shape = (network.sizes, network.activation, network.loss)
        if self._shape is not None and shape != self._shape:
            self._tracker = DiagnosticsTracker(self._x, self._labels)
        self._shape = shape
        started = time.monotonic()
        self._diagnosis = self._tracker.record(epoch, network)
        self._explanation = output_delta_explanation(network, self._x, self._labels)
        self._last_epoch = epoch
        self._last_record = time.monotonic()
        self._cost = self._last_record - started
        if self.isVisible():
            self.redraw()
        else:
            self._stale = True

    @property
    def tracker(self) -> DiagnosticsTracker | None:
        """The figures recorded so far (core's tracker; read it, do not record into it)."""
        return self._tracker

    def sample(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The diagnostic sample: images (m, 1024) float64 and labels (m,), or None without data."""
        return None if self._x is None else (self._x, self._labels)

    def latest_diagnosis(self) -> Diagnosis | None:
        return self._diagnosis

    def explanation(self) -> dict | None:
        """``output_delta_explanation`` of the latest measured snapshot."""
        return self._explanation

    def histogram_curve(self, kind: str, layer: int) -> pg.PlotDataItem:
        """The step curve of the ``z`` or ``a`` histogram of 1-based ``layer``."""
        curves = self._z_curves if kind == "z" else self._a_curves
        return curves[layer - 1]

    def histogram_title(self, kind: str, layer: int) -> str:
        plots = self._z_plots if kind == "z" else self._a_plots
        return plots[layer - 1].titleLabel.text

    def series_curve(self, name: str, layer: int) -> pg.PlotDataItem:
        """The time curve of ``name`` (``saturated_share``, ``saturated_units_share``, ``gradient_norm``,
        ``update_ratio``) for 1-based ``layer``."""
        return self._series_curves[name][layer - 1]

    def reading_text(self) -> str:
        """The plain-language reading shown, one line per layer (plain text)."""
        return "" if self._diagnosis is None else plain_reading(self._diagnosis)

    def drawn_epoch(self) -> int | None:
        """The epoch of the measurement on screen (None: nothing drawn yet)."""
        return self._drawn_epoch

    def redraw(self) -> None:
        """Show the latest measurement now (done by ``record`` when visible, else when shown)."""
        self._stale = False
        diagnosis, tracker = self._diagnosis, self._tracker
        if diagnosis is None or tracker is None or len(tracker) == 0:
            self._show_empty()
            return
        self._drawn_epoch = self._last_epoch
        functions = tuple(reading.function for reading in diagnosis.layers)
        if functions != self._built_for:
            # Another number of layers or other functions (ReLU, softmax): new axes, bands, legend.
            self._build_plots(diagnosis)
            self._built_for = functions
        layers = len(diagnosis.layers)
        for l, reading in enumerate(diagnosis.layers):
            self._z_curves[l].setData(reading.z_edges, reading.z_counts.astype(np.float64))
            self._a_curves[l].setData(reading.a_edges, reading.a_counts.astype(np.float64))
            name = _layer_name(reading.layer, layers)
            # Two short lines rather than one long one: a title wider than its column pushed the
            # last column out of the view.
            self._z_plots[l].setTitle(f"<b>{name}</b><br>z = Wa + b", color="k", size="9pt")
            if reading.saturated_share is None:
                state = "no saturation measure"
            else:
                state = f"{100 * reading.saturated_share:.0f}% saturated"
            self._a_plots[l].setTitle(f"a = {reading.function}(z)<br>{state}", color="k", size="9pt")
        epochs = tracker.epochs().astype(np.float64)
        share = tracker.series("saturated_share") * 100.0
        units = tracker.series("saturated_units_share") * 100.0
        gradient = _positive_or_nan(tracker.series("gradient_norm"))
        update = _positive_or_nan(tracker.series("update_ratio"))
        for l in range(layers):
            self._series_curves["saturated_share"][l].setData(epochs, share[:, l])
            self._series_curves["saturated_units_share"][l].setData(epochs, units[:, l])
            self._series_curves["gradient_norm"][l].setData(epochs, gradient[:, l])
            self._series_curves["update_ratio"][l].setData(epochs, update[:, l])
        for plot, values in ((self.gradient_plot, gradient), (self.update_plot, update)):
            bounds = decade_range(values)
            if bounds is not None:
                plot.setYRange(*bounds, padding=0.02)
        self._header.setText(
            f"Measured on {diagnosis.samples} training images after epoch {self._last_epoch} "
            f"({len(tracker)} measurements so far): accuracy on them {100 * diagnosis.accuracy:.1f}%, "
            f"mean loss {format_number(diagnosis.loss)}. Grey bands mark the flat ends of each function, "
            f"where f'(z) ≈ 0 and almost no error passes back.")
        self._show_reading(diagnosis)
        self._show_explanation()

    # -- building -----------------------------------------------------------------------------------

    def _make_plot(self, widget: pg.GraphicsLayoutWidget, col: int, title: str, y_label: str,
                   log: bool, row: int = 0) -> pg.PlotItem:
        axes = {"left": DecadeAxis("left")} if log else None
        plot = widget.addPlot(row=row, col=col, axisItems=axes)
        style_plot(plot, title, y_label, title_size="9pt")
        plot.setMenuEnabled(False)
        if log:
            plot.setLogMode(x=False, y=True)
            plot.enableAutoRange(axis="y", enable=False)
        return plot

    def _build_plots(self, diagnosis: Diagnosis) -> None:
        """One column of two histograms per layer, and one curve per layer in each time plot."""
        self.histograms.clear()
        self._z_curves, self._a_curves, self._z_plots, self._a_plots = [], [], [], []
        layers = len(diagnosis.layers)
        self.histograms.setMinimumWidth(layers * _MIN_COLUMN)
        for l, reading in enumerate(diagnosis.layers):
            color = pg.mkColor(LAYER_COLORS[l % len(LAYER_COLORS)])
            fill = pg.mkColor(color)
            fill.setAlpha(120)
            for kind, row in (("z", 0), ("a", 1)):
                plot = self._make_plot(self.histograms, l, "", "count" if l == 0 else "", log=False, row=row)
                plot.setLabel("bottom", kind, color="k")
                plot.setMouseEnabled(x=False, y=False)
                plot.hideButtons()
                # A fixed width: a width fitted to one plot's labels can hide another's larger ones.
                plot.getAxis("left").setWidth(62 if l == 0 else 44)   # the first also holds "count"
                curve = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=fill, pen=pg.mkPen(color, width=1))
                plot.addItem(curve)
                edges = reading.z_edges if kind == "z" else reading.a_edges
                plot.setXRange(float(edges[0]), float(edges[-1]), padding=0.02)
                if kind == "a":
                    for low, high in self._flat_ends(reading.function):
                        band = pg.LinearRegionItem((low, high), movable=False, brush=_BAND_BRUSH,
                                                   pen=pg.mkPen(None))
                        band.setZValue(-10)
                        plot.addItem(band, ignoreBounds=True)
                    self._a_plots.append(plot)
                    self._a_curves.append(curve)
                else:
                    self._z_plots.append(plot)
                    self._z_curves.append(curve)
        for plot in (self.saturation_plot, self.gradient_plot, self.update_plot):
            plot.clear()
        self._series_curves = {name: [] for name in ("saturated_share", "saturated_units_share",
                                                     "gradient_norm", "update_ratio")}
        for l in range(layers):
            color = pg.mkColor(LAYER_COLORS[l % len(LAYER_COLORS)])
            for name, plot, style in (("saturated_share", self.saturation_plot, Qt.PenStyle.SolidLine),
                                      ("saturated_units_share", self.saturation_plot, Qt.PenStyle.DotLine),
                                      ("gradient_norm", self.gradient_plot, Qt.PenStyle.SolidLine),
                                      ("update_ratio", self.update_plot, Qt.PenStyle.SolidLine)):
                curve = pg.PlotDataItem(connect="finite", pen=pg.mkPen(color, width=2, style=style))
                plot.addItem(curve)
                self._series_curves[name].append(curve)
        for plot in (self.saturation_plot, self.gradient_plot, self.update_plot):
            plot.setLabel("bottom", "epoch", color="k")
        parts = [f"<span style='color:{LAYER_COLORS[l % len(LAYER_COLORS)]}; font-size:14pt'>&#9473;&#9473;"
                 f"</span>&nbsp;layer {l + 1} ({html.escape(r.function)}{' output' if l + 1 == layers else ''})"
                 for l, r in enumerate(diagnosis.layers)]
        self.timeline_legend.setText(
            "&nbsp;&nbsp;&nbsp; ".join(parts)
            + "<br><span style='color:#555'>Saturated, solid: outputs on a flat end; dotted: units there "
              "for nearly<br>every image (ReLU: units that never fire).</span>",
            size="9pt")

    @staticmethod
    def _flat_ends(function: str) -> list[tuple[float, float]]:
        """Where an output counts as saturated (core's thresholds), as ranges of a."""
        if function == "sigmoid":
            return [(0.0, SIGMOID_LOW), (SIGMOID_HIGH, 1.0)]
        if function == "tanh":
            return [(-1.0, -TANH_SATURATION), (TANH_SATURATION, 1.0)]
        return []

    # -- text ---------------------------------------------------------------------------------------

    def _show_reading(self, diagnosis: Diagnosis) -> None:
        lines = plain_reading(diagnosis).split("\n")
        rows = []
        for l, line in enumerate(lines):
            color = LAYER_COLORS[l % len(LAYER_COLORS)]
            rows.append(f"<p style='margin:0 0 4px 0'><span style='color:{color}'>&#9632;</span> "
                        f"{_rich(line)}</p>")
        self._reading_label.setText("".join(rows))

    def _show_explanation(self) -> None:
        explanation = self._explanation
        if explanation is None:
            self._formula_label.setText(_FORMULAS.format(sse_mark="", ce_mark=""))
            self._numbers_label.setText("")
            return
        n = format_number
        mark = " &nbsp;<b>&larr; this network</b>"
        this_sse = explanation["loss"] == "sse"
        self._formula_label.setText(_FORMULAS.format(
            sse_mark=f"mean |δᴸ| here: {n(explanation['sse_mean_abs_delta'])}"
                     f"{mark if this_sse else ''}",
            ce_mark=f"mean |δᴸ| here: {n(explanation['ce_mean_abs_delta'])}"
                    f"{'' if this_sse else mark}"))
        self._numbers_label.setText(
            f"<p>On the {explanation['samples']} images now: {_rich(explanation['text'])}.</p>")

    def explanation_text(self) -> str:
        """The live sentence of the loss box (``output_delta_explanation(...)['text']``), or ""."""
        return "" if self._explanation is None else self._explanation["text"]

    def _show_empty(self) -> None:
        self._drawn_epoch = None
        self._header.setText(_NO_DATA if self._x is None else _WAITING)
        self._reading_label.setText("<i>No measurement yet.</i>")
        self._explanation = None
        self._show_explanation()
        for curve in [*self._z_curves, *self._a_curves,
                      *(c for curves in self._series_curves.values() for c in curves)]:
            curve.setData([], [])

    # -- events and slots ---------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # Qt's name
        super().showEvent(event)
        if self._stale:
            self.redraw()

    @Slot()
    def _on_throttle_timeout(self) -> None:
        self.flush()
