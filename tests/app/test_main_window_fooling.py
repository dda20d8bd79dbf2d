"""Fooling in the whole window: L shows what the network looks at, "Make it say" plays its flips on the pad
and Undo restores the drawing, and the Fragility tab measures and loads a sample into the pad."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.core.digit_folders import export_dataset
from studio.core.fooling import single_flip_changes
from studio.core.model_writer import save_model
from studio.gui import fool_panel
from studio.gui.actions import FRAGILITY_TAB, TRAINING_TAB
from studio.gui.main_window import MainWindow
from tests.helpers import quick_network, tiny_dataset


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    monkeypatch.setattr(fool_panel, "PLAY_INTERVAL_MS", 10)
    export_dataset(tiny_dataset(per_class=10, test_per_class=5), tmp_path / "tiny")
    save_model(tmp_path / "m.npz", quick_network(epochs=1), {})
    window = make_window(config=None, size=(1440, 900))
    assert window.open_and_wait(tmp_path / "tiny")
    assert window.load_model_from(tmp_path / "m.npz")
    return window


def test_fool_the_network_from_the_pad(qtbot: QtBot, window: MainWindow) -> None:
    window.pad.load_sample("train", 37)
    window.activateWindow()
    qtbot.waitActive(window)
    window.pad.pad.setFocus()
    qtbot.keyClick(window.pad.pad, Qt.Key.Key_L)
    qtbot.waitUntil(lambda: window.pad.pad.overlay() is not None, timeout=10_000)
    original = window.pad.image()
    expected = single_flip_changes(window.network, original)
    np.testing.assert_allclose(window.pad.pad.overlay(), expected.changes)
    assert window.fool.legend.isVisible()

    before = int(np.argmax(expected.outputs))
    target = (before + 1) % 10
    window.fool.set_target(target)
    qtbot.mouseClick(window.fool.say_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.fool.is_playing(), timeout=30_000)
    result = window.fool.last_result()
    assert result.reached
    assert window.pad.prediction_view.predicted_digit() == target
    assert np.count_nonzero(window.pad.image() != original) == result.count
    assert f"turned your {before} into" in window.fool.status_label.text()
    qtbot.mouseClick(window.fool.undo_button, Qt.MouseButton.LeftButton)
    assert np.array_equal(window.pad.image(), original)
    assert window.pad.prediction_view.predicted_digit() == before
    # The overlay (still on) comes back for the restored drawing.
    qtbot.waitUntil(lambda: window.pad.pad.overlay() is not None
                    and np.allclose(window.pad.pad.overlay(), expected.changes), timeout=10_000)
    assert window.errors == []


def test_fragility_tab_measures_and_loads_into_the_pad(qtbot: QtBot, window: MainWindow) -> None:
    window.actions.tab_actions[FRAGILITY_TAB].trigger()
    assert window.view_tabs.currentWidget().widget() is window.fragility
    window.fragility._samples_spin.setValue(8)
    window.fragility._cap_spin.setValue(40)
    qtbot.mouseClick(window.fragility.measure_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.fragility.results()) == 1, timeout=60_000)
    assert window.fragility.easiest_buttons
    button = window.fragility.easiest_buttons[0]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.view_tabs.currentIndex() == TRAINING_TAB
    name, result = window.fragility.results()[0]
    index = int(result.indices[result.easiest(1)[0]])
    assert np.array_equal(window.pad.image(), tiny_dataset(10, 5).test.images[index])
    assert window.errors == []
