"""Folders of ordinary pictures of digits (PNG, JPEG, BMP, GIF, TIFF), one sub-folder per class.

Layouts: class folders ``0/`` .. ``9/`` directly in the folder (a train split only), or ``train/`` and
``test/`` (also spelt ``training/``, ``testing/``, as in the common ``mnist_png`` copies) each holding
class folders. Not every class needs a folder, but at least one picture must be found, and any other
visible folder beside the class folders is an error (a typo such as ``7 /`` must not silently drop a
class). Files with other suffixes (``Thumbs.db``, ``notes.txt``) and hidden files are ignored.

Each picture is decoded by Pillow to a grey NumPy array (transparent pixels are laid on a background
that contrasts with the ink) and then converted in NumPy by ``studio.core.convert``: ink from grey (the
border's median is the background, which also says dark-on-light or light-on-dark; contrast stretched),
deslant, crop to the ink, rescale to 32 px tall, threshold. Pictures of the same size are converted as
one batch. Samples are named ``LABEL_INDEX.txt``, INDEX counting from 0 in each class folder, in the
"natural" order of the file names (``2.png`` before ``10.png``).

A picture that cannot be decoded, or holds no ink (one flat colour), raises ``DataError`` naming it.

Hostile pictures: Pillow detects a format from the content, whatever the name, and would run Ghostscript
on PostScript named ``.png``; only PNG, JPEG, BMP, GIF and TIFF decoders are ever used (``FORMATS``). A
picture's size is read from its header and checked (at most ``MAX_PICTURE_PIXELS``) before it is
decoded: a 170 KB PNG can hold 144 Mpx (2.2 GB decoded). Pictures are converted as they are read, in
batches of at most ``BATCH_PIXELS`` source pixels, so 4,000 pictures cost their 4 MB of 32x32 results
plus one batch. ``load_image_folder`` takes a ``progress(done, total) -> bool`` hook (``LoadCancelled``).

Left out: zips of pictures, colour (only lightness counts), and cleaning up photos (shadows, specks).
Pillow is imported on first use, so importing this module costs nothing.
"""
from __future__ import annotations

import os
import re
import struct
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np

from studio.core.convert import fit_digits, has_ink, ink_from_grey, reduce_large
from studio.core.data import DataError, Dataset, Split
from studio.core.file_limits import Progress, report

#: The only decoders Pillow may use (by Pillow's format names): never EPS (Ghostscript) or the others.
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF")
#: Largest picture decoded, in pixels (a 12 Mpx phone photo; 4000 x 3000). A digit needs far fewer.
MAX_PICTURE_PIXELS = 12_000_000
#: Source pixels (after reduction) converted together: bounds the conversion's float32 temporaries.
BATCH_PIXELS = 2_000_000
#: What Pillow raises on damaged data besides OSError (it has no single error type); caught around its
#: calls only. EOFError, struct.error, IndexError and the like come from truncated headers and tables.
_PILLOW_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, KeyError, TypeError,
                  ZeroDivisionError)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff"})
TRAIN_NAMES = ("train", "training")
TEST_NAMES = ("test", "testing")
_CLASS_NAME = re.compile(r"[0-9]")  # ASCII only


def _visible(name: str) -> bool:
    return not name.startswith(".") and name != "__MACOSX"


def _listdir(folder: Path) -> tuple[list[str], list[str]]:
    """Visible (files, folders) directly in ``folder``, sorted; ``DataError`` if it cannot be listed."""
    files: list[str] = []
    dirs: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not _visible(entry.name):
                    continue
                if entry.is_dir():
                    dirs.append(entry.name)
                elif entry.is_file():
                    files.append(entry.name)
    except OSError as error:
        raise DataError(f"{folder}: cannot be read ({error.strerror or error})") from None
    return sorted(files), sorted(dirs)


def _natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """``"img10.png"`` sorts after ``"img2.png"``: digit runs compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() and part.isascii() else (1, part.lower())
                 for part in re.split(r"([0-9]+)", name) if part)


def _split_folders(folder: Path) -> dict[str, Path] | None:
    """``{"train": path, "test": path}`` for a train/test layout whose parts hold class folders."""
    _, dirs = _listdir(folder)
    lower = {name.lower(): name for name in dirs}
    found: dict[str, Path] = {}
    for part, names in (("train", TRAIN_NAMES), ("test", TEST_NAMES)):
        for name in names:
            if name in lower and is_class_folder_layout(folder / lower[name]):
                found[part] = folder / lower[name]
                break
    return found or None


def is_class_folder_layout(folder: str | Path) -> bool:
    """Whether ``folder`` directly holds at least one class folder ``0``..``9``."""
    try:
        _, dirs = _listdir(Path(folder))
    except DataError:
        return False
    return any(_CLASS_NAME.fullmatch(name) for name in dirs)


def is_image_folder(folder: str | Path) -> bool:
    """Whether ``folder`` looks like a picture data set: class folders, or train/test folders of them."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    try:
        return is_class_folder_layout(folder) or _split_folders(folder) is not None
    except DataError:
        return False


# --------------------------------------------------------------------------------------------------
# Decoding (the only place Pillow is used)
# --------------------------------------------------------------------------------------------------

def _pillow() -> ModuleType:
    try:
        from PIL import Image
    except ImportError:  # a broken install; Pillow is a declared dependency
        raise DataError("reading pictures needs the Pillow package, which is not installed") from None
    return Image


def decode_grey(path: str | Path) -> np.ndarray:
    """A picture file -> its lightness ``(h, w)`` float32 (any scale: 0-255, or 0-65535 for 16-bit).

    The first frame of an animation is used; EXIF rotation is applied. Transparent pixels are laid on
    white if the visible pixels are mostly dark, else on black, so a drawing on a transparent canvas
    keeps its ink. Raises ``DataError`` naming the file if Pillow cannot decode it.
    """
    Image = _pillow()
    from PIL import ImageOps
    path = Path(path)
    try:
        # A damaged file can make Pillow warn (e.g. "Tag data larger than file") and carry on: what it
        # decodes is judged like any other picture, and a warning is not an error to show the learner.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            with Image.open(path, formats=FORMATS) as picture:
                width, height = picture.size
                if width * height > MAX_PICTURE_PIXELS:
                    raise DataError(f"{path}: is {width}x{height} pixels, more than the {MAX_PICTURE_PIXELS:,} "
                                    f"pixels a digit picture may have; scale it down first")
                picture = ImageOps.exif_transpose(picture)
                picture.load()
                mode = picture.mode
                if mode in ("I", "F") or mode.startswith("I;16"):
                    return np.asarray(picture, dtype=np.float32)
                has_alpha = "A" in picture.getbands() or "transparency" in picture.info
                if not has_alpha:
                    return np.asarray(picture.convert("L"), dtype=np.float32)
                pair = np.asarray(picture.convert("RGBA").convert("LA"), dtype=np.float32)
    except (*_PILLOW_ERRORS, Image.DecompressionBombError) as error:
        # OSError covers UnidentifiedImageError (also for a format not in FORMATS) and "truncated".
        raise DataError(f"{path}: cannot be read as a picture of one of the formats "
                        f"{', '.join(FORMATS)} ({error or type(error).__name__})") from None
    grey, alpha = pair[..., 0], pair[..., 1] / 255
    visible = alpha.sum()
    ink_mean = float((grey * alpha).sum() / visible) if visible > 0 else 0.0
    background = 255.0 if ink_mean < 128 else 0.0
    return grey * alpha + background * (1 - alpha)


def picture_to_digit(path: str | Path) -> np.ndarray:
    """One picture file -> ``(1024,)`` uint8 of 0/1. Raises ``DataError`` (unreadable, or no ink)."""
    return _convert([Path(path)])[0]


def _convert(paths: list[Path], progress: Progress | None = None, done: int = 0,
             total: int | None = None) -> np.ndarray:
    """Picture files -> ``(n, 1024)`` uint8, converted as they are read: pictures of one size after
    reduction wait in a batch, and all batches are converted once they hold ``BATCH_PIXELS``."""
    out = np.empty((len(paths), 1024), dtype=np.uint8)
    total = len(paths) if total is None else total
    pending: dict[tuple[int, ...], list[tuple[int, np.ndarray]]] = {}
    pending_pixels = 0

    def flush() -> None:
        for batch in pending.values():
            out[[i for i, _ in batch]] = fit_digits(np.stack([ink for _, ink in batch]))
        pending.clear()

    for index, path in enumerate(paths):
        ink = reduce_large(ink_from_grey(decode_grey(path)))
        if not has_ink(ink):
            raise DataError(f"{path}: holds no digit (the picture is one flat colour, or too faint)")
        pending.setdefault(ink.shape, []).append((index, ink))
        pending_pixels += ink.size
        if pending_pixels >= BATCH_PIXELS:
            flush()
            pending_pixels = 0
        report(progress, done + index + 1, total)
    flush()
    return out


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------

def load_class_folders(folder: str | Path, progress: Progress | None = None) -> Split:
    """``folder/0/*.png`` .. ``folder/9/*.png`` -> a ``Split`` sorted by label, then natural file name.

    Raises ``DataError`` for a folder that is not a class folder, an unreadable picture, or no pictures;
    ``LoadCancelled`` if ``progress`` returns ``False``.
    """
    paths, labels, names = _list_pictures(Path(folder))
    return Split(_convert(paths, progress), np.asarray(labels, dtype=np.int64), tuple(names))


def _list_pictures(folder: Path) -> tuple[list[Path], list[int], list[str]]:
    """The pictures of a class-folder layout: paths, labels and sample names, in load order."""
    _, dirs = _listdir(folder)
    strays = [name for name in dirs if not _CLASS_NAME.fullmatch(name)]
    if strays:
        raise DataError(f"{folder}: holds the folder {strays[0]!r}, which is not a class folder; "
                        f"expected only folders named 0 to 9, one per digit")
    paths: list[Path] = []
    labels: list[int] = []
    names: list[str] = []
    for name in dirs:
        label = int(name)
        files, _ = _listdir(folder / name)
        pictures = sorted((f for f in files if os.path.splitext(f)[1].lower() in IMAGE_SUFFIXES),
                          key=_natural_key)
        for index, picture in enumerate(pictures):
            paths.append(folder / name / picture)
            labels.append(label)
            names.append(f"{label}_{index}.txt")
    if not paths:
        raise DataError(f"{folder}: holds no pictures; expected PNG, JPEG, BMP, GIF or TIFF files in "
                        f"class folders 0 to 9")
    return paths, labels, names


def _load_parts(parts: list[Path], progress: Progress | None) -> list[Split]:
    """Each class-folder layout in ``parts`` as a ``Split``; progress counts over all of them."""
    listed = [_list_pictures(part) for part in parts]
    total = sum(len(paths) for paths, _, _ in listed)
    splits: list[Split] = []
    done = 0
    for paths, labels, names in listed:
        images = _convert(paths, progress, done, total)
        splits.append(Split(images, np.asarray(labels, dtype=np.int64), tuple(names)))
        done += len(paths)
    return splits


def load_image_folder(folder: str | Path, progress: Progress | None = None) -> Dataset:
    """A picture data set -> ``Dataset``: class folders (train only), or ``train/``/``test/`` folders of
    class folders (``training/``/``testing/`` too). Raises ``DataError``; ``LoadCancelled`` if
    ``progress`` returns ``False``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: is not a folder")
    resolved = folder.resolve()
    parts = None if is_class_folder_layout(folder) else _split_folders(folder)
    if parts is None:
        return Dataset(resolved.name, str(resolved), load_class_folders(folder, progress), None)
    if "train" not in parts:
        raise DataError(f"{folder}: has {parts['test'].name}/ but no train/ (or training/) folder of "
                        f"class folders")
    train, *test = _load_parts([parts["train"], *([parts["test"]] if "test" in parts else [])], progress)
    return Dataset(resolved.name, str(resolved), train, test[0] if test else None)
