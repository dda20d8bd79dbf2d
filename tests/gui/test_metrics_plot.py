"""MetricsPlot: what is drawn equals what the runner emitted; runs, smoothing, hover, export."""
from __future__ import annotations

import csv
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from studio.core.history import RunHistory, smooth
from studio.core.training import PRESETS, EpochFinished, TrainingConfig
from studio.gui.metrics_plot import MetricsPlot
from studio.gui.plot_style import DecadeAxis


def events(first: int, last: int, with_test: bool = True, lr: float = 0.01) -> list[EpochFinished]:
    """Synthetic epochs with distinct, checkable numbers."""
    out = []
    for e in range(first, last + 1):
        out.append(EpochFinished(epoch=e, train_loss=1.0 / e, train_accuracy=1 - 0.5 / e,
                                 test_loss=2.0 / e if with_test else None,
                                 test_accuracy=0.9 - 0.5 / e if with_test else None,
                                 seconds=0.01, elapsed=0.01 * e, learning_rate=lr, samples=100))
    return out


@pytest.fixture
def plot(qtbot: QtBot) -> MetricsPlot:
    widget = MetricsPlot()
    qtbot.addWidget(widget)
    widget.resize(900, 360)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def plotted(widget: MetricsPlot, name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = widget.curves[name].getOriginalDataset()
    if x is None:
        return np.empty(0), np.empty(0)
    return np.asarray(x), np.asarray(y)


def test_plotted_values_equal_the_emitted_metrics(plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    emitted = events(1, 30)
    plot.add_epochs(emitted[:10])
    plot.add_epochs(emitted[10:])
    plot.redraw()
    epochs = np.array([e.epoch for e in emitted], dtype=float)
    expected = {
        "train_loss": [e.train_loss for e in emitted],
        "test_loss": [e.test_loss for e in emitted],
        "train_acc": [100 * e.train_accuracy for e in emitted],
        "test_acc": [100 * e.test_accuracy for e in emitted],
    }
    for name, values in expected.items():
        x, y = plotted(plot, name)
        np.testing.assert_array_equal(x, epochs)
        np.testing.assert_allclose(y, values, rtol=1e-12)


def test_the_best_epoch_line_is_on_both_plots_until_a_new_run(plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    plot.add_epochs(events(1, 30))
    assert all(not line.isVisible() for line in plot.best_lines)
    plot.set_best_epoch(17)
    assert plot.best_epoch == 17 and plot.is_dirty
    plot.redraw()                                             # the lines move with the next frame
    assert [plot.loss_plot.vb, plot.accuracy_plot.vb] == [line.getViewBox() for line in plot.best_lines]
    for line in plot.best_lines:
        assert line.isVisible() and line.value() == 17 and not line.movable
        assert line.label.toPlainText() == "best"
        assert line.pen.style() == Qt.PenStyle.DashLine
        assert line.pen.color() not in [curve.opts["pen"].color() for curve in plot.curves.values()]
    plot.set_best_epoch(None)
    plot.redraw()
    assert plot.best_epoch is None and all(not line.isVisible() for line in plot.best_lines)
    plot.set_best_epoch(5)
    plot.start_run(TrainingConfig())                          # a new run has no best epoch yet
    plot.redraw()
    assert plot.best_epoch is None and all(not line.isVisible() for line in plot.best_lines)


def test_the_timer_redraws_only_when_something_changed(qtbot: QtBot, plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    plot.redraw()
    assert not plot.is_dirty
    plot.add_epochs(events(1, 5))
    assert plot.is_dirty
    assert plotted(plot, "train_loss")[0].size == 0      # nothing drawn at arrival
    qtbot.waitUntil(lambda: not plot.is_dirty, timeout=1000)
    assert plotted(plot, "train_loss")[0].size == 5
    plot.add_epochs([])
    assert not plot.is_dirty


def test_a_run_without_test_split_draws_no_test_curves(plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    plot.add_epochs(events(1, 4, with_test=False))
    plot.redraw()
    assert plotted(plot, "test_loss")[0].size == 0
    assert plotted(plot, "test_acc")[0].size == 0
    assert plotted(plot, "train_acc")[0].size == 4


def test_continuing_a_run_continues_the_epochs(plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    plot.add_epochs(events(1, 3))
    plot.add_epochs(events(4, 5))                       # a train() call with first_epoch=3
    plot.redraw()
    np.testing.assert_array_equal(plotted(plot, "train_loss")[0], [1, 2, 3, 4, 5])


def test_previous_runs_stay_faded_with_their_label_until_cleared(qtbot: QtBot, plot: MetricsPlot) -> None:
    article = PRESETS["article"]
    plot.start_run(article)
    plot.add_epochs(events(1, 8))
    plot.redraw()
    first_curves = dict(plot.curves)
    plot.start_run(TrainingConfig(lr=0.5))
    assert [h.label for h in plot.previous_runs] == [article.label()]
    assert len(plot.history) == 0
    # The old curves are still on the plot, fainter, with their data.
    old = first_curves["train_loss"]
    assert old in plot.loss_plot.items
    assert old.opts["pen"].color().alpha() < 255
    assert np.asarray(old.getOriginalDataset()[0]).size == 8
    assert plot.legend_entries == [article.label()]
    assert article.label() in plot.legend.text
    assert plot.clear_button.isEnabled()
    # An empty run is not kept when a new one starts.
    plot.start_run(TrainingConfig(lr=0.7))
    assert len(plot.previous_runs) == 1
    plot.add_epochs(events(1, 2, lr=0.7))
    plot.redraw()
    assert plot.legend_entries == [article.label(), "randn, lr 0.7 (current)"]
    plot.clear_button.click()
    assert plot.previous_runs == ()
    assert old not in plot.loss_plot.items
    assert plot.legend_entries == ["randn, lr 0.7 (current)"]
    assert article.label() not in plot.legend.text
    assert plot.curves["train_loss"] in plot.loss_plot.items
    assert not plot.clear_button.isEnabled()


def test_log_scale_toggle_applies_to_the_loss_plot_only(plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    plot.add_epochs(events(1, 10))
    plot.redraw()
    plot.log_check.setChecked(True)
    assert plot.log_loss
    assert plot.curves["train_loss"].opts["logMode"] == [False, True]
    assert plot.curves["train_acc"].opts["logMode"] == [False, False]
    plot.set_log_loss(False)
    assert plot.curves["train_loss"].opts["logMode"] == [False, False]


def test_smoothing_is_for_display_and_incremental(plot: MetricsPlot) -> None:
    rng = np.random.default_rng(0)
    plot.start_run(TrainingConfig())
    emitted = [EpochFinished(e, float(rng.random()), 0.5, 0.4, 0.3, 0.01, 0.01, 0.01, 10)
               for e in range(1, 201)]
    plot.add_epochs(emitted[:120])
    plot.set_smoothing(9)
    assert plot.smoothing == 9
    plot.redraw()
    plot.add_epochs(emitted[120:])                       # smoothed only where new
    plot.redraw()
    raw = np.array([e.train_loss for e in emitted])
    np.testing.assert_allclose(plotted(plot, "train_loss")[1], smooth(raw, 9), rtol=1e-12)
    np.testing.assert_array_equal(plot.history.column("train_loss"), raw)   # raw numbers kept
    plot.smoothing_spin.setValue(1)
    plot.redraw()
    np.testing.assert_array_equal(plotted(plot, "train_loss")[1], raw)


def test_hover_shows_the_epoch_under_the_mouse(qtbot: QtBot, plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    plot.add_epochs(events(1, 20))
    plot.redraw()
    plot.loss_plot.vb.autoRange()
    qtbot.wait(50)
    scene_pos = plot.loss_plot.vb.mapViewToScene(QPointF(7, 0.5))
    widget_pos = plot.graphics.mapFromScene(scene_pos)
    qtbot.mouseMove(plot.graphics.viewport(), widget_pos)
    qtbot.waitUntil(lambda: plot.readout_text.startswith("Epoch 7 "), timeout=2000)
    assert "loss 0.1429" in plot.readout_text            # 1/7
    assert "accuracy 92.9%" in plot.readout_text         # 1 - 0.5/7
    assert all(marker.isVisible() and marker.value() == 7 for marker in plot.lines.hover_markers)
    # Outside the data the nearest epoch is shown.
    plot.show_epoch(None)
    assert plot.readout_text.startswith("Solid: training set")


def test_export_png_and_csv(tmp_path: Path, plot: MetricsPlot) -> None:
    plot.start_run(PRESETS["article"])
    plot.add_epochs(events(1, 5))
    plot.start_run(PRESETS["best"])
    plot.add_epochs(events(1, 3, with_test=False))
    png = plot.export_png(tmp_path / "curves.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    assert width >= 2 * plot.graphics.width() - 2
    written = plot.export_csv(tmp_path / "numbers.csv")
    assert [p.name for p in written] == ["numbers.csv", "numbers-previous-1.csv"]
    current = list(csv.reader(written[0].open()))
    assert current[0][:5] == ["epoch", "loss", "train_acc", "test_acc", "seconds"]
    assert len(current) == 4 and current[1][3] == ""
    previous = list(csv.reader(written[1].open()))
    assert len(previous) == 6 and float(previous[5][1]) == pytest.approx(0.2)


def test_one_hundred_thousand_epochs_redraw_smoothly(plot: MetricsPlot) -> None:
    """Benchmark-style: prints the redraw time at 100,000 epochs; asserts only what was drawn."""
    plot.resize(1200, 400)
    plot.start_run(TrainingConfig())
    plot.add_epochs(events(1, 100_000))
    plot.redraw()
    plot.graphics.grab()
    times = []
    for k in range(5):
        plot.add_epochs(events(100_001 + k, 100_001 + k))
        started = time.perf_counter()
        plot.redraw()
        plot.graphics.grab()                             # forces the paint a screen would do
        times.append(time.perf_counter() - started)
    print(f"\n[benchmark] MetricsPlot, 100,000 epochs: redraw + paint median "
          f"{1000 * np.median(times):.1f} ms, max {1000 * max(times):.1f} ms")
    x, _ = plotted(plot, "train_loss")
    assert x.size == 100_005
    # Downsampling is on: far fewer points reach the screen than there are epochs.
    assert plot.curves["train_loss"].curve.xData.size < 20_000


def test_axes_follow_the_data_in_steps_until_the_user_pans(plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    plot.add_epochs(events(1, 23))
    plot.redraw()
    (x0, x1), (y0, y1) = plot.loss_plot.vb.viewRange()
    assert 25 <= x1 <= 26 and x0 <= 0                       # 24 rounded up to 25, plus padding
    assert y0 <= 0 and 2.0 <= y1 <= 2.2                     # losses 1/e and 2/e: from 0 to 2
    assert plot.accuracy_plot.vb.viewRange()[1][1] >= 100
    plot.add_epochs(events(24, 24))
    plot.redraw()
    assert plot.loss_plot.vb.viewRange()[0][1] == x1        # one more epoch: the same step
    # The user pans: the plot stops following.
    plot.loss_plot.vb.sigRangeChangedManually.emit([True, True])
    assert not plot.follows_data
    plot.add_epochs(events(25, 60))
    plot.redraw()
    assert plot.loss_plot.vb.viewRange()[0][1] == x1
    # The "A" button resumes.
    plot.loss_plot.autoBtn.clicked.emit(plot.loss_plot.autoBtn)
    assert plot.follows_data
    assert 80 <= plot.loss_plot.vb.viewRange()[0][1] <= 82      # 61 rounded up to 80
    # Log scale: whole decades around the losses (1/60 .. 2 -> 10^-2 .. 10^1).
    plot.set_log_loss(True)
    plot.redraw()
    y0, y1 = plot.loss_plot.vb.viewRange()[1]
    assert -2.2 <= y0 <= -2.0 and 1.0 <= y1 <= 1.2


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (11, 12), (24, 25), (26, 30), (31, 40), (99, 100),
                                                 (101, 120), (0.013, 0.015), (0, 1)])
def test_nice_ceiling(value: float, expected: float) -> None:
    from studio.gui.plot_style import nice_ceiling
    assert nice_ceiling(value) == pytest.approx(expected)


# -- the plot is given its runs -------------------------------------------------------------------

def history_of(config: TrainingConfig, evts: list[EpochFinished]) -> RunHistory:
    history = RunHistory(config)
    history.extend(evts)
    return history


def test_set_runs_reads_the_owners_histories_and_refresh_redraws(plot: MetricsPlot) -> None:
    earlier = history_of(PRESETS["article"], events(1, 8))
    current = history_of(TrainingConfig(lr=0.5), events(1, 3, lr=0.5))
    with_signal = []
    plot.previous_runs_changed.connect(lambda: with_signal.append(True))
    plot.set_runs(current, [earlier])
    assert plot.history is current and plot.previous_runs == (earlier,)
    assert with_signal
    plot.redraw()
    assert plotted(plot, "train_loss")[0].size == 3
    current.extend(events(4, 6, lr=0.5))               # the owner appends ...
    plot.refresh()                                     # ... and says so
    assert plot.is_dirty
    plot.redraw()
    assert plotted(plot, "train_loss")[0].size == 6
    curves = dict(plot.curves)
    plot.set_runs(current, [])                         # the same current run keeps its curves
    assert plot.curves == curves and plot.previous_runs == ()
    plot.set_runs(None, [current])                     # no current run: the old one shown faded
    assert len(plot.history) == 0 and plot.previous_runs == (current,)
    assert curves["train_loss"].opts["pen"].color().alpha() < 255


def test_the_axes_follow_the_current_run_unless_fit_all_runs(plot: MetricsPlot) -> None:
    plot.set_runs(history_of(TrainingConfig(), events(1, 20)), [history_of(PRESETS["article"], events(1, 1600))])
    plot.redraw()
    assert plot.loss_plot.vb.viewRange()[0][1] < 30          # 20 epochs, not squeezed by 1,600
    plot.fit_all_check.setChecked(True)
    assert plot.loss_plot.vb.viewRange()[0][1] >= 1600
    plot.fit_all_check.setChecked(False)
    assert plot.loss_plot.vb.viewRange()[0][1] < 30
    plot.set_runs(None, plot.previous_runs)                  # after Reset: the earlier run shows
    plot.redraw()
    assert plot.loss_plot.vb.viewRange()[0][1] >= 1600


def test_a_live_learning_rate_change_is_marked_and_named_in_the_legend(plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig(lr=0.01))
    plot.add_epochs(events(1, 10, lr=0.01))
    plot.add_epochs(events(11, 20, lr=0.05))
    plot.redraw()
    assert plot.learning_rate_changes == [(11, 0.05)]
    labelled = [line for line in plot.lines.lr_lines if line.isVisible() and getattr(line, "label", None)]
    assert [(line.value(), line.label.toPlainText()) for line in labelled] == [(11, "lr 0.05")]
    assert "lr now 0.05" in plot.legend_entries[-1] and "lr now 0.05" in plot.legend.text
    plot.start_run(TrainingConfig())                         # a new run has no changes
    plot.redraw()
    assert plot.learning_rate_changes == []
    assert not any(line.isVisible() for line in plot.lines.lr_lines)


def test_log_ticks_are_decades_spaced_so_labels_never_overlap(plot: MetricsPlot) -> None:
    axis = plot.loss_plot.getAxis("left")
    assert isinstance(axis, DecadeAxis)
    for size in (80, 150, 400):
        [(step, values)] = axis.logTickValues(-9.0, 1.0, size, [])
        assert all(float(v).is_integer() for v in values)
        if len(values) > 1:
            assert size / (len(values) - 1) >= 28                # two text lines apart at least
    assert axis.logTickStrings([-2.0, 0.0, 1.0, -5.0], 1.0, 1.0) == ["0.01", "1", "10", "1e-05"]


def test_accuracy_has_headroom_and_one_epoch_is_drawn(plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    plot.add_epochs([EpochFinished(1, 0.1, 1.0, 0.2, 1.0, 0.01, 0.01, 0.01, 100)])   # 100% at once
    plot.redraw()
    assert plot.accuracy_plot.vb.viewRange()[1][1] > 101
    x, y = plotted(plot, "train_acc")
    assert x.size == 1 and plot.curves["train_acc"].opts["symbol"] == "o"
    plot.add_epochs(events(2, 3))
    plot.redraw()
    assert plot.curves["train_acc"].opts["symbol"] is None


def test_the_best_label_flips_left_near_the_right_edge(plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    plot.add_epochs(events(1, 24))
    plot.set_best_epoch(3)
    plot.redraw()
    assert plot.best_label_anchor == (0, 0.5)
    plot.set_best_epoch(24)
    plot.redraw()
    assert plot.best_label_anchor == (1, 0.5)
    label = plot.best_lines[0].label
    QApplication.processEvents()
    width = label.textItem.boundingRect().width()
    frame = plot.loss_plot.vb.sceneBoundingRect()
    x = label.scenePos().x()                       # the text ends here, left of the line
    assert frame.left() <= x - width and x <= frame.right() + 1


def test_the_hover_box_stays_inside_the_plot_and_goes_when_the_pointer_leaves(qtbot: QtBot,
                                                                             plot: MetricsPlot) -> None:
    plot.resize(700, 300)
    plot.start_run(TrainingConfig())
    plot.add_epochs(events(1, 20))
    plot.redraw()
    qtbot.wait(50)
    view = plot.accuracy_plot.vb
    (x0, x1), (y0, y1) = view.viewRange()
    for fx, fy in ((0.98, 0.98), (0.02, 0.02), (0.98, 0.02), (0.5, 0.5)):
        point = QPointF(x0 + fx * (x1 - x0), y0 + fy * (y1 - y0))
        qtbot.wait(40)
        qtbot.mouseMove(plot.graphics.viewport(), plot.graphics.mapFromScene(view.mapViewToScene(point)))
        qtbot.waitUntil(lambda: plot.hover_box.isVisible(), timeout=2000)
        QApplication.processEvents()
        box = plot.hover_box.sceneBoundingRect()
        assert view.sceneBoundingRect().adjusted(-1, -1, 1, 1).contains(box), (fx, fy)
        assert "learning rate 0.01" in plot.hover_box.text()
    QApplication.sendEvent(plot.graphics.viewport(), QEvent(QEvent.Type.Leave))
    assert not plot.hover_box.isVisible() and not any(m.isVisible() for m in plot.lines.hover_markers)
    assert plot.readout_text.startswith("Solid: training set")


def test_export_png_fits_every_run(tmp_path: Path, plot: MetricsPlot, monkeypatch: pytest.MonkeyPatch) -> None:
    plot.set_runs(history_of(TrainingConfig(), events(1, 5)), [history_of(PRESETS["article"], events(1, 900))])
    plot.redraw()
    seen = []
    export = pg.exporters.ImageExporter.export

    def spy(self, *args, **kwargs):
        seen.append(plot.loss_plot.vb.viewRange()[0][1])
        return export(self, *args, **kwargs)

    monkeypatch.setattr(pg.exporters.ImageExporter, "export", spy)
    plot.export_png(tmp_path / "all.png")
    assert seen and seen[0] >= 900
    assert plot.loss_plot.vb.viewRange()[0][1] < 30          # back to following the current run


def test_readout_numbers_use_thousands_separators(plot: MetricsPlot) -> None:
    plot.start_run(TrainingConfig())
    plot.add_epochs(events(1, 1500))
    plot.show_epoch(1413)
    assert plot.readout_text.startswith("Epoch 1,413 ")


def test_a_long_legend_is_shortened_to_the_plots_width_and_never_pushes_them_out(qtbot: QtBot,
                                                                                  plot: MetricsPlot) -> None:
    long = PRESETS["best"]                                  # "he, lr 0.02 linear, 256-128, relu, ce, ..."
    for lr in (0.5, 0.25, 0.125):                           # three earlier runs share the first line
        plot.start_run(replace(long, lr=lr))
        plot.add_epochs(events(1, 3, lr=lr))
    plot.start_run(long)
    plot.add_epochs(events(1, 3, lr=long.lr))
    for width in (640, 900, 1400):
        plot.resize(width, 360)
        qtbot.waitUntil(lambda: plot.graphics.width() <= width)
        plot.redraw()
        view = plot.graphics.width()
        qtbot.waitUntil(lambda: plot.legend.item.boundingRect().width() <= view)
        # The accuracy plot ends inside the widget: a long legend did not widen the scene.
        right = plot.accuracy_plot.mapRectToScene(plot.accuracy_plot.boundingRect()).right()
        assert right <= view + 1, (width, right, view)
    # At 1,400 px the current run, alone on the second line, is named whole; the earlier three share
    # the first line and are shortened.
    assert f"<b>{long.label()}</b> (current)" in plot.legend.text and "…" in plot.legend.text
    plot.resize(640, 360)
    qtbot.waitUntil(lambda: f"<b>{long.label()}</b>" not in plot.legend.text)
    assert plot.legend_entries[-1] == f"{long.label()} (current)"   # the names themselves stay whole
