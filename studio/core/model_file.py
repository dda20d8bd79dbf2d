"""Saving and loading trained networks as model files: a NumPy ``.npz`` archive with a JSON header.

This module writes and reads files and checks them. It does not train, draw or decide file names: the
caller chooses the path (nothing such as ``.npz`` is added to it) and shows ``ModelFileError`` messages
to the user.

The model file format, version 1
--------------------------------
A model file is a ZIP archive in NumPy's ``.npz`` layout: every entry is one ``.npy`` array. For a
network with ``sizes = (n0, n1, ..., nL)`` (units per layer, input first) it holds exactly these
``2 L + 1`` entries and no others:

========  ==============  ===========================================================================
entry     dtype           shape and meaning
========  ==============  ===========================================================================
``W1``    float64         ``(n1, n0)``: weights of layer 1, rows are output units (``z = W a + b``)
``b1``    float64         ``(n1,)``: biases of layer 1
...       ...             ...
``WL``    float64         ``(nL, nL-1)``
``bL``    float64         ``(nL,)``
``meta``  unicode, 0-d    one JSON text (``np.array(json_text)``), an object with the fields below
========  ==============  ===========================================================================

Fields of ``meta`` (all required unless said otherwise; other fields are ignored):

- ``format`` (string): always ``"backprop-studio-model"``.
- ``version`` (integer): ``1``. A later, incompatible layout gets a new number and this reader refuses it.
- ``sizes`` (list of integers >= 1, at least two): units per layer, input first; must agree with the
  shapes of ``W1..WL`` and ``b1..bL``.
- ``activation`` (string): the hidden layers' function, ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
- ``output`` (string): the output layer's function, ``"sigmoid"`` or ``"softmax"``. It is fixed by the
  loss and stored so the file reads on its own: ``"sigmoid"`` with ``"sse"``, ``"softmax"`` with ``"ce"``.
- ``loss`` (string): ``"sse"`` (squared error) or ``"ce"`` (cross-entropy).
- ``info`` (object, optional): free-form JSON details of how the network was trained (settings,
  epochs run, accuracy). The app shows it and restores its settings from it; this module only checks
  that it is a JSON object.

Arrays are stored uncompressed (float weights hardly compress) and never pickled. All values must be
finite. A reader accepts float64 in either byte order, Fortran-order arrays and deflated entries, since
those hold the same numbers; it refuses everything else with a ``ModelFileError``.

Example ``meta``::

    {"format": "backprop-studio-model", "version": 1, "sizes": [1024, 16, 16, 10],
     "activation": "sigmoid", "output": "sigmoid", "loss": "sse",
     "info": {"epochs": 725, "train_accuracy": 0.987}}

Safety: files are saved atomically (a temporary file in the same folder, flushed and fsynced, then
renamed over the target), so a failed save leaves any earlier file intact. Files are read with
``np.load(..., allow_pickle=False)``, so loading a file can never run code, and every array header is
checked before its data is read, so a damaged or hostile file cannot make the app allocate huge memory.
Only regular files are opened (a FIFO or device is refused before ``open`` could block); entries must
be stored or deflated (``zipfile`` decompresses bzip2 and LZMA in one go, however large); ``meta`` may
list at most ``MAX_LAYERS`` sizes and hold at most ``MAX_META_CHARS`` characters; messages quote at most
a few hundred characters of any value. ``check_digit_model`` says whether a loaded network fits the
studio's digits (1024 inputs, 10 outputs), naming the file if not.

A save killed at the wrong moment (``kill -9``, a power cut) leaves its hidden temporary file behind;
the next save into the same folder removes such leftovers of our own (our exact name pattern, a ZIP or
empty, untouched for ``file_limits.STALE_TEMPORARY_SECONDS``).
"""
from __future__ import annotations

import collections
import contextlib
import errno
import io
import json
import math
import os
import re
import secrets
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NoReturn

import numpy as np

from studio.core.data import N_CLASSES, N_PIXELS
from studio.core.file_limits import FileRefused, check_regular_file, check_zip_member, remove_stale_temporaries, \
    shorten
from studio.core.network import ACTIVATIONS, LOSSES, OUTPUT_FOR_LOSS, Network

FORMAT = "backprop-studio-model"
VERSION = 1

#: Output functions a file may name (the values of ``OUTPUT_FOR_LOSS``).
OUTPUTS: tuple[str, ...] = tuple(sorted(set(OUTPUT_FOR_LOSS.values())))

#: The fields every ``meta`` must have, in the order they are checked and reported.
REQUIRED_META_FIELDS: tuple[str, ...] = ("format", "version", "sizes", "activation", "output", "loss")

#: Largest model this reader will load, in parameters (weights + biases): about 200 MB of float64.
#: The studio's networks have a few hundred thousand; the limit exists so that a damaged or hostile
#: file cannot make the app allocate more than a few hundred MB before noticing the data is not there.
MAX_PARAMETERS = 25_000_000

#: Most layers (sizes) a model may list: refused before the sizes are looked at one by one.
MAX_LAYERS = 64

#: Longest ``meta`` JSON text this reader will load, in characters (NumPy stores 4 bytes each): 4 MB.
MAX_META_CHARS = 1_000_000

#: Most entries a model archive may list (a model of ``MAX_LAYERS`` sizes has 127).
MAX_ENTRIES = 1_000


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

_NPY_MAGIC = b"\x93NUMPY"

# A ZIP archive starts with a local file header ("PK\3\4"); an empty one with the end record only.
_ZIP_PREFIXES = (b"PK\x03\x04", b"PK\x05\x06")

# A fixed timestamp makes the same network and info always produce the same bytes (reproducible,
# diffable files); the file system's own modification time still says when it was saved.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)


class ModelFileError(Exception):
    """A model file cannot be loaded or saved. The message names the file and the problem.

    ``path`` is the file as given by the caller and ``problem`` the reason alone, for a status bar.
    """

    def __init__(self, path: str, problem: str, *, saving: bool = False) -> None:
        what = "save the model to" if saving else "load the model file"
        problem = shorten(problem, 600)
        super().__init__(f'Cannot {what} "{shorten(path, 500)}": {problem}')
        self.path = path
        self.problem = problem


# --------------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------------

def save_model(path: str | os.PathLike[str], network: Network, info: dict[str, Any] | None = None) -> None:
    """Write ``network`` (and the optional JSON-able ``info``) to the model file ``path``, atomically.

    The file is written exactly at ``path`` (no extension is added). Either the whole new file is in
    place when this returns, or the earlier file at ``path`` (if any) is untouched and no temporary file
    is left behind.

    Raises ``ModelFileError`` for problems a user can act on: the network holds NaN or inf (it diverged),
    the folder does not exist or cannot be written, the disk is full. Raises ``ValueError`` if ``info``
    is not JSON (a programming error: keys must be strings, values dicts, lists, tuples, strings,
    finite numbers, booleans or None; NumPy scalars are stored as plain numbers, tuples come back as lists).
    """
    name = os.fspath(path)
    bad_layer = network.first_non_finite_layer()
    if bad_layer is not None:
        raise ModelFileError(name, f"layer {bad_layer} of the network holds NaN or infinite values (the "
                                   "training diverged); lower the learning rate and train again, or "
                                   "save an earlier snapshot", saving=True)
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "sizes": [int(s) for s in network.sizes],
        "activation": network.activation,
        "output": network.output,
        "loss": network.loss,
    }
    if info is not None:
        if not isinstance(info, dict):
            raise ValueError(f"info must be a dict, got {type(info).__name__}")
        meta["info"] = _json_ready(info, "info")
    # allow_nan=False: NaN is not JSON, and _json_ready has already refused it with a better message.
    meta_text = json.dumps(meta, ensure_ascii=False, allow_nan=False)

    arrays: dict[str, np.ndarray] = {}
    for l, (w, b) in enumerate(zip(network.weights, network.biases), start=1):
        arrays[f"W{l}"] = np.ascontiguousarray(w, dtype=np.float64)
        arrays[f"b{l}"] = np.ascontiguousarray(b, dtype=np.float64)
    arrays["meta"] = np.array(meta_text, dtype=np.str_)

    try:
        _write_atomically(Path(name), arrays)
    except OSError as error:
        raise ModelFileError(name, _describe_os_error(error, saving=True), saving=True) from error


def _json_ready(value: Any, where: str) -> Any:
    """``value`` as plain JSON types, or ValueError naming where in ``info`` the offending value is.

    Checked up front because ``json.dumps`` would silently turn int keys into strings (so the info
    read back would differ) and its errors do not say where the bad value sits.
    """
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        value = value.item()                          # NumPy scalars become bool / int / float
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)                             # int subclasses (IntEnum) as plain numbers
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value}, which JSON cannot store; use None instead")
        return float(value)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} has the key {key!r}; JSON object keys must be strings")
            out[key] = _json_ready(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_json_ready(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise ValueError(f"{where} is a {type(value).__name__}, which is not JSON "
                     "(use dicts, lists, strings, numbers, booleans or None)")


def _write_atomically(target: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an .npz to a temporary file beside ``target``, then rename it over ``target``.

    The temporary file sits in the same folder because ``os.replace`` is atomic only within one file
    system. Any exception removes it and is re-raised; ``target`` is changed only by the final rename.
    """
    remove_stale_temporaries(target.parent, _ZIP_PREFIXES[0])
    temp, file = _open_temp_file(target)
    try:
        with file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())               # the bytes are on disk before the rename makes them live
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(target.parent)


def _open_temp_file(target: Path) -> tuple[Path, IO[bytes]]:
    """A new temporary file next to ``target``, open for binary writing, and its path.

    Hidden (leading dot) so file dialogs do not offer it. Created with mode 0o666 so the umask gives
    the saved model the same permissions as any other file the user makes (mkstemp would give 0o600).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
        return temp, os.fdopen(fd, "wb")
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(target))


def _write_npz(file: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to the open binary ``file`` in the ``.npz`` layout, each as ``<name>.npy``.

    This is what ``np.savez`` does, written out so that ``allow_pickle=False`` is explicit: numpy < 2.1
    has no such argument to ``savez`` and would silently store it as an array named ``allow_pickle``.
    """
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, array in arrays.items():
            entry = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE_TIME)
            entry.external_attr = 0o644 << 16      # sane permissions if someone unzips the file
            # force_zip64: the entry's size is not known before it is written (as in np.savez).
            with archive.open(entry, mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable on POSIX. Best effort: the save has already succeeded."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _describe_os_error(error: OSError, *, saving: bool) -> str:
    """The reason of an OSError in words a user can act on."""
    if isinstance(error, FileNotFoundError):
        return "its folder does not exist" if saving else "there is no such file"
    if isinstance(error, IsADirectoryError):
        return "it is a folder, not a file"
    if isinstance(error, PermissionError):
        return "permission denied; choose a file and folder you are allowed to use"
    if error.errno == errno.ENOSPC:
        return "the disk is full"
    return error.strerror or str(error)


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------

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
        raise ModelFileError(name, _describe_os_error(error, saving=False)) from error
    with file:
        return _load(file, name)


def load_model_bytes(data: bytes, name: str = "<bytes>") -> tuple[Network, dict[str, Any]]:
    """``load_model`` for a file's contents already in memory; ``name`` is used in error messages."""
    return _load(io.BytesIO(bytes(data)), name)


def _refuse(name: str, problem: str) -> NoReturn:
    """Stop loading ``name`` because of ``problem`` (a phrase a user can act on)."""
    raise ModelFileError(name, problem)


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
        _refuse(name, "the file is empty")
    if not head.startswith(_ZIP_PREFIXES):
        _refuse(name, _what_it_is_instead(head))

    with _reading(name, "the archive"):
        loaded = np.load(file, allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):   # cannot happen after the PK check; be certain
        _refuse(name, "it is not a .npz archive")
    with loaded as npz:
        return _read_npz(npz, name)


def _what_it_is_instead(head: bytes) -> str:
    """Why a file that does not start like a ZIP archive is refused, as specific as its first bytes allow."""
    if head.startswith(_NPY_MAGIC):
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
        _refuse(name, f"it lists {len(infos)} entries; a model file has at most {MAX_ENTRIES}")
    encrypted = [info.filename for info in infos if info.flag_bits & 0x1]
    if encrypted:
        _refuse(name, f"entry {_quote(encrypted[0])} is encrypted; model files are never encrypted")
    for info in infos:  # before any entry is opened: bzip2 and LZMA decompress in one go
        try:
            check_zip_member(info)
        except FileRefused as error:
            _refuse(name, f"entry {_quote(info.filename)} {error}")
    # Counter, not list.count: a hostile archive may list a hundred thousand entries.
    duplicates = sorted(e for e, n in collections.Counter(entries).items() if n > 1)
    if duplicates:
        _refuse(name, f"it holds the array {_quote(duplicates[0])} more than once")
    if "meta" not in entries:
        _refuse(name, "it has no 'meta' entry, so it was not saved by Backprop Studio "
                      f"(it holds {_list_names(entries)})")

    meta = _parse_meta(_read_meta(npz, name), name)
    sizes, activation, loss, info = _check_meta(meta, name)

    num_layers = len(sizes) - 1
    expected = {"meta"} | {f"{p}{l}" for l in range(1, num_layers + 1) for p in ("W", "b")}
    missing = sorted(expected - set(entries), key=_natural_key)
    extra = sorted(set(entries) - expected, key=_natural_key)
    wanted = (", ".join(f"W{l}, b{l}" for l in range(1, num_layers + 1)) if num_layers <= 3
              else f"W1..W{num_layers}, b1..b{num_layers}")
    layout = f"sizes {list(sizes)} need {wanted} and meta"
    if missing:
        _refuse(name, f"the array{'s' if len(missing) > 1 else ''} {_list_names(missing)} "
                      f"{'are' if len(missing) > 1 else 'is'} missing ({layout})")
    if extra:
        _refuse(name, f"it holds unexpected array{'s' if len(extra) > 1 else ''} {_list_names(extra)} "
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
            prefix = stream.read(len(_NPY_MAGIC) + 2)     # magic, then major and minor version
            version = (prefix[-2], prefix[-1]) if len(prefix) == len(_NPY_MAGIC) + 2 else None
            if prefix.startswith(_NPY_MAGIC) and version in header_readers:
                try:
                    shape, _, dtype = header_readers[version](stream)
                except _HEADER_PARSE_ERRORS as error:
                    raise ModelFileError(name, f"the array {key!r} has a damaged header ("
                                               f"{type(error).__name__}); the file may have been "
                                               "altered") from error
                header_end = stream.tell()
    if not prefix.startswith(_NPY_MAGIC) or version is None:
        _refuse(name, f"the entry {key!r} is not a NumPy array")
    if version not in header_readers:
        _refuse(name, f"the array {key!r} uses .npy format version {version[0]}.{version[1]}, which "
                      "model files do not use")
    if dtype.hasobject:
        _refuse(name, f"the array {key!r} holds Python objects (pickled data), which are never loaded "
                      "because unpickling can run arbitrary code")
    if header_end + math.prod(shape) * dtype.itemsize != stored_length:
        _refuse(name, f"the array {key!r} is truncated or padded: its header promises shape {shape} "
                      f"of {dtype}, which does not match the length stored in the archive")
    return shape, dtype


def _read_meta(npz: np.lib.npyio.NpzFile, name: str) -> str:
    """The JSON text in ``meta``, a 0-d unicode array, checked before its data is read."""
    shape, dtype = _read_header(npz, name, "meta")
    if dtype.kind != "U" or shape != ():
        _refuse(name, f"'meta' must be a single text (a 0-d unicode array holding JSON), but it is an "
                      f"array of shape {shape} and dtype {dtype}")
    if dtype.itemsize // 4 > MAX_META_CHARS:
        _refuse(name, f"'meta' is longer than the limit of {MAX_META_CHARS} characters")
    with _reading(name, "the array 'meta'"):
        meta = npz["meta"]
    return str(meta[()])


def _read_parameters(npz: np.lib.npyio.NpzFile, name: str, key: str, shape: tuple[int, ...],
                     what: str) -> np.ndarray:
    """Weights or biases ``key``: float64 of exactly ``shape``, all finite, in native byte order."""
    stored_shape, dtype = _read_header(npz, name, key)
    # Either byte order holds the same float64 numbers; anything else (float32, ints) would change them.
    if dtype.kind != "f" or dtype.itemsize != 8:
        _refuse(name, f"the array {key!r} ({what}) has dtype {dtype}; model parameters must be float64")
    if stored_shape != shape:
        _refuse(name, f"the array {key!r} ({what}) has shape {stored_shape}, but the sizes in meta "
                      f"need {shape}")
    with _reading(name, f"the array {key!r}"):
        array = npz[key]
    if not np.isfinite(array).all():
        _refuse(name, f"the array {key!r} ({what}) holds NaN or infinite values; the network had "
                      "diverged when it was saved")
    return array.astype(np.float64, copy=False)


def _parse_meta(text: str, name: str) -> Any:
    """The JSON in ``meta``, strictly: no NaN or Infinity, no repeated keys, no numbers that overflow."""

    def no_constants(token: str) -> NoReturn:
        _refuse(name, f"'meta' contains {token}, which is not valid JSON")

    def finite_float(token: str) -> float:
        value = float(token)
        if not math.isfinite(value):
            _refuse(name, f"'meta' contains the number {token}, which is too large")
        return value

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                _refuse(name, f"'meta' has the key {_quote(key)} more than once")
            result[key] = value
        return result

    try:
        return json.loads(text, parse_constant=no_constants, parse_float=finite_float,
                          object_pairs_hook=unique_keys)
    except json.JSONDecodeError as error:
        _refuse(name, f"'meta' is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})")
    except ValueError as error:                       # e.g. an integer with more than 4300 digits
        _refuse(name, f"'meta' is not valid JSON ({error})")
    except RecursionError:
        _refuse(name, "'meta' is nested too deeply to be a model's description")


def _check_meta(meta: Any, name: str) -> tuple[tuple[int, ...], str, str, dict[str, Any]]:
    """``(sizes, activation, loss, info)`` from a parsed ``meta``, or ModelFileError saying what is wrong."""
    if not isinstance(meta, dict):
        _refuse(name, f"'meta' must be a JSON object, but it is {_json_kind(meta)}")
    for field in REQUIRED_META_FIELDS:
        if field not in meta:
            _refuse(name, f"'meta' lacks the required field {field!r}")

    fmt = meta["format"]
    if not isinstance(fmt, str):
        _refuse(name, f"'meta' field 'format' must be a string, but it is {_json_kind(fmt)}")
    if fmt != FORMAT:
        _refuse(name, f"it is not a Backprop Studio model: its format is {_quote(fmt)}, not {FORMAT!r}")

    version = meta["version"]
    if not _is_int(version):
        _refuse(name, f"'meta' field 'version' must be an integer, but it is {_json_kind(version)}")
    if version > VERSION:
        _refuse(name, f"it was saved in model format version {version} by a newer Backprop Studio; this "
                      f"version reads only version {VERSION}, so update the app to load it")
    if version != VERSION:
        _refuse(name, f"model format version {version} is not supported (this version reads {VERSION})")

    sizes = meta["sizes"]
    if not isinstance(sizes, list) or not all(_is_int(s) for s in sizes):
        _refuse(name, f"'meta' field 'sizes' must be a list of integers, but it is {_json_kind(sizes)}")
    if len(sizes) > MAX_LAYERS:
        _refuse(name, f"'meta' field 'sizes' lists {len(sizes)} layers; a model may have at most {MAX_LAYERS}")
    shown = _shorten(json.dumps(sizes), 200)
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        _refuse(name, f"'meta' field 'sizes' is {shown}; a network needs at least two layers, each "
                      "with one or more units")
    parameters = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if parameters > MAX_PARAMETERS:
        _refuse(name, f"the network is too large to load: sizes {shown} mean {parameters} parameters, "
                      f"more than the limit of {MAX_PARAMETERS}")

    for field, known in (("activation", ACTIVATIONS), ("output", OUTPUTS), ("loss", LOSSES)):
        value = meta[field]
        if not isinstance(value, str):
            _refuse(name, f"'meta' field {field!r} must be a string, but it is {_json_kind(value)}")
        if value not in known:
            _refuse(name, f"unknown {field} {_quote(value)} (this version knows {', '.join(known)})")
    loss, output = meta["loss"], meta["output"]
    if output != OUTPUT_FOR_LOSS[loss]:
        _refuse(name, f"output {output!r} does not go with loss {loss!r}: squared error (sse) uses "
                      "sigmoid outputs and cross-entropy (ce) uses softmax outputs")

    info = meta.get("info", {})
    if not isinstance(info, dict):
        _refuse(name, f"'meta' field 'info' must be a JSON object, but it is {_json_kind(info)}")
    return tuple(sizes), meta["activation"], loss, info


def check_digit_model(network: Network, name: str, inputs: int = N_PIXELS, outputs: int = N_CLASSES) -> None:
    """``ModelFileError`` naming the file ``name`` unless ``network`` takes ``inputs`` pixels and gives
    ``outputs`` outputs (the studio's digits: 1024 and 10). ``load_model`` reads any valid model; use
    this where the model must read digits (predict, evaluate, training on from it, the window)."""
    if network.sizes[0] != inputs:
        _refuse(name, f"the model takes {network.sizes[0]} inputs, but the digits here have {inputs} pixels "
                      f"(32x32); it was made for other data")
    if network.sizes[-1] != outputs:
        _refuse(name, f"the model has {network.sizes[-1]} outputs, but a digit model needs {outputs}, "
                      f"one per digit 0-9")


def _is_int(value: Any) -> bool:
    """A JSON integer: ``True`` is an int in Python but a boolean in JSON, so it does not count."""
    return isinstance(value, int) and not isinstance(value, bool)


def _json_kind(value: Any) -> str:
    """How a JSON value reads to a person, for messages: 'null', 'the string "x"', 'a list [1, 2]'..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {_shorten(json.dumps(value))}"
    if isinstance(value, list):
        return f"the list {_shorten(json.dumps(value))}"
    return "an object"


def _shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for a message."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _natural_key(entry: str) -> tuple[int, int, str]:
    """Messages list W1, b1, W2, b2, ... W10 in layer order, other names after them."""
    match = re.fullmatch(r"([Wb])([0-9]{1,9})", entry)
    return (0, int(match[2]), match[1]) if match else (1, 0, entry)


def _quote(text: str) -> str:
    """``repr`` of a name or value from a file, cut to a length a message can show."""
    return repr(text) if len(text) <= 60 else repr(text[:57]) + "..."


def _list_names(entries: list[str]) -> str:
    """Entry names for a message, at most ten of them."""
    if not entries:
        return "nothing"
    shown = ", ".join(_quote(e) for e in entries[:10])
    return shown + (f" and {len(entries) - 10} more" if len(entries) > 10 else "")
