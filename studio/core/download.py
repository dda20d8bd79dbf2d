"""Get the tutorial's data set: download ``digits.zip`` from its public home and check it.

``download_digits()`` fetches the archive the tutorial uses (the ``Ch02/digits.zip`` of the book
"Machine Learning in Action", 1,934 training and 946 test digits) into the user's data folder and
returns its path; the caller then opens it with ``data.load_dataset`` (it is read in place, never
unpacked). ``download_file`` is the general step it uses:

* streams the response in chunks with ``urllib``, calling ``progress(done_bytes, total_bytes)`` after
  each chunk (``total_bytes`` is the announced or expected size, ``None`` if neither is known) and
  checking ``cancel`` (a ``threading.Event`` or any callable returning ``True`` to stop) between chunks;
* writes to a hidden temporary file in the destination folder, checks the byte count and the SHA-256,
  then ``fsync``s and ``os.replace``s it into place: the destination is either the complete, verified
  file or untouched, and no temporary file is ever left behind;
* turns every failure into one ``DownloadError`` a person can act on (no network, connection
  refused, HTTP error, broken or short transfer, wrong checksum, disk error) or ``DownloadCancelled``.

A file already at the destination with the right checksum is not downloaded again.

It is a plain blocking function, made to run in a worker thread (the window's download dialog does
that); a cancel takes effect at the next chunk, so within ``timeout`` seconds even on a stalled
connection. Left out: retries, resuming, proxies beyond what ``urllib`` reads from the environment.
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


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    host = urllib.parse.urlsplit(url).netloc or url
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "backprop-studio"})
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - the URL is ours or a test's
    except urllib.error.HTTPError as error:
        error.close()
        raise DownloadError(f"The server answered {error.code} {error.reason} for {url}; the file may have "
                            f"moved. Try again later.") from None
    except urllib.error.URLError as error:
        raise DownloadError(f"Could not connect to {host}: {_describe_reason(error.reason)}. Check the "
                            f"internet connection and try again.") from None
    except (OSError, http.client.HTTPException) as error:
        raise DownloadError(f"Could not connect to {host}: {_describe_reason(error)}. Check the internet "
                            f"connection and try again.") from None
    except ValueError as error:  # a malformed URL
        raise DownloadError(f"Cannot download {url!r}: {error}") from None


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
    folder = destination.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"Cannot create the folder {folder}: {error.strerror or error}") from None

    with _open(url, timeout) as response:
        announced_text = response.headers.get("Content-Length")
        announced = int(announced_text) if announced_text and announced_text.isdigit() else None
        if size is not None and announced is not None and announced != size:
            raise DownloadError(f"The server offers {announced:,} bytes at {url}, but the file should be "
                                f"{size:,} bytes: it is not the expected file.")
        total = announced if announced is not None else size
        try:
            fd, temporary_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=folder)
        except OSError as error:
            raise DownloadError(f"Cannot write to {folder}: {error.strerror or error}") from None
        temporary = Path(temporary_name)
        try:
            with os.fdopen(fd, "wb") as file:
                digest = hashlib.sha256()
                done = 0
                if progress is not None:
                    progress(0, total)
                while True:
                    if _cancelled(cancel):
                        raise DownloadCancelled("The download was cancelled.")
                    try:
                        # read1: return what has arrived (up to chunk_size) rather than wait for a full
                        # chunk, so progress and cancel stay responsive on a slow connection.
                        chunk = response.read1(chunk_size)
                    except (OSError, http.client.HTTPException) as error:
                        of_total = f" of {total:,}" if total is not None else ""
                        raise DownloadError(f"The connection broke after {done:,}{of_total} bytes "
                                            f"({_describe_reason(error)}). Try again.") from None
                    if not chunk:
                        break
                    done += len(chunk)
                    limit = total if total is not None else size
                    if limit is not None and done > limit:
                        raise DownloadError(f"The server sent more than the {limit:,} bytes expected from "
                                            f"{url}: it is not the expected file.")
                    digest.update(chunk)
                    file.write(chunk)
                    if progress is not None:
                        progress(done, total)
                expected = total if total is not None else size
                if expected is not None and done < expected:
                    raise DownloadError(f"The download stopped after {done:,} of {expected:,} bytes (the "
                                        f"connection closed early). Try again.")
                if digest.hexdigest() != sha256.lower():
                    raise DownloadError(f"The file downloaded from {url} is not the expected one (its "
                                        f"SHA-256 is {digest.hexdigest()}, expected {sha256.lower()}). "
                                        f"It was not kept.")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, destination)
        except OSError as error:
            raise DownloadError(f"Cannot write {destination}: {error.strerror or error}") from None
        finally:
            temporary.unlink(missing_ok=True)  # already gone after os.replace
    return destination


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
    Returns its path; open it with ``data.load_dataset``. Raises ``DownloadError``/``DownloadCancelled``.
    """
    return download_file(url, digits_archive_path(folder), sha256=DIGITS_SHA256, size=DIGITS_SIZE,
                         progress=progress, cancel=cancel, timeout=timeout)
