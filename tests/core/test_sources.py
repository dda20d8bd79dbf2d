"""open_data_source: every kind of source is recognised; anything else gets one clear error. And the
command line's ``--data`` and ``export``."""
from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio.cli import main
from studio.core.data import DataError
from studio.core.digit_folders import export_dataset, load_dataset
from studio.core.sources import detect_source, export_source, open_data_source
from tests.conftest import DIGITS_ZIP, MNIST, require_shared
from tests.helpers import tiny_dataset


def write_mnist(folder: Path, prefix: str = "t10k", n: int = 4, gz: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    for i in range(n):
        images[i, 4:24, 10 + i % 3:16 + i % 3] = 255
    pack = gzip.compress if gz else (lambda b: b)
    suffix = ".gz" if gz else ""
    head = b"".join(v.to_bytes(4, "big") for v in (2051, n, 28, 28))
    (folder / f"{prefix}-images-idx3-ubyte{suffix}").write_bytes(pack(head + images.tobytes()))
    labels = (np.arange(n) % 10).astype(np.uint8)
    (folder / f"{prefix}-labels-idx1-ubyte{suffix}").write_bytes(
        pack((2049).to_bytes(4, "big") + n.to_bytes(4, "big") + labels.tobytes()))


def write_pictures(folder: Path, labels: tuple[int, ...] = (2, 5)) -> None:
    for label in labels:
        (folder / str(label)).mkdir(parents=True)
        picture = Image.new("L", (40, 50), 255)
        ImageDraw.Draw(picture).ellipse((8, 6, 32, 44), outline=0, width=5)
        picture.save(folder / str(label) / "a.png")


def zip_folder(folder: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(folder.parent).as_posix())


def test_tutorial_folder_and_zip(tmp_path: Path) -> None:
    export_dataset(tiny_dataset(), tmp_path / "tiny")
    zip_folder(tmp_path / "tiny", tmp_path / "tiny.zip")
    for path in (tmp_path / "tiny", tmp_path / "tiny.zip", tmp_path / "tiny" / "trainingDigits"):
        assert detect_source(path)[0] == "tutorial"
        opened, expected = open_data_source(path), load_dataset(path)
        np.testing.assert_array_equal(opened.train.images, expected.train.images)
        assert opened.train.names == expected.train.names


def test_mnist_folder_and_single_file(tmp_path: Path) -> None:
    write_mnist(tmp_path / "mnist", "train", n=6)
    write_mnist(tmp_path / "mnist", "t10k", n=3, gz=False)
    (tmp_path / "mnist" / "README.txt").write_text("MNIST, from somewhere")   # not a tutorial folder
    assert detect_source(tmp_path / "mnist")[0] == "mnist-folder"
    dataset = open_data_source(tmp_path / "mnist")
    assert len(dataset.train) == 6 and dataset.test is not None and len(dataset.test) == 3
    single = tmp_path / "mnist" / "t10k-images-idx3-ubyte"
    assert detect_source(single)[0] == "mnist-file"
    assert len(open_data_source(single).train) == 3


def test_pictures_folder(tmp_path: Path) -> None:
    write_pictures(tmp_path / "pics")
    assert detect_source(tmp_path / "pics")[0] == "images"
    dataset = open_data_source(tmp_path / "pics")
    assert dataset.train.labels.tolist() == [2, 5]


@pytest.mark.parametrize("kind", ["mnist", "pictures"])
def test_a_single_wrapping_folder_is_looked_into(tmp_path: Path, kind: str) -> None:
    inner = tmp_path / "download" / "data"
    write_mnist(inner) if kind == "mnist" else write_pictures(inner)
    kind_found, where = detect_source(tmp_path / "download")
    assert where == inner
    assert len(open_data_source(tmp_path / "download").train) > 0


@pytest.mark.parametrize("make", ["empty folder", "junk folder", "junk file", "image file", "deep folder"])
def test_anything_else_is_not_a_data_set(tmp_path: Path, make: str) -> None:
    target = tmp_path / "thing"
    if make == "empty folder":
        target.mkdir()
    elif make == "junk folder":
        target.mkdir()
        (target / "notes.md").write_text("hello")
        (target / "a").mkdir()
        (target / "b").mkdir()
    elif make == "junk file":
        target.write_bytes(b"hello world, not data")
    elif make == "image file":
        Image.new("L", (8, 8)).save(target.with_suffix(".png"))
        target = target.with_suffix(".png")
    else:
        (target / "one" / "two").mkdir(parents=True)
        write_mnist(target / "one" / "two")          # too deep: only one wrapping level is looked into
    with pytest.raises(DataError) as caught:
        open_data_source(target)
    message = str(caught.value)
    assert message.startswith(str(target)) and "is not a data set" in message and "expected" in message
    assert "trainingDigits/" in message and "MNIST" in message and "0/ to 9/" in message


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        open_data_source(tmp_path / "nowhere")


def test_errors_inside_a_recognised_source_come_from_its_loader(tmp_path: Path) -> None:
    export_dataset(tiny_dataset(), tmp_path / "tiny")
    bad = tmp_path / "tiny" / "trainingDigits" / "0_0.txt"
    bad.write_text("0" * 31 + "x\n" + ("0" * 32 + "\n") * 31)
    with pytest.raises(DataError, match=r"0_0\.txt, line 1, column 32"):
        open_data_source(tmp_path / "tiny")
    write_mnist(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        open_data_source(tmp_path / "mnist")


def test_export_source_round_trips_through_the_tutorials_format(tmp_path: Path) -> None:
    write_mnist(tmp_path / "mnist", "train", n=7)
    write_mnist(tmp_path / "mnist", "t10k", n=3)
    dataset = open_data_source(tmp_path / "mnist")
    export_source(dataset, tmp_path / "out")
    back = load_dataset(tmp_path / "out")
    assert back.test is not None and dataset.test is not None
    for original, loaded in ((dataset.train, back.train), (dataset.test, back.test)):
        order = np.argsort(np.asarray(original.names))  # the loader sorts by (label, number)
        by_name = dict(zip(original.names, original.images))
        np.testing.assert_array_equal(loaded.images, np.stack([by_name[name] for name in loaded.names]))
        assert sorted(loaded.names) == sorted(np.asarray(original.names)[order].tolist())
    with pytest.raises(FileExistsError):
        export_source(dataset, tmp_path / "out")


def test_real_archive_opens() -> None:
    dataset = open_data_source(require_shared(DIGITS_ZIP))
    assert len(dataset.train) == 1934 and dataset.test is not None and len(dataset.test) == 946


def test_real_mnist_folder_opens_as_t10k_only() -> None:
    dataset = open_data_source(require_shared(MNIST))
    assert len(dataset.train) == 10_000 and dataset.test is None


# --------------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------------

def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_cli_export_writes_the_tutorials_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_pictures(tmp_path / "pics", labels=(1, 4, 8))
    status, out = run_cli("export", "--data", str(tmp_path / "pics"), "--out", str(tmp_path / "out"))
    assert status == 0 and "wrote 3 training and 0 test digits" in out
    assert sorted(p.name for p in (tmp_path / "out" / "trainingDigits").iterdir()) == ["1_0.txt", "4_0.txt", "8_0.txt"]
    assert len(load_dataset(tmp_path / "out").train) == 3
    status, _ = run_cli("export", "--data", str(tmp_path / "pics"), "--out", str(tmp_path / "out"))
    error = capsys.readouterr().err
    assert status == 2 and "already exists" in error and error.count("\n") == 1
    status, _ = run_cli("export", "--data", str(tmp_path / "out" / "nothing"), "--out", str(tmp_path / "x"))
    assert status == 2 and "does not exist" in capsys.readouterr().err


def test_cli_train_and_evaluate_accept_mnist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_mnist(tmp_path / "mnist", "train", n=20)
    write_mnist(tmp_path / "mnist", "t10k", n=10)
    model = tmp_path / "m.npz"
    status, out = run_cli("train", "--data", str(tmp_path / "mnist"), "--hidden", "4", "--epochs", "2",
                          "--seed", "0", "--save", str(model))
    assert status == 0, capsys.readouterr().err
    assert "20 training samples, 10 test samples" in out
    status, out = run_cli("evaluate", str(model), "--data", str(tmp_path / "mnist"))
    assert status == 0 and "test: accuracy" in out
    (tmp_path / "empty").mkdir()
    status, _ = run_cli("evaluate", str(model), "--data", str(tmp_path / "empty"))
    assert status == 2 and "is not a data set" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# Progress and cancel
# --------------------------------------------------------------------------------------------------

def make_source(tmp_path: Path, kind: str) -> Path:
    """A source of each kind whose samples come in several batches, so progress is seen mid-way."""
    if kind in ("folder", "zip"):
        from tests.helpers import tiny_split
        from studio.core.data import Dataset
        export_dataset(Dataset("t", "t", tiny_split(130, 0), tiny_split(30, 1)), tmp_path / "tiny")
        if kind == "folder":
            return tmp_path / "tiny"
        zip_folder(tmp_path / "tiny", tmp_path / "tiny.zip")
        return tmp_path / "tiny.zip"
    if kind == "mnist":
        from studio.core import convert
        write_mnist(tmp_path / "m", prefix="train", n=convert.CHUNK + 5)
        write_mnist(tmp_path / "m", prefix="t10k", n=7)
        return tmp_path / "m"
    write_pictures(tmp_path / "pics" / "train", labels=(1, 2, 3))
    write_pictures(tmp_path / "pics" / "test", labels=(4, 5))
    return tmp_path / "pics"


@pytest.mark.parametrize("kind", ["folder", "zip", "mnist", "pictures"])
def test_progress_counts_every_sample_and_false_cancels(tmp_path: Path, kind: str) -> None:
    from studio.core.digit_folders import LoadCancelled
    path = make_source(tmp_path, kind)
    calls: list[tuple[int, int]] = []
    dataset = open_data_source(path, progress=lambda done, total: calls.append((done, total)) is None)
    samples = len(dataset.train) + (len(dataset.test) if dataset.test is not None else 0)
    assert len(calls) >= 2 and calls[-1] == (samples, samples)
    assert all(a[0] < b[0] for a, b in zip(calls, calls[1:])) and all(d <= t for d, t in calls)
    assert {total for _, total in calls} == {samples}  # the total is known from the start

    seen: list[int] = []
    with pytest.raises(LoadCancelled):
        open_data_source(path, progress=lambda done, total: seen.append(done) is None and len(seen) < 2)
    assert len(seen) == 2  # stopped at the first False, nothing more read
