"""The window and its session as a user meets them: hostile settings files, settings that cannot be
applied, runs kept and brought back, Quit asking first, models from the command line, safe error boxes."""
from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from studio import cli
from studio.core.model_reader import load_model
from studio.core.model_writer import save_model
from studio.core.session import FORM_LIMITS
from studio.core.training import PRESETS, TrainingConfig
from studio.gui import dataset_loader as loader_module
from studio.gui.main_window import MainWindow
from studio.gui.messages import MAX_LINE, MAX_LINES
from studio.gui.settings_store import SMOOTHING_RANGE, SettingsStore
from tests.app.test_main_window import write_dataset

SMALL = TrainingConfig(hidden=(8,), max_epochs=None)


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path) -> MainWindow:
    window = make_window(SMALL)
    assert window.open_and_wait(write_dataset(tmp_path / "tiny"))
    return window


def train(qtbot: QtBot, window: MainWindow, epochs: int) -> None:
    """Train ``epochs`` more epochs (Max epochs set to reach them) and wait for the run to rest."""
    window.controls.max_epochs_spin.setValue(window.session.history.last_epoch + epochs)
    window.controls.start_pause_action.trigger()
    qtbot.waitUntil(lambda: window.runner.state == "idle" and window.session.history.last_epoch
                    == window.controls.max_epochs_spin.value(), timeout=15_000)


# -- settings files that must not stop a launch ----------------------------------------------------------

def _config_json(**changes: object) -> str:
    return json.dumps({**PRESETS["article"].to_dict(), **changes})


HOSTILE_SETTINGS: dict[str, dict[str, object]] = {
    "seed above 2^31-1": {"config": _config_json(seed=3_000_000_000)},
    "config is a JSON list": {"config": "[1, 2, 3]"},
    "seed as text": {"config": _config_json(seed="twelve")},
    "max epochs 10^12": {"config": _config_json(max_epochs=10**12)},
    "smoothing 1e30": {"view/smoothing": "1e30"},
    "hidden 100000,100000": {"config": _config_json(hidden=[100_000, 100_000])},
    "config not JSON": {"config": "{hidden: 16"},
    "every view value wrong": {"view/tab": "x", "view/log_loss": [1], "training/early_stopping": "-5",
                               "window/geometry": "text", "data/train_with_my_digits": "perhaps"},
}


@pytest.mark.parametrize("name", list(HOSTILE_SETTINGS))
def test_a_hostile_settings_file_never_stops_the_window(make_window: Callable[..., MainWindow],
                                                        settings: QSettings, tmp_path: Path, name: str) -> None:
    for key, value in HOSTILE_SETTINGS[name].items():
        settings.setValue(key, value)
    settings.sync()
    window = make_window(config=None)
    config = window.controls.config()             # the form is whole and valid
    config.validate()
    assert config.seed <= FORM_LIMITS["seed"][1] and (config.max_epochs or 0) <= FORM_LIMITS["max_epochs"][1]
    assert window.network is not None and window.network.sizes[1:-1] == config.hidden
    assert SMOOTHING_RANGE[0] <= window.metrics.smoothing <= SMOOTHING_RANGE[1]
    assert window.statusBar().currentMessage().startswith("Some remembered settings could not be used")
    assert window.errors == []
    # Start-up opens a data set next, in the background: the explanation stays in the status bar.
    assert window.open_and_wait(write_dataset(tmp_path / "tiny"))
    assert "Some remembered settings could not be used" in window.statusBar().currentMessage()


def test_hand_edited_ini_text_is_read_safely(make_window: Callable[..., MainWindow], settings: QSettings) -> None:
    Path(settings.fileName()).write_text(
        "[General]\nconfig=[1,2]\n\n[view]\nsmoothing=1e30\ntab=99999999999999999999\n"
        "log_loss=@Invalid()\n\n[window]\ngeometry=@ByteArray(garbage)\n", encoding="utf-8")
    settings.sync()
    window = make_window(config=None)
    assert window.controls.config() == PRESETS["article"]
    assert window.view_tabs.currentIndex() == window.view_tabs.count() - 1
    assert "could not be used" in window.statusBar().currentMessage()


VALUES = (None, True, False, 0, -1, 7, 2**31, 10**12, "-" + "9" * 30, 1.5, float("nan"), float("inf"), "",
          "x", "12", "-3", "true", "1e30", "<a href='x'>y</a>", "é" * 50, [], [1, 2], ["a"], {"a": 1}, b"\x00\xff",
          _config_json(), _config_json(hidden=[9999] * 8), _config_json(lr="fast"), "[" * 5000)
KEYS = ("config", "view/smoothing", "view/tab", "view/log_loss", "training/early_stopping",
        "data/train_with_my_digits", "window/geometry", "window/state", "window/splitter", "data/last",
        "folders/data", "folders/model")


def test_the_settings_store_reads_anything_fuzzed(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    deadline = time.monotonic() + 3.0
    rounds = 0
    while time.monotonic() < deadline:
        qsettings = QSettings(str(tmp_path / f"fuzz{rounds % 3}.ini"), QSettings.Format.IniFormat)
        qsettings.clear()
        for key in KEYS:
            if rng.random() < 0.7:
                qsettings.setValue(key, VALUES[int(rng.integers(len(VALUES)))])
        qsettings.sync()
        again = QSettings(qsettings.fileName(), QSettings.Format.IniFormat)   # as read at the next launch
        store = SettingsStore(again)
        config = store.config()
        config.validate()
        assert config.seed <= FORM_LIMITS["seed"][1]
        assert SMOOTHING_RANGE[0] <= store.smoothing() <= SMOOTHING_RANGE[1]
        assert 0 <= store.integer("view/tab", 0, 0, 3) <= 3
        assert store.early_stopping() is None or 1 <= store.early_stopping() <= 1_000_000
        assert isinstance(store.flag("view/log_loss", False), bool)
        assert Path(store.folder("data")).is_dir()
        store.last_dataset()
        for key in ("window/geometry", "window/state", "window/splitter"):
            store.blob(key)
        assert all(len(problem) <= 300 for problem in store.problems)
        rounds += 1
    assert rounds > 20


# -- settings that cannot be applied are never remembered ---------------------------------------------

def test_a_huge_network_is_refused_and_not_remembered(qtbot: QtBot, make_window: Callable[..., MainWindow],
                                                      settings: QSettings, window: MainWindow) -> None:
    before = window.network
    window.controls.hidden_edit.setFocus()
    window.controls.hidden_edit.selectAll()
    qtbot.keyClicks(window.controls.hidden_edit, ",".join(["4096"] * 8))    # each layer within its limit
    qtbot.keyClick(window.controls.hidden_edit, Qt.Key.Key_Return)
    assert window.controls.config().hidden == (4096,) * 8
    assert "more than the studio" in window.statusBar().currentMessage()
    assert window.network is before                        # no 0.9 GB network
    window.controls.reset_action.trigger()
    assert window.errors and window.errors[-1][0] == "Cannot build the network"
    assert window.network is before
    window.close()
    assert json.loads(settings.value("config"))["hidden"] == [8]
    again = make_window(config=None)
    assert again.controls.config().hidden == (8,) and again.errors == []


# -- nothing trained is lost ----------------------------------------------------------------------------

def test_reset_keeps_the_run_which_comes_back_with_its_weights(qtbot: QtBot, window: MainWindow) -> None:
    train(qtbot, window, 3)
    trained = window.session.network.copy()
    window.controls.reset_action.trigger()
    assert len(window.session.earlier) == 1 and window.session.history.last_epoch == 0
    assert window.runs_view.list.count() == 1 and "not saved" in window.runs_view.list.item(0).text()
    assert len(window.metrics.previous_runs) == 1 and len(window.metrics.previous_runs[0]) == 3
    train(qtbot, window, 1)                               # the new run, so there is something to keep
    window.runs_view.list.setCurrentRow(0)
    qtbot.mouseClick(window.runs_view.bring_back_button, Qt.MouseButton.LeftButton)
    for a, b in zip(window.session.network.parameters(), trained.parameters()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(window.network.parameters(), trained.parameters()):
        np.testing.assert_array_equal(a, b)               # the views show it too
    assert window.session.history.last_epoch == 3 and window.status.epoch.text() == "epoch 3"
    assert [len(run.history) for run in window.session.earlier] == [1]
    assert len(window.metrics.history) == 3 and [len(h) for h in window.metrics.previous_runs] == [1]
    train(qtbot, window, 1)                               # Start trains on from the brought-back weights
    assert window.session.history.last_epoch == 4
    assert window.errors == []


def test_a_run_is_named_by_the_settings_start_trains_it_with(qtbot: QtBot, window: MainWindow) -> None:
    built = window.session.current.config
    window.controls.lr_spin.setValue(built.lr * 2)          # an optimiser setting: the same network
    assert not window.session.needs_rebuild(window.controls.config())
    train(qtbot, window, 1)
    assert window.session.current.config.lr == built.lr * 2
    assert window.metrics.legend_entries == [f"{window.controls.config().label()} (current)"]
    assert window.runs_view.list.count() == 1 and f"lr {built.lr * 2:g}" in window.runs_view.list.item(0).text()
    window.controls.lr_spin.setValue(built.lr)               # once trained, a run keeps its name
    train(qtbot, window, 1)
    assert window.session.current.config.lr == built.lr * 2 and window.session.history.last_epoch == 2
    assert window.errors == []


def test_opening_a_data_set_or_loading_a_model_keeps_the_run(qtbot: QtBot, window: MainWindow,
                                                             tmp_path: Path) -> None:
    train(qtbot, window, 2)
    assert window.open_and_wait(write_dataset(tmp_path / "other", n_train=20, n_test=10, seed=1))
    assert [len(run.history) for run in window.session.earlier] == [2]
    assert window.session.earlier[0].final_network is not None
    model = tmp_path / "m.npz"
    save_model(model, TrainingConfig(hidden=(5,)).build_network(), {"epochs": 0})
    train(qtbot, window, 1)
    window.controls.max_epochs_spin.setValue(0)           # unlimited: pause mid-run, then load
    window.controls.start_pause_action.trigger()
    qtbot.waitUntil(lambda: window.session.history.last_epoch >= 2, timeout=10_000)
    window.controls.start_pause_action.trigger()
    assert window.runner.state == "paused"
    assert window.load_model_from(model)
    assert [len(run.history) >= 2 for run in window.session.earlier] == [True, True]
    assert window.network.sizes == (1024, 5, 10)


def test_every_run_is_in_one_csv_and_each_run_exports_alone(qtbot: QtBot, window: MainWindow, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    train(qtbot, window, 2)
    window.controls.reset_action.trigger()
    train(qtbot, window, 3)
    answers = iter([(str(tmp_path / name), "") for name in ("all.csv", "first.npz", "first.csv")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: next(answers))
    window.actions.export_csv_action.trigger()
    rows = (tmp_path / "all.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("run,label,epoch,loss")
    assert [row.split(",")[0] for row in rows[1:]] == ["1", "1", "2", "2", "2"]
    window.runs_view.list.setCurrentRow(0)
    qtbot.mouseClick(window.runs_view.save_button, Qt.MouseButton.LeftButton)
    network, info = load_model(tmp_path / "first.npz")
    assert info["epochs"] == 2 and network.sizes == (1024, 8, 10)
    assert window.session.earlier[0].saved and "· saved" in window.runs_view.list.item(0).text()
    qtbot.mouseClick(window.runs_view.csv_button, Qt.MouseButton.LeftButton)
    assert len((tmp_path / "first.csv").read_text(encoding="utf-8").splitlines()) == 3
    # Its best epoch's weights were kept too, and save on their own.
    kept = window.session.earlier[0]
    assert kept.best_epoch is not None and window.runs_view.best_button.isEnabled()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(tmp_path / "best.npz"), ""))
    qtbot.mouseClick(window.runs_view.best_button, Qt.MouseButton.LeftButton)
    best, info = load_model(tmp_path / "best.npz")
    assert info["epochs"] == kept.best_epoch
    for a, b in zip(best.parameters(), kept.best_network.parameters()):
        np.testing.assert_array_equal(a, b)


def test_opening_twice_applies_only_the_last(qtbot: QtBot, window: MainWindow, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    slow_one = write_dataset(tmp_path / "slow", n_train=20, n_test=10)
    release = threading.Event()
    real = loader_module.open_data_source
    monkeypatch.setattr(loader_module, "open_data_source",
                        lambda path: (release.wait(10) if Path(path) == slow_one else None, real(path))[1])
    window.open_dataset(slow_one)
    assert window.open_and_wait(write_dataset(tmp_path / "fast", n_train=30, n_test=10))
    release.set()
    qtbot.waitUntil(lambda: not window.loader._threads, timeout=10_000)
    qtbot.wait(50)
    assert window.dataset.name == "fast" and window.errors == []


def test_quit_asks_before_discarding_unsaved_runs(qtbot: QtBot, window: MainWindow, questions: list,
                                                  tmp_path: Path) -> None:
    train(qtbot, window, 2)
    questions.answer = QMessageBox.StandardButton.Cancel
    window.actions.quit_action.trigger()
    assert window.isVisible() and len(questions) == 1 and "1 trained run not saved" in questions[0]
    assert window.save_model_to(tmp_path / "kept.npz")
    window.actions.quit_action.trigger()                 # saved: nothing to ask
    assert not window.isVisible() and len(questions) == 1


def test_quit_during_a_run_asks_and_discard_closes(qtbot: QtBot, window: MainWindow, questions: list) -> None:
    window.controls.start_pause_action.trigger()
    qtbot.waitUntil(lambda: window.session.history.last_epoch >= 1, timeout=10_000)
    questions.answer = QMessageBox.StandardButton.Cancel
    window.close()
    assert window.isVisible() and window.runner.is_live
    questions.answer = QMessageBox.StandardButton.Discard
    window.close()
    assert not window.isVisible() and window.runner.thread is None and len(questions) == 2


def test_a_model_saved_while_paused_says_it_holds_part_of_an_epoch(qtbot: QtBot, window: MainWindow,
                                                                   tmp_path: Path) -> None:
    window.controls.start_pause_action.trigger()
    qtbot.waitUntil(lambda: window.session.history.last_epoch >= 1, timeout=10_000)
    window.controls.start_pause_action.trigger()
    qtbot.wait(100)
    assert window.save_model_to(tmp_path / "paused.npz")
    _, info = load_model(tmp_path / "paused.npz")
    assert info["partial_epoch"] == info["epochs"] + 1 and "part of epoch" in info["note"]


# -- models from the command line -------------------------------------------------------------------------

def test_a_model_trained_with_a_huge_seed_loads_and_start_trains_it(qtbot: QtBot, window: MainWindow,
                                                                     tmp_path: Path) -> None:
    model = tmp_path / "cli.npz"
    assert cli.main(["train", "--data", str(tmp_path / "tiny"), "--hidden", "6", "--epochs", "2",
                     "--seed", "3000000000", "--save", str(model)], out=io.StringIO()) == 0
    loaded, info = load_model(model)
    assert info["config"]["seed"] == 3_000_000_000
    assert window.load_model_from(model)
    assert window.errors == []
    config = window.controls.config()                  # the form is whole: seed clamped, the rest kept
    assert config.seed == FORM_LIMITS["seed"][1] and config.hidden == (6,)
    assert "3,000,000,000" in window.statusBar().currentMessage()
    network = window.session.network
    for a, b in zip(network.parameters(), loaded.parameters()):
        np.testing.assert_array_equal(a, b)
    train(qtbot, window, 1)
    assert window.session.network is network          # the loaded weights trained, not a fresh network
    assert not np.array_equal(network.weights[0], loaded.weights[0])


def test_a_model_with_epochs_beyond_a_spin_box_loads(window: MainWindow, tmp_path: Path) -> None:
    model = tmp_path / "long.npz"
    config = TrainingConfig(hidden=(7,), max_epochs=2**31 + 5, seed=2**40)
    save_model(model, config.build_network(), {"config": config.to_dict(), "epochs": 2**31 + 5})
    assert window.load_model_from(model)
    assert window.controls.config().max_epochs == FORM_LIMITS["max_epochs"][1]
    assert window.network.sizes == (1024, 7, 10) and window.errors == []


# -- error boxes quote files as plain text, briefly ---------------------------------------------------------

def test_a_member_named_like_a_link_stays_plain_text(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    del window.show_error                                 # the real boxes
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("trainingDigits/<a href='https://example.com'>Click here to repair</a>_1.txt", "x")
    assert not window.open_and_wait(archive)
    box = window._last_error
    assert isinstance(box, QMessageBox) and box.textFormat() == Qt.TextFormat.PlainText
    assert "<a href=" in box.text() or "evil.zip" in box.text()
    box.accept()


def test_a_huge_error_text_makes_a_small_box(window: MainWindow) -> None:
    del window.show_error
    window.show_error("Cannot open the data set", ("x" * 6_000_000) + "\n" + "line\n" * 100_000)
    box = window._last_error
    lines = box.text().split("\n")
    assert len(lines) <= MAX_LINES + 1 and all(len(line) <= MAX_LINE for line in lines)
    assert box.sizeHint().height() < 1000
    box.accept()


def test_the_forms_ranges_are_the_sessions_limits(make_window: Callable[..., MainWindow]) -> None:
    """``fit_to_form`` clamps into ``FORM_LIMITS``: they must be the settings form's own ranges."""
    controls = make_window().controls
    spins = {"init_scale": controls.scale_spin, "lr": controls.lr_spin, "batch_size": controls.batch_spin,
             "momentum": controls.momentum_spin, "weight_decay": controls.decay_spin,
             "shift": controls.shift_spin, "max_epochs": controls.max_epochs_spin, "seed": controls.seed_spin}
    for name, spin in spins.items():
        low, high = FORM_LIMITS[name]
        assert spin.maximum() == pytest.approx(high), name
        assert spin.minimum() <= low, name
