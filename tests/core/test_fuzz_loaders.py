"""Fuzzing every loader: byte flips, truncations, zeroed and repeated runs of valid files (seeded).

Whatever the damage, a loader either loads or raises its own error type (``DataError``, or
``ModelFileError`` for models): never another exception, never a hang, never a process started.

Each loader gets ``FUZZ_ITERATIONS`` mutated files (default 150, a few seconds each). Before a release,
run a longer campaign with other seeds, e.g.::

    STUDIO_FUZZ_ITERATIONS=20000 STUDIO_FUZZ_SEED=7 QT_QPA_PLATFORM=offscreen \\
        .venv/bin/python -m pytest -q tests/core/test_fuzz_loaders.py

A failure names the seed, the iteration and the mutation, which reproduce it exactly.
"""
from __future__ import annotations

import gzip
import io
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio.core.data import DataError
from studio.core.digit_folders import load_dataset
from studio.core.digit_text import format_digit_text
from studio.core.image_folder import picture_to_digit
from studio.core.mnist import load_mnist
from studio.core.model_file import ModelFileError
from studio.core.model_reader import load_model_bytes
from studio.core.model_writer import save_model
from studio.core.network import Network
from tests.helpers import tiny_split

FUZZ_ITERATIONS = int(os.environ.get("STUDIO_FUZZ_ITERATIONS", "150"))
FUZZ_SEED = int(os.environ.get("STUDIO_FUZZ_SEED", "0"))


def mutate(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    """One random damage to ``data`` and its description (to reproduce a failure)."""
    out = bytearray(data)
    kind = rng.integers(5)
    if kind == 0:
        count = int(rng.integers(1, 9))
        where = rng.integers(0, len(out), count)
        out_values = rng.integers(0, 256, count)
        for i, v in zip(where, out_values):
            out[int(i)] = int(v)
        return bytes(out), f"set bytes {where.tolist()} to {out_values.tolist()}"
    if kind == 1:
        cut = int(rng.integers(0, len(out)))
        return bytes(out[:cut]), f"truncated at {cut}"
    start = int(rng.integers(0, len(out)))
    length = int(rng.integers(1, 65))
    if kind == 2:
        out[start:start + length] = bytes(len(out[start:start + length]))
        return bytes(out), f"zeroed {length} bytes at {start}"
    if kind == 3:
        out[start:start] = out[start:start + length]
        return bytes(out), f"repeated {length} bytes at {start}"
    bit = int(rng.integers(0, 8))
    out[start] ^= 1 << bit
    return bytes(out), f"flipped bit {bit} of byte {start}"


def fuzz(name: str, seeds: list[bytes], load: Callable[[bytes], object],
         allowed: tuple[type[BaseException], ...]) -> None:
    """Load ``FUZZ_ITERATIONS`` mutations of the ``seeds`` with ``load``; fail on any other exception."""
    rng = np.random.default_rng([FUZZ_SEED, sum(name.encode())])
    for iteration in range(FUZZ_ITERATIONS):
        seed = seeds[iteration % len(seeds)]
        data, how = mutate(seed, rng)
        try:
            load(data)
        except allowed:
            pass
        except Exception as error:  # the failure is the point: say how to reproduce it
            raise AssertionError(f"{name}: seed {FUZZ_SEED}, iteration {iteration}, file {iteration % len(seeds)}, "
                                 f"{how}: {type(error).__name__}: {error}") from error


@pytest.fixture(autouse=True)
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """No loader may start a process (Pillow runs Ghostscript for anything that looks like PostScript)."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was started: {args}")
    for name in ("Popen", "check_call", "run", "call"):
        monkeypatch.setattr(subprocess, name, refuse)


def test_fuzz_zip_data_sets(tmp_path: Path) -> None:
    split = tiny_split(2, seed=0)
    seeds = []
    for compression in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
            for folder in ("trainingDigits", "testDigits"):
                for name, image in zip(split.names, split.images):
                    archive.writestr(f"digits/{folder}/{name}", format_digit_text(image).encode("ascii"))
        seeds.append(buffer.getvalue())
    path = tmp_path / "fuzz.zip"
    load_dataset_from = lambda data: (path.write_bytes(data), load_dataset(path))  # noqa: E731
    load_dataset_from(seeds[0])
    fuzz("zip data sets", seeds, load_dataset_from, (DataError,))


def test_fuzz_model_files(tmp_path: Path) -> None:
    network = Network.initialised((6, 4, 3), activation="tanh", loss="ce", seed=3)
    save_model(tmp_path / "m.npz", network, {"epochs": 2, "note": "fuzz"})
    stored = (tmp_path / "m.npz").read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(stored)) as source, \
            zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as deflated:
        for info in source.infolist():
            deflated.writestr(info.filename, source.read(info))
    load_model_bytes(buffer.getvalue())
    fuzz("model files", [stored, buffer.getvalue()], load_model_bytes, (ModelFileError,))


def test_fuzz_mnist(tmp_path: Path) -> None:
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    for i in range(5):
        images[i, 4:24, 8 + 2 * i:14 + 2 * i] = 200 + 10 * i
    head = b"".join(v.to_bytes(4, "big") for v in (2051, 5, 28, 28))
    labels = (2049).to_bytes(4, "big") + (5).to_bytes(4, "big") + bytes(range(5))
    raw_images = head + images.tobytes()
    images_path, labels_path = tmp_path / "images", tmp_path / "labels"

    def load_pair(images_data: bytes, labels_data: bytes) -> None:
        images_path.write_bytes(images_data)
        labels_path.write_bytes(labels_data)
        load_mnist(images_path, labels_path)

    load_pair(gzip.compress(raw_images), gzip.compress(labels))
    # The images file damaged with its labels intact, then the other way round.
    fuzz("MNIST images", [raw_images, gzip.compress(raw_images, mtime=0)],
         lambda data: load_pair(data, labels), (DataError,))
    fuzz("MNIST labels", [labels, gzip.compress(labels, mtime=0)],
         lambda data: load_pair(raw_images, data), (DataError,))


def test_fuzz_pictures(tmp_path: Path) -> None:
    picture = Image.new("L", (24, 30), 255)
    ImageDraw.Draw(picture).line((4, 4, 20, 4, 10, 26), fill=0, width=3)
    seeds = []
    for fmt in ("PNG", "JPEG", "BMP", "GIF", "TIFF"):
        buffer = io.BytesIO()
        picture.convert("RGBA" if fmt == "PNG" else "L").save(buffer, format=fmt)
        seeds.append(buffer.getvalue())
    seeds.append(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 24 30\n{ } loop\n")
    path = tmp_path / "x.png"
    load = lambda data: (path.write_bytes(data), picture_to_digit(path))  # noqa: E731
    load(seeds[0])
    fuzz("pictures", seeds, load, (DataError,))
