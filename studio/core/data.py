"""Digit data sets as values: the ``Split`` and ``Dataset`` types, the ``DataError`` users see, sample names.

A ``Split`` holds ``n`` samples: ``images`` ``(n, 1024)`` uint8 of 0/1 (each row a 32x32 image in
row-major order), ``labels`` ``(n,)`` int64 in 0..9 and ``names`` such as ``"3_17.txt"``; a ``Dataset``
is a named training split and an optional test split. A sample's name is ``LABEL_SEQ.txt`` (``3_17.txt``
is sample 17 of digit 3, ``parse_digit_name``); ``merge_splits`` joins two splits in that order and
``next_sample_name`` finds a free name for a new sample.

Every problem in a file a user gave us raises ``DataError`` naming the file (its path, or for a zip
member ``archive.zip/member/path``) and, where it applies, the 1-based line and column and what was
expected. Programming errors (a ``Split`` built with the wrong shapes, writing an image that is not
0/1) raise ``ValueError``.

Left out: files. One digit file's text is ``digit_text.py``; folders and zips of them, read and
written, are ``digit_folders.py``. Also left out: image formats other than this text (MNIST, PNG),
resizing or thresholding of drawings (the paint pad's job), augmentation, batching and shuffling
(``training.py``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from studio.core.file_limits import shorten

SIDE = 32
N_PIXELS = SIDE * SIDE
N_CLASSES = 10
TRAIN_FOLDER = "trainingDigits"
TEST_FOLDER = "testDigits"

_NAME = re.compile(r"([0-9])_([0-9]+)\.txt", re.IGNORECASE)  # [0-9] is ASCII only, unlike \d or int()


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


def parse_digit_name(name: str) -> tuple[int, int] | None:
    """``"3_17.txt"`` -> ``(3, 17)`` (label, sequence number); ``None`` if the name is not LABEL_SEQ.txt."""
    match = _NAME.fullmatch(name)
    return (int(match[1]), int(match[2])) if match else None


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
