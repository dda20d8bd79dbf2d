"""DownloadDialog against a local HTTP server: completes, cancels mid-way, shows errors, retries; its
thread is always joined."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from studio.core import download
from studio.gui.download_dialog import DownloadDialog
from tests.local_http import LocalServer, Route, closed_port_url

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
