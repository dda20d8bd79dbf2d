"""One entry point for every kind of digit data a user can point the studio at.

``open_data_source(path)`` looks at what ``path`` is and hands it to the right loader:

==========================================================  ==========================================
what                                                        loader
==========================================================  ==========================================
a ``.zip`` (any zip archive)                                ``digit_folders.load_dataset`` (the tutorial's format)
a folder with ``trainingDigits/``/``testDigits/``, or       ``digit_folders.load_dataset``
``.txt`` digit files
a folder with the standard MNIST file names                 ``mnist.load_mnist_folder``
an MNIST images or labels file (by its IDX magic number),   ``mnist.load_mnist_file``
its partner beside it
a folder of class folders ``0/``..``9/`` (or ``train/`` and   ``image_folder.load_image_folder``
``test/`` of them) holding pictures
==========================================================  ==========================================

The checks are made in that order (MNIST names before ``.txt`` files, so a ``README.txt`` beside MNIST
files does not make it a tutorial folder). A folder whose only sub-folder holds the data (an unpacked
``digits/``) is looked into once. Anything else raises one ``DataError``: "PATH: is not a data set:
expected ...". Errors inside a recognised source come from its loader and name the bad file.

Nothing is opened before ``os.stat`` says the path is a folder or a regular file: a FIFO or a device
given as a data set is refused at once (opening one would block for good). ``open_data_source`` takes
an optional ``progress(done, total) -> bool`` hook, called as samples are loaded; returning ``False``
cancels the load with ``LoadCancelled`` (the window shows progress and a Cancel button with it).

``export_source(dataset, folder)`` writes any of them in the tutorial's folder format.

Left out: zips of MNIST files or of pictures, and the built-in synthetic set (``synth.py``).
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Literal

from studio.core.data import TEST_FOLDER, TRAIN_FOLDER, DataError, Dataset
from studio.core.digit_folders import check_source_path, export_dataset, load_dataset
from studio.core.file_limits import LoadCancelled, Progress
from studio.core.image_folder import is_image_folder, load_image_folder
from studio.core.mnist import IMAGES_MAGIC, LABELS_MAGIC, find_mnist_files, load_mnist_file, load_mnist_folder, \
    sniff_idx_magic

SourceKind = Literal["tutorial", "mnist-folder", "mnist-file", "images"]

#: What the one "not a data set" message says is expected.
EXPECTED = ("expected the tutorial's digits (a folder or .zip with trainingDigits/ and testDigits/, or a "
            "folder of LABEL_SEQ.txt files), MNIST files (train-images-idx3-ubyte[.gz] with "
            "train-labels-idx1-ubyte[.gz], and/or the t10k- pair), or pictures in class folders 0/ to 9/")


def _visible_entries(folder: Path) -> tuple[list[str], list[str]]:
    files: list[str] = []
    dirs: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.name == "__MACOSX":
                    continue
                (dirs if entry.is_dir() else files).append(entry.name)
    except OSError as error:
        raise DataError(f"{folder}: cannot be read ({error.strerror or error})") from None
    return sorted(files), sorted(dirs)


def _folder_kind(folder: Path, look_inside: bool) -> tuple[SourceKind, Path] | None:
    files, dirs = _visible_entries(folder)
    if find_mnist_files(folder):
        return "mnist-folder", folder
    if TRAIN_FOLDER in dirs or TEST_FOLDER in dirs:
        return "tutorial", folder
    if is_image_folder(folder):
        return "images", folder
    if any(name.lower().endswith(".txt") for name in files):
        return "tutorial", folder
    if look_inside and len(dirs) == 1:
        return _folder_kind(folder / dirs[0], look_inside=False)
    return None


def detect_source(path: str | Path) -> tuple[SourceKind, Path]:
    """What kind of source ``path`` is, and the path its loader should be given (the inner folder if
    the data sits in a single wrapping folder). Raises ``DataError`` if it is none of them."""
    path = Path(path)
    check_source_path(path)
    if path.is_dir():
        found = _folder_kind(path, look_inside=True)
        if found is not None:
            return found
        files, dirs = _visible_entries(path)
        state = "is not a data set (it is empty)" if not files and not dirs else "is not a data set"
        raise DataError(f"{path}: {state}: {EXPECTED}")
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        return "tutorial", path
    if sniff_idx_magic(path) in (IMAGES_MAGIC, LABELS_MAGIC):
        return "mnist-file", path
    raise DataError(f"{path}: is not a data set: {EXPECTED}")


def open_data_source(path: str | Path, progress: Progress | None = None) -> Dataset:
    """Any supported digit source -> a ``Dataset`` of 32x32 binary digits. Raises ``DataError``, or
    ``LoadCancelled`` if ``progress(done, total)`` returns ``False`` (``done`` and ``total`` count
    samples; ``total`` may grow while the files are found)."""
    kind, where = detect_source(path)
    if kind == "tutorial":
        return load_dataset(where, progress)
    if kind == "mnist-folder":
        return load_mnist_folder(where, progress)
    if kind == "mnist-file":
        return load_mnist_file(where, progress)
    return load_image_folder(where, progress)


__all__ = ["SourceKind", "EXPECTED", "LoadCancelled", "Progress", "detect_source", "open_data_source",
           "export_source"]


def export_source(dataset: Dataset, folder: str | Path) -> None:
    """Write ``dataset`` in the tutorial's format: ``folder/trainingDigits`` (+ ``testDigits``), CRLF
    text files named by the samples' names. ``FileExistsError`` if a target folder is not empty."""
    export_dataset(dataset, folder)
