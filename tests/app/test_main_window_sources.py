"""Bringing digits into the window: MNIST and other sources, the tutorial's archive (present or
downloaded from a local server), my digits from the pad, training and exporting with them, settings.

Every window here keeps the user's files in a temporary folder (``BACKPROP_STUDIO_DATA_DIR``), never the
real one, and nothing reaches the internet.
"""
from __future__ import annotations

import hashlib
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from studio.core import download
from studio.core.data import Dataset
from studio.core.digit_folders import load_dataset
from studio.core.digit_text import format_digit_text
from studio.core.my_digits import MyDigits
from studio.gui import actions as actions_module
from studio.gui import dataset_loader as loader_module
from studio.gui import window_commands as commands_module
from studio.gui.add_to_my_digits import DigitLabelDialog
from studio.gui.download_dialog import DownloadDialog
from studio.gui.main_window import MainWindow
from tests.app.test_main_window import write_dataset
from tests.conftest import DIGITS_ZIP, MNIST, require_shared
from tests.core.test_mnist import idx_images, some_images, write_pair
from tests.local_http import LocalServer, Route


@pytest.fixture
def window(make_window: Callable[[], MainWindow], tmp_path: Path) -> MainWindow:
    window = make_window()
    assert window.open_and_wait(write_dataset(tmp_path / "tiny"))
    return window


def drawing(seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random(1024) < 0.3).astype(np.uint8)


def answer_label_dialog(digit: int, seen: list[int | None]) -> None:
    """Once the modal label dialog is up: note the digit it proposes, pick ``digit``, press OK."""
    def act() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, DigitLabelDialog)
        seen.append(dialog.digit())
        dialog.group.button(digit).click()
        dialog.ok_button.click()
    QTimer.singleShot(0, act)


def tutorial_zip(path: Path, folder: Path) -> Path:
    """``folder`` (a data set) packed like the tutorial's archive: ``digits/trainingDigits/...``."""
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(folder.rglob("*.txt")):
            archive.write(file, "digits/" + file.relative_to(folder).as_posix())
    return path


# -- opening sources -----------------------------------------------------------------------------------

def test_an_mnist_folder_opens_in_the_background_with_a_progress_bar(qtbot: QtBot, window: MainWindow,
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    images, labels = some_images(12)
    write_pair(tmp_path / "mnist", "train", images, labels, gz=True)
    write_pair(tmp_path / "mnist", "t10k", images[:5], labels[:5], gz=False)
    seen: list[bool] = []
    release = threading.Event()
    real = loader_module.open_data_source

    def slow(path: object) -> Dataset:
        seen.append(threading.current_thread() is threading.main_thread())
        release.wait(10)                                  # a slow disk: the window must not wait
        return real(path)

    monkeypatch.setattr(loader_module, "open_data_source", slow)
    old = window.dataset
    with qtbot.waitSignal(window.dataset_load_finished, timeout=20_000) as opened:
        window.open_dataset(tmp_path / "mnist")
        # Meanwhile the window answers and what was loaded stays loaded and usable.
        assert window.status.loading.isVisible() and window.status.cancel_loading.isVisible()
        assert window.statusBar().currentMessage() == "Opening mnist…"
        assert window.dataset is old
        window.pad.load_sample("train", 0)
        release.set()
    assert opened.args == [True] and seen == [False]
    assert not window.status.loading.isVisible()
    assert len(window.dataset.train) == 12 and len(window.dataset.test) == 5
    np.testing.assert_array_equal(window.dataset.train.labels, labels)
    assert "mnist" in window.windowTitle() and window.errors == []
    window.pad.load_sample("train", 3)
    assert window.pad.image().any()


def test_cancel_keeps_the_data_set_and_a_failure_keeps_it_too(qtbot: QtBot, window: MainWindow, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real = loader_module.open_data_source
    monkeypatch.setattr(loader_module, "open_data_source", lambda path: (release.wait(10), real(path))[1])
    old, network = window.dataset, window.network
    window.open_dataset(write_dataset(tmp_path / "other", n_train=20, n_test=10))
    qtbot.mouseClick(window.status.cancel_loading, Qt.MouseButton.LeftButton)
    assert not window.loader.busy and not window.status.cancel_loading.isVisible()
    release.set()
    qtbot.waitUntil(lambda: not window.loader._threads, timeout=10_000)
    qtbot.wait(50)                                        # a late answer from the cancelled load is ignored
    assert window.dataset is old and window.network is network and window.errors == []


def test_the_shared_mnist_t10k_folder_opens(window: MainWindow) -> None:
    folder = require_shared(MNIST)
    assert window.open_and_wait(folder)
    assert len(window.dataset.train) == 10_000 and window.dataset.test is None
    assert "t10k only" in window.dataset.name
    assert window.errors == []


def test_a_malformed_mnist_file_names_the_file_and_keeps_the_old_data_set(window: MainWindow,
                                                                          tmp_path: Path) -> None:
    old = window.dataset
    images, labels = some_images(5)
    images_path, _ = write_pair(tmp_path / "bad", "train", images, labels, gz=False)
    images_path.write_bytes(idx_images(images)[:-100])               # truncated
    assert not window.open_and_wait(images_path)
    assert len(window.errors) == 1
    title, text = window.errors[0]
    assert title == "Cannot open the data set"
    assert str(images_path) in text and "truncated" in text
    assert window.dataset is old and "tiny" in window.windowTitle()
    assert QApplication.overrideCursor() is None


def test_an_unknown_folder_says_what_a_data_set_is(window: MainWindow, tmp_path: Path) -> None:
    (tmp_path / "holiday").mkdir()
    (tmp_path / "holiday" / "notes.md").write_text("hello")
    assert not window.open_and_wait(tmp_path / "holiday")
    text = window.errors[0][1]
    assert "holiday" in text and "MNIST" in text and "trainingDigits" in text


@pytest.mark.parametrize("gz", [False, True])
def test_dropping_an_mnist_file_opens_it(qtbot: QtBot, window: MainWindow, tmp_path: Path, gz: bool) -> None:
    images, labels = some_images(7)
    images_path, _ = write_pair(tmp_path / "dropped", "train", images, labels, gz=gz)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(images_path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.dataset_load_finished, timeout=20_000):
        window.dropEvent(event)
    assert window.errors == []
    assert len(window.dataset.train) == 7 and window.dataset.test is None


# -- the tutorial's data set ---------------------------------------------------------------------------

def test_get_the_tutorials_data_set_opens_the_archive_already_there(qtbot: QtBot,
                                                                    make_window: Callable[[], MainWindow],
                                                                    user_dir: Path) -> None:
    user_dir.mkdir(parents=True)
    shutil.copy(require_shared(DIGITS_ZIP), user_dir / "digits.zip")
    window = make_window()
    with qtbot.waitSignal(window.dataset_load_finished, timeout=30_000):
        window.actions.get_tutorial_action.trigger()
    assert window._download_dialog is None                           # nothing downloaded
    assert window.errors == []
    assert len(window.dataset.train) == 1934 and len(window.dataset.test) == 946
    assert window.dataset.source == str((user_dir / "digits.zip").resolve())


def test_get_the_tutorials_data_set_downloads_it_when_missing(qtbot: QtBot, make_window: Callable[[], MainWindow],
                                                              user_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tutorial_zip(tmp_path / "served.zip", write_dataset(tmp_path / "served", n_train=30, n_test=10))
    body = archive.read_bytes()
    monkeypatch.setattr(download, "DIGITS_SHA256", hashlib.sha256(body).hexdigest())
    monkeypatch.setattr(download, "DIGITS_SIZE", len(body))
    with LocalServer({"/digits.zip": Route(body, piece=4096)}) as server:
        monkeypatch.setattr(commands_module, "DownloadDialog",
                            partial(DownloadDialog, url=server.url("/digits.zip"), timeout=5))
        window = make_window()
        assert window.dataset is None
        window.actions.get_tutorial_action.trigger()
        assert isinstance(window._download_dialog, DownloadDialog)
        qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
        qtbot.waitUntil(lambda: window._download_dialog is None, timeout=5_000)
    assert (user_dir / "digits.zip").read_bytes() == body
    assert len(window.dataset.train) == 30 and len(window.dataset.test) == 10
    assert window.errors == []


@pytest.fixture
def slow_download(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The window's download dialog fetches a 100 kB stand-in archive, slowly, from a local server."""
    body = bytes(range(256)) * 400
    monkeypatch.setattr(download, "DIGITS_SHA256", hashlib.sha256(body).hexdigest())
    monkeypatch.setattr(download, "DIGITS_SIZE", len(body))
    with LocalServer({"/slow.zip": Route(body, piece=1024, delay=0.02)}) as server:
        monkeypatch.setattr(commands_module, "DownloadDialog",
                            partial(DownloadDialog, url=server.url("/slow.zip"), timeout=5))
        yield


def start_slow_download(qtbot: QtBot, window: MainWindow) -> DownloadDialog:
    window.actions.get_tutorial_action.trigger()
    dialog = window._download_dialog
    qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=10_000)
    assert dialog.is_running
    return dialog


def test_closing_the_window_during_a_download_cancels_it(qtbot: QtBot, make_window: Callable[[], MainWindow],
                                                        user_dir: Path, slow_download: None) -> None:
    window = make_window()
    dialog = start_slow_download(qtbot, window)
    window.close()
    assert not dialog.is_running                                      # its thread was joined
    assert window.dataset is None
    assert not (user_dir / "digits.zip").exists()


def test_cancelling_a_download_leaves_the_window_as_it_was(qtbot: QtBot, make_window: Callable[[], MainWindow],
                                                          user_dir: Path, slow_download: None) -> None:
    window = make_window()
    dialog = start_slow_download(qtbot, window)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert not dialog.is_running
    assert window._download_dialog is None
    assert window.dataset is None and window.errors == []
    assert not (user_dir / "digits.zip").exists()


# -- my digits -----------------------------------------------------------------------------------------

def test_a_pad_drawing_goes_into_my_digits(qtbot: QtBot, window: MainWindow, user_dir: Path) -> None:
    assert window.my_digits.folder == user_dir / "my-digits"
    assert "none yet" in window.controls.my_digits_check.text()
    assert "none yet" in window.controls.data_counts_label.text()     # the row is there, empty
    button = window.pad.add_to_my_digits_button
    assert not button.isEnabled()                                     # empty pad
    window.controls.step_action.trigger()             # a trained network guesses; a fresh one does not
    qtbot.waitUntil(lambda: window.runner.state == "paused", timeout=10_000)
    window.runner.stop()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=10_000)
    image = drawing(1)
    window.pad.pad.set_image(image)
    predicted = window.pad.prediction_view.predicted_digit()
    assert predicted is not None and button.isEnabled()
    proposed: list[int | None] = []
    answer_label_dialog(7, proposed)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert proposed == [predicted]                                    # the network's guess comes first
    saved = user_dir / "my-digits" / "7_0.txt"
    assert saved.read_bytes() == format_digit_text(image).encode("ascii")
    assert saved.read_bytes().count(b"\r\n") == 32 and len(saved.read_bytes()) == 32 * 34
    assert "(1)" in window.controls.my_digits_check.text()
    assert "7: 1" in window.controls.my_digits_check.toolTip()
    assert "none yet" not in window.controls.data_counts_label.text()
    answer_label_dialog(7, proposed)
    window.pad.add_to_my_digits_action.trigger()                      # the File menu's action, Ctrl+D
    assert window.my_digits.names() == ["7_0.txt", "7_1.txt"]
    assert "(2)" in window.controls.my_digits_check.text()
    assert window.pad.add_to_my_digits_action.shortcut().toString() == "Ctrl+D"


def test_the_my_digits_dialog_deletes_and_the_counts_follow(qtbot: QtBot, make_window: Callable[[], MainWindow],
                                                            user_dir: Path) -> None:
    mine = MyDigits(user_dir / "my-digits")
    for seed, label in enumerate([1, 1, 4]):
        mine.add(drawing(seed), label)
    window = make_window()
    assert "(3)" in window.controls.my_digits_check.text()            # counted at start
    window.actions.my_digits_action.trigger()
    dialog = window._my_digits_dialog
    assert dialog.isVisible() and dialog.names() == ["1_0.txt", "1_1.txt", "4_0.txt"]
    dialog.confirm_deletes = False
    dialog.select_names(["4_0.txt"])
    dialog.delete_selected()
    assert mine.names() == ["1_0.txt", "1_1.txt"]
    assert "(2)" in window.controls.my_digits_check.text()
    assert "4: 0" in window.controls.my_digits_check.toolTip()
    window.controls.my_digits_button.click()                          # the data set box's button
    assert window._my_digits_dialog is dialog and dialog.isVisible()


def test_training_with_my_digits_adds_them_to_the_training_split_only(qtbot: QtBot, window: MainWindow,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for seed, label in enumerate([2, 5, 5]):
        window.my_digits.add(drawing(seed), label)
    given: list[Dataset] = []
    real_start = window.runner.start

    def spy(network: object, dataset: Dataset, *args: object, **kwargs: object) -> None:
        given.append(dataset)
        real_start(network, dataset, *args, **kwargs)

    monkeypatch.setattr(window.runner, "start", spy)
    window.controls.max_epochs_spin.setValue(1)
    window.start_training()                                           # check box off
    qtbot.waitUntil(lambda: window.runner.state == "idle" and len(window.session.history) == 1, timeout=10_000)
    assert len(given[0].train) == 40 and given[0] is window.dataset
    window.controls.my_digits_check.setChecked(True)
    window.controls.max_epochs_spin.setValue(2)
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "idle" and len(window.session.history) == 2, timeout=10_000)
    trained = given[1]
    assert len(trained.train) == 40 + 3 and len(trained.test) == 20
    assert sorted(trained.train.labels.tolist()) == sorted(window.dataset.train.labels.tolist() + [2, 5, 5])
    assert len(window.dataset.train) == 40                            # the loaded data set is unchanged
    assert window.errors == []


def test_a_damaged_drawing_stops_the_start_with_its_name(window: MainWindow) -> None:
    window.my_digits.add(drawing(0), 3)
    (window.my_digits.folder / "3_0.txt").write_text("not a digit")
    window.controls.my_digits_check.setChecked(True)
    window.start_training()
    assert window.runner.state == "idle"
    assert len(window.errors) == 1 and "3_0.txt" in window.errors[0][1]


# -- export and settings -------------------------------------------------------------------------------

def test_export_writes_the_tutorials_folders(window: MainWindow, tmp_path: Path, settings: QSettings) -> None:
    target = tmp_path / "out" / "exported"
    assert window.export_dataset_to(target)
    written = load_dataset(target)
    assert len(written.train) == 40 and len(written.test) == 20
    np.testing.assert_array_equal(written.train.images, window.dataset.train.images)
    assert sorted(p.name for p in target.iterdir()) == ["testDigits", "trainingDigits"]
    assert settings.value("folders/export") == str((tmp_path / "out").resolve())
    # Again into the same folder: refused, naming the folder in the way; nothing lost.
    assert not window.export_dataset_to(target)
    title, text = window.errors[0]
    assert title == "Cannot export the data set" and "trainingDigits" in text and "already exists" in text
    assert len(load_dataset(target).train) == 40


def test_export_includes_my_digits_when_training_with_them(window: MainWindow, tmp_path: Path) -> None:
    window.my_digits.add(drawing(0), 6)
    window.controls.my_digits_check.setChecked(True)
    assert window.export_dataset_to(tmp_path / "with-mine")
    written = load_dataset(tmp_path / "with-mine")
    assert len(written.train) == 41 and len(written.test) == 20


def test_export_into_an_unwritable_place_names_it(window: MainWindow, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    assert not window.export_dataset_to(blocker / "inside")
    assert len(window.errors) == 1 and str(blocker) in window.errors[0][1]


def test_export_needs_a_data_set(make_window: Callable[[], MainWindow], tmp_path: Path) -> None:
    window = make_window()
    assert not window.actions.export_dataset_action.isEnabled()
    assert not window.export_dataset_to(tmp_path / "x")
    assert "open one first" in window.errors[0][1]


def test_train_with_my_digits_and_the_export_folder_are_remembered(make_window: Callable[[], MainWindow],
                                                                   tmp_path: Path) -> None:
    first = make_window()
    assert first.open_and_wait(write_dataset(tmp_path / "tiny"))
    assert not first.controls.train_with_my_digits()
    first.controls.my_digits_check.setChecked(True)
    assert first.export_dataset_to(tmp_path / "exports" / "one")
    first.close()
    second = make_window()
    assert second.controls.my_digits_check.isChecked()
    assert second.store.folder("export") == str((tmp_path / "exports").resolve())
    second.controls.my_digits_check.setChecked(False)
    second.close()
    assert not make_window().controls.train_with_my_digits()


def test_the_check_box_is_locked_while_a_run_is_live(qtbot: QtBot, window: MainWindow) -> None:
    check = window.controls.my_digits_check
    assert check.isEnabled()
    window.start_training()
    qtbot.waitUntil(lambda: len(window.session.history) >= 1, timeout=10_000)
    assert not check.isEnabled() and "Locked" in check.toolTip()
    window.runner.shutdown()
    assert check.isEnabled() and "Locked" not in check.toolTip()


# -- menus and the empty pad ---------------------------------------------------------------------------

def test_the_file_menu_offers_every_way_in(make_window: Callable[[], MainWindow]) -> None:
    window = make_window()
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions() if a.text()]
    for wanted in ("&Open data set...", "Open data set &file (.zip, MNIST)...",
                   "&Get the tutorial's data set...", "E&xport data set...", "&My digits...",
                   "Add drawing to my digits..."):
        assert wanted in texts
    assert window.actions.open_file_action.shortcut().toString() == "Ctrl+Shift+O"
    assert "*-ubyte.gz" in actions_module.OPEN_FILE_FILTERS
    assert "MNIST" in window.empty_page.label.text()


def test_the_pad_shows_no_prediction_for_an_empty_drawing_in_the_window(window: MainWindow) -> None:
    window.pad.clear()
    view = window.pad.prediction_view
    assert view.digit_text() == "–" and view.predicted_digit() is None
    assert "draw a digit" in view.hint_text().lower()
    window.pad.load_sample("test", 0)
    assert view.predicted_digit() is None and view.digit_text() == "?"   # untrained: no guess
    assert "untrained" in view.hint_text().lower()


def test_the_controls_open_menu_reaches_the_tutorial(qtbot: QtBot, make_window: Callable[[], MainWindow],
                                                     user_dir: Path) -> None:
    user_dir.mkdir(parents=True)
    shutil.copy(require_shared(DIGITS_ZIP), user_dir / "digits.zip")
    window = make_window()
    with qtbot.waitSignal(window.dataset_load_finished, timeout=30_000):
        window.controls.open_dataset_requested.emit("tutorial")
    assert window.dataset is not None and len(window.dataset.train) == 1934

