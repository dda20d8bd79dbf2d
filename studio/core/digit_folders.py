"""Digit data sets on disk: a folder of digit files, a data set folder with ``trainingDigits/`` and
``testDigits/``, or a ``.zip`` of either layout (read in place), loaded into a ``Split`` or ``Dataset``
and written back in the same format.

Names and order: files are named ``LABEL_SEQ.txt`` (LABEL one ASCII digit, SEQ ASCII digits; leading
zeros allowed, but ``3_7.txt`` and ``3_07.txt`` in one folder are the same sample and an error; ``.TXT``
is accepted); samples are ordered by (label, sequence number) as numbers, so ``1_10.txt`` comes after
``1_9.txt``. Each file's text is checked by ``digit_text``.

Stray files: hidden files (a name starting with ``.``, e.g. ``.DS_Store``, ``._3_1.txt``), files that
do not end in ``.txt`` (``README.md``, ``Thumbs.db``), ``__MACOSX/`` and sub-folders of a digit folder
are ignored. Every ``.txt`` file in a digit folder must be a valid digit file: a bad name is an error.
In a data set folder only ``trainingDigits/`` and ``testDigits/`` are read. A folder or zip whose only
visible content is one folder (``digits.zip`` holding ``digits/trainingDigits/...``) is looked into.
Every problem raises ``DataError`` naming the file; nothing half-loaded is ever returned.

Hostile files (see ``file_limits``): only regular files and folders are opened (a FIFO or a device is
refused at once); zip members must be stored or deflated and are read in bounded chunks, at most
``MAX_FILE_BYTES`` + 1 bytes each whatever their headers declare; files are parsed in batches of
``BATCH`` as they are read, so memory stays in proportion to the samples (one byte per pixel). Loaders
take an optional ``progress(done, total) -> bool`` hook; returning ``False`` raises ``LoadCancelled``.
Loading the tutorial's 2,880 files is I/O bound.

Writing (``write_digit_folder``, ``export_dataset``) goes to a hidden folder renamed at the end, so a
failure leaves no half-written data set.
"""
from __future__ import annotations

import os
import posixpath
import secrets
import shutil
import zipfile
import zlib
from pathlib import Path
from typing import Protocol

import numpy as np

from studio.core.data import N_PIXELS, TEST_FOLDER, TRAIN_FOLDER, DataError, Dataset, Split, parse_digit_name
from studio.core.digit_text import CRLF_FILE_BYTES, EXPECTED, MAX_FILE_BYTES, format_many, parse_many
# LoadCancelled and Progress are imported here too so that callers of the loaders find them beside them.
from studio.core.file_limits import LoadCancelled  # noqa: F401  (re-exported for the loaders' callers)
from studio.core.file_limits import (FileRefused, Progress, check_regular_file, read_zip_member, report,
                                     zip_entry_count)

#: Files read and parsed together: the batch's raw bytes (at most BATCH x MAX_FILE_BYTES = 32 MB) are
#: all that is held besides the samples already parsed.
BATCH = 512

#: Most members a data set archive may list: the tutorial's has 2,880, MNIST converted 70,000. Each
#: member costs a few hundred bytes of Python objects before anything is read.
MAX_ZIP_MEMBERS = 500_000


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
                            f"expected {EXPECTED}")
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
                            f"({info.file_size} bytes); expected {EXPECTED}")
        try:
            # The declared size may lie: the read itself stops at the cap.
            data = read_zip_member(self.archive, info, MAX_FILE_BYTES)
        except FileRefused as error:
            raise DataError(f"{self.where(folder, name)}: {error}") from None
        if len(data) > MAX_FILE_BYTES:
            raise DataError(f"{self.where(folder, name)}: is too large for a digit file (over "
                            f"{MAX_FILE_BYTES} bytes, although its header says {info.file_size}); "
                            f"expected {EXPECTED}")
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
        images[start:start + len(batch)] = parse_many(datas, lambda i: source.where(folder, batch[i]))
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
    block = memoryview(format_many(split.images))
    _check_writable(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.tmp")
    staging.mkdir()
    try:
        for i, name in enumerate(split.names):
            (staging / name).write_bytes(block[i * CRLF_FILE_BYTES:(i + 1) * CRLF_FILE_BYTES])
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
