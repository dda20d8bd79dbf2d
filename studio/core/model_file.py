"""Model files: the format of a saved network (a NumPy ``.npz`` archive with a JSON header), its limits, its error.

This module is the format itself: its names, its limits and the one error every refusal raises. The
work lives beside it: ``model_writer.save_model`` writes a file, ``model_reader.load_model`` reads and
checks one, ``model_meta`` turns ``meta`` and its ``info`` into JSON and back. None of them trains,
draws or decides file names: the caller chooses the path (nothing such as ``.npz`` is added to it) and
shows ``ModelFileError`` messages to the user.

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

import errno
from typing import NoReturn

from studio.core.file_limits import shorten
from studio.core.network import OUTPUT_FOR_LOSS

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

NPY_MAGIC = b"\x93NUMPY"

# A ZIP archive starts with a local file header ("PK\3\4"); an empty one with the end record only.
ZIP_PREFIXES = (b"PK\x03\x04", b"PK\x05\x06")


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


def refuse(name: str, problem: str) -> NoReturn:
    """Stop loading ``name`` because of ``problem`` (a phrase a user can act on)."""
    raise ModelFileError(name, problem)


def describe_os_error(error: OSError, *, saving: bool) -> str:
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

