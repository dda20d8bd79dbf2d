"""Digit data sets: the tutorial's text format, strict validation, and the ``Split``/``Dataset`` types.

A digit file is named ``LABEL_SEQ.txt`` (``3_17.txt`` is sample 17 of digit 3) and holds 32 lines of 32
``0``/``1`` characters, each ending in CRLF in the tutorial's files. This module reads such files from
a folder of digits, from a data set folder with ``trainingDigits/`` and ``testDigits/``, or from a
``.zip`` of either layout (read in place), and writes them back in the same format.

What is accepted, exactly:

* line ends LF or CRLF, an optional UTF-8 BOM, an optional newline after the last line;
* file names ``LABEL_SEQ.txt``: LABEL one ASCII digit, SEQ ASCII digits (leading zeros allowed, but
  ``3_7.txt`` and ``3_07.txt`` in one folder are the same sample and an error); ``.TXT`` is accepted;
* samples are ordered by (label, sequence number) as numbers, so ``1_10.txt`` comes after ``1_9.txt``.

Stray files: hidden files (a name starting with ``.``, e.g. ``.DS_Store``, ``._3_1.txt``), files that
do not end in ``.txt`` (``README.md``, ``Thumbs.db``), ``__MACOSX/`` and sub-folders of a digit folder
are ignored. Every ``.txt`` file in a digit folder must be a valid digit file: a bad name is an error.
In a data set folder only ``trainingDigits/`` and ``testDigits/`` are read. A folder or zip whose only
visible content is one folder (``digits.zip`` holding ``digits/trainingDigits/...``) is looked into.

Every problem in a file a user gave us raises ``DataError`` naming the file (its path, or for a zip
member ``archive.zip/member/path``) and, where it applies, the 1-based line and column and what was
expected. Nothing half-loaded is ever returned. Programming errors (a ``Split`` built with the wrong
shapes, writing an image that is not 0/1) raise ``ValueError``.

Hostile files (see ``file_limits``): only regular files and folders are opened (a FIFO or a device is
refused at once); zip members must be stored or deflated and are read in bounded chunks, at most
``MAX_FILE_BYTES`` + 1 bytes each whatever their headers declare; files are parsed in batches of
``BATCH`` as they are read, so memory stays in proportion to the samples (one byte per pixel). Loaders
take an optional ``progress(done, total) -> bool`` hook; returning ``False`` raises ``LoadCancelled``.

Speed: the common exact 1,088-byte CRLF file is checked and converted in one NumPy pass over all files
at once; any other file goes through ``parse_digit_text``, which checks it line by line with regular
expressions (never one Python step per character). Loading the tutorial's 2,880 files is I/O bound.

Left out: image formats other than this text (MNIST, PNG), resizing or thresholding of drawings
(the paint pad's job), augmentation, batching and shuffling (``training.py``).
"""
from __future__ import annotations

import os
import posixpath
import re
import secrets
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NoReturn, Protocol

import numpy as np

# LoadCancelled and Progress are imported here too so that callers of the loaders find them beside them.
from studio.core.file_limits import LoadCancelled  # noqa: F401  (re-exported for the loaders' callers)
from studio.core.file_limits import (FileRefused, Progress, check_regular_file, read_file_capped, read_zip_member,
                                     report, shorten, zip_entry_count)

SIDE = 32
N_PIXELS = SIDE * SIDE
N_CLASSES = 10
TRAIN_FOLDER = "trainingDigits"
TEST_FOLDER = "testDigits"

#: A valid file is at most BOM + 32 lines of 32 characters + CRLF = 1,091 bytes. Bigger files are
#: still read (to report a precise error) up to this cap, so that a stray huge file or a zip bomb
#: named like a digit is refused without being read into memory.
MAX_FILE_BYTES = 64 * 1024

#: Files read and parsed together: the batch's raw bytes (at most BATCH x MAX_FILE_BYTES = 32 MB) are
#: all that is held besides the samples already parsed.
BATCH = 512

#: Most members a data set archive may list: the tutorial's has 2,880, MNIST converted 70,000. Each
#: member costs a few hundred bytes of Python objects before anything is read.
MAX_ZIP_MEMBERS = 500_000

_CRLF_FILE_BYTES = SIDE * (SIDE + 2)  # 1,088: the tutorial's own files, the fast path
_NAME = re.compile(r"([0-9])_([0-9]+)\.txt", re.IGNORECASE)  # [0-9] is ASCII only, unlike \d or int()
_VALID_TEXT = re.compile(r"(?:[01]{32}\n){31}[01]{32}\n?")
_NOT_BIT = re.compile(r"[^01]")
_EXPECTED = "32 lines of 32 '0'/'1' characters"


class DataError(Exception):
    """A data set or digit file a user gave us is malformed. The message names the file and, where it
    applies, line and column and what was expected; it is cut to ``MAX_MESSAGE_CHARS`` (a path or a
    member name can be very long, and a message is read by a person)."""

    def __init__(self, message: str) -> None:
        super().__init__(shorten(message, MAX_MESSAGE_CHARS))


#: Longest ``DataError`` message: room for a long path and a reason, never a screenful.
MAX_MESSAGE_CHARS = 1000


@dataclass(frozen=True, eq=False)
class Split:
    """One set of samples: ``images`` ``(n, 1024)`` uint8 of 0/1, each row a 32x32 image in row-major
    order; ``labels`` ``(n,)`` int64 in 0..9; ``names`` the ``n`` sample names such as ``"3_17.txt"``.

    Treat the arrays as read-only: splits are shared between the GUI and training runs.
    ``eq=False`` because ``==`` on arrays is element-wise; compare the fields with NumPy instead.
    """

    images: np.ndarray
    labels: np.ndarray
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        images, labels = self.images, self.labels
        if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 \
                or images.shape[1] != N_PIXELS:
            raise ValueError(f"Split.images must be a (n, {N_PIXELS}) uint8 array, got {_describe(images)}")
        if not isinstance(labels, np.ndarray) or labels.dtype != np.int64 or labels.shape != images.shape[:1]:
            raise ValueError(f"Split.labels must be a ({len(images)},) int64 array, got {_describe(labels)}")
        if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
            raise ValueError(f"Split.labels must be in 0..{N_CLASSES - 1}")
        if not isinstance(self.names, tuple) or len(self.names) != len(labels):
            raise ValueError(f"Split.names must be a tuple of {len(labels)} names")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self) -> np.ndarray:
        """Samples per digit, ``(10,)`` int64."""
        return np.bincount(self.labels, minlength=N_CLASSES).astype(np.int64)

    def __repr__(self) -> str:
        span = f", {self.names[0]!r}..{self.names[-1]!r}" if self.names else ""
        return f"Split(n={len(self)}{span})"


def _describe(value: object) -> str:
    """``"(3, 1024) float64"`` for an array, the type's name for anything else (for error messages)."""
    if isinstance(value, np.ndarray):
        return f"{value.shape} {value.dtype}"
    return type(value).__name__


@dataclass(frozen=True, eq=False)
class Dataset:
    """A named data set: ``train`` and, for the two-folder layout, ``test`` (else ``None``)."""

    name: str
    source: str
    train: Split
    test: Split | None

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, train={self.train!r}, test={self.test!r}, source={self.source!r})"


# --------------------------------------------------------------------------------------------------
# One file
# --------------------------------------------------------------------------------------------------

def parse_digit_name(name: str) -> tuple[int, int] | None:
    """``"3_17.txt"`` -> ``(3, 17)`` (label, sequence number); ``None`` if the name is not LABEL_SEQ.txt."""
    match = _NAME.fullmatch(name)
    return (int(match[1]), int(match[2])) if match else None


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
        raise DataError(f"{name}: is a binary file (it contains NUL bytes); expected {_EXPECTED}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = error.object[error.start]
        line = error.object.count(b"\n", 0, error.start) + 1
        raise DataError(f"{name}, line {line}: is not UTF-8 text (byte 0x{bad:02x}); "
                        f"expected {_EXPECTED}") from None
    text = text.replace("\r\n", "\n")
    if _VALID_TEXT.fullmatch(text) is None:
        _explain_bad_text(text, name)
    # The match guarantees ASCII '0'/'1' and '\n' only, so bytes minus ord('0') are the pixels.
    return np.frombuffer(text.replace("\n", "").encode("ascii"), dtype=np.uint8) - np.uint8(ord("0"))


def _explain_bad_text(text: str, name: str) -> NoReturn:
    """Raise the ``DataError`` that says where ``text`` (already LF-normalised) breaks the format."""
    if text == "":
        raise DataError(f"{name}: is empty; expected {_EXPECTED}")
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
    return _format_many(bits.reshape(1, N_PIXELS).astype(np.uint8)).decode("ascii")


def _format_many(images: np.ndarray) -> bytes:
    """``(n, 1024)`` uint8 of 0/1 -> the n files' bytes back to back, 1,088 bytes each (CRLF lines)."""
    rows = np.empty((len(images), SIDE, SIDE + 2), dtype=np.uint8)
    rows[:, :, :SIDE] = images.reshape(-1, SIDE, SIDE) + ord("0")
    rows[:, :, SIDE:] = (ord("\r"), ord("\n"))
    return rows.tobytes()


def _parse_many(datas: list[bytes], where: Callable[[int], str]) -> np.ndarray:
    """Many files' bytes -> ``(n, 1024)`` uint8. Raises ``DataError`` for the first bad file in order.

    Every exact 1,088-byte file is checked in one vectorised pass (CRLF in the last two columns,
    '0'/'1' elsewhere); the others, and any that fail that check, go through ``parse_digit_text``.
    """
    images = np.empty((len(datas), N_PIXELS), dtype=np.uint8)
    fast = [i for i, data in enumerate(datas) if len(data) == _CRLF_FILE_BYTES]
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


# --------------------------------------------------------------------------------------------------
# Where files come from: a folder on disk or a zip read in place, behind one small interface so that
# the layout rules and the checks are written once.
# --------------------------------------------------------------------------------------------------

class _Source(Protocol):
    def where(self, folder: str, name: str = "") -> str: ...
    def listdir(self, folder: str) -> tuple[list[str], list[str]]: ...
    def read(self, folder: str, name: str) -> bytes: ...


def _visible(name: str) -> bool:
    return not name.startswith(".") and name != "__MACOSX"


class _FolderSource:
    """Files under ``root``; ``folder`` arguments are relative paths with ``/``."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)

    def where(self, folder: str, name: str = "") -> str:
        return os.path.join(self.root, *(part for part in (*folder.split("/"), name) if part))

    def listdir(self, folder: str) -> tuple[list[str], list[str]]:
        files: list[str] = []
        dirs: list[str] = []
        try:
            with os.scandir(self.where(folder)) as entries:
                for entry in entries:
                    if not _visible(entry.name):
                        continue
                    if entry.is_dir():
                        dirs.append(entry.name)
                    elif entry.is_file():  # sockets, broken links and the like are not data
                        files.append(entry.name)
        except OSError as error:
            raise DataError(f"{self.where(folder)}: cannot be read ({error.strerror or error})") from None
        return sorted(files), sorted(dirs)

    def read(self, folder: str, name: str) -> bytes:
        path = self.where(folder, name)
        try:
            # os.open/os.read rather than open(): half the cost per file, and the files are many.
            # O_NONBLOCK: a FIFO put in place after the folder was listed cannot block the open.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
            try:
                data = os.read(fd, MAX_FILE_BYTES + 1)
                while 0 < len(data) <= MAX_FILE_BYTES:  # a read may return less than asked
                    more = os.read(fd, MAX_FILE_BYTES + 1 - len(data))
                    if not more:
                        break
                    data += more
            finally:
                os.close(fd)
        except OSError as error:
            raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
        if len(data) > MAX_FILE_BYTES:
            raise DataError(f"{path}: is too large for a digit file (over {MAX_FILE_BYTES} bytes); "
                            f"expected {_EXPECTED}")
        return data


#: What zipfile raises for damaged, encrypted or exotic archives (it has no single error type).
_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError,
                    ValueError)


class _ZipSource:
    """Members of an open zip. Names are normalised to ``/``; hidden members and ``__MACOSX/`` dropped."""

    def __init__(self, archive: zipfile.ZipFile, path: str) -> None:
        self.archive = archive
        self.path = path
        self.files: dict[str, list[str]] = {}
        self.dirs: dict[str, set[str]] = {}
        self.members: dict[tuple[str, str], zipfile.ZipInfo] = {}
        for info in archive.infolist():
            parts = [part for part in info.filename.replace("\\", "/").split("/") if part]
            if not parts or not all(_visible(part) for part in parts):
                continue
            *folders, leaf = parts
            for depth in range(len(folders)):
                self.dirs.setdefault("/".join(folders[:depth]), set()).add(folders[depth])
            if info.is_dir():
                self.dirs.setdefault("/".join(folders), set()).add(leaf)
            else:
                folder = "/".join(folders)
                self.files.setdefault(folder, []).append(leaf)  # a list: a name twice is an error later
                self.members[folder, leaf] = info

    def where(self, folder: str, name: str = "") -> str:
        return "/".join(part for part in (self.path, folder, name) if part)

    def listdir(self, folder: str) -> tuple[list[str], list[str]]:
        return sorted(self.files.get(folder, [])), sorted(self.dirs.get(folder, set()))

    def read(self, folder: str, name: str) -> bytes:
        info = self.members[folder, name]
        if info.file_size > MAX_FILE_BYTES:
            raise DataError(f"{self.where(folder, name)}: is too large for a digit file "
                            f"({info.file_size} bytes); expected {_EXPECTED}")
        try:
            # The declared size may lie: the read itself stops at the cap.
            data = read_zip_member(self.archive, info, MAX_FILE_BYTES)
        except FileRefused as error:
            raise DataError(f"{self.where(folder, name)}: {error}") from None
        if len(data) > MAX_FILE_BYTES:
            raise DataError(f"{self.where(folder, name)}: is too large for a digit file (over "
                            f"{MAX_FILE_BYTES} bytes, although its header says {info.file_size}); "
                            f"expected {_EXPECTED}")
        return data


def _is_digit_candidate(name: str) -> bool:
    return name.lower().endswith(".txt")


class _Tally:
    """Samples read so far and expected in all, for a loader's ``progress`` hook."""

    def __init__(self, progress: Progress | None, total: int = 0) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def add(self, count: int) -> None:
        self.done += count
        report(self.progress, self.done, max(self.total, self.done))


def _count_candidates(source: _Source, folder: str) -> int:
    return sum(1 for name in source.listdir(folder)[0] if _is_digit_candidate(name))


def _load_split(source: _Source, folder: str, tally: _Tally | None = None) -> Split:
    """The digit files directly in ``folder`` of ``source``, sorted by (label, sequence number).

    Files are read and parsed ``BATCH`` at a time, so a bad file stops the load after at most one
    batch was read, and memory holds one batch of raw bytes besides the parsed samples."""
    tally = tally or _Tally(None)
    files, dirs = source.listdir(folder)
    candidates = [name for name in files if _is_digit_candidate(name)]
    if not candidates:
        if not files and not dirs:
            raise DataError(f"{source.where(folder)}: is empty; expected digit files named LABEL_SEQ.txt")
        seen = ", ".join([*files[:3], *(d + "/" for d in dirs[:3])])
        hint = (f"; it holds {TRAIN_FOLDER}/, so open it as a data set"
                if TRAIN_FOLDER in dirs or TEST_FOLDER in dirs else "")
        raise DataError(f"{source.where(folder)}: holds no digit files named LABEL_SEQ.txt "
                        f"(found {seen}){hint}")
    keyed: list[tuple[tuple[int, int], str]] = []
    for name in candidates:
        key = parse_digit_name(name)
        if key is None:
            raise DataError(f"{source.where(folder, name)}: the name is not LABEL_SEQ.txt "
                            f"(LABEL a digit 0-9, SEQ a number, e.g. 3_17.txt)")
        keyed.append((key, name))
    keyed.sort()
    for (key, first), (next_key, second) in zip(keyed, keyed[1:]):
        if key == next_key:
            raise DataError(f"{source.where(folder, second)}: sample {key[1]} of digit {key[0]} appears "
                            f"twice (as {first!r} and {second!r})")
    names = tuple(name for _, name in keyed)
    tally.total = max(tally.total, tally.done + len(names))
    images = np.empty((len(names), N_PIXELS), dtype=np.uint8)
    for start in range(0, len(names), BATCH):
        batch = names[start:start + BATCH]
        datas = [source.read(folder, name) for name in batch]
        images[start:start + len(batch)] = _parse_many(datas, lambda i: source.where(folder, batch[i]))
        tally.add(len(batch))
    labels = np.fromiter((key[0] for key, _ in keyed), dtype=np.int64, count=len(keyed))
    return Split(images, labels, names)


def _load_layout(source: _Source, progress: Progress | None = None) -> tuple[Split, Split | None]:
    """Find the layout in ``source`` and load it: train/test folders, or one folder of digits."""
    folder = ""
    while True:
        files, dirs = source.listdir(folder)
        if TRAIN_FOLDER in dirs or TEST_FOLDER in dirs:
            if TRAIN_FOLDER not in dirs:
                raise DataError(f"{source.where(folder)}: has {TEST_FOLDER}/ but no {TRAIN_FOLDER}/")
            train_folder, test_folder = posixpath.join(folder, TRAIN_FOLDER), posixpath.join(folder, TEST_FOLDER)
            tally = _Tally(progress, _count_candidates(source, train_folder)
                           + (_count_candidates(source, test_folder) if TEST_FOLDER in dirs else 0))
            train = _load_split(source, train_folder, tally)
            test = _load_split(source, test_folder, tally) if TEST_FOLDER in dirs else None
            return train, test
        if any(_is_digit_candidate(name) for name in files):
            return _load_split(source, folder, _Tally(progress)), None
        # A wrapping folder (an archive of "digits/") is looked into once; deeper trees are not searched.
        if folder == "" and len(dirs) == 1:
            folder = dirs[0]
            continue
        state = "is empty" if not files and not dirs else "holds neither"
        raise DataError(f"{source.where(folder)}: {state}; expected {TRAIN_FOLDER}/ and {TEST_FOLDER}/ "
                        f"folders, or digit files named LABEL_SEQ.txt")


# --------------------------------------------------------------------------------------------------
# Public loaders and writers
# --------------------------------------------------------------------------------------------------

def load_digit_folder(path: str | Path, progress: Progress | None = None) -> Split:
    """A folder of ``LABEL_SEQ.txt`` files -> a ``Split`` sorted by (label, sequence number).

    Raises ``DataError`` if the path is missing or not a folder, or if any digit file is malformed;
    ``LoadCancelled`` if ``progress`` returns ``False``.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: does not exist")
    if not path.is_dir():
        raise DataError(f"{path}: is not a folder")
    return _load_split(_FolderSource(path), "", _Tally(progress))


def check_source_path(path: str | Path) -> os.stat_result:
    """``os.stat`` of a data set path a user gave, which must be a folder or a regular file.

    Raises ``DataError`` if it is missing or unreadable, or a FIFO, device or socket (opening one
    would block or never end); nothing is opened."""
    try:
        return check_regular_file(path, allow_folder=True)
    except FileNotFoundError:
        raise DataError(f"{path}: does not exist") from None
    except FileRefused as error:
        raise DataError(f"{path}: {error}") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None


def load_dataset(path: str | Path, progress: Progress | None = None) -> Dataset:
    """A data set from a folder or a ``.zip`` (read in place, nothing extracted to disk).

    Layouts: ``trainingDigits/`` and ``testDigits/`` (``testDigits/`` may be missing: ``test`` is then
    ``None``), or one folder of digit files (``test`` is ``None``); either may sit inside one wrapping
    folder. Raises ``DataError`` for a missing path, a file that is not a zip, or any malformed content;
    ``LoadCancelled`` if ``progress`` returns ``False``.
    """
    path = Path(path)
    check_source_path(path)
    resolved = path.resolve()
    if path.is_dir():
        train, test = _load_layout(_FolderSource(path), progress)
        return Dataset(resolved.name, str(resolved), train, test)
    try:
        declared = zip_entry_count(path)
        if declared is not None and declared > MAX_ZIP_MEMBERS:
            raise DataError(f"{path}: lists {declared} members, more than the {MAX_ZIP_MEMBERS} a data set "
                            f"archive may hold")
        archive = zipfile.ZipFile(path)
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    except _ZIP_READ_ERRORS:  # a damaged table of contents can raise any of these, not only BadZipFile
        raise DataError(f"{path}: is not a zip archive (or a damaged one); expected a zip or a folder "
                        f"of digit files") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise DataError(f"{path}: lists {len(members)} members, more than the {MAX_ZIP_MEMBERS} a "
                            f"data set archive may hold")
        train, test = _load_layout(_ZipSource(archive, str(path)), progress)
    return Dataset(resolved.stem, str(resolved), train, test)


def _check_writable(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(f"{folder}: already exists and is not an empty folder; choose a new folder")


def write_digit_folder(split: Split, folder: str | Path) -> None:
    """Write ``split`` as ``folder/LABEL_SEQ.txt`` files in the tutorial's format (CRLF), named by
    ``split.names``. ``folder`` must not exist or be empty (``FileExistsError`` otherwise).

    Files are written into a hidden folder beside ``folder`` that is renamed at the end, so a failure
    leaves no half-written data set. Raises ``ValueError`` if a name is not ``LABEL_SEQ.txt`` for its
    label, names repeat, or pixels are not 0/1.
    """
    folder = Path(folder)
    for name, label in zip(split.names, split.labels.tolist()):
        key = parse_digit_name(name)
        if key is None or key[0] != label:
            raise ValueError(f"sample name {name!r} is not LABEL_SEQ.txt for label {label}")
    if len(set(split.names)) != len(split.names):
        raise ValueError("sample names repeat: files would overwrite each other")
    if ((split.images & 0xFE) != 0).any():
        raise ValueError("a digit image must hold only 0 and 1")
    # Formatted in one NumPy pass; file i is bytes [i * 1088, (i + 1) * 1088) of the block.
    block = memoryview(_format_many(split.images))
    _check_writable(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.tmp")
    staging.mkdir()
    try:
        for i, name in enumerate(split.names):
            (staging / name).write_bytes(block[i * _CRLF_FILE_BYTES:(i + 1) * _CRLF_FILE_BYTES])
        if folder.exists():
            folder.rmdir()  # empty (checked above); os.replace onto a folder is not portable
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def export_dataset(dataset: Dataset, folder: str | Path) -> None:
    """Write ``folder/trainingDigits`` and, if there is a test split, ``folder/testDigits``.

    Both targets are checked before anything is written (``FileExistsError`` if either is not empty).
    """
    folder = Path(folder)
    splits = [(TRAIN_FOLDER, dataset.train)]
    if dataset.test is not None:
        splits.append((TEST_FOLDER, dataset.test))
    for sub, _ in splits:
        _check_writable(folder / sub)
    for sub, split in splits:
        write_digit_folder(split, folder / sub)


def merge_splits(a: Split, b: Split) -> Split:
    """``a`` and ``b`` together, e.g. a training split plus the user's own drawings.

    Sorted by label, then by sequence number for names that are ``LABEL_SEQ.txt`` of their label;
    other names follow within their label in their original order. Raises ``DataError`` if a name is
    in both (the files would overwrite each other on export): ``next_sample_name`` gives a free one.
    """
    clash = sorted(set(a.names).intersection(b.names))
    if clash:
        raise DataError(f"both sets hold a sample named {clash[0]!r}"
                        + (f" and {len(clash) - 1} more" if len(clash) > 1 else "")
                        + "; rename the added samples")
    names = a.names + b.names
    labels = np.concatenate([a.labels, b.labels])

    def key(i: int) -> tuple[int, int, int, int]:
        parsed = parse_digit_name(names[i])
        if parsed is not None and parsed[0] == labels[i]:
            return (int(labels[i]), 0, parsed[1], i)
        return (int(labels[i]), 1, 0, i)

    order = sorted(range(len(names)), key=key)
    images = np.concatenate([a.images, b.images])[order]
    return Split(images, labels[order], tuple(names[i] for i in order))


def next_sample_name(split: Split, label: int) -> str:
    """A ``LABEL_SEQ.txt`` name for a new sample of ``label``, one past the highest sequence number
    ``split`` uses for that label (``"3_0.txt"`` if it has none)."""
    if not 0 <= label < N_CLASSES:
        raise ValueError(f"label must be in 0..{N_CLASSES - 1}, got {label}")
    used = [key[1] for key in map(parse_digit_name, split.names) if key is not None and key[0] == label]
    return f"{label}_{max(used) + 1 if used else 0}.txt"
