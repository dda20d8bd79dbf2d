"""The "see why it learns" views in the whole window: saturation and gradients, the confusion matrix
and its gallery, comparing runs; the best epoch (its line, restoring its weights, early stopping);
the tabs and their menu; the Fast preset.

Every window keeps its settings in a temporary INI file and the user's files in a temporary folder
(``BACKPROP_STUDIO_DATA_DIR``). Runs train on ``tests.helpers.tiny_dataset`` written to disk, at about
a millisecond an epoch: with ``CONFIG`` the test accuracy climbs to 100% in about 15 epochs and then
stays put, and the runner's snapshots (every 0.1 s) fall on the first epoch and then every ~100.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.core.digit_folders import export_dataset
from studio.core.model_reader import load_model
from studio.core.network import Network
from studio.core.training import PRESETS, TrainingConfig, train
from studio.gui.actions import COMPARE_TAB, DIAGNOSTICS_TAB, MISTAKES_TAB, TRAINING_TAB
from studio.gui.main_window import MainWindow
from tests.helpers import tiny_dataset

#: Learns the tiny data set in about 15 epochs; unlimited, so a run ends only when asked to.
CONFIG = TrainingConfig(hidden=(16,), activation="tanh", loss="ce", init="xavier", bias_init="zeros",
                        lr=0.002, batch_size=10, momentum=0.0, order="shuffle", max_epochs=None, seed=0)
DEADLINE_MS = 20_000     # reached only if something hangs


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    export_dataset(tiny_dataset(per_class=10, test_per_class=5), folder)
    return folder


@pytest.fixture
def window(make_window: Callable[[], MainWindow], data_dir: Path) -> MainWindow:
    window = make_window(config=None, size=(1440, 900))
    assert window.open_and_wait(data_dir)
    window.controls.set_config(CONFIG)
    return window


def train_until_the_best_settles(qtbot: QtBot, window: MainWindow) -> None:
    """Train until the test accuracy has reached 100% and the run has gone on for 20 epochs more, then
    stop: the last epoch is then well past the best one."""
    window.start_training()
    assert not window.actions.restore_best_action.isEnabled()              # never while the run trains it

    def settled() -> bool:
        best = window.best.best_epoch
        return best is not None and window.best.best_accuracy == 1.0 \
            and window.session.history.last_epoch > best + 20

    qtbot.waitUntil(settled, timeout=DEADLINE_MS)
    window.runner.stop()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=DEADLINE_MS)


def test_a_run_fills_the_views_and_marks_the_best_epoch(qtbot: QtBot, window: MainWindow) -> None:
    train_until_the_best_settles(qtbot, window)
    history, best = window.session.history, window.best
    last = history.last_epoch
    test_acc = history.column("test_acc")

    # The best epoch is the first to reach the highest test accuracy, whether or not a snapshot fell
    # on it, and the best line sits there on both plots.
    assert best.best_epoch == int(np.argmax(test_acc)) + 1 < last
    assert best.best_accuracy == test_acc.max() == 1.0
    assert window.metrics.best_epoch == best.best_epoch
    # The lines move with the plot's next frame.
    qtbot.waitUntil(lambda: all(line.isVisible() and line.value() == best.best_epoch
                                for line in window.metrics.best_lines), timeout=2000)

    # Saturation & gradients measured the final snapshot, as of the last epoch.
    window.actions.tab_actions[DIAGNOSTICS_TAB].trigger()
    assert window.view_tabs.currentWidget().widget() is window.diagnostics and window.diagnostics.isVisible()
    window.diagnostics.flush()
    recorded = window.diagnostics.tracker.epochs()
    assert recorded[0] == 0 and recorded[-1] == last and len(recorded) >= 2
    x, labels = window.diagnostics.sample()
    np.testing.assert_allclose(window.diagnostics.latest_diagnosis().accuracy,
                               np.mean(window.network.predict(x) == labels))
    assert window.diagnostics.drawn_epoch() == last

    # Mistakes: the confusion matrix of the final network on the test set matches the run's last
    # test accuracy, measured by the training itself.
    window.actions.tab_actions[MISTAKES_TAB].trigger()
    assert window.view_tabs.currentWidget().widget() is window.confusion
    matrix = window.confusion.matrix()
    assert matrix is not None and matrix.sum() == len(window.dataset.test)
    assert np.trace(matrix) / matrix.sum() == pytest.approx(test_acc[-1])
    assert window.errors == []


def test_restore_best_weights_puts_back_exactly_the_best_epochs_weights(qtbot: QtBot, window: MainWindow,
                                                                        tmp_path: Path) -> None:
    train_until_the_best_settles(qtbot, window)
    best_epoch = window.best.best_epoch
    kept = window.best.best_network()
    final = window.network
    assert any(not np.array_equal(a, b) for a, b in zip(final.parameters(), kept.parameters()))
    assert window.actions.restore_best_action.isEnabled()

    window.actions.restore_best_action.trigger()
    for a, b in zip(window.session.network.parameters(), kept.parameters()):
        np.testing.assert_array_equal(a, b)
    # The oracle: the same run trained here for best_epoch epochs, in this process.
    oracle = CONFIG.build_network()
    for _ in train(oracle, window.dataset, replace(CONFIG, max_epochs=best_epoch)):
        pass
    for a, b in zip(window.session.network.parameters(), oracle.parameters()):
        np.testing.assert_array_equal(a, b)
    # Every view shows the restored weights.
    shown = window.network
    for a, b in zip(shown.parameters(), kept.parameters()):
        np.testing.assert_array_equal(a, b)
    assert window.weights._network is shown and window.pad.network() is shown
    window.diagnostics.flush()
    assert window.diagnostics.tracker.epochs()[-1] == best_epoch
    window.show_tab(MISTAKES_TAB)
    expected = np.trace(window.confusion.matrix()) / len(window.dataset.test)
    assert expected == pytest.approx(window.best.best_accuracy)
    assert window.statusBar().currentMessage().startswith(
        f"Restored the weights of epoch {best_epoch} (test accuracy 100.0%)")
    # Saving now describes the restored epoch, not the last one trained.
    assert window.save_model_to(tmp_path / "best.npz")
    network, info = load_model(tmp_path / "best.npz")
    assert info["epochs"] == best_epoch and info["test_accuracy"] == 1.0
    np.testing.assert_array_equal(network.weights[0], kept.weights[0])
    assert window.errors == []


def test_early_stopping_stops_a_run_and_is_remembered(qtbot: QtBot, window: MainWindow,
                                                      make_window: Callable[[], MainWindow]) -> None:
    window.controls.early_stopping_spin.setValue(2)
    window.start_training()                        # unlimited epochs: only early stopping ends it
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=DEADLINE_MS)
    history = window.session.history
    # The run's own rule stopped it exactly 2 epochs after its last new best test accuracy.
    accuracies = list(history.column("test_acc"))
    best_at = int(np.argmax(accuracies)) + 1              # the first epoch to reach the highest
    assert history.last_epoch == best_at + 2 == window.best.best_epoch + 2
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Stopped early: no better test accuracy for 2 epochs; best was epoch "
                              f"{window.best.best_epoch} (")
    # Start again carries on in the same run, and early stopping counts afresh.
    first_stop = history.last_epoch
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=DEADLINE_MS)
    assert history.last_epoch > first_stop and window.best.last_epoch == history.last_epoch
    assert window.statusBar().currentMessage().startswith("Stopped early")
    np.testing.assert_array_equal(history.column("epoch"), np.arange(1, history.last_epoch + 1))

    window.close()
    again = make_window(config=None, size=(1440, 900))
    assert again.controls.early_stopping_spin.value() == 2


def test_a_gallery_sample_loads_into_the_pad(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.max_epochs_spin.setValue(1)
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=DEADLINE_MS)
    window.actions.tab_actions[MISTAKES_TAB].trigger()
    view = window.confusion
    matrix = view.matrix()
    true, predicted = np.unravel_index(np.argmax(matrix), matrix.shape)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=view.cell_position(true, predicted))
    gallery = view.gallery()
    assert gallery is not None and gallery.isVisible() and len(gallery.samples()) == matrix[true, predicted]
    sample = gallery.samples()[1]
    qtbot.mouseClick(gallery.list_widget.viewport(), Qt.MouseButton.LeftButton, pos=gallery.tile_position(1))
    assert window.view_tabs.currentIndex() == TRAINING_TAB and window.pad.isVisible()
    np.testing.assert_array_equal(window.pad.image(), window.dataset.test.images[sample.index])
    assert window.pad.sample_text().startswith(f"sample {sample.name}, label {true} (test #{sample.index})")
    window.close()
    assert not gallery.isVisible()


def test_compare_tab_follows_the_settings_and_closing_mid_comparison_ends_it(qtbot: QtBot,
                                                                             window: MainWindow) -> None:
    window.controls.hidden_edit.setText("12")
    window.controls.hidden_edit.editingFinished.emit()
    compare = window.compare
    compare.set_base_config(PRESETS["best"])                         # showing the tab takes the panel's
    window.actions.tab_actions[COMPARE_TAB].trigger()
    assert window.view_tabs.currentWidget().widget() is compare
    assert compare.base_config() == window.controls.config() and compare.base_config().hidden == (12,)
    window.controls.lr_spin.setValue(0.125)
    assert compare.base_config().lr == 0.125
    compare.set_knob("init", "randn,xavier")
    compare.epochs_spin.setValue(compare.epochs_spin.maximum())      # far more than the test waits for
    compare.workers_spin.setValue(2)
    qtbot.mouseClick(compare.run_button, Qt.MouseButton.LeftButton)
    assert compare.is_running
    qtbot.waitUntil(lambda: all(len(h) >= 2 for h in compare.histories()), timeout=30_000)
    thread = compare.runner.thread
    assert thread is not None and thread.isRunning() and len(multiprocessing.active_children()) == 2
    window.close()
    assert thread.isFinished() and compare.runner.thread is None and not compare.is_running
    assert multiprocessing.active_children() == []


def test_tabs_menus_and_the_fast_preset(qtbot: QtBot, make_window: Callable[[], MainWindow],
                                        data_dir: Path) -> None:
    window = make_window(config=None, size=(1440, 900))
    assert [window.view_tabs.tabText(i) for i in range(window.view_tabs.count())] == \
        ["Training", "Saturation && gradients", "Mistakes", "Compare runs", "One update", "Fragility"]
    assert [a.shortcut().toString() for a in window.actions.tab_actions] == \
        ["Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4", "Ctrl+5", "Ctrl+6"]
    assert not any(a.isEnabled() for a in window.actions.tab_actions)      # nothing to look at yet
    view_menu = window.menuBar().actions()[2].menu()
    assert view_menu.actions()[:6] == window.actions.tab_actions
    run_menu = window.menuBar().actions()[1].menu()
    assert window.actions.restore_best_action in run_menu.actions() and not window.actions.restore_best_action.isEnabled()
    assert window.restore_best_weights() is False
    assert window.open_and_wait(data_dir)
    for index in (COMPARE_TAB, DIAGNOSTICS_TAB, TRAINING_TAB):
        window.actions.tab_actions[index].trigger()
        assert window.view_tabs.currentIndex() == index and window.actions.tab_actions[index].isChecked()
    # The default tab shows the curves, the weights and the pad together.
    assert window.metrics.isVisible() and window.weights.isVisible() and window.pad.isVisible()

    qtbot.mouseClick(window.controls.fast_button, Qt.MouseButton.LeftButton)
    assert window.controls.config() == PRESETS["fast"]
    assert window.network.sizes == (1024, 32, 10)                  # the untrained network follows
    expected = PRESETS["fast"].build_network(1024, 10)
    np.testing.assert_array_equal(window.network.weights[0], expected.weights[0])
    assert isinstance(window.network, Network) and window.errors == []
