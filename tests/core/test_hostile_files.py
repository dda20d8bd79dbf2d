"""The hostile corpus: files built to hurt the loaders, each refused (or loaded) with bounded memory,
within seconds and without a hang. The files are made here (``hostile_corpus``), never committed.

Memory is measured two ways: ``tracemalloc`` in this process for what Python and NumPy allocate (the
bombs: each is a few tens of MiB, so the old readers' one-go decompression shows clearly while a
bounded read stays under a few MiB), and the peak RSS (VmHWM) of a child process for the cases whose old cost
was gigabytes (the child's address space is capped at 3 GB so a regression fails with MemoryError
rather than swapping the machine). Time bounds are generous (tens of seconds where the work is a few
milliseconds) so that they cannot flake on a loaded machine, yet fail on a hang.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from studio.core import model_file
from studio.core.data import DataError
from studio.core.digit_folders import load_dataset
from studio.core.digit_text import MAX_FILE_BYTES, format_digit_text
from studio.core.file_limits import STALE_TEMPORARY_SECONDS
from studio.core.image_folder import load_image_folder
from studio.core.model_file import ModelFileError
from studio.core.model_reader import load_model
from studio.core.model_writer import save_model
from studio.core.network import Network
from tests.core import hostile_corpus as corpus

ROOT = Path(__file__).resolve().parents[2]
PEAK_LIMIT_MB = 500
DIGIT = format_digit_text(np.eye(32, dtype=np.uint8)).encode("ascii")


def traced_peak(action: Callable[[], object]) -> tuple[BaseException | None, float]:
    """Run ``action`` under tracemalloc: the exception it raised (or None) and the peak in MiB."""
    tracemalloc.start()
    try:
        action()
        error = None
    except Exception as caught:
        error = caught
    finally:
        peak = tracemalloc.get_traced_memory()[1] / corpus.MIB
        tracemalloc.stop()
    return error, peak


def run_child(code: str, timeout: float = 120) -> tuple[str, int]:
    """Run ``code`` in a fresh Python from the project root: its stdout and peak RSS in MB."""
    wrapper = textwrap.dedent("""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        try:
            exec(compile(sys.argv[1], "<test>", "exec"))
        finally:
            # VmHWM: this process's own peak. ru_maxrss is no good here: Linux carries it over exec
            # from the parent, so it would report the test process's size.
            try:
                with open("/proc/self/status") as status:
                    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
            except OSError:
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print("PEAK_MB", peak // 1024, flush=True)
    """)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", wrapper, textwrap.dedent(code)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    peak = int(done.stdout.rsplit("PEAK_MB", 1)[1]) if "PEAK_MB" in done.stdout else 10**6
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, peak


REFUSE = """
from studio.core.data import DataError
from studio.core.sources import open_data_source
try:
    dataset = open_data_source({path!r})
    print("LOADED", len(dataset.train))
except DataError as error:
    print("REFUSED", error)
"""


# --------------------------------------------------------------------------------------------------
# Zip data sets
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bzip2_member() -> corpus.Member:
    """A digit file's name, a valid digit, then 32 MiB of zeros in bzip2, declaring 1,088 bytes."""
    return corpus.bzip2_bomb("digits/0_0.txt", DIGIT, 32 * corpus.MIB, len(DIGIT))


def test_a_bzip2_member_is_refused_before_anything_is_decompressed(tmp_path: Path,
                                                                    bzip2_member: corpus.Member) -> None:
    path = corpus.write_zip(tmp_path / "bomb.zip", [bzip2_member])
    error, peak = traced_peak(lambda: load_dataset(path))
    assert isinstance(error, DataError)
    assert "bomb.zip/digits/0_0.txt: is compressed with bzip2; only stored or deflated" in str(error)
    assert peak < 8, f"{peak:.1f} MiB"  # reading the member in one go costs its 32 MiB


def test_an_lzma_member_damaged_or_not_is_a_message(tmp_path: Path) -> None:
    path = tmp_path / "lzma.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as archive:
        archive.writestr("digits/0_0.txt", DIGIT)
    data = bytearray(path.read_bytes())
    data[60:70] = bytes(10)  # inside the member's LZMA data: LZMAError when decoded
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="0_0.txt: is compressed with LZMA; only stored or deflated"):
        load_dataset(path)


def test_a_deflate_member_that_lies_about_its_size_costs_at_most_the_cap(tmp_path: Path) -> None:
    body, crc = corpus.deflate_zeros(32 * corpus.MIB)
    member = corpus.Member("digits/0_0.txt", zipfile.ZIP_DEFLATED, body, crc, len(DIGIT))
    path = corpus.write_zip(tmp_path / "liar.zip", [member])
    error, peak = traced_peak(lambda: load_dataset(path))
    assert isinstance(error, DataError) and "liar.zip/digits/0_0.txt" in str(error)
    assert peak < 8, f"{peak:.1f} MiB"


def test_a_zip_of_many_64_kib_members_is_parsed_as_it_is_read(tmp_path: Path) -> None:
    """10,000 members of 64 KiB (640 MiB inflated, 2 MB on disk): the first bad batch stops the load."""
    one = corpus.deflated("x", b"0" * MAX_FILE_BYTES)
    members = [corpus.Member(f"digits/{i % 10}_{i}.txt", one.method, one.data, one.crc, one.size)
               for i in range(10_000)]
    path = corpus.write_zip(tmp_path / "many.zip", members)
    assert path.stat().st_size < 4 * corpus.MIB
    started = time.monotonic()
    out, peak = run_child(REFUSE.format(path=str(path)))
    assert "REFUSED" in out and "many.zip/digits/0_0.txt, line 1, column 33" in out, out
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak} MB"
    assert time.monotonic() - started < 60


def test_a_zip_listing_more_members_than_a_data_set_has_is_refused_before_its_directory_is_read(
        tmp_path: Path) -> None:
    """600,000 empty members (a 50 MB file): Python's zip reader alone takes hundreds of MB for them."""
    empty = corpus.stored("x", b"")
    path = corpus.write_zip(tmp_path / "crowd.zip", [corpus.Member(f"d/{i}.txt", empty.method, b"", 0, 0)
                                                      for i in range(600_000)])
    out, peak = run_child(REFUSE.format(path=str(path)))
    assert "REFUSED" in out and "crowd.zip: lists 600000 members, more than the 500000" in out, out
    assert peak < 150, f"peak RSS {peak} MB"


def test_a_member_name_of_60_kb_makes_a_message_of_one_short_line(tmp_path: Path) -> None:
    name = "digits/" + "<a href=x>Click here to repair" * 2000 + "0_0.txt"
    path = corpus.write_zip(tmp_path / "names.zip", [corpus.stored(name, b"bad")])
    with pytest.raises(DataError) as raised:
        load_dataset(path)
    message = str(raised.value)
    assert len(message) <= 1000 and "\n" not in message and "characters left out" in message


# --------------------------------------------------------------------------------------------------
# Model files
# --------------------------------------------------------------------------------------------------

def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def model_members(sizes: list[int], meta_sizes: list[int] | None = None) -> list[corpus.Member]:
    meta = {"format": "backprop-studio-model", "version": 1, "sizes": meta_sizes or sizes,
            "activation": "sigmoid", "output": "sigmoid", "loss": "sse"}
    members = [corpus.deflated("meta.npy", npy_bytes(np.array(json.dumps(meta, separators=(",", ":")))))]
    for l in range(1, len(sizes)):
        members.append(corpus.stored(f"W{l}.npy", npy_bytes(np.zeros((sizes[l], sizes[l - 1])))))
        members.append(corpus.stored(f"b{l}.npy", npy_bytes(np.zeros(sizes[l]))))
    return members


def test_a_model_with_a_bzip2_entry_is_refused_before_it_is_decompressed(tmp_path: Path) -> None:
    """W1 holds an honest 32 MiB of zeros in a few KB of bzip2: zipfile would inflate it all at once."""
    members = model_members([1024, 10])
    header = npy_bytes(np.zeros((4096, 1024)))[:128]
    bomb = corpus.bzip2_bomb("W1.npy", header, 4096 * 1024 * 8, 128 + 4096 * 1024 * 8)
    members = [m for m in members if m.name != "W1.npy"] + [bomb]
    path = corpus.write_zip(tmp_path / "bomb.npz", members)
    error, peak = traced_peak(lambda: load_model(path))
    assert isinstance(error, ModelFileError)
    assert "entry 'W1.npy' is compressed with bzip2; only stored or deflated" in str(error)
    assert peak < 8, f"{peak:.1f} MiB"


@pytest.mark.parametrize("layers", [2_000_000, 200_000])
def test_a_meta_listing_a_huge_number_of_layers_is_refused_at_once_in_a_short_message(
        tmp_path: Path, layers: int) -> None:
    """The 2,000,000-size meta deflates to ~23 KB; the old reader spent seconds on it and quoted it whole."""
    path = corpus.write_zip(tmp_path / "layers.npz", model_members([4, 3], [1] * layers))
    assert path.stat().st_size < 100_000
    started = time.monotonic()
    with pytest.raises(ModelFileError) as raised:
        load_model(path)
    assert time.monotonic() - started < 5
    message = str(raised.value)
    assert "layers.npz" in message and len(message) < 1000
    assert ("'meta' is longer than" in message if layers > model_file.MAX_META_CHARS // 2
            else f"lists {layers} layers" in message)


def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path: Path) -> None:
    """Only our own leftovers go: our name pattern, a ZIP or empty, older than a minute."""
    old = time.time() - STALE_TEMPORARY_SECONDS - 5
    leftovers = {".m.npz.0123abcd.tmp": b"PK\x03\x04 a killed save", ".x.npz.89abcdef.tmp": b""}
    kept = {".m.npz.fedcba98.tmp": b"PK\x03\x04 a save going on now",       # fresh
            ".3_1.txt.0123abcd.tmp": b"0101",                              # not a ZIP (a digit file)
            ".m.npz.0123abcd.tmp.bak": b"PK\x03\x04", "notes.tmp": b"PK\x03\x04"}
    for name, data in {**leftovers, **kept}.items():
        (tmp_path / name).write_bytes(data)
        if name != ".m.npz.fedcba98.tmp":
            os.utime(tmp_path / name, (old, old))
    save_model(tmp_path / "m.npz", Network.initialised((4, 3), activation="sigmoid", loss="sse", seed=0))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "m.npz"])


# --------------------------------------------------------------------------------------------------
# Pictures
# --------------------------------------------------------------------------------------------------

def test_postscript_named_png_never_reaches_ghostscript(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """60 bytes of ``{ } loop`` hang Ghostscript for good; Pillow runs it for any file that looks like
    PostScript, whatever its name."""
    def no_processes(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was started: {args}")
    for name in ("Popen", "check_call", "run", "call"):
        monkeypatch.setattr(subprocess, name, no_processes)
    (tmp_path / "3").mkdir()
    picture = tmp_path / "3" / "x.png"
    picture.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n{ } loop\n")
    started = time.monotonic()
    with pytest.raises(DataError, match=r"x\.png: cannot be read as a picture of one of the formats PNG"):
        load_image_folder(tmp_path)
    assert time.monotonic() - started < 10


def test_a_png_of_144_megapixels_is_refused_from_its_header(tmp_path: Path) -> None:
    (tmp_path / "7").mkdir()
    picture = tmp_path / "7" / "huge.png"
    picture.write_bytes(corpus.png_header_only(12_000, 12_000))
    assert picture.stat().st_size < 200_000
    out, peak = run_child(REFUSE.format(path=str(tmp_path)))
    assert "REFUSED" in out and "huge.png: is 12000x12000 pixels" in out, out
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak} MB"


def test_many_pictures_load_in_memory_in_proportion_to_their_digits(tmp_path: Path) -> None:
    """600 pictures of 256x256: the old loader held every one as float32 and stacked them (over 1 GB)."""
    from PIL import Image, ImageDraw
    image = Image.new("L", (256, 256), 255)
    ImageDraw.Draw(image).rectangle((90, 40, 160, 220), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    for label in range(10):
        (tmp_path / str(label)).mkdir()
        for i in range(60):
            (tmp_path / str(label) / f"{i}.png").write_bytes(buffer.getvalue())
    out, peak = run_child(REFUSE.format(path=str(tmp_path)), timeout=300)
    assert "LOADED 600" in out, out
    assert peak < 300, f"peak RSS {peak} MB"


# --------------------------------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("count, refusal", [(1_000_000, "labels-idx1-ubyte.gz: its header says 1000000 labels"),
                                             (300_000, "images-idx3-ubyte.gz: its header says 300000 images "
                                                       "of 28x28 pixels (235200000 bytes), but the compressed")])
def test_a_gzip_mnist_file_of_many_blank_images_is_refused_from_its_size(tmp_path: Path, count: int,
                                                                         refusal: str) -> None:
    """1,000,000 blank images are 784 MB raw and ~1 MB of gzip: the old loader took 5 GB and 31 s."""
    folder = corpus.mnist_gzip_bomb(tmp_path / "mnist", count)
    assert (folder / "t10k-images-idx3-ubyte.gz").stat().st_size < 2 * corpus.MIB
    started = time.monotonic()
    out, peak = run_child(REFUSE.format(path=str(folder)))
    assert "REFUSED" in out and refusal in out, out
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak} MB"
    assert time.monotonic() - started < 60


def test_a_raw_mnist_file_shorter_than_its_header_says_is_refused_before_reading(tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch
                                                                                 ) -> None:
    from studio.core import mnist
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(corpus.idx_images_header(200_000) + bytes(1_500_000))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(corpus.idx_labels(bytes(200_000)))
    reads: list[int] = []
    real = mnist._read_exactly
    monkeypatch.setattr(mnist, "_read_exactly", lambda stream, size, *rest: reads.append(size) or real(stream, size, *rest))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: is truncated: expected 200000 images"):
        mnist.load_mnist_folder(tmp_path)
    assert max(reads) <= 200_000  # the labels, and of the images file only its header


# --------------------------------------------------------------------------------------------------
# FIFOs and devices: refused at once wherever a file is expected
# --------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
def test_fifos_are_refused_at_once_wherever_a_file_is_expected(tmp_path: Path) -> None:
    for name in ("data", "data.zip", "model.npz", "digit.txt", "t10k-images-idx3-ubyte"):
        os.mkfifo(tmp_path / name)
    folder = tmp_path / "digits"
    folder.mkdir()
    (folder / "0_0.txt").write_bytes(DIGIT)
    model = tmp_path / "good.npz"
    save_model(model, Network.initialised((1024, 10), activation="sigmoid", loss="sse", seed=0))
    commands = [["train", "--data", str(tmp_path / "data"), "--epochs", "1"],
                ["train", "--data", str(tmp_path / "data.zip"), "--epochs", "1"],
                ["train", "--data", str(tmp_path / "t10k-images-idx3-ubyte"), "--epochs", "1"],
                ["evaluate", str(tmp_path / "model.npz"), "--data", str(folder)],
                ["predict", str(model), str(tmp_path / "digit.txt")],
                ["predict", str(model), "/dev/zero"]]
    code = f"""
        import contextlib, io
        from studio.cli import main
        for argv in {commands!r}:
            errors = io.StringIO()
            with contextlib.redirect_stderr(errors):
                status = main(argv, out=io.StringIO())
            print(status, errors.getvalue().strip())
    """
    out, _ = run_child(code, timeout=60)
    lines = out.splitlines()[:-1]
    assert len(lines) == len(commands), out
    for line, argv in zip(lines, commands):
        named = argv[2] if argv[0] == "train" else argv[-1] if argv[0] == "predict" else argv[1]
        assert line.startswith("2 backprop-studio: error: ") and named in line, line
        assert "not a regular file" in line, line
