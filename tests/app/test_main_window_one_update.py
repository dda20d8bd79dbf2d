"""The "One update" tab in the whole window: it gets the snapshot, the data set, the pad's drawing,
the chosen mistake and the learning rate; applying copies the stepped weights into the window's
network (every view follows), undo restores them, and neither works while a run is live."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.core.digit_folders import export_dataset
from studio.core.network import one_hot
from studio.core.training import Optimiser, TrainingConfig
from studio.gui.actions import MISTAKES_TAB, ONE_UPDATE_TAB
from studio.gui.main_window import MainWindow
from tests.helpers import tiny_dataset

CONFIG = TrainingConfig(hidden=(8,), lr=0.3, max_epochs=None)
DEADLINE_MS = 20_000


@pytest.fixture
def window(make_window: Callable[[], MainWindow], tmp_path: Path) -> MainWindow:
    folder = tmp_path / "tiny"
    export_dataset(tiny_dataset(per_class=4, test_per_class=2), folder)
    window = make_window(config=None, size=(1440, 900))
    assert window.open_and_wait(folder)
    window.controls.set_config(CONFIG)
    window.show_tab(ONE_UPDATE_TAB)
    return window


def test_apply_and_undo_change_the_windows_network(qtbot: QtBot, window: MainWindow) -> None:
    view = window.one_update
    view.set_source("dataset")
    view.set_sample("test", 5)
    walk = view.walkthrough
    assert walk is not None and walk.lr == 0.3 and walk.network.sizes == (1024, 8, 10)
    before = window.network
    original = [p.copy() for p in before.parameters()]
    x, label = window.dataset.test.images[5].astype(np.float64), int(window.dataset.test.labels[5])
    expected = before.copy()
    grads = expected.backward(x[None], one_hot(np.array([label])))
    Optimiser(0.3).step(expected, grads.weights, grads.biases)

    qtbot.mouseClick(view.apply_button, Qt.MouseButton.LeftButton)
    assert window.network is not before                           # a new snapshot for every view
    for got, want in zip(window.network.parameters(), expected.parameters()):
        np.testing.assert_array_equal(got, want)
    assert window.pad.network() is window.network
    assert view.undo_button.isEnabled()

    qtbot.mouseClick(view.undo_button, Qt.MouseButton.LeftButton)
    for got, want in zip(window.network.parameters(), original):
        np.testing.assert_array_equal(got, want)
    assert not view.undo_button.isEnabled()


def test_disabled_while_a_run_is_live(qtbot: QtBot, window: MainWindow) -> None:
    view = window.one_update
    assert view.apply_button.isEnabled()
    window.start_training()
    assert not view.apply_button.isEnabled()
    assert not view.apply_update()
    window.runner.stop()
    qtbot.waitUntil(lambda: not window.runner.is_live, timeout=DEADLINE_MS)
    assert view.apply_button.isEnabled()
    # it walks the network the run left
    assert view.walkthrough.network.sizes == window.network.sizes
    np.testing.assert_array_equal(view.walkthrough.network.weights[0], window.network.weights[0])


def test_the_pad_drawing_and_the_chosen_mistake_reach_the_tab(qtbot: QtBot, window: MainWindow) -> None:
    view = window.one_update
    window.pad.load_sample("train", 3)
    view.set_source("pad")
    np.testing.assert_array_equal(view.walkthrough.x, window.dataset.train.images[3])
    window.controls.max_epochs_spin.setValue(1)
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=DEADLINE_MS)
    window.actions.tab_actions[MISTAKES_TAB].trigger()
    confusion = window.confusion
    matrix = confusion.matrix()
    true, predicted = np.unravel_index(np.argmax(matrix), matrix.shape)
    qtbot.mouseClick(confusion.table.viewport(), Qt.MouseButton.LeftButton,
                     pos=confusion.cell_position(true, predicted))
    gallery = confusion.gallery()
    sample = gallery.samples()[0]
    qtbot.mouseClick(gallery.list_widget.viewport(), Qt.MouseButton.LeftButton, pos=gallery.tile_position(0))
    window.show_tab(ONE_UPDATE_TAB)
    view.set_source("mistake")
    np.testing.assert_array_equal(view.walkthrough.x, window.dataset.test.images[sample.index])
    assert view.walkthrough.label == int(true)
