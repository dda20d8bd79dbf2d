"""The ``meta`` entry of a model file: the writer's ``info`` made plain JSON, and the reader's strict parse
and check of the fields (format, version, sizes, activation, output, loss, info).

The fields and their rules are in ``model_file``'s docstring. This module only turns text into values and
back; reading the archive is ``model_reader``'s job, writing it ``model_writer``'s.
"""
from __future__ import annotations

import json
import math
from typing import Any, NoReturn

import numpy as np

from studio.core.model_file import (FORMAT, MAX_LAYERS, MAX_PARAMETERS, OUTPUTS, REQUIRED_META_FIELDS, VERSION,
                                    refuse)
from studio.core.network import ACTIVATIONS, LOSSES, OUTPUT_FOR_LOSS


def json_ready(value: Any, where: str) -> Any:
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
            out[key] = json_ready(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [json_ready(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise ValueError(f"{where} is a {type(value).__name__}, which is not JSON "
                     "(use dicts, lists, strings, numbers, booleans or None)")


def parse_meta(text: str, name: str) -> Any:
    """The JSON in ``meta``, strictly: no NaN or Infinity, no repeated keys, no numbers that overflow."""

    def no_constants(token: str) -> NoReturn:
        refuse(name, f"'meta' contains {token}, which is not valid JSON")

    def finite_float(token: str) -> float:
        value = float(token)
        if not math.isfinite(value):
            refuse(name, f"'meta' contains the number {token}, which is too large")
        return value

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                refuse(name, f"'meta' has the key {quote(key)} more than once")
            result[key] = value
        return result

    try:
        return json.loads(text, parse_constant=no_constants, parse_float=finite_float,
                          object_pairs_hook=unique_keys)
    except json.JSONDecodeError as error:
        refuse(name, f"'meta' is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})")
    except ValueError as error:                       # e.g. an integer with more than 4300 digits
        refuse(name, f"'meta' is not valid JSON ({error})")
    except RecursionError:
        refuse(name, "'meta' is nested too deeply to be a model's description")


def check_meta(meta: Any, name: str) -> tuple[tuple[int, ...], str, str, dict[str, Any]]:
    """``(sizes, activation, loss, info)`` from a parsed ``meta``, or ModelFileError saying what is wrong."""
    if not isinstance(meta, dict):
        refuse(name, f"'meta' must be a JSON object, but it is {_json_kind(meta)}")
    for field in REQUIRED_META_FIELDS:
        if field not in meta:
            refuse(name, f"'meta' lacks the required field {field!r}")

    fmt = meta["format"]
    if not isinstance(fmt, str):
        refuse(name, f"'meta' field 'format' must be a string, but it is {_json_kind(fmt)}")
    if fmt != FORMAT:
        refuse(name, f"it is not a Backprop Studio model: its format is {quote(fmt)}, not {FORMAT!r}")

    version = meta["version"]
    if not _is_int(version):
        refuse(name, f"'meta' field 'version' must be an integer, but it is {_json_kind(version)}")
    if version > VERSION:
        refuse(name, f"it was saved in model format version {version} by a newer Backprop Studio; this "
                      f"version reads only version {VERSION}, so update the app to load it")
    if version != VERSION:
        refuse(name, f"model format version {version} is not supported (this version reads {VERSION})")

    sizes = meta["sizes"]
    if not isinstance(sizes, list) or not all(_is_int(s) for s in sizes):
        refuse(name, f"'meta' field 'sizes' must be a list of integers, but it is {_json_kind(sizes)}")
    if len(sizes) > MAX_LAYERS:
        refuse(name, f"'meta' field 'sizes' lists {len(sizes)} layers; a model may have at most {MAX_LAYERS}")
    shown = _shorten(json.dumps(sizes), 200)
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        refuse(name, f"'meta' field 'sizes' is {shown}; a network needs at least two layers, each "
                      "with one or more units")
    parameters = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if parameters > MAX_PARAMETERS:
        refuse(name, f"the network is too large to load: sizes {shown} mean {parameters} parameters, "
                      f"more than the limit of {MAX_PARAMETERS}")

    for field, known in (("activation", ACTIVATIONS), ("output", OUTPUTS), ("loss", LOSSES)):
        value = meta[field]
        if not isinstance(value, str):
            refuse(name, f"'meta' field {field!r} must be a string, but it is {_json_kind(value)}")
        if value not in known:
            refuse(name, f"unknown {field} {quote(value)} (this version knows {', '.join(known)})")
    loss, output = meta["loss"], meta["output"]
    if output != OUTPUT_FOR_LOSS[loss]:
        refuse(name, f"output {output!r} does not go with loss {loss!r}: squared error (sse) uses "
                      "sigmoid outputs and cross-entropy (ce) uses softmax outputs")

    info = meta.get("info", {})
    if not isinstance(info, dict):
        refuse(name, f"'meta' field 'info' must be a JSON object, but it is {_json_kind(info)}")
    return tuple(sizes), meta["activation"], loss, info


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


def quote(text: str) -> str:
    """``repr`` of a name or value from a file, cut to a length a message can show."""
    return repr(text) if len(text) <= 60 else repr(text[:57]) + "..."
