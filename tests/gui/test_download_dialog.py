"""DownloadDialog against a local HTTP server: completes, cancels mid-way, shows errors, retries; its
thread is always joined."""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox

from studio.core import download
from studio.core.user_dirs import ENV_VAR
from studio.gui.download_dialog import DownloadDialog
from studio.gui.main_window import MainWindow
from tests.local_http import HostileServer, LocalServer, Route, closed_port_url

BODY = bytes(range(256)) * 400          # 102,400 bytes: stands in for digits.zip


@pytest.fixture
def fake_archive(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Make the dialog's download expect BODY instead of the real archive (same code path)."""
    monkeypatch.setattr(download, "DIGITS_SHA256", hashlib.sha256(BODY).hexdigest())
    monkeypatch.setattr(download, "DIGITS_SIZE", len(BODY))
    return BODY


@pytest.fixture
def server(fake_archive: bytes) -> Iterator[LocalServer]:
    routes = {"/digits.zip": Route(fake_archive, piece=8192),
              "/slow.zip": Route(fake_archive, piece=1024, delay=0.02)}
    with LocalServer(routes) as running:
        yield running


@pytest.fixture
def make_dialog(qtbot):  # type: ignore[no-untyped-def]
    dialogs: list[DownloadDialog] = []

    def make(url: str, folder: Path) -> DownloadDialog:
        dialog = DownloadDialog(folder=folder, url=url, timeout=5)
        qtbot.addWidget(dialog)
        dialogs.append(dialog)
        return dialog
    yield make
    for dialog in dialogs:
        dialog.done(0)                      # joins any thread still running
        assert not dialog.is_running


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_download_completes_and_reports_the_path(qtbot, make_dialog, server: LocalServer, tmp_path: Path) -> None:
    dialog = make_dialog(server.url("/digits.zip"), tmp_path)
    dialog.show()
    assert dialog.retry_button.isHidden()
    with qtbot.waitSignal(dialog.finished_with, timeout=10_000) as blocker:
        dialog.start()
    assert blocker.args == [str(tmp_path / "digits.zip")]
    assert (tmp_path / "digits.zip").read_bytes() == BODY and files_in(tmp_path) == ["digits.zip"]
    assert dialog.result() == DownloadDialog.DialogCode.Accepted and not dialog.isVisible()
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=5_000)


def test_cancel_mid_way_stops_and_leaves_nothing(qtbot, make_dialog, server: LocalServer, tmp_path: Path) -> None:
    dialog = make_dialog(server.url("/slow.zip"), tmp_path)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: 0 < dialog.progress_bar.value(), timeout=10_000)
    assert dialog.is_running
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert not dialog.is_running             # the thread was joined before the dialog closed
    assert dialog.result() == DownloadDialog.DialogCode.Rejected and not dialog.isVisible()
    assert dialog.path is None and files_in(tmp_path) == []
    assert dialog.progress_bar.value() < dialog.progress_bar.maximum()


def test_an_error_is_shown_and_try_again_works(qtbot, make_dialog, server: LocalServer, tmp_path: Path) -> None:
    dialog = make_dialog(closed_port_url(), tmp_path)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.error is not None, timeout=10_000)
    assert "refused" in dialog.status_label.text()
    assert dialog.isVisible() and dialog.retry_button.isVisible()
    dialog._url = server.url("/digits.zip")   # the network is back
    with qtbot.waitSignal(dialog.finished_with, timeout=10_000):
        dialog.retry_button.click()
    assert (tmp_path / "digits.zip").read_bytes() == BODY


def test_closing_while_idle_is_harmless(qtbot, make_dialog, tmp_path: Path) -> None:
    dialog = make_dialog(closed_port_url(), tmp_path)
    dialog.show()
    dialog.reject()
    assert not dialog.is_running and dialog.result() == DownloadDialog.DialogCode.Rejected


# --------------------------------------------------------------------------------------------------
# Hostile servers: Cancel and every way of closing answer within a second
# --------------------------------------------------------------------------------------------------

def seconds_to(action) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    action()
    return time.monotonic() - started


@pytest.mark.parametrize("behaviour", ["silent", "trickle"])
@pytest.mark.parametrize("how", ["cancel button", "close", "escape"])
def test_cancel_and_close_answer_within_a_second_whatever_the_server_does(
        qtbot, make_dialog, fake_archive: bytes, tmp_path: Path, behaviour: str, how: str) -> None:
    with HostileServer(behaviour, trickle_delay=0.3) as server:
        dialog = make_dialog(server.url(), tmp_path)
        dialog.show()
        dialog.start()
        qtbot.waitUntil(lambda: server.connections == 1, timeout=10_000)
        qtbot.wait(700 if behaviour == "trickle" else 200)     # connected; a byte or two of status line
        assert dialog.is_running
        cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        action = {"cancel button": lambda: qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton),
                  "close": dialog.close,
                  "escape": lambda: qtbot.keyClick(dialog, Qt.Key.Key_Escape)}[how]
        assert seconds_to(action) < 1.0
        assert not dialog.is_running and not dialog.isVisible()
        assert dialog.result() == DownloadDialog.DialogCode.Rejected
    assert files_in(tmp_path) == []


def test_closing_the_main_window_mid_download_answers_within_a_second(
        qtbot, fake_archive: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "user"))
    with HostileServer("trickle", trickle_delay=0.3) as server:
        monkeypatch.setattr(download, "DIGITS_URL", server.url())
        window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(window)
        window.show()
        window.get_tutorial_dataset()
        qtbot.waitUntil(lambda: server.connections == 1, timeout=10_000)
        qtbot.wait(400)
        assert seconds_to(window.close) < 1.0
    assert files_in(tmp_path / "user") == []


def test_a_redirect_loop_is_one_clean_line(qtbot, make_dialog, fake_archive: bytes, tmp_path: Path) -> None:
    routes = {"/loop.zip": Route(b"", status=302, headers={"Location": "/loop.zip"})}
    with LocalServer(routes) as server:
        dialog = make_dialog(server.url("/loop.zip"), tmp_path)
        dialog.show()
        dialog.start()
        qtbot.waitUntil(lambda: dialog.error is not None, timeout=10_000)
    assert "loop of redirects" in dialog.error and "\n" not in dialog.error
    assert routes["/loop.zip"].requests > 1 and files_in(tmp_path) == []


@pytest.mark.parametrize("behaviour, words", [("reset", "Could not connect to 127.0.0.1"),
                                              ("silent", "did not answer in time")])
def test_a_reset_or_a_silent_server_fails_with_a_message_and_try_again(
        qtbot, make_dialog, fake_archive: bytes, tmp_path: Path, behaviour: str, words: str) -> None:
    with HostileServer(behaviour) as server:
        dialog = DownloadDialog(folder=tmp_path, url=server.url(), timeout=0.5)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.start()
        qtbot.waitUntil(lambda: dialog.error is not None, timeout=10_000)
        dialog.done(0)
    assert words in dialog.error and "Try again" in dialog.error or "try again" in dialog.error
    assert files_in(tmp_path) == []


def test_a_long_failure_message_is_shown_whole(qtbot, make_dialog, server: LocalServer, tmp_path: Path) -> None:
    # A long URL is one word that cannot wrap: the dialog must widen, and the rest wrap below it.
    url = server.url("/pbharrin/machinelearninginaction/master/Ch02/moved/elsewhere/digits.zip")
    dialog = make_dialog(url, tmp_path)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.error is not None, timeout=10_000)
    qtbot.wait(50)
    label = dialog.status_label
    assert label.text() == dialog.error and dialog.error.startswith("The server answered 404")
    assert dialog.error.endswith("Try again later.") and label.wordWrap()
    # Every line of the wrapped text fits inside the label, and the label inside the dialog.
    needed = label.fontMetrics().boundingRect(label.contentsRect().adjusted(0, 0, 0, 10_000),
                                              int(Qt.TextFlag.TextWordWrap), dialog.error)
    assert needed.height() <= label.contentsRect().height()
    assert needed.width() <= label.contentsRect().width()
    assert dialog.rect().contains(label.geometry())
