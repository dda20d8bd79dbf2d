"""The whole window: open data, train, steer, save and load, errors, settings, closing while training."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from studio.core.data import Dataset, Split
from studio.core.digit_folders import export_dataset
from studio.core.model_reader import load_model
from studio.core.training import PRESETS, TrainingConfig
from studio.gui.main_window import MainWindow


def write_dataset(folder: Path, n_train: int = 40, n_test: int = 20, seed: int = 0) -> Path:
    """A small real data set on disk (trainingDigits/ and testDigits/ of random 0/1 images)."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> Split:
        labels = np.arange(n, dtype=np.int64) % 10
        images = (rng.random((n, 1024)) < 0.3).astype(np.uint8)
        return Split(images, labels, tuple(f"{label}_{i}.txt" for i, label in enumerate(labels)))

    export_dataset(Dataset(folder.name, str(folder), split(n_train), split(n_test)), folder)
    return folder


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path) -> MainWindow:
    window = make_window()
    assert window.open_and_wait(write_dataset(tmp_path / "tiny"))
    return window


def epochs(window: MainWindow) -> int:
    return len(window.session.history)


def test_smoke_empty_state_then_a_data_set(qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    window = make_window()
    assert window.dataset is None
    assert window.stack.currentIndex() == 0
    assert "Open data set" in window.empty_page.label.text()
    assert not window.controls.start_pause_action.isEnabled()
    assert window.network is not None                     # the initial network is shown already
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&Run", "&View"]
    file_menu = window.menuBar().actions()[0].menu()
    shortcuts = {a.text(): a.shortcut().toString() for a in file_menu.actions() if a.text()}
    assert shortcuts["&Open data set..."] == "Ctrl+O"
    assert shortcuts["&Save model..."] == "Ctrl+S"
    assert shortcuts["&Load model..."] == "Ctrl+L"
    assert shortcuts["&Quit"] == "Ctrl+Q"
    assert window.open_and_wait(write_dataset(tmp_path / "tiny"))
    assert window.stack.currentIndex() == 1
    assert window.controls.start_pause_action.isEnabled()
    assert "tiny" in window.windowTitle()
    assert window.errors == []


def test_train_pause_step_resume_stop(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.start_pause_action.trigger()
    qtbot.waitUntil(lambda: epochs(window) >= 3, timeout=15_000)
    assert window.runner.state == "running"
    assert window.controls.start_pause_action.text() == "Pause"
    assert not window.controls.init_combo.isEnabled()
    window.controls.start_pause_action.trigger()          # pause
    assert window.runner.state == "paused"
    qtbot.wait(300)
    held = epochs(window)
    qtbot.wait(500)
    assert epochs(window) == held
    window.controls.step_action.trigger()
    qtbot.waitUntil(lambda: window.runner.state == "paused", timeout=10_000)
    qtbot.wait(150)
    assert epochs(window) == held + 1
    window.controls.start_pause_action.trigger()          # resume
    qtbot.waitUntil(lambda: epochs(window) >= held + 3, timeout=10_000)
    window.controls.stop_action.trigger()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=10_000)
    assert window.controls.init_combo.isEnabled()
    assert window.status.epoch.text() == f"epoch {epochs(window)}"
    # The views show the trained network's final snapshot.
    np.testing.assert_array_equal(window.network.weights[0], window.session.network.weights[0])
    # Start again carries on in the same run: the epochs continue.
    done = epochs(window)
    window.start_training()
    qtbot.waitUntil(lambda: epochs(window) >= done + 2, timeout=10_000)
    window.runner.stop()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=10_000)
    column = window.session.history.column("epoch")
    np.testing.assert_array_equal(column, np.arange(1, len(column) + 1))
    assert window.errors == []


def test_step_from_idle_trains_one_epoch(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.step_action.trigger()
    qtbot.waitUntil(lambda: window.runner.state == "paused", timeout=10_000)
    qtbot.wait(150)
    assert epochs(window) == 1


def test_learning_rate_change_mid_run(qtbot: QtBot, window: MainWindow) -> None:
    window.start_training()
    qtbot.waitUntil(lambda: epochs(window) >= 2, timeout=10_000)
    window.runner.pause()                                 # so that no epochs are in flight
    qtbot.wait(300)
    changed_at = epochs(window)
    window.controls.lr_spin.setValue(0.25)                # the spin box stays editable while live
    window.runner.resume()
    qtbot.waitUntil(lambda: epochs(window) >= changed_at + 4, timeout=10_000)
    rates = window.session.history.column("lr")
    assert (rates[:changed_at] == 0.01).all()
    # From the next epoch on; the epoch the pause interrupted (already under way) keeps its rate.
    assert (rates[changed_at + 1:] == 0.25).all()


def test_a_run_against_fooling_trains_in_the_window(qtbot: QtBot, window: MainWindow,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    started, start = [], window.runner.start
    monkeypatch.setattr(window.runner, "start", lambda network, dataset, config, first_epoch=0: (
        started.append(config), start(network, dataset, config, first_epoch))[1])
    window.controls.against_spin.setValue(2)
    window.controls.max_epochs_spin.setValue(2)
    window.start_training()
    assert not window.controls.against_spin.isEnabled()
    qtbot.waitUntil(lambda: window.runner.state == "idle" and epochs(window) == 2, timeout=30_000)
    assert [config.against_fooling for config in started] == [2] and not window.errors
    assert window.controls.against_spin.isEnabled()


def test_max_epochs_shows_progress_and_stops(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.max_epochs_spin.setValue(4)
    assert window.status.progress.isVisible()
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle" and epochs(window) == 4, timeout=10_000)
    assert window.status.progress.value() == 4 and window.status.progress.maximum() == 4
    window.start_training()                               # nothing left to do
    assert window.runner.state == "idle"
    assert "reached its 4 epochs" in window.statusBar().currentMessage()
    window.controls.max_epochs_spin.setValue(6)
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle" and epochs(window) == 6, timeout=10_000)


def test_editing_a_network_setting_before_training_previews_the_new_network(qtbot: QtBot, window: MainWindow) -> None:
    combo = window.controls.init_combo
    combo.setCurrentIndex(combo.findData("zeros"))
    assert not window.network.weights[0].any()
    combo.setCurrentIndex(combo.findData("ones"))
    assert (window.network.weights[0] == 1).all()
    assert window.weights._network is window.network
    assert window.pad.network() is window.network


def test_a_network_setting_changed_after_training_takes_effect_at_start(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.max_epochs_spin.setValue(2)
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle" and epochs(window) == 2, timeout=10_000)
    trained = window.network.weights[0].copy()
    window.controls.hidden_edit.setText("5")
    window.controls.hidden_edit.editingFinished.emit()
    np.testing.assert_array_equal(window.network.weights[0], trained)   # kept until Start
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle" and epochs(window) == 2, timeout=10_000)
    assert window.network.sizes == (1024, 5, 10)
    assert len(window.metrics.previous_runs) == 1


def test_reset_starts_a_new_run_and_keeps_the_old_curves(qtbot: QtBot, window: MainWindow) -> None:
    window.start_training()
    qtbot.waitUntil(lambda: epochs(window) >= 2, timeout=10_000)
    window.controls.reset_action.trigger()
    assert window.runner.state == "idle"
    assert epochs(window) == 0
    assert len(window.metrics.previous_runs) == 1 and len(window.metrics.previous_runs[0]) >= 2
    fresh = TrainingConfig(hidden=(8,), max_epochs=None).build_network()
    np.testing.assert_array_equal(window.network.weights[0], fresh.weights[0])


def test_a_malformed_data_set_names_the_file_and_keeps_the_old_one(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    old = window.dataset
    bad = write_dataset(tmp_path / "bad")
    broken = bad / "trainingDigits" / "3_3.txt"
    broken.write_text("0" * 32 + "\r\n" + "01x" + "0" * 29 + "\r\n", encoding="ascii")
    assert not window.open_and_wait(bad)
    assert len(window.errors) == 1
    title, text = window.errors[0]
    assert "3_3.txt" in text and "line 2" in text
    assert window.dataset is old
    assert "tiny" in window.windowTitle()


def test_the_real_error_box_does_not_block(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    del window.show_error                                 # back to the real method
    assert not window.open_and_wait(tmp_path / "missing")
    box = window._last_error
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "missing" in box.text() and "does not exist" in box.text()
    box.accept()


def test_save_and_load_a_model_restores_network_and_settings(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    window.controls.set_config(TrainingConfig(hidden=(6,), activation="tanh", loss="ce", init="xavier",
                                              lr=0.05, max_epochs=3))
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle" and epochs(window) == 3, timeout=10_000)
    path = tmp_path / "model.npz"
    assert window.save_model_to(path)
    saved = window.network.copy()
    network, info = load_model(path)
    assert info["config"]["activation"] == "tanh" and info["epochs"] == 3
    # Change everything, then load it back.
    window.controls.set_config(PRESETS["article"])
    window.reset_network()
    assert window.network.sizes == (1024, 16, 16, 10)
    assert window.load_model_from(path)
    assert window.network.sizes == (1024, 6, 10)
    for a, b in zip(window.network.parameters(), saved.parameters()):
        np.testing.assert_array_equal(a, b)
    config = window.controls.config()
    assert (config.hidden, config.activation, config.loss, config.init, config.lr) == \
        ((6,), "tanh", "ce", "xavier", 0.05)
    assert "model.npz" in window.session.history.label
    assert window.errors == []
    # Training the loaded model carries on from its weights (not a fresh network).
    window.controls.max_epochs_spin.setValue(1)
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle" and epochs(window) == 1, timeout=10_000)
    assert window.network.sizes == (1024, 6, 10)


def test_loading_a_bad_model_file_keeps_the_network(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    before = window.network
    bad = tmp_path / "not-a-model.npz"
    bad.write_bytes(b"hello")
    assert not window.load_model_from(bad)
    assert len(window.errors) == 1 and "not-a-model.npz" in window.errors[0][1]
    assert window.network is before


def test_divergence_is_reported_and_the_weights_stay_finite(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    # No learning rate the spin box offers makes this small network overflow, so the settings are
    # handed in directly: everything after them is the window's real path.
    absurd = TrainingConfig(hidden=(8,), activation="relu", loss="ce", lr=1e300, max_epochs=5)
    monkeypatch.setattr(window.controls, "config", lambda: absurd)
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=10_000)
    assert len(window.errors) == 1
    assert window.errors[0][0] == "Training diverged"
    assert window.network.is_finite()


def test_drop_a_folder_opens_it(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    other = write_dataset(tmp_path / "dropped", n_train=20, n_test=10)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.dataset_load_finished, timeout=20_000):
        window.dropEvent(event)
    assert window.dataset.name == "dropped"


def test_export_through_the_window(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    window.controls.max_epochs_spin.setValue(2)
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle" and epochs(window) == 2, timeout=10_000)
    assert window.export_curves_png(tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert window.export_numbers_csv(tmp_path / "n.csv")
    lines = (tmp_path / "n.csv").read_text().splitlines()
    assert lines[0].startswith("run,label,epoch,loss,train_acc,test_acc,seconds") and len(lines) == 3


def test_close_while_running_ends_the_thread(qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    window = make_window()
    window.open_and_wait(write_dataset(tmp_path / "tiny"))
    window.start_training()
    qtbot.waitUntil(lambda: epochs(window) >= 1, timeout=10_000)
    thread = window.runner.thread
    assert thread is not None and thread.isRunning()
    window.close()
    assert thread.isFinished()
    assert window.runner.state == "idle" and window.runner.thread is None


def test_close_while_paused_ends_the_thread(qtbot: QtBot, window: MainWindow) -> None:
    window.start_training()
    qtbot.waitUntil(lambda: epochs(window) >= 1, timeout=10_000)
    window.runner.pause()
    qtbot.wait(100)
    thread = window.runner.thread
    window.close()
    assert thread.isFinished()


def test_settings_are_remembered(qtbot: QtBot, make_window: Callable[..., MainWindow], settings: QSettings, tmp_path: Path) -> None:
    first = make_window()
    data = write_dataset(tmp_path / "remembered")
    first.open_and_wait(data)
    first.controls.set_config(TrainingConfig(hidden=(12,), lr=0.125, max_epochs=None))
    first.metrics.set_log_loss(True)
    first.close()
    assert Path(settings.fileName()).exists()
    second = make_window(config=None)
    assert second.controls.config().lr == 0.125
    assert second.controls.config().hidden == (12,)
    assert second.metrics.log_loss
    assert second.last_dataset_path() == str(data.resolve())
    assert second.network.sizes == (1024, 12, 10)



def test_the_best_presets_augmentations_and_schedule_are_remembered(
        qtbot: QtBot, make_window: Callable[..., MainWindow], settings: QSettings) -> None:
    first = make_window()
    qtbot.mouseClick(first.controls.best_button, Qt.MouseButton.LeftButton)
    first.controls.readable_check.setChecked(True)
    first.controls.against_spin.setValue(3)
    chosen = first.controls.config()
    assert chosen.augment and chosen.lr_schedule == "linear" and chosen.engine == "readable"
    assert chosen.against_fooling == 3
    first.close()
    second = make_window(config=None)
    assert second.controls.config() == chosen
    assert second.controls.augment_button.text() == "all five"


def test_the_real_digits_train_in_the_window(qtbot: QtBot, make_window: Callable[..., MainWindow], digits_dir: Path) -> None:
    window = make_window(config=None)
    window.controls.set_config(PRESETS["best"])
    assert window.open_and_wait(digits_dir)
    assert len(window.dataset.train) == 1934 and len(window.dataset.test) == 946
    window.controls.max_epochs_spin.setValue(3)
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=60_000)
    assert epochs(window) == 3
    assert window.session.history.column("test_acc")[-1] > 0.8
    window.pad.load_sample("test", 0)
    assert window.pad.prediction_view.predicted_digit() is not None
