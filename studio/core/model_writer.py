"""Writing model files: ``save_model`` puts a network and its ``info`` in a ``.npz`` archive, atomically.

The file is written to a hidden temporary file in the target's folder, flushed and fsynced, then renamed
over the target, so a failed save leaves any earlier file intact; a killed save's leftover temporary is
removed by a later save into that folder (``file_limits.remove_stale_temporaries``). The layout written
is the one ``model_file``'s docstring describes; reading it back is ``model_reader``'s job.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from studio.core.file_limits import remove_stale_temporaries
from studio.core.model_file import FORMAT, VERSION, ZIP_PREFIXES, ModelFileError, describe_os_error
from studio.core.model_meta import json_ready
from studio.core.network import Network

# A fixed timestamp makes the same network and info always produce the same bytes (reproducible,
# diffable files); the file system's own modification time still says when it was saved.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

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
        meta["info"] = json_ready(info, "info")
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
        raise ModelFileError(name, describe_os_error(error, saving=True), saving=True) from error


def _write_atomically(target: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an .npz to a temporary file beside ``target``, then rename it over ``target``.

    The temporary file sits in the same folder because ``os.replace`` is atomic only within one file
    system. Any exception removes it and is re-raised; ``target`` is changed only by the final rename.
    """
    remove_stale_temporaries(target.parent, ZIP_PREFIXES[0])
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

