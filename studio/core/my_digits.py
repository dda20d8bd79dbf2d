"""The user's own drawings ("my digits"), kept as a personal data set in the tutorial's format.

A ``MyDigits`` is one folder of ``LABEL_SEQ.txt`` files (32 lines of 32 '0'/'1', CRLF), by default
``user_dirs.my_digits_dir()``. The files are the whole state: nothing is cached, so two windows (or a
text editor) can change the folder and every call sees the current files. Each file is written to a
hidden temporary file in the same folder, flushed, ``fsync``ed and ``os.replace``d into place, so a
crash never leaves a half-written digit; the hidden temporary names are ignored by the loader.

A run can train on a data set plus these drawings: ``with_my_digits(dataset, my.split())`` merges
them into the train split (renumbering the drawings after the data set's own sequence numbers, so no
name clashes and the result still exports).

Left out: undo, labels other than 0..9, and drawings of another size than 32x32.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path

import numpy as np

from studio.core.data import N_CLASSES, N_PIXELS, DataError, Dataset, Split, merge_splits, parse_digit_name
from studio.core.digit_folders import load_digit_folder
from studio.core.digit_text import format_digit_text
from studio.core.user_dirs import my_digits_dir


def empty_split() -> Split:
    """A ``Split`` with no samples: images ``(0, 1024)`` uint8, labels ``(0,)`` int64."""
    return Split(np.zeros((0, N_PIXELS), dtype=np.uint8), np.zeros(0, dtype=np.int64), ())


class MyDigits:
    """The user's drawings in ``folder`` (default ``user_dirs.my_digits_dir()``; created on the first
    ``add``)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else my_digits_dir()

    def __repr__(self) -> str:
        return f"MyDigits({str(self.folder)!r}, n={int(self.count_per_class().sum())})"

    def _keys(self) -> list[tuple[int, int, str]]:
        """``(label, sequence, name)`` of every digit file, sorted; ``[]`` if the folder is missing."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        except OSError as error:
            raise DataError(f"{self.folder}: cannot be read ({error.strerror or error})") from None
        keys = []
        for name in names:
            parsed = None if name.startswith(".") else parse_digit_name(name)
            if parsed is not None:
                keys.append((parsed[0], parsed[1], name))
        return sorted(keys)

    def names(self) -> list[str]:
        """The digit files' names, sorted by (label, sequence number)."""
        return [name for _, _, name in self._keys()]

    def count_per_class(self) -> np.ndarray:
        """Drawings per digit, ``(10,)`` int64 (from the file names; nothing is read)."""
        counts = np.zeros(N_CLASSES, dtype=np.int64)
        for label, _, _ in self._keys():
            counts[label] += 1
        return counts

    def add(self, image: np.ndarray, label: int) -> str:
        """Save a drawing ``(1024,)`` or ``(32, 32)`` of 0/1 as digit ``label``; return its file name.

        The name is ``LABEL_SEQ.txt`` with SEQ one past the highest already used for ``label``. Raises
        ``ValueError`` for a bad label or image, ``OSError`` if the folder cannot be written.
        """
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < N_CLASSES:
            raise ValueError(f"label must be a digit 0..{N_CLASSES - 1}, got {label!r}")
        label = int(label)
        text = format_digit_text(image).encode("ascii")  # checks shape and 0/1
        self.folder.mkdir(parents=True, exist_ok=True)
        used = [seq for lab, seq, _ in self._keys() if lab == label]
        name = f"{label}_{max(used) + 1 if used else 0}.txt"
        temporary = self.folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            with open(temporary, "wb") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.folder / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return name

    def delete(self, name: str) -> None:
        """Remove the drawing ``name`` (a ``LABEL_SEQ.txt`` name in this folder).

        Raises ``ValueError`` for a name that is not ``LABEL_SEQ.txt`` (so no path can escape the
        folder) and ``DataError`` if there is no such drawing."""
        if Path(name).name != name or parse_digit_name(name) is None or name.startswith("."):
            raise ValueError(f"{name!r} is not the name of a drawing (LABEL_SEQ.txt)")
        try:
            (self.folder / name).unlink()
        except FileNotFoundError:
            raise DataError(f"{self.folder / name}: there is no such drawing (already deleted?)") from None

    def split(self) -> Split:
        """All drawings as a ``Split`` sorted by (label, sequence number); empty if there are none.
        Raises ``DataError`` if a file was damaged outside the studio."""
        if not self._keys():
            return empty_split()
        return load_digit_folder(self.folder)


def with_my_digits(dataset: Dataset, my_digits: Split) -> Dataset:
    """``dataset`` with ``my_digits`` added to its train split (``data.merge_splits``); test unchanged.

    The drawings are renamed ``LABEL_SEQ.txt`` with SEQ counting on from the highest sequence number
    the train split uses for that label, so names never clash and the merged set exports as it is.
    With no drawings, ``dataset`` itself is returned.
    """
    if len(my_digits) == 0:
        return dataset
    train = dataset.train
    next_seq = np.zeros(N_CLASSES, dtype=np.int64)
    # Every LABEL_SEQ name counts under the label its name says, even a sample whose name disagrees
    # with its label: a new name must not equal any existing one.
    for parsed in map(parse_digit_name, train.names):
        if parsed is not None:
            next_seq[parsed[0]] = max(next_seq[parsed[0]], parsed[1] + 1)
    names = []
    for label in my_digits.labels.tolist():
        names.append(f"{label}_{next_seq[label]}.txt")
        next_seq[label] += 1
    renamed = Split(my_digits.images, my_digits.labels, tuple(names))
    return replace(dataset, name=f"{dataset.name} + my digits", train=merge_splits(train, renamed))
