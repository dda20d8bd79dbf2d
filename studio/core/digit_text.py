"""One digit file: the tutorial's text format, read strictly and written back.

A digit file holds 32 lines of 32 ``0``/``1`` characters, each ending in CRLF in the tutorial's files;
``parse_digit_text`` turns one into an image ``(1024,)`` uint8 of 0/1 in row-major order and
``format_digit_text`` writes one back. What is accepted, exactly:

* line ends LF or CRLF, an optional UTF-8 BOM, an optional newline after the last line;
* nothing else: a wrong character, line length or line count is a ``DataError`` naming the file, the
  1-based line and column and what was expected.

Speed: the common exact 1,088-byte CRLF file is checked and converted in one NumPy pass over many files
at once (``parse_many``); any other file goes through ``parse_digit_text``, which checks it line by line
with regular expressions (never one Python step per character).

Left out: file names and where files come from (``data.parse_digit_name``, ``digit_folders.py``).
"""
from __future__ import annotations

import os
import re
from typing import Callable, NoReturn

import numpy as np

from studio.core.data import N_PIXELS, SIDE, DataError
from studio.core.file_limits import FileRefused, read_file_capped

#: A valid file is at most BOM + 32 lines of 32 characters + CRLF = 1,091 bytes. Bigger files are
#: still read (to report a precise error) up to this cap, so that a stray huge file or a zip bomb
#: named like a digit is refused without being read into memory.
MAX_FILE_BYTES = 64 * 1024

CRLF_FILE_BYTES = SIDE * (SIDE + 2)  # 1,088: the tutorial's own files, the fast path
_VALID_TEXT = re.compile(r"(?:[01]{32}\n){31}[01]{32}\n?")
_NOT_BIT = re.compile(r"[^01]")
EXPECTED = "32 lines of 32 '0'/'1' characters"


def read_digit_file(path: str | os.PathLike[str]) -> np.ndarray:
    """One digit file (32 lines of 32 '0'/'1') -> ``(1024,)`` uint8 0/1. Only a regular file is opened
    (a FIFO would block) and at most ``MAX_FILE_BYTES`` + 1 bytes are read (a digit file is ~1 KB; a
    2 GB file or /dev/zero is refused). ``DataError`` names the file and what is wrong."""
    name = os.fspath(path)
    try:
        data = read_file_capped(path, MAX_FILE_BYTES)
    except FileRefused as error:
        raise DataError(f"{name}: {error}") from None
    except OSError as error:
        raise DataError(f"{name}: cannot read the file ({error.strerror or error})") from None
    if len(data) > MAX_FILE_BYTES:
        raise DataError(f"{name}: is too large for a digit file (over {MAX_FILE_BYTES} bytes); expected "
                        f"32 lines of 32 '0'/'1' characters")
    return parse_digit_text(data, name)


def parse_digit_text(data: bytes, name: str) -> np.ndarray:
    """One digit file's bytes -> its image, ``(1024,)`` uint8 of 0/1 in row-major order.

    ``name`` is what error messages call the file (give its full path). Raises ``DataError``.
    """
    if b"\0" in data:
        raise DataError(f"{name}: is a binary file (it contains NUL bytes); expected {EXPECTED}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = error.object[error.start]
        line = error.object.count(b"\n", 0, error.start) + 1
        raise DataError(f"{name}, line {line}: is not UTF-8 text (byte 0x{bad:02x}); "
                        f"expected {EXPECTED}") from None
    text = text.replace("\r\n", "\n")
    if _VALID_TEXT.fullmatch(text) is None:
        _explain_bad_text(text, name)
    # The match guarantees ASCII '0'/'1' and '\n' only, so bytes minus ord('0') are the pixels.
    return np.frombuffer(text.replace("\n", "").encode("ascii"), dtype=np.uint8) - np.uint8(ord("0"))


def _explain_bad_text(text: str, name: str) -> NoReturn:
    """Raise the ``DataError`` that says where ``text`` (already LF-normalised) breaks the format."""
    if text == "":
        raise DataError(f"{name}: is empty; expected {EXPECTED}")
    # split('\n'), not splitlines(): splitlines also breaks at \f, \x85, \u2028, which must be errors.
    lines = (text[:-1] if text.endswith("\n") else text).split("\n")
    for number, line in enumerate(lines[:SIDE], start=1):
        bad = _NOT_BIT.search(line)
        if bad is not None and bad.start() < SIDE:
            raise DataError(f"{name}, line {number}, column {bad.start() + 1}: "
                            f"expected '0' or '1', found {bad.group()!r}")
        if len(line) > SIDE:  # naming the 33rd character shows a stray '\r', '\f' or space
            raise DataError(f"{name}, line {number}, column {SIDE + 1}: expected the end of the line "
                            f"after {SIDE} characters, found {line[SIDE]!r}")
        if len(line) < SIDE:
            raise DataError(f"{name}, line {number}: expected {SIDE} characters, found {len(line)}")
    if len(lines) > SIDE:
        raise DataError(f"{name}, line {SIDE + 1}: expected the end of the file after {SIDE} lines, "
                        f"found {len(lines)} lines")
    raise DataError(f"{name}: expected {SIDE} lines, found {len(lines)}")


def format_digit_text(image: np.ndarray) -> str:
    """An image ``(1024,)`` or ``(32, 32)`` of 0/1 -> the tutorial's text: 32 lines of 32 '0'/'1',
    each ending in CRLF. Raises ``ValueError`` for another shape or values other than 0 and 1."""
    bits = np.asarray(image)
    if bits.shape not in ((N_PIXELS,), (SIDE, SIDE)):
        raise ValueError(f"a digit image must have shape ({N_PIXELS},) or ({SIDE}, {SIDE}), got {bits.shape}")
    if not np.isin(bits, (0, 1)).all():
        raise ValueError("a digit image must hold only 0 and 1")
    return format_many(bits.reshape(1, N_PIXELS).astype(np.uint8)).decode("ascii")


def format_many(images: np.ndarray) -> bytes:
    """``(n, 1024)`` uint8 of 0/1 -> the n files' bytes back to back, 1,088 bytes each (CRLF lines)."""
    rows = np.empty((len(images), SIDE, SIDE + 2), dtype=np.uint8)
    rows[:, :, :SIDE] = images.reshape(-1, SIDE, SIDE) + ord("0")
    rows[:, :, SIDE:] = (ord("\r"), ord("\n"))
    return rows.tobytes()


def parse_many(datas: list[bytes], where: Callable[[int], str]) -> np.ndarray:
    """Many files' bytes -> ``(n, 1024)`` uint8. Raises ``DataError`` for the first bad file in order.

    Every exact 1,088-byte file is checked in one vectorised pass (CRLF in the last two columns,
    '0'/'1' elsewhere); the others, and any that fail that check, go through ``parse_digit_text``.
    """
    images = np.empty((len(datas), N_PIXELS), dtype=np.uint8)
    fast = [i for i, data in enumerate(datas) if len(data) == CRLF_FILE_BYTES]
    slow = set(range(len(datas))).difference(fast)
    if fast:
        joined = b"".join(datas[i] for i in fast)
        block = np.frombuffer(joined, dtype=np.uint8).reshape(len(fast), SIDE, SIDE + 2)
        cells = block[:, :, :SIDE]
        # (c & 0xFE) == 0x30 holds exactly for c in {0x30, 0x31}: '0' and '1'.
        ok = ((cells & 0xFE) == ord("0")).all(axis=(1, 2))
        ok &= (block[:, :, SIDE] == ord("\r")).all(axis=1) & (block[:, :, SIDE + 1] == ord("\n")).all(axis=1)
        fast_index = np.asarray(fast)
        images[fast_index[ok]] = cells[ok].reshape(-1, N_PIXELS) - ord("0")
        slow.update(fast_index[~ok].tolist())
    for i in sorted(slow):  # sorted, so the error reported is the first bad file in load order
        images[i] = parse_digit_text(datas[i], where(i))
    return images
