"""The diagnostics view shows exactly what core's diagnostics compute for a known network."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from pytestqt.qtbot import QtBot

from studio.core.diagnostics import diagnose, diagnostic_sample, histogram_edges, update_ratios
from studio.core.diagnostics_text import plain_reading
from studio.core.output_delta import output_delta_explanation
from studio.core.network import Network
from studio.core.training import TrainingConfig, train
from studio.gui import diagnostics_view
from studio.gui.diagnostics_view import SAMPLE_SEED, SAMPLE_SIZE, DiagnosticsView
from tests.helpers import tiny_dataset


def make_view(qtbot: QtBot, min_interval: float = 0.0, show: bool = True) -> DiagnosticsView:
    view = DiagnosticsView(min_interval=min_interval)
    qtbot.addWidget(view)
    view.resize(1100, 800)
    if show:
        view.show()
    return view


@pytest.fixture
def known() -> tuple[Network, Network]:
    """The tutorial's randn network (many saturated units) before and after three epochs."""
    config = TrainingConfig(hidden=(16, 16), init="randn", lr=0.5, max_epochs=3, seed=4)
    before = config.build_network()
    after = before.copy()
    for _ in train(after, tiny_dataset(), config):
        pass
    return before, after


def test_histograms_and_saturation_are_cores_numbers(qtbot: QtBot, known: tuple[Network, Network]) -> None:
    before, after = known
    dataset = tiny_dataset()
    view = make_view(qtbot)
    view.set_dataset(dataset)
    view.record(0, before)
    view.record(3, after)           # may wait for the throttle...
    view.flush()                    # ...so measure it now
    x, labels = diagnostic_sample(dataset.train, SAMPLE_SIZE, SAMPLE_SEED)
    edges = histogram_edges(before, x)              # fixed at the first measurement
    expected = diagnose(after, x, labels, edges=edges, before=before)
    first = diagnose(before, x, labels, edges=edges)
    for l, reading in enumerate(expected.layers, start=1):
        z_curve, a_curve = view.histogram_curve("z", l), view.histogram_curve("a", l)
        np.testing.assert_array_equal(z_curve.xData, reading.z_edges)
        np.testing.assert_array_equal(z_curve.yData, reading.z_counts)
        np.testing.assert_array_equal(a_curve.xData, reading.a_edges)
        np.testing.assert_array_equal(a_curve.yData, reading.a_counts)
        assert z_curve.yData.sum() == len(labels) * after.sizes[l]     # every value counted once
        saturation = view.series_curve("saturated_share", l)
        np.testing.assert_array_equal(saturation.xData, [0, 3])
        np.testing.assert_allclose(saturation.yData, [100 * first.layers[l - 1].saturated_share,
                                                      100 * reading.saturated_share])
        assert f"{100 * reading.saturated_share:.0f}% saturated" in view.histogram_title("a", l)
        np.testing.assert_allclose(view.series_curve("gradient_norm", l).yData,
                                   [first.layers[l - 1].gradient_norm, reading.gradient_norm])
    np.testing.assert_allclose(view.series_curve("update_ratio", 1).yData[1:],
                               update_ratios(before.weights, after.weights)[:1])
    assert view.reading_text() == plain_reading(expected)
    assert view.explanation_text() == output_delta_explanation(after, x, labels)["text"]
    assert 0 < expected.layers[0].saturated_share < 1      # the figures are not trivially 0 or 100 %


class FakeClock:
    """Stands in for ``time`` in the view's module: its ``monotonic()`` moves only when a test says.

    Which snapshot is "too soon" is then decided by the test, not by how busy the machine is (a slow
    measurement under load made the next snapshot due at once, or the throttle wait several seconds).
    """

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_snapshots_are_throttled_and_the_newest_waiting_one_wins(
        qtbot: QtBot, known: tuple[Network, Network], monkeypatch: pytest.MonkeyPatch) -> None:
    before, after = known
    clock = FakeClock()
    monkeypatch.setattr(diagnostics_view, "time", clock)
    view = make_view(qtbot, min_interval=0.5)
    view.set_dataset(tiny_dataset())
    view.record(0, before)          # the first one is measured at once
    clock.now += 0.1
    view.record(1, before)          # too soon: waits (0.4 s on the throttle's timer)...
    view.record(3, after)           # ...and is replaced by this one
    assert view.tracker.epochs().tolist() == [0]
    qtbot.waitUntil(lambda: len(view.tracker) == 2, timeout=10_000)
    assert view.tracker.epochs().tolist() == [0, 3]
    qtbot.wait(700)
    assert len(view.tracker) == 2   # nothing else was waiting
    clock.now += 0.3                # 0.3 s after the last measurement: too soon again
    view.record(4, after)           # waits...
    assert len(view.tracker) == 2
    clock.now += 0.3                # 0.6 s after it: due
    view.record(5, after)           # ...and this one replaces it and is measured at once
    assert view.tracker.epochs().tolist() == [0, 3, 5]


def test_a_hidden_view_records_but_draws_when_shown(qtbot: QtBot, known: tuple[Network, Network]) -> None:
    before, _ = known
    view = make_view(qtbot, show=False)
    view.set_dataset(tiny_dataset())
    view.record(0, before)
    assert len(view.tracker) == 1
    assert view.drawn_epoch() is None
    view.show()
    qtbot.waitExposed(view)
    assert view.drawn_epoch() == 0
    assert view.histogram_curve("z", 1).yData.sum() > 0


def test_reset_and_a_network_of_another_shape_start_afresh(qtbot: QtBot, known: tuple[Network, Network]) -> None:
    before, after = known
    view = make_view(qtbot)
    view.set_dataset(tiny_dataset())
    view.record(0, before)
    view.record(1, after)
    view.flush()
    assert len(view.tracker) == 2
    other = Network.initialised((1024, 8, 10), activation="relu", loss="ce", init="he", seed=0)
    view.record(5, other)
    view.flush()
    assert view.tracker.epochs().tolist() == [5] and view.tracker.layers == 2
    assert view.histogram_curve("a", 2).yData.sum() == len(view.sample()[1]) * 10   # the new output layer
    assert "(softmax output)" in view.reading_text()
    view.reset()
    assert len(view.tracker) == 0 and view.reading_text() == "" and view.explanation() is None


def test_without_a_data_set_nothing_is_recorded(qtbot: QtBot, known: tuple[Network, Network]) -> None:
    view = make_view(qtbot)
    view.record(0, known[0])
    assert view.tracker is None and view.latest_diagnosis() is None


def test_another_activation_with_the_same_layer_count_rebuilds_bands_axes_and_legend(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.set_dataset(tiny_dataset())
    sigmoid = TrainingConfig(hidden=(16,), init="randn", seed=1).build_network()
    view.record(0, sigmoid)
    view.flush()
    bands = [item for item in view._a_plots[0].items if isinstance(item, pg.LinearRegionItem)]
    assert bands                                              # sigmoid's flat ends are shaded
    assert "sigmoid" in view.timeline_legend.text
    view.reset()
    relu = TrainingConfig(hidden=(16,), activation="relu", loss="ce", init="he", seed=1).build_network()
    view.record(0, relu)
    view.flush()
    assert not [item for item in view._a_plots[0].items if isinstance(item, pg.LinearRegionItem)]
    assert "relu" in view.timeline_legend.text and "sigmoid" not in view.timeline_legend.text
    edges = view.latest_diagnosis().layers[0].a_edges
    low, high = view._a_plots[0].vb.viewRange()[0]
    assert high >= float(edges[-1]) and low <= float(edges[0])      # the axis fits ReLU's outputs


def test_one_notation_and_no_break_inside_a_barred_quantity(qtbot: QtBot, known: tuple[Network, Network]) -> None:
    before, _ = known
    view = make_view(qtbot)
    view.set_dataset(tiny_dataset())
    view.record(0, before)
    view.flush()
    shown = view._formula_label.text() + view._numbers_label.text() + view._reading_label.text()
    assert "delta^L" not in shown and "δᴸ" in shown
    assert "&delta;" not in shown
    assert "<nobr>|g|&nbsp;=&nbsp;" in view._reading_label.text()


def test_narrow_the_plots_scroll_instead_of_clipping_a_column(qtbot: QtBot, known: tuple[Network, Network]) -> None:
    before, _ = known
    view = make_view(qtbot)
    view.set_dataset(tiny_dataset())
    view.record(0, before)
    view.flush()
    view.resize(700, 700)
    qtbot.wait(50)
    scroll = view.plots_scroll
    assert scroll.widget().width() >= 3 * 170                    # every column keeps its room ...
    assert scroll.horizontalScrollBar().maximum() > 0             # ... and the area scrolls to it


def test_every_histogram_column_is_inside_the_view(qtbot: QtBot, known: tuple[Network, Network]) -> None:
    """At 1440x900 the window gives the plots about 700 px: the third column was cut off."""
    before, _ = known
    view = make_view(qtbot)
    view.set_dataset(tiny_dataset())
    view.record(0, before)
    view.flush()
    qtbot.wait(50)
    width = view.histograms.viewport().width()
    for kind in ("z", "a"):
        for layer in (1, 2, 3):
            plot = (view._z_plots if kind == "z" else view._a_plots)[layer - 1]
            assert plot.sceneBoundingRect().right() <= width + 1, (kind, layer)
