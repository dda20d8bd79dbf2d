"""Get the tutorial's data set: download ``digits.zip`` from its public home and check it.

``download_digits()`` fetches the archive the tutorial uses (the ``Ch02/digits.zip`` of the book
"Machine Learning in Action", 1,934 training and 946 test digits) into the user's data folder and
returns its path; the caller then opens it with ``digit_folders.load_dataset`` (it is read in place,
never unpacked). ``download_file`` is the general step it uses:

* streams the response in chunks with ``urllib``, calling ``progress(done_bytes, total_bytes)`` after
  each chunk (``total_bytes`` is the announced or expected size, ``None`` if neither is known) and
  checking ``cancel`` (a ``threading.Event`` or any callable returning ``True`` to stop) between chunks;
* writes through a ``VerifiedFile``: a hidden temporary file in the destination folder; checks the
  byte count and the SHA-256, then ``fsync``s and ``os.replace``s it into place: the destination is
  either the complete, verified file or untouched, and no temporary file is ever left behind;
* turns every failure into one ``DownloadError`` a person can act on (no network, connection
  refused, HTTP error, broken or short transfer, wrong checksum, disk error) or ``DownloadCancelled``.

A file already at the destination with the right checksum is not downloaded again.

``download_file`` is a plain blocking function (for scripts and tests): a cancel takes effect at the
next chunk, so within ``timeout`` seconds on a stalled transfer, but a server that never finishes its
headers holds it for as long as it likes. The window does not use it: its download dialog drives Qt's
asynchronous network access, which can be cancelled at once whatever the server does, and writes
through the same ``VerifiedFile`` (size cap, SHA-256, atomic replace) with the same messages
(``connect_failure_message``, ``http_error_message``, ``redirect_loop_message``).
Left out: retries, resuming, proxies beyond what ``urllib`` reads from the environment.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from studio.core.user_dirs import user_data_dir

#: The tutorial's archive at its public home (GitHub repository pbharrin/machinelearninginaction).
DIGITS_URL = "https://raw.githubusercontent.com/pbharrin/machinelearninginaction/master/Ch02/digits.zip"
DIGITS_SHA256 = "9ee323365ed2894388a1579c86c1e71c9743f849867ffaa9e392aa9788e94093"
DIGITS_SIZE = 739_988
DIGITS_FILE_NAME = "digits.zip"

CHUNK_SIZE = 64 * 1024
#: Seconds to wait for the connection and for each chunk before giving up.
TIMEOUT = 20.0

ProgressCallback = Callable[[int, "int | None"], None]


class _EventLike(Protocol):
    def is_set(self) -> bool: ...


CancelCheck = Callable[[], bool] | _EventLike


class DownloadError(Exception):
    """A download failed; the message says why and what to try. Nothing was left half-written."""


class DownloadCancelled(DownloadError):
    """The download was cancelled on request. Nothing was left half-written."""


def _cancelled(cancel: CancelCheck | None) -> bool:
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set()) if is_set is not None else bool(cancel())  # type: ignore[operator]


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, as 64 lowercase hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_verified(path: Path, sha256: str) -> bool:
    try:
        return path.is_file() and file_sha256(path) == sha256.lower()
    except OSError:
        return False


def _describe_reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(reason, socket.gaierror):
        return "the server's name could not be looked up (no network?)"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "it did not answer in time"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[0].lower() + reason.strerror[1:]
    return str(reason)


def connect_failure_message(url: str, reason: str) -> str:
    """One line for a connection that could not be made (``reason`` e.g. "the connection was refused")."""
    host = urllib.parse.urlsplit(url).netloc or url
    return f"Could not connect to {host}: {reason}. Check the internet connection and try again."


def http_error_message(url: str, code: int, reason: str) -> str:
    """One line for an HTTP error status (a redirect status here means the redirects went round in a loop)."""
    if 300 <= code < 400:
        return redirect_loop_message(url)
    reason = " ".join(str(reason).split())[:80]      # one line, whatever the server sent
    return f"The server answered {code} {reason} for {url}; the file may have moved. Try again later."


def redirect_loop_message(url: str) -> str:
    host = urllib.parse.urlsplit(url).netloc or url
    return (f"The server {host} sent the download round in a loop of redirects for {url}; the file may have "
            f"moved. Try again later.")


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "backprop-studio"})
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - the URL is ours or a test's
    except urllib.error.HTTPError as error:
        error.close()
        raise DownloadError(http_error_message(url, error.code, error.reason)) from None
    except urllib.error.URLError as error:
        raise DownloadError(connect_failure_message(url, _describe_reason(error.reason))) from None
    except (OSError, http.client.HTTPException) as error:
        raise DownloadError(connect_failure_message(url, _describe_reason(error))) from None
    except ValueError as error:  # a malformed URL
        raise DownloadError(f"Cannot download {url!r}: {error}") from None


class VerifiedFile:
    """Where a download goes: a hidden temporary file beside ``destination``, checked as it grows.

    ``begin(announced)`` checks the size the server announces (None: not announced) against the expected
    ``size``; ``write(chunk)`` counts (refusing more than expected), hashes and writes; ``commit()``
    checks the count and the SHA-256, then fsyncs and ``os.replace``s the file into place; ``discard()``
    removes it. Every failure is a ``DownloadError`` (the temporary file removed); the destination is
    either the complete, verified file or untouched. Used by ``download_file`` and the window's
    asynchronous download alike.
    """

    def __init__(self, url: str, destination: str | Path, sha256: str, size: int | None = None) -> None:
        self.url = url
        self.destination = Path(destination)
        self.sha256 = sha256.lower()
        self.size = size
        self.total: int | None = size
        self.done = 0
        self._digest = hashlib.sha256()
        folder = self.destination.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DownloadError(f"Cannot create the folder {folder}: {error.strerror or error}") from None
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.destination.name}.", suffix=".part", dir=folder)
        except OSError as error:
            raise DownloadError(f"Cannot write to {folder}: {error.strerror or error}") from None
        self._temporary = Path(name)
        self._file = os.fdopen(fd, "wb")

    def begin(self, announced: int | None) -> None:
        if self.size is not None and announced is not None and announced != self.size:
            self.discard()
            raise DownloadError(f"The server offers {announced:,} bytes at {self.url}, but the file should be "
                                f"{self.size:,} bytes: it is not the expected file.")
        self.total = announced if announced is not None else self.size

    def write(self, chunk: bytes) -> None:
        self.done += len(chunk)
        if self.total is not None and self.done > self.total:
            self.discard()
            raise DownloadError(f"The server sent more than the {self.total:,} bytes expected from "
                                f"{self.url}: it is not the expected file.")
        self._digest.update(chunk)
        try:
            self._file.write(chunk)
        except OSError as error:
            self.discard()
            raise DownloadError(f"Cannot write {self.destination}: {error.strerror or error}") from None

    def commit(self) -> Path:
        try:
            if self.total is not None and self.done < self.total:
                raise DownloadError(f"The download stopped after {self.done:,} of {self.total:,} bytes (the "
                                    f"connection closed early). Try again.")
            if self._digest.hexdigest() != self.sha256:
                raise DownloadError(f"The file downloaded from {self.url} is not the expected one (its "
                                    f"SHA-256 is {self._digest.hexdigest()}, expected {self.sha256}). "
                                    f"It was not kept.")
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                os.replace(self._temporary, self.destination)
            except OSError as error:
                raise DownloadError(f"Cannot write {self.destination}: {error.strerror or error}") from None
        finally:
            self.discard()       # already gone after os.replace
        return self.destination

    def discard(self) -> None:
        """Remove the temporary file (idempotent)."""
        if not self._file.closed:
            self._file.close()
        self._temporary.unlink(missing_ok=True)


def download_file(url: str, destination: str | Path, *, sha256: str, size: int | None = None,
                  progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
                  timeout: float = TIMEOUT, chunk_size: int = CHUNK_SIZE) -> Path:
    """Download ``url`` to ``destination`` if it is not already there with checksum ``sha256``.

    ``size`` (bytes), if given, must match what the server announces and what arrives. Returns
    ``destination``. Raises ``DownloadCancelled`` or ``DownloadError``; either way no temporary file
    is left and an existing ``destination`` is untouched.
    """
    destination = Path(destination)
    if _is_verified(destination, sha256):
        if progress is not None:
            done = destination.stat().st_size
            progress(done, done)
        return destination
    if _cancelled(cancel):
        raise DownloadCancelled("The download was cancelled.")
    with _open(url, timeout) as response:
        announced_text = response.headers.get("Content-Length")
        announced = int(announced_text) if announced_text and announced_text.isdigit() else None
        target = VerifiedFile(url, destination, sha256, size)
        try:
            target.begin(announced)
            if progress is not None:
                progress(0, target.total)
            while True:
                if _cancelled(cancel):
                    raise DownloadCancelled("The download was cancelled.")
                try:
                    # read1: return what has arrived (up to chunk_size) rather than wait for a full
                    # chunk, so progress and cancel stay responsive on a slow connection.
                    chunk = response.read1(chunk_size)
                except (OSError, http.client.HTTPException) as error:
                    of_total = f" of {target.total:,}" if target.total is not None else ""
                    raise DownloadError(f"The connection broke after {target.done:,}{of_total} bytes "
                                        f"({_describe_reason(error)}). Try again.") from None
                if not chunk:
                    break
                target.write(chunk)
                if progress is not None:
                    progress(target.done, target.total)
            return target.commit()
        finally:
            target.discard()


def digits_archive_path(folder: str | Path | None = None) -> Path:
    """Where ``download_digits`` keeps the archive: ``folder`` (default the user's data folder) /
    ``digits.zip``."""
    return Path(folder if folder is not None else user_data_dir()) / DIGITS_FILE_NAME


def has_digits_archive(folder: str | Path | None = None) -> bool:
    """Whether the tutorial's archive is already in ``folder`` and intact (checksum verified)."""
    return _is_verified(digits_archive_path(folder), DIGITS_SHA256)


def download_digits(folder: str | Path | None = None, *, url: str = DIGITS_URL,
                    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
                    timeout: float = TIMEOUT) -> Path:
    """The tutorial's ``digits.zip`` in ``folder`` (default: the user's data folder), downloaded from
    ``url`` if it is not already there and verified against ``DIGITS_SHA256`` and ``DIGITS_SIZE``.
    Returns its path; open it with ``digit_folders.load_dataset``. Raises ``DownloadError``/``DownloadCancelled``.
    """
    return download_file(url, digits_archive_path(folder), sha256=DIGITS_SHA256, size=DIGITS_SIZE,
                         progress=progress, cancel=cancel, timeout=timeout)
