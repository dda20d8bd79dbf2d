"""Model files: exact round trips, atomic saves, every refusal, and a fuzzed loader.

Bad files are built here with ``zipfile`` and ``np.lib.format`` directly, not with the module under
test, so a mistake in the writer cannot hide the same mistake in the reader.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from studio.core import model_file, model_reader
from studio.core.model_file import FORMAT, VERSION, ModelFileError
from studio.core.model_reader import load_model, load_model_bytes
from studio.core.model_writer import save_model
from studio.core.network import ACTIVATIONS, LOSSES, Network

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------------------
# Helpers: an independent writer of .npz entries, and a valid set of entries to spoil
# --------------------------------------------------------------------------------------------------

Entry = tuple[str, Any]   # (key, array), or (entry name, raw bytes)


def npy_bytes(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    """``array`` as a .npy file's bytes; object arrays are pickled (that is what the refusals test)."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version, allow_pickle=True)
    return buffer.getvalue()


def write_entries(path: Path, entries: dict[str, Any] | list[Entry],
                  compression: int = zipfile.ZIP_STORED) -> Path:
    """Write a ZIP with one ``<key>.npy`` per array; a ``bytes`` value is stored raw under ``key`` itself."""
    items = list(entries.items()) if isinstance(entries, dict) else list(entries)
    with zipfile.ZipFile(path, "w", compression=compression) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)      # "Duplicate name": wanted by one test
        for key, value in items:
            info = zipfile.ZipInfo(key if isinstance(value, bytes) else f"{key}.npy")
            info.compress_type = compression
            archive.writestr(info, value if isinstance(value, bytes) else npy_bytes(value))
    return path


def meta_dict(sizes: tuple[int, ...] = (4, 3, 2), activation: str = "sigmoid", loss: str = "sse",
              **extra: Any) -> dict[str, Any]:
    output = {"sse": "sigmoid", "ce": "softmax"}[loss]
    return {"format": FORMAT, "version": VERSION, "sizes": list(sizes), "activation": activation,
            "output": output, "loss": loss, **extra}


def meta_array(meta: Any) -> np.ndarray:
    return np.array(json.dumps(meta))


def valid_entries(sizes: tuple[int, ...] = (4, 3, 2), seed: int = 0, **meta: Any) -> dict[str, Any]:
    """Entries of a correct model file for ``sizes``; tests replace or delete some of them."""
    rng = np.random.default_rng(seed)
    entries: dict[str, Any] = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        entries[f"W{l}"] = rng.standard_normal((n_out, n_in))
        entries[f"b{l}"] = rng.standard_normal(n_out)
    entries["meta"] = meta_array(meta_dict(sizes, **meta))
    return entries


def assert_same_network(a: Network, b: Network) -> None:
    """Same layout and bitwise-identical float64 parameters (``==`` would hide -0.0 vs 0.0)."""
    assert (a.sizes, a.activation, a.loss, a.output) == (b.sizes, b.activation, b.loss, b.output)
    assert len(a.weights) == len(b.weights) and len(a.biases) == len(b.biases)
    for x, y in zip(a.parameters(), b.parameters()):
        assert x.dtype == y.dtype == np.float64
        assert x.shape == y.shape
        assert x.tobytes() == y.tobytes()


class UnpickleTrap:
    """Unpickling this creates the folder ``marker``: proof that a pickle was run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Callable[[str], None], tuple[str]]:
        return (os.mkdir, (self.marker,))


def refused(path: Path, *fragments: str) -> ModelFileError:
    """Load ``path``, expect ModelFileError naming the file and saying each of ``fragments``."""
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return caught.value


# --------------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sizes, activation, loss", [
    ((1024, 16, 16, 10), "sigmoid", "sse"),          # the tutorial's network
    ((5, 3), "relu", "ce"),                           # a single layer
    ((7, 6, 5, 4, 3), "tanh", "ce"),
    ((2, 1), "relu", "sse"),
    ((3, 8, 2), "sigmoid", "ce"),
])
def test_round_trip_is_exact(tmp_path: Path, sizes: tuple[int, ...], activation: str, loss: str) -> None:
    network = Network.initialised(sizes, activation=activation, loss=loss, init="xavier", seed=3)
    # Values that a lossy path (text, float32, a rounding copy) would change.
    network.weights[0].flat[:4] = [-0.0, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308][
        : network.weights[0].size]
    network.biases[-1][0] = 0.1 + 0.2
    path = tmp_path / "model.npz"
    save_model(path, network)
    loaded, info = load_model(path)
    assert_same_network(loaded, network)
    assert info == {}
    assert loaded.output == {"sse": "sigmoid", "ce": "softmax"}[loss]
    # The loaded network is a working one: same predictions.
    x = np.random.default_rng(0).random((4, sizes[0]))
    assert np.array_equal(loaded.predict_proba(x), network.predict_proba(x))


def test_info_round_trip(tmp_path: Path) -> None:
    info = {"preset": "tutorial", "settings": {"learning_rate": 0.1, "batch_size": 1, "seed": 0,
                                               "hidden": [16, 16], "shuffle": True, "momentum": None},
            "epochs_run": 725, "train_accuracy": 0.987, "note": "chiffres manuscrits \u00e9\u2028 \U0001f600"}
    path = tmp_path / "model.npz"
    save_model(path, Network.initialised((4, 3, 2), seed=0), info)
    _, loaded = load_model(path)
    assert loaded == info
    assert list(loaded["settings"]) == list(info["settings"])      # order kept for display


def test_info_numpy_scalars_and_tuples_become_plain_json(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    save_model(path, Network.initialised((4, 2), seed=0),
               {"epochs": np.int64(3), "accuracy": np.float32(0.5), "hidden": (16, 16), "ok": np.bool_(True)})
    _, info = load_model(path)
    assert info == {"epochs": 3, "accuracy": 0.5, "hidden": [16, 16], "ok": True}
    assert type(info["epochs"]) is int and type(info["ok"]) is bool


@pytest.mark.parametrize("info, fragment", [
    ({1: "a"}, "keys must be strings"),
    ({"loss": float("nan")}, "info['loss'] is nan"),
    ({"a": {"b": [1, float("inf")]}}, "info['a']['b'][1]"),
    ({"rng": object()}, "not JSON"),
    ({"w": np.zeros(2)}, "ndarray"),
])
def test_save_refuses_info_that_is_not_json(tmp_path: Path, info: dict[Any, Any], fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        save_model(tmp_path / "model.npz", Network.initialised((4, 2), seed=0), info)
    assert fragment in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_the_file_layout_is_the_documented_one(tmp_path: Path) -> None:
    """Pins the format independently of the loader: entry names, dtypes, shapes and meta."""
    network = Network.initialised((4, 3, 2), activation="relu", loss="ce", seed=5)
    path = tmp_path / "model.npz"
    save_model(path, network, {"epochs": 2})
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["W1.npy", "W2.npy", "b1.npy", "b2.npy", "meta.npy"]
    with np.load(path, allow_pickle=False) as npz:
        for l in (1, 2):
            assert npz[f"W{l}"].dtype == np.float64 and npz[f"W{l}"].shape == network.weights[l - 1].shape
            assert npz[f"b{l}"].dtype == np.float64 and npz[f"b{l}"].shape == network.biases[l - 1].shape
            assert np.array_equal(npz[f"W{l}"], network.weights[l - 1])
        meta = npz["meta"]
        assert meta.shape == () and meta.dtype.kind == "U"
        assert json.loads(str(meta)) == {"format": "backprop-studio-model", "version": 1, "sizes": [4, 3, 2],
                                         "activation": "relu", "output": "softmax", "loss": "ce",
                                         "info": {"epochs": 2}}


def test_saving_uses_the_exact_path_and_is_reproducible(tmp_path: Path) -> None:
    network = Network.initialised((4, 3, 2), seed=0)
    save_model(tmp_path / "model.bin", network, {"a": 1})
    save_model(str(tmp_path / "again.bin"), network, {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.bin", "model.bin"]   # no ".npz" added
    assert (tmp_path / "model.bin").read_bytes() == (tmp_path / "again.bin").read_bytes()


def test_load_model_bytes_agrees_with_load_model(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    save_model(path, Network.initialised((6, 4, 3), activation="tanh", seed=2), {"x": [1, 2]})
    from_file, info_file = load_model(path)
    from_bytes, info_bytes = load_model_bytes(path.read_bytes(), name="dropped.npz")
    assert_same_network(from_bytes, from_file)
    assert info_bytes == info_file == {"x": [1, 2]}
    with pytest.raises(ModelFileError, match="dropped.npz"):
        load_model_bytes(path.read_bytes()[:-10], name="dropped.npz")


@pytest.mark.parametrize("change", ["deflated", "big_endian", "fortran_order", "extra_meta_field"])
def test_other_encodings_of_the_same_numbers_load(tmp_path: Path, change: str) -> None:
    """The reader is strict about content, not about how NumPy chose to store it."""
    entries = valid_entries((4, 3, 2), activation="tanh", loss="ce")
    expected_w1 = entries["W1"].copy()
    compression = zipfile.ZIP_STORED
    if change == "deflated":
        compression = zipfile.ZIP_DEFLATED
    elif change == "big_endian":
        entries["W1"] = entries["W1"].astype(">f8")
    elif change == "fortran_order":
        entries["W1"] = np.asfortranarray(entries["W1"])
    else:
        entries["meta"] = meta_array(meta_dict((4, 3, 2), "tanh", "ce", saved_by="a later 1.x"))
    network, info = load_model(write_entries(tmp_path / "model.npz", entries, compression))
    assert network.weights[0].tobytes() == expected_w1.tobytes()
    assert network.sizes == (4, 3, 2) and network.activation == "tanh" and network.loss == "ce"
    assert info == {}


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_round_trip_property(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    sizes = tuple(data.draw(st.lists(st.integers(1, 6), min_size=2, max_size=4), label="sizes"))
    floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
    weights = [data.draw(hnp.arrays(np.float64, (n_out, n_in), elements=floats))
               for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    biases = [data.draw(hnp.arrays(np.float64, (n_out,), elements=floats)) for n_out in sizes[1:]]
    json_leaf = st.none() | st.booleans() | st.integers(-2**63, 2**63) | floats | st.text(max_size=10)
    info = data.draw(st.dictionaries(st.text(max_size=8), st.recursive(
        json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                               max_size=3),
        max_leaves=10), max_size=4), label="info")
    network = Network(sizes, weights, biases, activation=data.draw(st.sampled_from(ACTIVATIONS)),
                      loss=data.draw(st.sampled_from(LOSSES)))
    path = tmp_path_factory.mktemp("round_trip") / "model.npz"
    save_model(path, network, info)
    loaded, loaded_info = load_model(path)
    assert_same_network(loaded, network)
    assert loaded_info == info


# --------------------------------------------------------------------------------------------------
# Atomic saving
# --------------------------------------------------------------------------------------------------

OLD_BYTES = b"the previous model, which must survive a failed save"


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    path = tmp_path / "model.npz"
    path.write_bytes(OLD_BYTES)
    return path


def assert_untouched(path: Path) -> None:
    assert path.read_bytes() == OLD_BYTES
    assert [p.name for p in path.parent.iterdir()] == [path.name], "a temporary file was left behind"


def test_failing_rename_keeps_the_old_file(existing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ModelFileError, match="Input/output error") as caught:
        save_model(existing, Network.initialised((4, 2), seed=0))
    assert str(existing) in str(caught.value) and "save" in str(caught.value)
    monkeypatch.undo()
    assert_untouched(existing)


def test_failing_fsync_keeps_the_old_file(existing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(ModelFileError, match="the disk is full"):
        save_model(existing, Network.initialised((4, 2), seed=0))
    monkeypatch.undo()
    assert_untouched(existing)


def test_failure_half_way_through_writing_keeps_the_old_file(existing: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The second array is half written when the writer fails: the error is not disguised."""
    real_write_array = np.lib.format.write_array
    partial = npy_bytes(np.zeros((3, 4)))[:100]
    calls: list[int] = []

    def failing_write_array(fp: Any, array: np.ndarray, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            fp.write(partial)
            raise RuntimeError("simulated crash while writing")
        real_write_array(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(RuntimeError, match="simulated crash"):
        save_model(existing, Network.initialised((4, 3, 2), seed=0))
    monkeypatch.undo()
    assert len(calls) == 2
    assert_untouched(existing)


def test_a_successful_save_replaces_the_old_file(existing: Path) -> None:
    network = Network.initialised((4, 3, 2), seed=1)
    save_model(existing, network)
    assert [p.name for p in existing.parent.iterdir()] == [existing.name]
    assert_same_network(load_model(existing)[0], network)


def test_saving_a_diverged_network_is_refused_and_keeps_the_old_file(existing: Path) -> None:
    network = Network.initialised((4, 3, 2), seed=1)
    network.weights[1][0, 0] = np.nan
    with pytest.raises(ModelFileError, match="layer 2 .*NaN"):
        save_model(existing, network)
    assert_untouched(existing)


def test_saving_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="folder does not exist"):
        save_model(tmp_path / "no such folder" / "model.npz", Network.initialised((4, 2), seed=0))
    assert list(tmp_path.iterdir()) == []


def test_saving_over_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(ModelFileError, match="folder"):
        save_model(tmp_path / "model.npz", Network.initialised((4, 2), seed=0))
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    assert (tmp_path / "model.npz").is_dir()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_saved_file_has_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        save_model(tmp_path / "model.npz", Network.initialised((4, 2), seed=0))
    finally:
        os.umask(umask)
    assert (tmp_path / "model.npz").stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------------------------------
# Refusals: each builds a real bad file and checks the reason given
# --------------------------------------------------------------------------------------------------

def test_the_builder_makes_a_loadable_file(tmp_path: Path) -> None:
    """The refusal cases below spoil this file; it must load, or they would prove nothing."""
    network, info = load_model(write_entries(tmp_path / "ok.npz", valid_entries((4, 3, 2))))
    assert network.sizes == (4, 3, 2) and info == {}


def test_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "absent.npz", "there is no such file")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    refused(tmp_path, "folder")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_entries(tmp_path / "model.npz", valid_entries())
    path.chmod(0)
    try:
        refused(path, "permission denied")
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("content, fragment", [
    (b"", "the file is empty"),
    (b"hello, I am a text file\n", "not a model file"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "not a model file"),
    (npy_bytes(np.zeros(3)), "single NumPy array (.npy)"),
    (b"PK\x03\x04" + bytes(40), "damaged or truncated"),
    (b"PK\x05\x06" + bytes(18), "no 'meta' entry"),                 # an empty ZIP archive
])
def test_not_a_model_archive(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    refused(path, fragment)


def test_truncated_file(tmp_path: Path) -> None:
    good = write_entries(tmp_path / "good.npz", valid_entries()).read_bytes()
    path = tmp_path / "model.npz"
    path.write_bytes(good[: len(good) // 2])
    refused(path, "damaged or truncated")


def test_raw_pickle_is_refused_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(UnpickleTrap(marker), protocol=4)
    pickle.loads(payload)                                  # the trap works...
    assert marker.is_dir()
    marker.rmdir()
    path = tmp_path / "model.pkl"
    path.write_bytes(payload)
    refused(path, "pickle", "arbitrary code")
    assert not marker.exists()                             # ...and the loader never sprang it


@pytest.mark.parametrize("key", ["W1", "meta"])
def test_object_array_is_refused_without_unpickling(tmp_path: Path, key: str) -> None:
    marker = tmp_path / "unpickled"
    entries = valid_entries()
    entries[key] = np.array([UnpickleTrap(marker)], dtype=object)
    path = write_entries(tmp_path / "model.npz", entries)
    with np.load(path, allow_pickle=True) as npz:          # the trap works...
        npz[key]
    assert marker.is_dir()
    marker.rmdir()
    refused(path, f"'{key}'", "Python objects")
    assert not marker.exists()                             # ...and the loader never sprang it


def without(entries: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in entries.items() if k not in keys}


def with_meta(meta: Any) -> dict[str, Any]:
    return {**valid_entries(), "meta": meta_array(meta)}


def meta_without(field: str) -> dict[str, Any]:
    meta = meta_dict()
    del meta[field]
    return with_meta(meta)


def meta_with(**fields: Any) -> dict[str, Any]:
    return with_meta({**meta_dict(), **fields})


def replaced(key: str, value: Any) -> dict[str, Any]:
    return {**valid_entries(), key: value}


def raw_meta(text: str) -> dict[str, Any]:
    return {**valid_entries(), "meta": np.array(text)}


def truncated_npy(array: np.ndarray, keep: int) -> bytes:
    """The .npy bytes of ``array`` with only ``keep`` bytes of data after the header."""
    full = npy_bytes(array)
    return full[: len(full) - array.nbytes + keep]


def npy_header_only(shape: tuple[int, ...], descr: str) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + bytes(16)


REFUSALS: dict[str, tuple[Callable[[], dict[str, Any] | list[Entry]], tuple[str, ...]]] = {
    # which arrays are there
    "no meta": (lambda: without(valid_entries(), "meta"), ("no 'meta' entry",)),
    "missing W2": (lambda: without(valid_entries(), "W2"),
                   ("'W2' is missing", "sizes [4, 3, 2] need W1, b1, W2, b2 and meta")),
    "missing b1 and W2": (lambda: without(valid_entries(), "b1", "W2"), ("'b1', 'W2' are missing",)),
    "extra array": (lambda: {**valid_entries(), "W3": np.zeros((2, 2))}, ("unexpected array 'W3'",)),
    "extra file": (lambda: {**valid_entries(), "notes.txt": b"hi"}, ("unexpected array 'notes.txt'",)),
    "duplicate": (lambda: [*valid_entries().items(), ("W1", np.zeros((3, 4)))], ("'W1' more than once",)),
    "raw bytes as W1": (lambda: {**without(valid_entries(), "W1"), "W1": b"\x00" * 96},
                        ("'W1' is not a NumPy array",)),
    "npy version 3": (lambda: {**without(valid_entries(), "W1"),
                               "W1.npy": npy_bytes(valid_entries()["W1"], version=(3, 0))},
                      ("version 3.0",)),
    # shapes, dtypes and values
    "W1 shape": (lambda: replaced("W1", np.zeros((3, 5))), ("'W1'", "shape (3, 5)", "need (3, 4)")),
    "W1 transposed": (lambda: replaced("W1", np.zeros((4, 3))), ("shape (4, 3)",)),
    "b1 as column": (lambda: replaced("b1", np.zeros((3, 1))), ("'b1'", "shape (3, 1)", "need (3,)")),
    "W1 float32": (lambda: replaced("W1", np.zeros((3, 4), np.float32)), ("dtype float32", "float64")),
    "W1 int64": (lambda: replaced("W1", np.zeros((3, 4), np.int64)), ("dtype int64",)),
    "b2 complex": (lambda: replaced("b2", np.zeros(2, np.complex128)), ("dtype complex128",)),
    "W1 0-d": (lambda: replaced("W1", np.array(1.0)), ("shape ()",)),
    "W2 NaN": (lambda: replaced("W2", np.full((2, 3), np.nan)), ("'W2'", "NaN or infinite")),
    "b1 inf": (lambda: replaced("b1", np.array([0.0, np.inf, 0.0])), ("'b1'", "NaN or infinite")),
    "W1 data cut short": (lambda: {**without(valid_entries(), "W1"),
                                   "W1.npy": truncated_npy(valid_entries()["W1"], 40)},
                          ("'W1' is truncated or padded",)),
    "W1 header lies hugely": (lambda: {**without(valid_entries(), "W1"),
                                       "W1.npy": npy_header_only((3, 10**12), "<f8")},
                              ("'W1' is truncated or padded",)),
    "meta header lies hugely": (lambda: {**without(valid_entries(), "meta"),
                                         "meta.npy": npy_header_only((), "<U99999999")},
                                ("'meta' is truncated or padded",)),
    # meta as an array
    "meta bytes": (lambda: replaced("meta", np.array(json.dumps(meta_dict()).encode())), ("0-d unicode",)),
    "meta 1-d": (lambda: replaced("meta", np.array([json.dumps(meta_dict())])), ("shape (1,)",)),
    "meta number": (lambda: replaced("meta", np.array(1.0)), ("'meta' must be a single text",)),
    # meta as JSON
    "meta not JSON": (lambda: raw_meta("{'format': 'backprop-studio-model'"), ("not valid JSON",)),
    "meta empty": (lambda: raw_meta(""), ("not valid JSON",)),
    "meta list": (lambda: raw_meta("[1, 2]"), ("must be a JSON object", "the list [1, 2]")),
    "meta string": (lambda: raw_meta('"hello"'), ("must be a JSON object",)),
    "meta NaN": (lambda: raw_meta(json.dumps(meta_dict(x=float("nan")))), ("NaN", "not valid JSON")),
    "meta 1e999": (lambda: raw_meta(json.dumps(meta_dict())[:-1] + ', "x": 1e999}'), ("too large",)),
    "meta duplicate key": (lambda: raw_meta(json.dumps(meta_dict())[:-1] + ', "loss": "ce"}'),
                           ("'loss' more than once",)),
    "meta deep": (lambda: raw_meta("[" * 100_000 + "]" * 100_000), ("nested too deeply",)),
    "meta huge int": (lambda: raw_meta('{"version": ' + "9" * 5000 + "}"), ("not valid JSON",)),
    **{f"no {field}": (lambda field=field: meta_without(field), (f"lacks the required field '{field}'",))
       for field in model_file.REQUIRED_META_FIELDS},
    # meta fields of the wrong type
    "format number": (lambda: meta_with(format=1), ("'format' must be a string",)),
    "version string": (lambda: meta_with(version="1"), ("'version' must be an integer", "the string")),
    "version float": (lambda: meta_with(version=1.0), ("'version' must be an integer",)),
    "version true": (lambda: meta_with(version=True), ("'version' must be an integer", "true")),
    "sizes string": (lambda: meta_with(sizes="4,3,2"), ("'sizes' must be a list of integers",)),
    "sizes with float": (lambda: meta_with(sizes=[4, 3.0, 2]), ("'sizes' must be a list of integers",)),
    "sizes with bool": (lambda: meta_with(sizes=[4, True, 2]), ("'sizes' must be a list of integers",)),
    "sizes one layer": (lambda: meta_with(sizes=[4]), ("at least two layers",)),
    "sizes zero": (lambda: meta_with(sizes=[4, 0, 2]), ("one or more units",)),
    "sizes negative": (lambda: meta_with(sizes=[4, -3, 2]), ("one or more units",)),
    "sizes too large": (lambda: meta_with(sizes=[10**6, 10**6, 10]), ("too large",)),
    "activation number": (lambda: meta_with(activation=3), ("'activation' must be a string",)),
    "output list": (lambda: meta_with(output=[]), ("'output' must be a string",)),
    "loss null": (lambda: meta_with(loss=None), ("'loss' must be a string", "null")),
    "info list": (lambda: meta_with(info=[1]), ("'info' must be a JSON object",)),
    "info string": (lambda: meta_with(info="trained"), ("'info' must be a JSON object",)),
    # meta values this version does not know
    "other format": (lambda: meta_with(format="keras-model"), ("not a Backprop Studio model", "keras-model")),
    "newer version": (lambda: meta_with(version=2), ("newer Backprop Studio", "update the app")),
    "version 0": (lambda: meta_with(version=0), ("version 0 is not supported",)),
    "unknown activation": (lambda: meta_with(activation="gelu"), ("unknown activation 'gelu'", "relu")),
    "unknown output": (lambda: meta_with(output="linear"), ("unknown output 'linear'",)),
    "unknown loss": (lambda: meta_with(loss="mse"), ("unknown loss 'mse'",)),
    "sse with softmax": (lambda: meta_with(output="softmax"), ("'softmax' does not go with loss 'sse'",)),
    "ce with sigmoid": (lambda: meta_with(loss="ce", output="sigmoid"),
                        ("'sigmoid' does not go with loss 'ce'",)),
    # sizes against arrays
    "sizes disagree": (lambda: {**valid_entries((4, 5, 2)), "meta": meta_array(meta_dict((4, 3, 2)))},
                       ("'W1'", "shape (5, 4)", "need (3, 4)")),
    "sizes too few layers": (lambda: {**valid_entries((4, 3, 2)), "meta": meta_array(meta_dict((4, 3)))},
                             ("unexpected arrays 'W2', 'b2'",)),
    "sizes too many layers": (lambda: {**valid_entries((4, 3, 2)),
                                       "meta": meta_array(meta_dict((4, 3, 2, 2)))},
                              ("'W3', 'b3' are missing",)),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal(tmp_path: Path, case: str) -> None:
    build, fragments = REFUSALS[case]
    path = write_entries(tmp_path / "model.npz", build())
    refused(path, *fragments)


def test_meta_longer_than_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_entries(tmp_path / "model.npz", valid_entries())
    load_model(path)
    monkeypatch.setattr(model_reader, "MAX_META_CHARS", 50)
    refused(path, "'meta' is longer than the limit")


def data_offset(data: bytes, member: str) -> int:
    """Where the (possibly compressed) data of ``member`` starts: after its local header, name, extra."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        start = archive.getinfo(member).header_offset
    name_length, extra_length = np.frombuffer(data[start + 26: start + 30], "<u2")
    return start + 30 + int(name_length) + int(extra_length)


def central_entry(data: bytes, member: str) -> int:
    """Offset of ``member``'s record in the central directory (signature PK\\1\\2, its name at +46)."""
    offset = data.index(b"PK\x01\x02")
    while data[offset + 46: offset + 46 + len(member)] != member.encode():
        offset = data.index(b"PK\x01\x02", offset + 4)
    return offset


def damaged(data: bytes, damage: str) -> bytes:
    """``data`` (a valid archive) with one kind of structural damage that zipfile reports its own way."""
    out = bytearray(data)
    central = central_entry(data, "W1.npy")
    if damage == "last data byte":                       # BadZipFile: the CRC-32 does not match
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            size = archive.getinfo("W1.npy").compress_size
        out[data_offset(data, "W1.npy") + size - 1] ^= 0x01
    elif damage == "deflate stream":                     # zlib.error: reserved deflate block type
        out[data_offset(data, "W1.npy")] = 0xFF
    elif damage == "unknown compression":                # NotImplementedError
        out[central + 10: central + 12] = (99).to_bytes(2, "little")
    elif damage == "bzip2 claimed":                      # OSError: "Invalid data stream"
        out[central + 10: central + 12] = (12).to_bytes(2, "little")
    elif damage == "utf-8 name":                         # UnicodeDecodeError: flagged UTF-8, is not
        out[central + 9] |= 0x08                         # bit 11 of the flags: the name is UTF-8
        out[central + 46] = 0xAC
    elif damage == "encrypted":                          # zipfile: RuntimeError("password required")
        out[central + 8] |= 0x01
    elif damage == "directory cut":                      # BadZipFile: no end of central directory
        out = out[: central + 10]
    return bytes(out)


@pytest.mark.parametrize("damage, compression, fragment", [
    # Stored: a changed data byte always reaches the CRC (in a deflated entry the last byte may be
    # padding bits after the end of the stream, which change nothing).
    ("last data byte", zipfile.ZIP_STORED, "CRC"),
    ("deflate stream", zipfile.ZIP_DEFLATED, "decompressing"),
    ("unknown compression", zipfile.ZIP_STORED, "compressed with method 99"),
    ("bzip2 claimed", zipfile.ZIP_STORED, "compressed with bzip2; only stored or deflated"),
    ("utf-8 name", zipfile.ZIP_STORED, "damaged or truncated"),
    ("encrypted", zipfile.ZIP_STORED, "encrypted"),
    ("directory cut", zipfile.ZIP_DEFLATED, "damaged or truncated"),
])
def test_damaged_archive_structure_is_refused(tmp_path: Path, damage: str, compression: int,
                                              fragment: str) -> None:
    good = write_entries(tmp_path / "good.npz", valid_entries(), compression).read_bytes()
    load_model_bytes(good)
    path = tmp_path / "model.npz"
    path.write_bytes(damaged(good, damage))
    refused(path, fragment)


# --------------------------------------------------------------------------------------------------
# Fuzzing: the loader raises ModelFileError or returns a network, never anything else
# --------------------------------------------------------------------------------------------------

def _valid_file_bytes() -> bytes:
    """A small valid model file, made once by ``save_model``: the seed of every mutation below."""
    network = Network.initialised((3, 2, 2), activation="relu", loss="ce", seed=7)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        save_model(path, network, {"epochs": 5, "accuracy": 0.75, "settings": {"lr": 0.1}})
        return path.read_bytes()


VALID = _valid_file_bytes()
VALID_NETWORK, VALID_INFO = load_model_bytes(VALID)
#: The same model with deflated entries (np.savez_compressed's layout), so zlib's errors are fuzzed too.
with zipfile.ZipFile(io.BytesIO(VALID)) as _stored, io.BytesIO() as _buffer:
    with zipfile.ZipFile(_buffer, "w", zipfile.ZIP_DEFLATED) as _deflated:
        for _name in _stored.namelist():
            _deflated.writestr(_name, _stored.read(_name))
    VALID_DEFLATED = _buffer.getvalue()


def load_or_refuse(data: bytes) -> tuple[Network, dict[str, Any]] | None:
    """``load_model_bytes(data)``, or None if it was refused with ModelFileError; anything else fails."""
    try:
        return load_model_bytes(data, name="fuzzed.npz")
    except ModelFileError as error:
        assert "fuzzed.npz" in str(error)
        return None


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    load_or_refuse(data)


@FUZZ
@given(st.sampled_from([b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY", b"\x80\x04"]), st.binary(max_size=2048))
def test_fuzz_bytes_behind_a_plausible_start(prefix: bytes, rest: bytes) -> None:
    load_or_refuse(prefix + rest)


@FUZZ
@given(seed=st.sampled_from([VALID, VALID_DEFLATED]), data=st.data())
def test_fuzz_mutated_valid_file(seed: bytes, data: st.DataObject) -> None:
    """Overwritten bytes anywhere, optionally a cut and appended junk."""
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)),
                               min_size=1, max_size=8), label="flips")
    cut = data.draw(st.none() | st.integers(0, len(seed)), label="cut")
    junk = data.draw(st.binary(max_size=64), label="junk")
    mutated = bytearray(seed)
    for offset, value in flips:
        mutated[offset] = value
    load_or_refuse(bytes(mutated[:cut]) + junk)


@pytest.mark.parametrize("seed", [VALID, VALID_DEFLATED], ids=["stored", "deflated"])
def test_every_truncation_is_refused(seed: bytes) -> None:
    for cut in range(len(seed)):
        assert load_or_refuse(seed[:cut]) is None, f"a file cut at byte {cut} of {len(seed)} loaded"


@pytest.mark.parametrize("seed", [VALID, VALID_DEFLATED], ids=["stored", "deflated"])
@pytest.mark.parametrize("mask", [0x01, 0xFF])
def test_every_single_byte_change_is_refused_or_harmless(seed: bytes, mask: int) -> None:
    """A one-byte change either is caught or lies outside the data (e.g. a date): the model is the same."""
    for offset in range(len(seed)):
        data = bytearray(seed)
        data[offset] ^= mask
        result = load_or_refuse(bytes(data))
        if result is not None:
            assert_same_network(result[0], VALID_NETWORK)
            assert result[1] == VALID_INFO, f"byte {offset} ^ {mask:#x} changed the info unnoticed"


def npy_with_header(header: bytes, version: tuple[int, int] = (1, 0)) -> bytes:
    """A .npy entry whose header text is ``header`` (NumPy parses it as a Python literal), then data."""
    length = len(header).to_bytes(2 if version == (1, 0) else 4, "little")
    return b"\x93NUMPY" + bytes(version) + length + header + bytes(96)


HEADER_TEXT = st.text(alphabet="{}[]()'\":,.-+~ 0123456789<f8UOdescrshapefortran_orderTrueFalseL\n\t#\\",
                      max_size=120)


@pytest.mark.parametrize("header", [
    b"{[1]: 0}",                                       # ast.literal_eval: TypeError, unhashable key
    b"-" * 9000 + b"1",                                # the parser: MemoryError
    b"1" + b"+1" * 4000,                               # the parser: RecursionError
    b"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4),",   # tokenize: TokenError
    b"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }\n\t  x",
    b"{'descr': 'O', 'fortran_order': False, 'shape': (3, 4), }",
    b"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3, 4), }",
])
def test_damaged_npy_headers_are_refused(tmp_path: Path, header: bytes) -> None:
    path = write_entries(tmp_path / "model.npz", {**without(valid_entries(), "W1"),
                                                  "W1.npy": npy_with_header(header)})
    refused(path, "'W1'")


# A header that parses only after NumPy's Python 2 clean-up (e.g. "3L") loads with this warning.
@pytest.mark.filterwarnings("ignore:Reading .*required additional header parsing:UserWarning")
@FUZZ
@given(header=HEADER_TEXT, version=st.sampled_from([(1, 0), (2, 0), (3, 0)]),
       key=st.sampled_from(["W1", "b2", "meta"]))
def test_fuzz_npy_headers(header: str, version: tuple[int, int], key: str) -> None:
    entries = {k: v for k, v in valid_entries().items() if k != key}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for k, v in entries.items():
            archive.writestr(f"{k}.npy", npy_bytes(v))
        archive.writestr(f"{key}.npy", npy_with_header(header.encode("latin-1", "replace"), version))
    load_or_refuse(buffer.getvalue())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12) | st.sampled_from([FORMAT, "sigmoid", "softmax", "tanh", "relu", "sse", "ce"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


@FUZZ
@given(changes=st.dictionaries(st.sampled_from([*model_file.REQUIRED_META_FIELDS, "info", "other"]),
                               JSON_VALUES | st.lists(st.integers(-3, 5), max_size=5), max_size=3),
       dropped=st.sets(st.sampled_from(model_file.REQUIRED_META_FIELDS), max_size=2))
def test_fuzz_meta_fields(changes: dict[str, Any], dropped: set[str]) -> None:
    """Any JSON in any field of meta: a clear refusal or, when it happens to be valid, a network."""
    meta = {**meta_dict(), **changes}
    for field in dropped:
        meta.pop(field, None)
    entries = {**valid_entries(), "meta": meta_array(meta)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key, value in entries.items():
            archive.writestr(f"{key}.npy", npy_bytes(value))
    result = load_or_refuse(buffer.getvalue())
    if result is not None:
        assert result[0].sizes == (4, 3, 2)


@FUZZ
@given(junk=st.binary(min_size=1, max_size=256))
def test_fuzz_appended_junk(junk: bytes) -> None:
    result = load_or_refuse(VALID + junk)
    if result is not None:
        assert_same_network(result[0], VALID_NETWORK)
