"""MNIST IDX files: reading (raw and gzip), every malformed case, the 28x28 -> 32x32 mapping, folders."""
from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pytest

from studio.core import convert
from studio.core.data import DataError
from studio.core.digit_folders import load_dataset
from studio.core.mnist import (convert_mnist_images, find_mnist_files, load_mnist, load_mnist_file,
                               load_mnist_folder, read_idx_images, read_idx_labels)
from tests.conftest import DIGITS, MNIST, require_shared


def idx_images(images: np.ndarray, magic: int = 2051) -> bytes:
    n, rows, cols = images.shape
    header = b"".join(v.to_bytes(4, "big") for v in (magic, n, rows, cols))
    return header + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray, magic: int = 2049) -> bytes:
    return magic.to_bytes(4, "big") + len(labels).to_bytes(4, "big") + np.asarray(labels, np.uint8).tobytes()


def bar(top: int, bottom: int, left: int, right: int, value: int = 255) -> np.ndarray:
    """A 28x28 image with one filled rectangle of ink."""
    image = np.zeros((28, 28), dtype=np.uint8)
    image[top:bottom, left:right] = value
    return image


def write_pair(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray, gz: bool) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    pack = gzip.compress if gz else (lambda b: b)
    images_path = folder / f"{prefix}-images-idx3-ubyte{suffix}"
    labels_path = folder / f"{prefix}-labels-idx1-ubyte{suffix}"
    images_path.write_bytes(pack(idx_images(images)))
    labels_path.write_bytes(pack(idx_labels(labels)))
    return images_path, labels_path


def some_images(n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Bars of different widths and heights, labels 0..n-1 mod 10."""
    rng = np.random.default_rng(seed)
    images = np.stack([bar(4 + i % 3, 24 - i % 2, 10 - i % 4, 14 + i % 5) for i in range(n)])
    images = np.clip(images.astype(int) - rng.integers(0, 30, images.shape) * (images > 0), 0, 255).astype(np.uint8)
    return images, np.arange(n) % 10


# --------------------------------------------------------------------------------------------------
# The mapping
# --------------------------------------------------------------------------------------------------

def test_a_bar_fills_the_height_is_centred_and_keeps_its_aspect() -> None:
    # 20 rows x 8 columns of ink -> 32 tall and 8 * 32 / 20 = 12.8 wide, centred in 32.
    out = convert_mnist_images(bar(4, 24, 10, 18)[None])[0].reshape(32, 32)
    rows = np.flatnonzero(out.any(axis=1))
    cols = np.flatnonzero(out.any(axis=0))
    assert rows[0] == 0 and rows[-1] == 31
    assert 12 <= len(cols) <= 14
    assert abs((cols[0] + cols[-1]) / 2 - 15.5) <= 0.5
    assert out[:, cols[0]:cols[-1] + 1].all()  # a solid block stays solid


def test_wide_digits_are_narrowed_and_thin_ones_widened_to_the_tutorials_range() -> None:
    wide = convert_mnist_images(bar(10, 18, 2, 26)[None])[0].reshape(32, 32)   # 8 tall, 24 wide
    thin = convert_mnist_images(bar(4, 24, 13, 15)[None])[0].reshape(32, 32)   # 20 tall, 2 wide
    assert wide.any(axis=0).sum() == pytest.approx(convert.MAX_WIDTH, abs=1)
    # Kept to scale, the thin bar would be 2 * 32 / 20 = 3.2 px wide. Blown up 6x, its soft edges reach
    # the 0.3 threshold about a pixel beyond the box on each side: 12 + 2.
    assert thin.any(axis=0).sum() == pytest.approx(convert.MIN_WIDTH, abs=2)


def test_a_slanted_stroke_is_made_upright() -> None:
    image = np.zeros((28, 28), dtype=np.uint8)
    for y in range(4, 24):                  # a "/" leaning one pixel per two rows
        x = 18 - (y - 4) // 2
        image[y, x:x + 3] = 255
    out = convert_mnist_images(image[None])[0].reshape(32, 32)
    top_centre = np.flatnonzero(out[2]).mean()
    bottom_centre = np.flatnonzero(out[29]).mean()
    assert abs(top_centre - bottom_centre) <= 2      # it was 10 px apart (20 rows * 0.5) before scaling


def test_threshold_and_bounding_box_levels() -> None:
    faint = convert_mnist_images(bar(4, 24, 10, 18, value=100)[None])[0]    # 0.39: below the box level
    blank = convert_mnist_images(np.zeros((1, 28, 28), np.uint8))[0]
    assert not faint.any() and not blank.any()
    images = np.stack([bar(4, 24, 10, 18, value=v) for v in (140, 255)])     # >= 0.5: counts
    assert convert_mnist_images(images).all(axis=1).sum() == 0 and convert_mnist_images(images).any(axis=1).all()


def test_conversion_is_batched_the_same_as_one_by_one() -> None:
    images, _ = some_images(12)
    together = convert_mnist_images(images)
    apart = np.stack([convert_mnist_images(image[None])[0] for image in images])
    assert together.dtype == np.uint8 and together.shape == (12, 1024)
    np.testing.assert_array_equal(together, apart)
    assert set(np.unique(together)) <= {0, 1}


def test_convert_refuses_other_arrays() -> None:
    with pytest.raises(ValueError):
        convert_mnist_images(np.zeros((2, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError):
        convert_mnist_images(np.zeros((28, 28), dtype=np.uint8))


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_load_pairs_images_and_labels_in_file_order(tmp_path: Path, gz: bool) -> None:
    images, labels = some_images(6)
    labels = np.array([3, 1, 4, 1, 5, 9])
    images_path, labels_path = write_pair(tmp_path, "train", images, labels, gz)
    split = load_mnist(images_path, labels_path)
    assert split.names == ("3_0.txt", "1_1.txt", "4_2.txt", "1_3.txt", "5_4.txt", "9_5.txt")
    np.testing.assert_array_equal(split.labels, labels)
    np.testing.assert_array_equal(split.images, convert_mnist_images(images))
    np.testing.assert_array_equal(read_idx_images(images_path), images)


def damaged(tmp_path: Path, what: str) -> tuple[Path, Path]:
    images, labels = some_images(5)
    images_path, labels_path = write_pair(tmp_path, "t10k", images, labels, gz=False)
    if what == "truncated images":
        images_path.write_bytes(idx_images(images)[:-100])
    elif what == "truncated header":
        images_path.write_bytes(idx_images(images)[:10])
    elif what == "truncated gzip":
        images_path = images_path.with_name(images_path.name + ".gz")
        images_path.write_bytes(gzip.compress(idx_images(images))[:-30])
    elif what == "damaged gzip":
        data = bytearray(gzip.compress(idx_images(images)))
        data[20:40] = bytes(20)
        images_path = images_path.with_name(images_path.name + ".gz")
        images_path.write_bytes(bytes(data))
    elif what == "labels given as images":
        images_path.write_bytes(idx_labels(labels))
    elif what == "wrong magic":
        images_path.write_bytes(idx_images(images, magic=2052))
    elif what == "count mismatch":
        labels_path.write_bytes(idx_labels(labels[:4]))
    elif what == "wrong dimensions":
        images_path.write_bytes(idx_images(np.zeros((5, 32, 32), np.uint8)))
    elif what == "label out of range":
        labels_path.write_bytes(idx_labels(np.array([1, 2, 12, 3, 4])))
    elif what == "extra bytes":
        labels_path.write_bytes(idx_labels(labels) + b"\0\0")
    elif what == "empty":
        labels_path.write_bytes(b"")
    return images_path, labels_path


@pytest.mark.parametrize("what, bad_file, words", [
    ("truncated images", "images", "truncated"),
    ("truncated header", "images", "truncated"),
    ("truncated gzip", "images", "truncated"),
    ("damaged gzip", "images", "gzip"),
    ("labels given as images", "images", "labels file"),
    ("wrong magic", "images", "magic number"),
    ("count mismatch", "labels", "5 images but"),
    ("wrong dimensions", "images", "32x32"),
    ("label out of range", "labels", "label 12 at index 2"),
    ("extra bytes", "labels", "left over"),
    ("empty", "labels", "truncated"),
])
def test_malformed_files_are_refused_naming_the_file(tmp_path: Path, what: str, bad_file: str, words: str) -> None:
    images_path, labels_path = damaged(tmp_path, what)
    with pytest.raises(DataError) as caught:
        load_mnist(images_path, labels_path)
    message = str(caught.value)
    assert str(images_path if bad_file == "images" else labels_path) in message
    assert words in message


def test_a_header_claiming_too_many_images_is_refused_without_reading_them(tmp_path: Path) -> None:
    path = tmp_path / "huge-images-idx3-ubyte"
    path.write_bytes(b"".join(v.to_bytes(4, "big") for v in (2051, 4_000_000_000, 28, 28)) + bytes(784))
    with pytest.raises(DataError, match="header says 4000000000 images"):
        read_idx_images(path)
    labels = tmp_path / "huge-labels-idx1-ubyte"
    labels.write_bytes((2049).to_bytes(4, "big") + (299_999).to_bytes(4, "big") + bytes(10))
    with pytest.raises(DataError, match="truncated"):
        read_idx_labels(labels)


def test_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope: does not exist"):
        read_idx_labels(tmp_path / "nope")


# --------------------------------------------------------------------------------------------------
# Folders and single files
# --------------------------------------------------------------------------------------------------

def test_folder_with_train_and_t10k(tmp_path: Path) -> None:
    train_images, train_labels = some_images(8, seed=1)
    test_images, test_labels = some_images(4, seed=2)
    write_pair(tmp_path / "mnist", "train", train_images, train_labels, gz=True)
    write_pair(tmp_path / "mnist", "t10k", test_images, test_labels, gz=False)
    (tmp_path / "mnist" / "README.txt").write_text("not a digit")
    dataset = load_mnist_folder(tmp_path / "mnist")
    assert dataset.name == "mnist"
    assert len(dataset.train) == 8 and dataset.test is not None and len(dataset.test) == 4
    np.testing.assert_array_equal(dataset.test.images, convert_mnist_images(test_images))


def test_folder_with_only_t10k_trains_on_it(tmp_path: Path) -> None:
    images, labels = some_images(4)
    write_pair(tmp_path / "m", "t10k", images, labels, gz=True)
    dataset = load_mnist_folder(tmp_path / "m")
    assert dataset.test is None and len(dataset.train) == 4
    assert "t10k only" in dataset.name


def test_folder_names_with_a_dot_and_raw_preferred_over_gz(tmp_path: Path) -> None:
    images, labels = some_images(3)
    (tmp_path / "train-images.idx3-ubyte").write_bytes(idx_images(images))
    (tmp_path / "train-labels.idx1-ubyte").write_bytes(idx_labels(labels))
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"broken")
    found = find_mnist_files(tmp_path)
    assert found["train"]["images"].name == "train-images.idx3-ubyte"
    assert found["train"]["labels"].name == "train-labels.idx1-ubyte"   # raw wins over .gz
    assert len(load_mnist_folder(tmp_path).train) == 3


def test_folder_with_images_but_no_labels(tmp_path: Path) -> None:
    images, labels = some_images(3)
    write_pair(tmp_path, "train", images, labels, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="no train-labels-idx1-ubyte"):
        load_mnist_folder(tmp_path)


@pytest.mark.parametrize("which", ["images", "labels"])
def test_single_file_finds_its_partner(tmp_path: Path, which: str) -> None:
    images, labels = some_images(5)
    images_path, labels_path = write_pair(tmp_path, "t10k", images, labels, gz=True)
    dataset = load_mnist_file(images_path if which == "images" else labels_path)
    assert dataset.name == "t10k" and dataset.test is None and len(dataset.train) == 5
    labels_path.unlink()
    with pytest.raises(DataError, match="not beside it"):
        load_mnist_file(images_path)


# --------------------------------------------------------------------------------------------------
# The real MNIST test set
# --------------------------------------------------------------------------------------------------

def test_real_t10k_converts_to_tutorial_like_digits() -> None:
    folder = require_shared(MNIST)
    start = time.perf_counter()
    dataset = load_mnist_folder(folder)
    seconds = time.perf_counter() - start
    print(f"\nMNIST t10k: read and converted 10,000 images in {seconds:.2f} s")
    split = dataset.train
    assert len(split) == 10_000 and dataset.test is None
    np.testing.assert_array_equal(split.class_counts(), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    grid = split.images.reshape(-1, 32, 32).astype(bool)
    rows = grid.any(axis=2)
    assert (rows[:, 0] & rows[:, 31]).mean() > 0.95          # they fill the height, like the tutorial's
    assert 0.26 < split.images.mean() < 0.36                  # ink share near the tutorial's 0.308


def test_real_t10k_is_recognisable_by_the_tutorials_digits() -> None:
    """An independent oracle for the mapping: 1-nearest-neighbour against the tutorial's own digits."""
    mnist = load_mnist_folder(require_shared(MNIST)).train
    tutorial = load_dataset(require_shared(DIGITS)).train
    queries = mnist.images[:1500].astype(np.float32)
    reference = tutorial.images.astype(np.float32)
    distances = (queries ** 2).sum(1)[:, None] - 2 * queries @ reference.T + (reference ** 2).sum(1)[None]
    accuracy = (tutorial.labels[distances.argmin(axis=1)] == mnist.labels[:1500]).mean()
    print(f"\n1-NN of converted MNIST against the tutorial's digits: {accuracy:.3f}")
    assert accuracy > 0.72   # 0.78 measured; 0.65 without deslanting
