"""The compare view: a real comparison (worker processes, a worker thread) driven by its buttons.

Each comparison starts real processes (spawn costs ~0.5-1 s), so there are two: one that finishes and
one that is cancelled. Everything else is checked without starting any.
"""
from __future__ import annotations

import csv
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.core.run_summary import summarise
from studio.core.training import TrainingConfig, train
from studio.gui.compare_chart import LEGEND_CHARS, _legend_rows
from studio.gui.compare_view import CompareView
from tests.helpers import tiny_dataset

BASE = TrainingConfig(hidden=(8,), lr=0.5, batch_size=1, max_epochs=3, seed=2)
DEADLINE_MS = 30_000     # reached only if something hangs


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[CompareView]:
    widget = CompareView(BASE)
    qtbot.addWidget(widget)
    widget.resize(1100, 650)
    widget.show()
    yield widget
    widget.shutdown()
    assert not widget.is_running and widget.runner.thread is None
    assert multiprocessing.active_children() == []


def test_a_two_run_comparison_fills_the_table_and_the_chart(qtbot: QtBot, view: CompareView,
                                                            tmp_path: Path) -> None:
    dataset = tiny_dataset()
    view.set_dataset(dataset)
    view.set_knob("init", "randn,xavier")
    view.epochs_spin.setValue(6)
    view.workers_spin.setValue(2)
    assert view.run_button.isEnabled()
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert view.is_running
    qtbot.waitUntil(lambda: not view.is_running, timeout=DEADLINE_MS)

    assert view.labels() == ["randn, lr 0.5, 8", "xavier, lr 0.5, 8"]
    summaries = view.summaries()
    assert all(s is not None and s.outcome == "finished" and s.epochs == 6 for s in summaries)
    for row, init in enumerate(("randn", "xavier")):
        # The oracle: the same run trained here, in this process, summed up by core.
        config = TrainingConfig(hidden=(8,), lr=0.5, batch_size=1, max_epochs=6, seed=2, init=init)
        expected = summarise(config, list(train(config.build_network(), dataset, config)))
        assert summaries[row].epochs_to_50 == expected.epochs_to_50
        assert summaries[row].best_test_accuracy == expected.best_test_accuracy
        assert view.cell_text(row, "Epochs") == "6"
        assert view.cell_text(row, "End") == "finished"
        milestone = view.cell_text(row, "To 50%")
        assert milestone == "-" if expected.epochs_to_50 is None else milestone.startswith(f"{expected.epochs_to_50} (")
        assert view.cell_text(row, "Final test") == f"{100 * expected.final_test_accuracy:.1f}%"
        # The chart shows every epoch of the run, in percent.
        view.redraw()
        train_curve, test_curve = view.curves(row)
        assert list(train_curve.xData) == [1, 2, 3, 4, 5, 6]
        assert train_curve.yData[-1] == pytest.approx(100 * expected.final_train_accuracy)
        assert test_curve.yData[-1] == pytest.approx(100 * expected.final_test_accuracy)
    assert view.status_text().startswith("Done: 2 runs")
    assert view.export_csv_button.isEnabled()

    written = view.export_csv(tmp_path / "table.csv")
    with open(written, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["init"] for r in rows] == ["randn", "xavier"] and [r["epochs"] for r in rows] == ["6", "6"]
    png = view.export_png(tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cancel_mid_way_stops_every_run_and_leaves_no_process(qtbot: QtBot, view: CompareView) -> None:
    view.set_dataset(tiny_dataset())
    view.set_knob("init", "randn,xavier,he")
    view.epochs_spin.setValue(1_000_000)       # would run for hours
    view.workers_spin.setValue(2)
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(len(h) > 0 for h in view.histories()), timeout=DEADLINE_MS)
    assert view.cancel_button.isEnabled()
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.is_running, timeout=DEADLINE_MS)

    assert multiprocessing.active_children() == []
    summaries = view.summaries()
    assert all(s is not None and s.stopped for s in summaries)
    assert [view.cell_text(row, "End") for row in range(3)] == ["stopped"] * 3
    assert view.status_text().startswith("Cancelled")
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()


def test_a_bad_value_blocks_run_and_says_why(qtbot: QtBot, view: CompareView) -> None:
    view.set_dataset(tiny_dataset())
    view.set_knob("lr", "0.1,abc")
    assert not view.run_button.isEnabled()
    assert "'abc' is not a number" in view.plan_text()
    view.set_knob("lr", "0.1,0.5")
    view.workers_spin.setValue(1)
    view.epochs_spin.setValue(40)
    assert view.run_button.isEnabled()
    assert view.plan_text() == "Plan: 2 runs, 40 epochs each, 1 at a time."
    assert [c.lr for c in view.plan()] == [0.1, 0.5]


def test_learning_rate_schedules_race_over_the_races_epochs(view: CompareView) -> None:
    view.set_dataset(tiny_dataset())
    view.set_knob("lr_schedule", "constant,linear,cosine")
    view.epochs_spin.setValue(12)
    assert view.run_button.isEnabled()
    assert [(c.lr_schedule, c.max_epochs) for c in view.plan()] == [("constant", 12), ("linear", 12), ("cosine", 12)]
    assert [c.label() for c in view.plan()][1:] == ["randn, lr 0.5 linear, 8", "randn, lr 0.5 cosine, 8"]
    view.set_knob("lr_schedule", "constant,step")
    assert not view.run_button.isEnabled() and "step" in view.plan_text()


def test_presets_tick_one_setting_and_the_plan_keeps_the_base(view: CompareView) -> None:
    view.set_knob("lr", "0.3")
    view.initialisers_button.click()
    plan = view.plan()
    assert [c.init for c in plan] == ["randn", "rand", "zeros", "ones", "uniform", "xavier", "he"]
    assert {(c.lr, c.hidden, c.seed, c.max_epochs) for c in plan} == {(0.5, (8,), 2, view.epochs_spin.value())}
    view.learning_rates_button.click()
    assert [c.lr for c in view.plan()] == [0.01, 0.1, 1.0]
    assert {c.init for c in view.plan()} == {"randn"}


def test_without_a_data_set_run_is_off(view: CompareView) -> None:
    assert not view.run_button.isEnabled()
    assert view.run() is False
    assert "data set" in view.status_text()


def test_the_legend_breaks_long_run_names_into_rows_that_fit() -> None:
    short = ["randn", "rand", "zeros", "ones", "xavier", "he"]
    assert _legend_rows(short) == [(0, 4), (4, 6)]               # at most four short names a row
    long = [f"{init}, lr 0.03, 32, tanh, ce, batch 32, momentum 0.9" for init in ("randn", "xavier", "zeros")]
    rows = _legend_rows(long)
    assert rows == [(0, 1), (1, 2), (2, 3)]                       # one long name a row
    for a, b in rows:
        assert sum(len(label) + 6 for label in long[a:b]) <= LEGEND_CHARS or b - a == 1
    assert _legend_rows([]) == []
