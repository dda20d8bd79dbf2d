"""Reading model files: ``load_model`` checks a ``.npz`` archive against the format and returns the network.

Every rule of ``model_file``'s docstring is checked here, in an order that keeps a damaged or hostile
file cheap to refuse: the first bytes (a ZIP, not a pickle or a lone ``.npy``), the archive's entries
(how many, encrypted, compression method, duplicates), then ``meta`` (``model_meta``), then each array's
header (dtype, shape, stored length) before its data, then its values (all finite). Every refusal is a
``ModelFileError`` naming the file and the problem. ``check_digit_model`` says whether a loaded network
fits the studio's digits (1024 inputs, 10 outputs). Writing is ``model_writer``'s job.
"""
from __future__ import annotations

import collections
import contextlib
import io
import math
import os
import re
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from studio.core.data import N_CLASSES, N_PIXELS
from studio.core.file_limits import FileRefused, check_regular_file, check_zip_member, shorten
from studio.core.model_file import MAX_ENTRIES, MAX_META_CHARS, NPY_MAGIC, ZIP_PREFIXES, ModelFileError, \
    describe_os_error, refuse
from studio.core.model_meta import check_meta, parse_meta, quote
from studio.core.network import Network


# Exceptions that NumPy's and zipfile's readers raise on damaged input. They are caught only around
# calls into those libraries (see ``_reading``), so a bug in this module still surfaces as itself.
# BadZipFile: broken archive structure or CRC; EOFError / OSError: data cut short or bad offsets;
# ValueError (UnicodeDecodeError among them): bad .npy headers, names, seek offsets; zlib.error:
# broken deflate data; NotImplementedError: an unknown compression method or ZIP version. KeyError and
# struct.error (a missing name, a short ZIP header) were not seen in fuzzing but zipfile can raise them.
_LIBRARY_READ_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, zlib.error, struct.error,
    NotImplementedError,
)

# NumPy parses a .npy header with ast.literal_eval, retrying through tokenize for Python 2 headers.
# On a damaged header those raise more than ValueError: TypeError ({[1]: 0}, unhashable key),
# SyntaxError and tokenize.TokenError from the retry, and MemoryError or RecursionError from the
# parser on deeply nested text (a few thousand characters suffice). Caught around that call only.
_HEADER_PARSE_ERRORS: tuple[type[BaseException], ...] = (
    TypeError, SyntaxError, tokenize.TokenError, MemoryError, RecursionError,
)


def load_model(path: str | os.PathLike[str]) -> tuple[Network, dict[str, Any]]:
    """Read the model file at ``path``: ``(network, info)``, with ``info`` ``{}`` when the file has none.

    Raises ``ModelFileError`` when the file is missing, unreadable, not a model file, damaged, or holds
    anything the format (module docstring) does not allow.
    """
    name = os.fspath(path)
    try:
        check_regular_file(name)  # a FIFO would block open() for good
        file = open(name, "rb")
    except FileRefused as error:
        raise ModelFileError(name, f"it {error}") from None
    except OSError as error:
        raise ModelFileError(name, describe_os_error(error, saving=False)) from error
    with file:
        return _load(file, name)


def load_model_bytes(data: bytes, name: str = "<bytes>") -> tuple[Network, dict[str, Any]]:
    """``load_model`` for a file's contents already in memory; ``name`` is used in error messages."""
    return _load(io.BytesIO(bytes(data)), name)


@contextlib.contextmanager
def _reading(name: str, what: str) -> Iterator[None]:
    """Turn the libraries' many exceptions for damaged data into one ModelFileError about ``what``."""
    try:
        yield
    except _LIBRARY_READ_ERRORS as error:
        detail = shorten(str(error) or type(error).__name__, 200)
        raise ModelFileError(name, f"{what} is damaged or truncated ({detail}); "
                                   "the file may have been cut short or altered") from error


def _load(file: IO[bytes], name: str) -> tuple[Network, dict[str, Any]]:
    """Check and read a model from the open binary ``file`` (see the module docstring for the rules)."""
    with _reading(name, "the file"):
        head = file.read(8)
        file.seek(0)
    if not head:
        refuse(name, "the file is empty")
    if not head.startswith(ZIP_PREFIXES):
        refuse(name, _what_it_is_instead(head))

    with _reading(name, "the archive"):
        loaded = np.load(file, allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):   # cannot happen after the PK check; be certain
        refuse(name, "it is not a .npz archive")
    with loaded as npz:
        return _read_npz(npz, name)


def _what_it_is_instead(head: bytes) -> str:
    """Why a file that does not start like a ZIP archive is refused, as specific as its first bytes allow."""
    if head.startswith(NPY_MAGIC):
        return "it is a single NumPy array (.npy), not a model archive (.npz) saved by Backprop Studio"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return ("it is a Python pickle, which is never loaded because unpickling can run arbitrary "
                "code; only .npz model files saved by Backprop Studio can be loaded")
    return "it is not a model file (a model file is a NumPy .npz archive saved by Backprop Studio)"


def _read_npz(npz: np.lib.npyio.NpzFile, name: str) -> tuple[Network, dict[str, Any]]:
    """The checks in order: entry names, meta, then every array's header, then its values."""
    with _reading(name, "the archive's list of entries"):
        entries = list(npz.files)
        infos = npz.zip.infolist()
    if len(infos) > MAX_ENTRIES:
        refuse(name, f"it lists {len(infos)} entries; a model file has at most {MAX_ENTRIES}")
    encrypted = [info.filename for info in infos if info.flag_bits & 0x1]
    if encrypted:
        refuse(name, f"entry {quote(encrypted[0])} is encrypted; model files are never encrypted")
    for info in infos:  # before any entry is opened: bzip2 and LZMA decompress in one go
        try:
            check_zip_member(info)
        except FileRefused as error:
            refuse(name, f"entry {quote(info.filename)} {error}")
    # Counter, not list.count: a hostile archive may list a hundred thousand entries.
    duplicates = sorted(e for e, n in collections.Counter(entries).items() if n > 1)
    if duplicates:
        refuse(name, f"it holds the array {quote(duplicates[0])} more than once")
    if "meta" not in entries:
        refuse(name, "it has no 'meta' entry, so it was not saved by Backprop Studio "
                      f"(it holds {_list_names(entries)})")

    meta = parse_meta(_read_meta(npz, name), name)
    sizes, activation, loss, info = check_meta(meta, name)

    num_layers = len(sizes) - 1
    expected = {"meta"} | {f"{p}{l}" for l in range(1, num_layers + 1) for p in ("W", "b")}
    missing = sorted(expected - set(entries), key=_natural_key)
    extra = sorted(set(entries) - expected, key=_natural_key)
    wanted = (", ".join(f"W{l}, b{l}" for l in range(1, num_layers + 1)) if num_layers <= 3
              else f"W1..W{num_layers}, b1..b{num_layers}")
    layout = f"sizes {list(sizes)} need {wanted} and meta"
    if missing:
        refuse(name, f"the array{'s' if len(missing) > 1 else ''} {_list_names(missing)} "
                      f"{'are' if len(missing) > 1 else 'is'} missing ({layout})")
    if extra:
        refuse(name, f"it holds unexpected array{'s' if len(extra) > 1 else ''} {_list_names(extra)} "
                      f"({layout}, nothing else)")

    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    for l in range(1, num_layers + 1):
        n_out, n_in = sizes[l], sizes[l - 1]
        weights.append(_read_parameters(npz, name, f"W{l}", (n_out, n_in), f"layer {l}'s weights"))
        biases.append(_read_parameters(npz, name, f"b{l}", (n_out,), f"layer {l}'s biases"))
    return Network(sizes, weights, biases, activation=activation, loss=loss), info


def _read_header(npz: np.lib.npyio.NpzFile, name: str, key: str) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """Shape and dtype from the ``.npy`` header of entry ``key``, without reading its data.

    Also refuses an entry whose stored length differs from header + shape x itemsize, so the data read
    afterwards is exactly what the header promises: a few damaged bytes cannot ask for gigabytes.
    """
    # np.load's NpzFile looks up the bare name first, then key + ".npy"; duplicates are refused already.
    with _reading(name, "the archive's list of entries"):
        member = key if key in npz.zip.namelist() else f"{key}.npy"
    header_readers = {(1, 0): np.lib.format.read_array_header_1_0,
                      (2, 0): np.lib.format.read_array_header_2_0}
    shape: tuple[int, ...] = ()
    dtype = np.dtype(np.float64)
    header_end = 0
    with _reading(name, f"the array {key!r}"):
        stored_length = npz.zip.getinfo(member).file_size
        with npz.zip.open(member) as stream:
            prefix = stream.read(len(NPY_MAGIC) + 2)     # magic, then major and minor version
            version = (prefix[-2], prefix[-1]) if len(prefix) == len(NPY_MAGIC) + 2 else None
            if prefix.startswith(NPY_MAGIC) and version in header_readers:
                try:
                    shape, _, dtype = header_readers[version](stream)
                except _HEADER_PARSE_ERRORS as error:
                    raise ModelFileError(name, f"the array {key!r} has a damaged header ("
                                               f"{type(error).__name__}); the file may have been "
                                               "altered") from error
                header_end = stream.tell()
    if not prefix.startswith(NPY_MAGIC) or version is None:
        refuse(name, f"the entry {key!r} is not a NumPy array")
    if version not in header_readers:
        refuse(name, f"the array {key!r} uses .npy format version {version[0]}.{version[1]}, which "
                      "model files do not use")
    if dtype.hasobject:
        refuse(name, f"the array {key!r} holds Python objects (pickled data), which are never loaded "
                      "because unpickling can run arbitrary code")
    if header_end + math.prod(shape) * dtype.itemsize != stored_length:
        refuse(name, f"the array {key!r} is truncated or padded: its header promises shape {shape} "
                      f"of {dtype}, which does not match the length stored in the archive")
    return shape, dtype


def _read_meta(npz: np.lib.npyio.NpzFile, name: str) -> str:
    """The JSON text in ``meta``, a 0-d unicode array, checked before its data is read."""
    shape, dtype = _read_header(npz, name, "meta")
    if dtype.kind != "U" or shape != ():
        refuse(name, f"'meta' must be a single text (a 0-d unicode array holding JSON), but it is an "
                      f"array of shape {shape} and dtype {dtype}")
    if dtype.itemsize // 4 > MAX_META_CHARS:
        refuse(name, f"'meta' is longer than the limit of {MAX_META_CHARS} characters")
    with _reading(name, "the array 'meta'"):
        meta = npz["meta"]
    return str(meta[()])


def _read_parameters(npz: np.lib.npyio.NpzFile, name: str, key: str, shape: tuple[int, ...],
                     what: str) -> np.ndarray:
    """Weights or biases ``key``: float64 of exactly ``shape``, all finite, in native byte order."""
    stored_shape, dtype = _read_header(npz, name, key)
    # Either byte order holds the same float64 numbers; anything else (float32, ints) would change them.
    if dtype.kind != "f" or dtype.itemsize != 8:
        refuse(name, f"the array {key!r} ({what}) has dtype {dtype}; model parameters must be float64")
    if stored_shape != shape:
        refuse(name, f"the array {key!r} ({what}) has shape {stored_shape}, but the sizes in meta "
                      f"need {shape}")
    with _reading(name, f"the array {key!r}"):
        array = npz[key]
    if not np.isfinite(array).all():
        refuse(name, f"the array {key!r} ({what}) holds NaN or infinite values; the network had "
                      "diverged when it was saved")
    return array.astype(np.float64, copy=False)



def check_digit_model(network: Network, name: str, inputs: int = N_PIXELS, outputs: int = N_CLASSES) -> None:
    """``ModelFileError`` naming the file ``name`` unless ``network`` takes ``inputs`` pixels and gives
    ``outputs`` outputs (the studio's digits: 1024 and 10). ``load_model`` reads any valid model; use
    this where the model must read digits (predict, evaluate, training on from it, the window)."""
    if network.sizes[0] != inputs:
        refuse(name, f"the model takes {network.sizes[0]} inputs, but the digits here have {inputs} pixels "
                      f"(32x32); it was made for other data")
    if network.sizes[-1] != outputs:
        refuse(name, f"the model has {network.sizes[-1]} outputs, but a digit model needs {outputs}, "
                      f"one per digit 0-9")



def _natural_key(entry: str) -> tuple[int, int, str]:
    """Messages list W1, b1, W2, b2, ... W10 in layer order, other names after them."""
    match = re.fullmatch(r"([Wb])([0-9]{1,9})", entry)
    return (0, int(match[2]), match[1]) if match else (1, 0, entry)



def _list_names(entries: list[str]) -> str:
    """Entry names for a message, at most ten of them."""
    if not entries:
        return "nothing"
    shown = ", ".join(quote(e) for e in entries[:10])
    return shown + (f" and {len(entries) - 10} more" if len(entries) > 10 else "")
