"""Reading files a user gave us without trusting them: the checks every loader shares.

A hostile or damaged file must cost memory in proportion to what it really holds, end within seconds
and never hang. Each rule here answers a case seen on real machines:

* **Only regular files are opened.** ``open()`` on a FIFO blocks until someone writes to it, and
  ``/dev/zero`` never ends; ``os.stat`` does not block, so ``check_regular_file`` looks first.
* **Zip members are read in bounded chunks, up to a cap + 1 bytes.** ``zipfile`` trusts the size a
  member declares, and decompresses a bzip2 or LZMA member in one go on the first ``read``: a 2.4 KB
  member reached 6.2 GB. Deflate honours a bounded ``read(n)``, so only stored and deflated members
  are read (``read_zip_member``); the others are refused with a message.
* **Messages quote at most a few hundred characters** of any value (``shorten``): a file can hold a
  6 MB list, and a message box 524,309 px tall is no message.
* **Leftovers of killed saves are removed** by the next save into the same folder
  (``remove_stale_temporaries``), and only files of our own naming pattern and content.
* **Long loads can report progress and be cancelled**: a loader takes an optional
  ``progress(done, total) -> bool``; returning ``False`` makes it raise ``LoadCancelled``.

Left out: the formats themselves (``digit_text.py``, ``digit_folders.py``, ``mnist.py``, ``image_folder.py``,
``model_file.py``).
"""
from __future__ import annotations

import lzma
import os
import re
import stat
import struct
import time
import zipfile
import zlib
from typing import Callable

#: ``progress(done, total)`` is called as a load goes on (``total`` may grow as more is found);
#: returning ``False`` cancels the load, which then raises ``LoadCancelled``.
Progress = Callable[[int, int], bool]

#: Longest text of a file's value (a name, a list) quoted in a message.
MAX_QUOTED_CHARS = 300

#: Bytes asked of a zip member per read: deflate then decompresses at most this much at a time.
ZIP_CHUNK = 64 * 1024

#: Compression methods whose ``read(n)`` is bounded in ``zipfile`` (bzip2 and LZMA are not).
_SAFE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}

#: What ``zipfile`` and the decompressors raise on damaged data (there is no single error type):
#: BadZipFile (CRC, structure), zlib/LZMA/bzip2 errors (``LZMAError`` is not a zipfile error), EOFError
#: (data cut short), NotImplementedError (unknown method), RuntimeError (encrypted), ValueError, and
#: OSError (bzip2's errors, and a file that fails under us).
ZIP_READ_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError, RuntimeError,
    ValueError, OSError)


#: A hidden temporary file of ours untouched for this long is a leftover of a killed save.
STALE_TEMPORARY_SECONDS = 60
#: How atomic saves name their temporary files: ``.NAME.8hex.tmp`` beside the target.
_TEMPORARY_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.tmp", re.DOTALL)


class LoadCancelled(Exception):
    """The user cancelled a load through its ``progress`` hook. Nothing half-loaded is returned."""


class FileRefused(Exception):
    """A file or member is refused before (or while) reading it; the message is the problem alone,
    without the file's name, which the caller adds in its own error type."""


def shorten(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """``text`` cut in the middle to at most ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    keep = max(limit - 40, 20)
    return f"{text[:keep // 2]}...[{len(text) - keep} characters left out]...{text[-(keep // 2):]}"


def check_regular_file(path: str | os.PathLike[str], *, allow_folder: bool = False) -> os.stat_result:
    """``os.stat(path)`` if ``path`` is a regular file (or a folder, with ``allow_folder``).

    Raises ``FileNotFoundError``/``OSError`` as ``os.stat`` does, and ``FileRefused`` for a FIFO, a
    device or a socket, which would block or never end if opened."""
    info = os.stat(path)
    if stat.S_ISREG(info.st_mode) or (allow_folder and stat.S_ISDIR(info.st_mode)):
        return info
    if stat.S_ISDIR(info.st_mode):
        raise FileRefused("is a folder; expected a file")
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode)
            else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
    raise FileRefused(f"is {kind}, not a regular file; it is not read because it could block or never end")


def read_file_capped(path: str | os.PathLike[str], cap: int) -> bytes:
    """At most ``cap + 1`` bytes of the regular file ``path`` (so a caller sees that it is too large).

    Opened with ``O_NONBLOCK`` so that a FIFO swapped in after the check cannot block the open.
    Raises ``OSError`` and ``FileRefused`` (see ``check_regular_file``)."""
    check_regular_file(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileRefused("is not a regular file")
        parts: list[bytes] = []
        got = 0
        while got <= cap:
            part = os.read(fd, min(cap + 1 - got, 1 << 20))
            if not part:
                break
            parts.append(part)
            got += len(part)
        return b"".join(parts)
    finally:
        os.close(fd)


def check_zip_member(info: zipfile.ZipInfo) -> None:
    """``FileRefused`` unless ``info`` is stored or deflated and not encrypted."""
    if info.flag_bits & 0x1:
        raise FileRefused("is encrypted; only unencrypted archives are read")
    if info.compress_type not in _SAFE_METHODS:
        method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise FileRefused(f"is compressed with {method}; only stored or deflated members are read "
                          f"(re-create the archive with ordinary zip compression)")


def read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """At most ``cap + 1`` decompressed bytes of the member ``info``, read ``ZIP_CHUNK`` at a time.

    Whatever the member's header declares, no more than ``cap + ZIP_CHUNK`` bytes are ever held.
    Raises ``FileRefused`` for an unsafe method, encryption or damaged data (naming the problem)."""
    check_zip_member(info)
    parts: list[bytes] = []
    got = 0
    try:
        with archive.open(info) as stream:
            while got <= cap:
                part = stream.read(min(ZIP_CHUNK, cap + 1 - got))
                if not part:
                    break
                parts.append(part)
                got += len(part)
    except ZIP_READ_ERRORS as error:
        raise FileRefused(f"cannot be read from the archive ({shorten(str(error) or type(error).__name__)})"
                          ) from None
    return b"".join(parts)


def report(progress: Progress | None, done: int, total: int) -> None:
    """Call ``progress(done, total)`` if there is one; ``LoadCancelled`` if it returns ``False``."""
    if progress is not None and progress(done, total) is False:
        raise LoadCancelled("loading was cancelled")


def remove_stale_temporaries(folder: str | os.PathLike[str], magic: bytes) -> None:
    """Delete leftovers of killed atomic saves in ``folder``: regular files named like our temporaries
    (``.NAME.8hex.tmp``) that start with ``magic`` or are empty, untouched for
    ``STALE_TEMPORARY_SECONDS``. Best effort: a file that cannot be checked or removed is left alone."""
    now = time.time()
    try:
        with os.scandir(folder) as scan:
            entries = [entry for entry in scan if _TEMPORARY_NAME.fullmatch(entry.name)]
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < STALE_TEMPORARY_SECONDS:
                continue
            with open(entry.path, "rb") as file:  # a regular file (checked), so open cannot block
                head = file.read(len(magic))
            if head in (b"", magic):
                os.unlink(entry.path)
        except OSError:
            continue


def zip_entry_count(path: str | os.PathLike[str]) -> int | None:
    """How many entries the zip at ``path`` declares in its end record (zip64 too), read from its last
    64 KB without parsing the directory; ``None`` if no end record is found (``zipfile`` then says why).

    ``zipfile.ZipFile`` builds a Python object of a few hundred bytes per entry before anything can be
    checked: a 230 MB archive of 2,000,000 empty entries would cost over a gigabyte."""
    with open(path, "rb") as file:
        size = file.seek(0, os.SEEK_END)
        start = max(0, size - (1 << 16) - 22)
        file.seek(start)
        tail = file.read()
        end = tail.rfind(b"PK\x05\x06")
        if end < 0 or end + 22 > len(tail):
            return None
        count = struct.unpack_from("<H", tail, end + 10)[0]
        locator = end - 20
        if count != 0xFFFF or locator < 0 or tail[locator:locator + 4] != b"PK\x06\x07":
            return count
        file.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
        record = file.read(56)
        if len(record) < 56 or record[:4] != b"PK\x06\x06":
            return None
        return struct.unpack_from("<Q", record, 32)[0]
