"""The merged window's wiring as a user meets it: the plot and the lessons read the session's runs,
the strip under the settings follows the form, and a page's minimum never sets the window's."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.core.training import TrainingConfig
from studio.gui.main_window import MainWindow
from tests.app.test_main_window import write_dataset
from tests.app.test_main_window_session import train

SMALL = TrainingConfig(hidden=(8,), max_epochs=None)


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path) -> MainWindow:
    window = make_window(SMALL)
    assert window.open_and_wait(write_dataset(tmp_path / "tiny"))
    return window


def test_the_curves_and_the_lessons_read_the_sessions_runs(qtbot: QtBot, window: MainWindow) -> None:
    train(qtbot, window, 2)
    assert window.metrics.history is window.session.history and len(window.metrics.history) == 2
    window.controls.reset_action.trigger()
    assert window.metrics.history is window.session.history and len(window.metrics.history) == 0
    assert window.metrics.previous_runs == (window.session.earlier[0].history,)
    window.runs_view.list.setCurrentRow(0)
    qtbot.mouseClick(window.runs_view.bring_back_button, Qt.MouseButton.LeftButton)
    assert window.metrics.history is window.session.history and len(window.metrics.history) == 2
    assert window.lessons._history() is window.session.history      # the lessons quote this run
    assert window.errors == []


def test_what_training_sees_follows_the_data_set_and_the_shift(qtbot: QtBot, window: MainWindow) -> None:
    strip = window.augment_strip
    assert len(strip.originals()) > 0                                 # the opened data set's digits
    np.testing.assert_array_equal(strip.shown(), strip.originals())   # no shift, no augmentation
    window.controls.shift_spin.setValue(3)
    qtbot.waitUntil(lambda: not np.array_equal(strip.shown(), strip.originals()), timeout=5_000)


def test_a_wide_page_scrolls_inside_its_tab_instead_of_widening_the_window(qtbot: QtBot,
                                                                          window: MainWindow) -> None:
    window.resize(1024, 640)
    window.fragility.setMinimumWidth(3000)                         # any page, however wide
    for _ in range(5):
        qtbot.wait(20)
    assert window.width() == 1024 and window.minimumSizeHint().width() <= 1024
