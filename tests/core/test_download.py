"""Getting the tutorial's data set, against a local HTTP server: success, every failure, cancel; and
never a half-written file."""
from __future__ import annotations

import hashlib
import io
import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.digit_folders import export_dataset, load_dataset
from studio.core.download import (DIGITS_SHA256, DIGITS_SIZE, DownloadCancelled, DownloadError, download_digits,
                                  download_file, has_digits_archive)
from studio.core.user_dirs import ENV_VAR
from tests.conftest import DIGITS_ZIP, require_shared
from tests.helpers import tiny_dataset
from tests.local_http import HostileServer, LocalServer, Route, closed_port_url


def small_zip(tmp_path: Path) -> bytes:
    """A real, loadable data set archive of a few dozen digits (made here, so no shared data is needed)."""
    export_dataset(tiny_dataset(per_class=3, test_per_class=1), tmp_path / "src" / "digits")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((tmp_path / "src").rglob("*.txt")):
            archive.write(path, path.relative_to(tmp_path / "src").as_posix())
    return buffer.getvalue()


@pytest.fixture
def body(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return small_zip(tmp_path_factory.mktemp("zip-source"))


@pytest.fixture
def server(body: bytes) -> Iterator[LocalServer]:
    routes = {
        "/ok.zip": Route(body),
        "/short.zip": Route(body, send=len(body) // 2),
        "/no-length.zip": Route(body, announce=-1),
        "/slow.zip": Route(body, piece=512, delay=0.01),
        "/error.zip": Route(b"oops", status=500),
    }
    with LocalServer(routes) as running:
        yield running


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_download_verifies_and_keeps_the_file(server: LocalServer, body: bytes, tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    target = tmp_path / "data" / "digits.zip"
    path = download_file(server.url("/ok.zip"), target, sha256=sha(body), size=len(body),
                         progress=lambda done, total: calls.append((done, total)))
    assert path == target and target.read_bytes() == body
    assert leftovers(target.parent) == ["digits.zip"]
    assert calls[0] == (0, len(body)) and calls[-1] == (len(body), len(body))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(load_dataset(path).train) == 30
    # already there and intact: no second request
    download_file(server.url("/ok.zip"), target, sha256=sha(body), size=len(body))
    assert server.routes["/ok.zip"].requests == 1


def test_without_content_length_the_expected_size_is_the_total(server: LocalServer, body: bytes,
                                                              tmp_path: Path) -> None:
    totals: list[int | None] = []
    download_file(server.url("/no-length.zip"), tmp_path / "d.zip", sha256=sha(body), size=len(body),
                  progress=lambda done, total: totals.append(total))
    assert set(totals) == {len(body)}
    with pytest.raises(DownloadError, match="more than"):
        download_file(server.url("/no-length.zip"), tmp_path / "e.zip", sha256=sha(body), size=len(body) - 10)
    assert leftovers(tmp_path) == ["d.zip"]


def test_truncated_transfer(server: LocalServer, body: bytes, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=f"stopped after {len(body) // 2:,} of {len(body):,} bytes"):
        download_file(server.url("/short.zip"), tmp_path / "d.zip", sha256=sha(body), size=len(body))
    assert leftovers(tmp_path) == []


def test_wrong_checksum_keeps_nothing_and_leaves_an_old_file_alone(server: LocalServer, body: bytes,
                                                                  tmp_path: Path) -> None:
    old = tmp_path / "d.zip"
    old.write_bytes(b"the previous file")
    with pytest.raises(DownloadError, match="not the expected one"):
        download_file(server.url("/ok.zip"), old, sha256="0" * 64, size=len(body))
    assert leftovers(tmp_path) == ["d.zip"] and old.read_bytes() == b"the previous file"


def test_announced_size_that_is_not_the_expected_one(server: LocalServer, body: bytes, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="should be"):
        download_file(server.url("/ok.zip"), tmp_path / "d.zip", sha256=sha(body), size=len(body) + 1)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("path, words", [("/missing.zip", "answered 404"), ("/error.zip", "answered 500")])
def test_http_errors(server: LocalServer, tmp_path: Path, path: str, words: str) -> None:
    with pytest.raises(DownloadError, match=words):
        download_file(server.url(path), tmp_path / "d.zip", sha256="0" * 64)
    assert leftovers(tmp_path) == []


def test_connection_refused(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="Could not connect to 127.0.0.1.*refused"):
        download_digits(tmp_path, url=closed_port_url())
    assert leftovers(tmp_path) == []


def test_bad_url(tmp_path: Path) -> None:
    with pytest.raises(DownloadError):
        download_file("not a url", tmp_path / "d.zip", sha256="0" * 64)


def test_cancel_mid_way_with_an_event(server: LocalServer, body: bytes, tmp_path: Path) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int | None) -> None:
        seen.append(done)
        if done >= 2048:
            cancel.set()
    with pytest.raises(DownloadCancelled):
        download_file(server.url("/slow.zip"), tmp_path / "d.zip", sha256=sha(body), size=len(body),
                      progress=progress, cancel=cancel)
    assert 2048 <= seen[-1] < len(body)
    assert leftovers(tmp_path) == []


def test_cancel_with_a_callable_before_anything_is_fetched(server: LocalServer, body: bytes, tmp_path: Path) -> None:
    with pytest.raises(DownloadCancelled):
        download_file(server.url("/ok.zip"), tmp_path / "d.zip", sha256=sha(body), cancel=lambda: True)
    assert server.routes["/ok.zip"].requests == 0 and leftovers(tmp_path) == []


def test_a_folder_that_cannot_be_made(server: LocalServer, body: bytes, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(DownloadError, match="Cannot create the folder"):
        download_file(server.url("/ok.zip"), tmp_path / "file" / "d.zip", sha256=sha(body))


def test_the_real_archive_from_a_local_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = require_shared(DIGITS_ZIP).read_bytes()
    assert len(data) == DIGITS_SIZE and sha(data) == DIGITS_SHA256
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "user"))
    assert not has_digits_archive()
    with LocalServer({"/Ch02/digits.zip": Route(data, piece=64 * 1024)}) as running:
        steps: list[int] = []
        path = download_digits(url=running.url("/Ch02/digits.zip"), progress=lambda done, total: steps.append(done))
    assert path == tmp_path / "user" / "digits.zip" and has_digits_archive()
    assert steps[-1] == DIGITS_SIZE and len(steps) > 3
    dataset = load_dataset(path)
    assert len(dataset.train) == 1934 and dataset.test is not None and len(dataset.test) == 946


def test_a_redirect_loop_is_one_clean_line(tmp_path: Path) -> None:
    routes = {"/loop.zip": Route(b"", status=308, headers={"Location": "/loop.zip"})}
    with LocalServer(routes) as running:
        with pytest.raises(DownloadError) as caught:
            download_file(running.url("/loop.zip"), tmp_path / "d.zip", sha256="0" * 64)
    message = str(caught.value)
    assert "loop of redirects" in message and "\n" not in message and "/loop.zip" in message
    assert leftovers(tmp_path) == []


def test_a_reset_connection_is_a_message(tmp_path: Path) -> None:
    with HostileServer("reset") as running:
        with pytest.raises(DownloadError, match="Could not connect to 127.0.0.1"):
            download_file(running.url(), tmp_path / "d.zip", sha256="0" * 64, timeout=5)
    assert leftovers(tmp_path) == []
