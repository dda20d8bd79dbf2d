"""Fixtures for whole-window tests: a window with its settings in a temporary INI file, the user's
files in a temporary folder, error boxes recorded instead of shown, and every window closed (its
training, comparison and download threads joined) when the test ends."""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from studio.core.training import TrainingConfig
from studio.core.user_dirs import ENV_VAR
from studio.gui.main_window import MainWindow

#: A small network, so window tests train in milliseconds an epoch.
FAST_CONFIG = TrainingConfig(hidden=(8,), max_epochs=None)


class Errors(list):
    """Replaces MainWindow.show_error: records (title, text) instead of opening a box."""

    def __call__(self, title: str, text: str) -> None:
        self.append((title, text))


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's data folder for this test (downloads and my digits go here, never the real one)."""
    folder = tmp_path / "user-data"
    monkeypatch.setenv(ENV_VAR, str(folder))
    return folder


class Questions(list):
    """Replaces ``QMessageBox.exec`` (every modal question): records each box's text and answers
    ``answer`` (Discard unless a test changes it), so no test ever waits on a modal box."""

    answer = QMessageBox.StandardButton.Discard

    def __call__(self, box: QMessageBox) -> int:
        self.append(box.text())
        return int(self.answer.value)


@pytest.fixture(autouse=True)
def questions(monkeypatch: pytest.MonkeyPatch) -> Questions:
    asked = Questions()
    monkeypatch.setattr(QMessageBox, "exec", lambda box: asked(box))
    return asked


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot: QtBot, settings: QSettings) -> Iterator[Callable[..., MainWindow]]:
    """``make(config=FAST_CONFIG, size=None)``: a shown window sharing this test's settings; a second
    one made later reads what the first saved. ``config=None`` keeps the settings' own."""
    made: list[MainWindow] = []

    def make(config: TrainingConfig | None = FAST_CONFIG, size: tuple[int, int] | None = None) -> MainWindow:
        window = MainWindow(settings)
        qtbot.addWidget(window)
        window.errors = Errors()
        window.show_error = window.errors
        window.open_and_wait = lambda path, timeout=60_000: open_and_wait(qtbot, window, path, timeout)
        if config is not None:
            window.controls.set_config(config)
        if size is not None:
            window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()              # joins the training, comparison, download and loading threads
        assert window.runner.thread is None and window.compare.runner.thread is None
        assert not window.loader.busy
    assert multiprocessing.active_children() == []


def open_and_wait(qtbot: QtBot, window: MainWindow, path: str | Path, timeout: int = 60_000) -> bool:
    """Open a data set as the user does (in the background) and wait for the outcome: True if opened."""
    with qtbot.waitSignal(window.dataset_load_finished, timeout=timeout) as blocker:
        window.open_dataset(path)
    return bool(blocker.args[0])
