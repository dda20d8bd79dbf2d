"""MNIST in its original IDX format, turned into the tutorial's 32x32 binary digits.

An MNIST set is two files: images (magic 2051: ``00 00 08 03``, then the count, rows and columns as
big-endian uint32, then ``n * 28 * 28`` uint8 pixels, 0 = paper, 255 = full ink) and labels (magic 2049:
``00 00 08 01``, the count, then ``n`` uint8 labels 0..9). Either may be gzip-compressed (``.gz``; the
gzip magic is what decides, not the name). The standard names are ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (a ``.`` for the
last ``-``, as in some copies, is accepted too).

The grey 28x28 images become 32x32 binary ones by ``convert.fit_digits`` with ink = pixel / 255:
deslant, crop to the ink's bounding box (pixels >= 128), rescale to 32 px tall and at most 22 px wide,
centred, threshold at 0.3 (see ``studio.core.convert`` for the maths and why).

Samples are named ``LABEL_INDEX.txt``, INDEX the image's 0-based position in the file, and kept in the
file's order. In a folder, ``train-*`` files become the train split and ``t10k-*`` the test split. A
folder with only the ``t10k-*`` pair trains on it and has no test split: the studio never invents a
split, and training needs a train split (the data set's name says "t10k only").

Every problem in a file raises ``DataError`` naming the file: not gzip-compressed properly, truncated,
a wrong magic number (including an images file given for labels and the reverse), images not 28x28,
a count that does not match the other file's, a label above 9, or bytes left over after the data.

Hostile files: only regular files are opened (a FIFO is refused at once); a raw file must be as long as
its header says before anything is allocated; a gzip file may not claim more than ``MAX_GZIP_RATIO``
times its own size (real MNIST files compress about 5 to 1; a file of a million blank images 500 to 1),
and never more than ``MAX_IMAGES`` images. Images are read and converted ``convert.CHUNK`` at a time,
so memory holds the 32x32 result (1 KB per image) and one chunk, never the whole file.

Left out: EMNIST/Fashion-MNIST names and orientations, and writing IDX files.
"""
from __future__ import annotations

import gzip
import os
import re
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from studio.core.convert import CHUNK, fit_digits
from studio.core.data import DataError, Dataset, Split
from studio.core.digit_folders import check_source_path
from studio.core.file_limits import Progress, report

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
MNIST_SIDE = 28
#: Refuse headers that claim more images than this (MNIST has 70,000; EMNIST's largest set 280,000): a
#: damaged count must not make us read gigabytes. 300,000 converted images take 300 MB.
MAX_IMAGES = 300_000
#: Most a gzip file may expand, relative to its own size, before it is refused as a decompression bomb.
MAX_GZIP_RATIO = 100
_HEADER_BYTES = {IMAGES_MAGIC: 16, LABELS_MAGIC: 8}
_READ_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"

#: ``train-images-idx3-ubyte.gz`` -> ("train", "images", ".gz"); also ``train-images.idx3-ubyte``.
_STANDARD_NAME = re.compile(r"(train|t10k)-(images|labels)[.-]idx([13])-ubyte(\.gz)?", re.IGNORECASE)
_KIND_DIMS = {"images": "3", "labels": "1"}


# --------------------------------------------------------------------------------------------------
# Reading one IDX file
# --------------------------------------------------------------------------------------------------

def _open(path: Path) -> BinaryIO:
    """``path`` opened for reading, through gzip if it starts with the gzip magic."""
    if os.path.isdir(path):
        raise DataError(f"{path}: is a folder; expected an MNIST file")
    check_source_path(path)  # a FIFO or a device is refused before open() could block on it
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
        # gzip.open, not GzipFile(fileobj=...): closing the latter leaves the underlying file open.
        return gzip.open(path, "rb") if compressed else open(path, "rb")  # type: ignore[return-value]
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None


def _read_exactly(stream: BinaryIO, size: int, path: Path, what: str) -> bytes:
    """Exactly ``size`` bytes of ``stream``; ``DataError`` if it ends sooner.

    Read in chunks, never ``read(size)`` at once: ``size`` comes from a header that may be damaged,
    and a buffered read allocates the size it is asked for before reading anything."""
    parts: list[bytes] = []
    got = 0
    try:
        while got < size:
            part = stream.read(min(_READ_CHUNK, size - got))
            if not part:
                break
            parts.append(part)
            got += len(part)
    except EOFError:  # gzip: the compressed stream stops before its end marker
        raise DataError(f"{path}: is truncated (the gzip data stops before its end); "
                        f"expected {what}") from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DataError(f"{path}: is a damaged gzip file ({error})") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if got < size:
        raise DataError(f"{path}: is truncated: expected {what} ({size} bytes), found {got} bytes")
    return b"".join(parts)


def _check_end(stream: BinaryIO, path: Path, what: str) -> None:
    """``DataError`` if anything follows the data (a wrong count in the header, or a different file)."""
    try:
        extra = stream.read(1)
    except EOFError:
        raise DataError(f"{path}: is truncated (the gzip data stops before its end)") from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DataError(f"{path}: is a damaged gzip file ({error})") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if extra:
        raise DataError(f"{path}: has bytes left over after {what}; the count in its header is wrong")


def _header(stream: BinaryIO, path: Path, magic: int, words: int, kind: str) -> list[int]:
    """Check the magic number and return the ``words`` big-endian uint32 after it."""
    # The magic number first, so a short file of the other kind is named as such, not as truncated.
    found = int.from_bytes(_read_exactly(stream, 4, path, f"an MNIST {kind} file"), "big")
    if found != magic:
        other = {IMAGES_MAGIC: "an MNIST images file", LABELS_MAGIC: "an MNIST labels file"}.get(found)
        what = f"it is {other}" if other else f"found {found} (0x{found:08x})"
        raise DataError(f"{path}: wrong magic number for an MNIST {kind} file: expected {magic}; {what}")
    head = _read_exactly(stream, 4 * words, path, f"an MNIST {kind} header")
    return [int.from_bytes(head[4 * i:4 * i + 4], "big") for i in range(words)]


def _check_declared(stream: BinaryIO, path: Path, magic: int, payload: int, what: str) -> None:
    """Refuse a header whose ``payload`` (bytes after the header) the file cannot hold, before any of
    it is allocated: a raw file shorter than that is truncated; a gzip file cannot expand more than
    ``MAX_GZIP_RATIO`` times its own size."""
    stored = os.stat(path).st_size
    if isinstance(stream, gzip.GzipFile):
        if payload > MAX_GZIP_RATIO * stored + 1_000_000:
            raise DataError(f"{path}: its header says {what} ({payload} bytes), but the compressed file "
                            f"has only {stored} bytes, more than {MAX_GZIP_RATIO} times smaller than any "
                            f"real MNIST file; refused as a possible decompression bomb")
    elif _HEADER_BYTES[magic] + payload > stored:
        raise DataError(f"{path}: is truncated: expected {what} ({payload} bytes), found "
                        f"{max(stored - _HEADER_BYTES[magic], 0)} bytes")


def _images_header(stream: BinaryIO, path: Path) -> int:
    """Check an images file's header; its image count."""
    count, rows, cols = _header(stream, path, IMAGES_MAGIC, 3, "images")
    if (rows, cols) != (MNIST_SIDE, MNIST_SIDE):
        raise DataError(f"{path}: holds {rows}x{cols} images; expected MNIST's "
                        f"{MNIST_SIDE}x{MNIST_SIDE}")
    if not 0 < count <= MAX_IMAGES:
        raise DataError(f"{path}: its header says {count} images; expected 1 to {MAX_IMAGES}")
    _check_declared(stream, path, IMAGES_MAGIC, count * rows * cols, f"{count} images of {rows}x{cols} pixels")
    return count


def read_idx_images(path: str | Path) -> np.ndarray:
    """An MNIST images file (raw or gzip) -> ``(n, 28, 28)`` uint8, 0 = paper, 255 = full ink."""
    path = Path(path)
    with _open(path) as stream:
        count = _images_header(stream, path)
        what = f"{count} images of {MNIST_SIDE}x{MNIST_SIDE} pixels"
        pixels = _read_exactly(stream, count * MNIST_SIDE * MNIST_SIDE, path, what)
        _check_end(stream, path, what)
    return np.frombuffer(pixels, dtype=np.uint8).reshape(count, MNIST_SIDE, MNIST_SIDE)


def read_idx_labels(path: str | Path) -> np.ndarray:
    """An MNIST labels file (raw or gzip) -> ``(n,)`` int64 in 0..9."""
    path = Path(path)
    with _open(path) as stream:
        (count,) = _header(stream, path, LABELS_MAGIC, 1, "labels")
        if not 0 < count <= MAX_IMAGES:
            raise DataError(f"{path}: its header says {count} labels; expected 1 to {MAX_IMAGES}")
        what = f"{count} labels"
        _check_declared(stream, path, LABELS_MAGIC, count, what)
        data = _read_exactly(stream, count, path, what)
        _check_end(stream, path, what)
    labels = np.frombuffer(data, dtype=np.uint8)
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise DataError(f"{path}: label {int(labels[bad[0]])} at index {int(bad[0])} is out of range; "
                        f"expected 0 to 9" + (f" ({bad.size} such labels)" if bad.size > 1 else ""))
    return labels.astype(np.int64)


# --------------------------------------------------------------------------------------------------
# Conversion and loading
# --------------------------------------------------------------------------------------------------

def convert_mnist_images(images: np.ndarray) -> np.ndarray:
    """MNIST images ``(n, 28, 28)`` uint8 (255 = ink) -> ``(n, 1024)`` uint8 of 0/1, the tutorial's
    32x32 format: ``convert.fit_digits(images / 255)``."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"MNIST images must be an (n, h, w) uint8 array, got {images.shape} {images.dtype}")
    out = np.empty((len(images), 32 * 32), dtype=np.uint8)
    for start in range(0, len(images), CHUNK):  # float32 a chunk at a time: 4 bytes a pixel adds up
        out[start:start + CHUNK] = fit_digits(images[start:start + CHUNK].astype(np.float32) * np.float32(1 / 255))
    return out


def load_mnist(images_path: str | Path, labels_path: str | Path, name: str | None = None,
               progress: Progress | None = None, done: int = 0, total: int | None = None) -> Split:
    """An MNIST images file and its labels file -> a ``Split`` of 32x32 binary digits in file order,
    named ``LABEL_INDEX.txt``. ``name`` is what the count-mismatch message calls the pair (default:
    the images file's name). Raises ``DataError``; ``LoadCancelled`` if ``progress(done + converted,
    total)`` returns ``False`` (``total`` defaults to this pair's count).

    The labels are read first (small); the images are then read and converted a chunk at a time."""
    images_path, labels_path = Path(images_path), Path(labels_path)
    labels = read_idx_labels(labels_path)
    with _open(images_path) as stream:
        count = _images_header(stream, images_path)
        if count != len(labels):
            raise DataError(f"{name or images_path.name}: {images_path} holds {count} images but "
                            f"{labels_path} holds {len(labels)} labels; they must pair up one to one")
        out = np.empty((count, 32 * 32), dtype=np.uint8)
        size = MNIST_SIDE * MNIST_SIDE
        total = total if total is not None else count
        for start in range(0, count, CHUNK):
            n = min(CHUNK, count - start)
            what = f"{count} images of {MNIST_SIDE}x{MNIST_SIDE} pixels"
            pixels = _read_exactly(stream, n * size, images_path, what)
            chunk = np.frombuffer(pixels, dtype=np.uint8).reshape(n, MNIST_SIDE, MNIST_SIDE)
            out[start:start + n] = convert_mnist_images(chunk)
            report(progress, done + start + n, total)
        _check_end(stream, images_path, f"{count} images of {MNIST_SIDE}x{MNIST_SIDE} pixels")
    names = tuple(f"{label}_{index}.txt" for index, label in enumerate(labels.tolist()))
    return Split(out, labels, names)


def _declared_count(path: Path) -> int:
    """The image count an images file's header declares (0 if it cannot be read), for progress."""
    try:
        with _open(path) as stream:
            head = stream.read(8)
    except (DataError, OSError, EOFError, zlib.error):
        return 0
    return int.from_bytes(head[4:8], "big") if len(head) == 8 else 0


# --------------------------------------------------------------------------------------------------
# Finding the files
# --------------------------------------------------------------------------------------------------

def find_mnist_files(folder: str | Path) -> dict[str, dict[str, Path]]:
    """The standard MNIST files directly in ``folder``: ``{"train": {"images": p, "labels": p}, "t10k":
    {...}}`` with only what is present (``{}`` if none). An uncompressed copy wins over a ``.gz`` one."""
    found: dict[str, dict[str, Path]] = {}
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:
        return {}
    for entry in entries:
        match = _STANDARD_NAME.fullmatch(entry.name)
        if match is None or not entry.is_file():
            continue
        part, kind, dims, gz = match[1].lower(), match[2].lower(), match[3], match[4]
        if dims != _KIND_DIMS[kind]:
            continue
        current = found.setdefault(part, {}).get(kind)
        if current is None or (current.suffix.lower() == ".gz" and not gz):
            found[part][kind] = entry
    return found


def _pair(folder: Path, part: str, files: dict[str, Path]) -> tuple[Path, Path]:
    if "images" not in files:
        raise DataError(f"{folder}: has {files['labels'].name} but no {part}-images-idx3-ubyte[.gz]")
    if "labels" not in files:
        raise DataError(f"{folder}: has {files['images'].name} but no {part}-labels-idx1-ubyte[.gz]")
    return files["images"], files["labels"]


def load_mnist_folder(folder: str | Path, progress: Progress | None = None) -> Dataset:
    """A folder with the standard MNIST files -> ``Dataset``: train from ``train-*``, test from
    ``t10k-*``; with only ``t10k-*``, train from them and no test split. Raises ``DataError``;
    ``LoadCancelled`` if ``progress`` returns ``False``."""
    folder = Path(folder)
    found = find_mnist_files(folder)
    if not found:
        raise DataError(f"{folder}: holds no MNIST files; expected train-images-idx3-ubyte[.gz] and "
                        f"train-labels-idx1-ubyte[.gz], and/or t10k-images-idx3-ubyte[.gz] and "
                        f"t10k-labels-idx1-ubyte[.gz]")
    pairs = {part: _pair(folder, part, files) for part, files in found.items()}
    resolved = folder.resolve()
    total = sum(min(_declared_count(images), MAX_IMAGES) for images, _ in pairs.values())
    if "train" in pairs:
        train = load_mnist(*pairs["train"], name="train", progress=progress, total=total)
        test = (load_mnist(*pairs["t10k"], name="t10k", progress=progress, done=len(train), total=total)
                if "t10k" in pairs else None)
        return Dataset(resolved.name, str(resolved), train, test)
    return Dataset(f"{resolved.name} (t10k only)", str(resolved),
                   load_mnist(*pairs["t10k"], name="t10k", progress=progress, total=total), None)


def sniff_idx_magic(path: str | Path) -> int | None:
    """The IDX magic number of ``path`` (through gzip if compressed), or ``None`` if it cannot be read
    or is too short. Reads a few bytes only."""
    try:
        with _open(Path(path)) as stream:
            head = stream.read(4)
    except (DataError, OSError, EOFError, zlib.error):
        return None
    return int.from_bytes(head, "big") if len(head) == 4 else None


def _partner_names(name: str, kind: str) -> list[str]:
    """Names the partner of an MNIST file called ``name`` may have (``kind`` is ``name``'s kind)."""
    other, dims, other_dims = ("labels", "idx3", "idx1") if kind == "images" else ("images", "idx1", "idx3")
    base = re.sub(kind, other, name, flags=re.IGNORECASE)
    base = re.sub(dims, other_dims, base, flags=re.IGNORECASE)
    stem = base[:-3] if base.lower().endswith(".gz") else base
    return [base, stem, stem + ".gz"]


def load_mnist_file(path: str | Path, progress: Progress | None = None) -> Dataset:
    """One MNIST images (or labels) file with its partner beside it -> a ``Dataset`` with a train split
    only. The partner is found by swapping ``images``/``labels`` and ``idx3``/``idx1`` in the name, with
    or without ``.gz``. Raises ``DataError``."""
    path = Path(path)
    magic = sniff_idx_magic(path)
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise DataError(f"{path}: is not an MNIST images or labels file (no IDX magic number 2051/2049)")
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    partner = next((path.with_name(candidate) for candidate in _partner_names(path.name, kind)
                    if candidate != path.name and path.with_name(candidate).is_file()), None)
    if partner is None:
        wanted = "labels (…-labels-idx1-ubyte[.gz])" if kind == "images" else "images (…-images-idx3-ubyte[.gz])"
        raise DataError(f"{path}: is an MNIST {kind} file, but its {wanted} file is not beside it")
    images_path, labels_path = (path, partner) if kind == "images" else (partner, path)
    stem = re.split(r"[-.]", images_path.name, maxsplit=1)[0]
    return Dataset(stem or images_path.name, str(images_path.resolve()),
                   load_mnist(images_path, labels_path, progress=progress), None)
