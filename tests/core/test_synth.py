"""The handwriting synthesiser: reproducible, shaped like the tutorial's digits, learnable, and the
shipped data/synthetic is exactly what the generator makes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.core import synth
from studio.core.data import Split
from studio.core.digit_folders import load_dataset

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data" / "synthetic"
SMALL = (6, 5, 4, 3, 2, 2, 3, 4, 5, 6)


@pytest.fixture(scope="module")
def sample() -> Split:
    """Thirty of each digit, shared by the shape tests."""
    return synth.generate_split([30] * 10, seed=5)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_images() -> None:
    a = synth.generate_split(SMALL, seed=11)
    b = synth.generate_split(SMALL, seed=11)
    c = synth.generate_split(SMALL, seed=12)
    assert a.images.tobytes() == b.images.tobytes()
    assert a.names == b.names and np.array_equal(a.labels, b.labels)
    # Every image differs, not merely one: a seed that only moved the last sample would pass "any".
    assert (a.images != c.images).any(axis=1).all()


def test_render_digit_is_seeded_by_the_generator_it_is_given() -> None:
    one = synth.render_digit(7, np.random.default_rng(3))
    two = synth.render_digit(7, np.random.default_rng(3))
    assert one.shape == (32, 32) and one.dtype == np.uint8
    assert np.array_equal(one, two)
    with pytest.raises(ValueError, match="0-9"):
        synth.render_digit(10, np.random.default_rng(0))


def test_counts_labels_names_and_order_are_as_asked() -> None:
    split = synth.generate_split(SMALL, seed=1)
    assert split.images.shape == (sum(SMALL), 1024) and split.images.dtype == np.uint8
    assert split.labels.dtype == np.int64
    assert split.class_counts().tolist() == list(SMALL)
    assert np.all(np.diff(split.labels) >= 0)
    expected = tuple(f"{d}_{i}.txt" for d, n in enumerate(SMALL) for i in range(n))
    assert split.names == expected


def test_zero_counts_and_bad_counts() -> None:
    assert len(synth.generate_split([0] * 10, seed=0)) == 0
    assert synth.generate_split([0, 2] + [0] * 8, seed=0).labels.tolist() == [1, 1]
    with pytest.raises(ValueError, match="10 numbers"):
        synth.generate_split([1] * 9, seed=0)
    with pytest.raises(ValueError, match="10 numbers"):
        synth.generate_split([1] * 9 + [-1], seed=0)


def test_images_are_binary_with_tutorial_like_ink_and_fill_the_box_height(sample: Split) -> None:
    images = sample.images.reshape(-1, 32, 32)
    assert set(np.unique(images).tolist()) <= {0, 1}
    ink = images.mean(axis=(1, 2))
    # The tutorial's digits hold 25-40% ink (mean 0.31); ours must be in the same range.
    assert 0.2 <= ink.min() and ink.max() <= 0.45 and 0.28 <= ink.mean() <= 0.34
    rows = images.any(axis=2)
    top = rows.argmax(axis=1)
    bottom = 31 - rows[:, ::-1].argmax(axis=1)
    assert (top <= 1).all() and (bottom >= 30).all()
    cols = images.any(axis=1)
    width = 32 - cols.argmax(axis=1) - cols[:, ::-1].argmax(axis=1)
    # About 20 columns wide and roughly centred, as the tutorial's normaliser leaves them.
    assert 17 <= width.mean() <= 23 and (width < 32).mean() > 0.95
    centre = (cols.argmax(axis=1) + 31 - cols[:, ::-1].argmax(axis=1)) / 2
    assert abs(centre.mean() - 15.5) < 1.5


def test_digits_differ_from_one_another(sample: Split) -> None:
    images = sample.images
    assert len({row.tobytes() for row in images}) == len(images)
    for digit in range(10):
        mine = images[sample.labels == digit].astype(np.int64)
        distances = np.abs(mine[:, None, :] - mine[None, :, :]).sum(axis=2)
        off_diagonal = distances[~np.eye(len(mine), dtype=bool)]
        # Variants, slant and jitter: two samples of a digit differ in more than a few edge pixels.
        assert np.median(off_diagonal) > 100


def test_a_nearest_neighbour_learns_synthetic_digits_well_above_chance() -> None:
    """The digits carry their class: a 3-NN on 200 samples labels 200 others far better than the 10%
    of chance (it gets about 90%; a generator that drew every digit alike would fail this)."""
    train = synth.generate_split([20] * 10, seed=100)
    test = synth.generate_split([20] * 10, seed=200)
    a = train.images.astype(np.float64)
    b = test.images.astype(np.float64)
    hamming = a.sum(1)[None, :] + b.sum(1)[:, None] - 2 * b @ a.T
    nearest = np.argsort(hamming, axis=1, kind="stable")[:, :3]
    votes = train.labels[nearest]
    predicted = np.array([np.bincount(v, minlength=10).argmax() for v in votes])
    assert (predicted == test.labels).mean() > 0.7


def test_the_warp_bends_a_digit_smoothly_and_keeps_its_stroke_order() -> None:
    """The warp moves points by a few hundredths of the height, neighbours alike (no tearing), and
    keeps each polyline's length in points."""
    line = np.stack([np.full(41, 0.3), np.linspace(0.0, 1.0, 41)], axis=1)
    bar = np.stack([np.linspace(0.0, 0.6, 21), np.full(21, 0.55)], axis=1)
    moved = [synth._warp([line, bar], np.random.default_rng(seed)) for seed in range(20)]
    for warped_line, warped_bar in moved:
        assert warped_line.shape == line.shape and warped_bar.shape == bar.shape
        shift = warped_line - line
        assert np.abs(shift).max() < 0.35
        # Smooth: the shift of one point is close to that of the next (0.025 apart).
        assert np.abs(np.diff(shift, axis=0)).max() < 0.05
        # The proportion warp is monotonic: the vertical stroke still runs downwards.
        assert (np.diff(warped_line[:, 1]) > 0).all()
    assert np.std([w[0] - line for w in moved]) > 0.02


def test_edge_noise_is_smooth_with_unit_spread() -> None:
    noise = synth._smooth_noise(np.random.default_rng(0).normal(size=(200, 34, 34)))
    assert noise.shape == (200, 32, 32)
    assert 0.95 < noise.std() < 1.05
    # Neighbouring pixels share six of their nine white-noise terms: correlation 2/3.
    neighbours = np.corrcoef(noise[:, :, :-1].ravel(), noise[:, :, 1:].ravel())[0, 1]
    assert 0.6 < neighbours < 0.73


def test_dataset_train_is_the_split_of_its_seed_and_test_is_different() -> None:
    dataset = synth.generate_dataset(SMALL, SMALL[::-1], seed=4, name="tiny")
    assert dataset.name == "tiny" and dataset.test is not None
    assert dataset.train.images.tobytes() == synth.generate_split(SMALL, seed=4).images.tobytes()
    assert dataset.test.class_counts().tolist() == list(SMALL[::-1])
    train_rows = {row.tobytes() for row in dataset.train.images}
    assert not train_rows.intersection(row.tobytes() for row in dataset.test.images)


def test_synth_command_writes_the_tutorial_layout_that_loads_back(tmp_path: Path) -> None:
    dataset = synth.synth_command(tmp_path / "out", seed=9, train_counts=SMALL, test_counts=[1] * 10)
    loaded = load_dataset(tmp_path / "out")
    assert loaded.test is not None and dataset.test is not None
    assert np.array_equal(loaded.train.images, dataset.train.images)
    assert loaded.train.names == dataset.train.names
    assert np.array_equal(loaded.test.images, dataset.test.images)
    assert (tmp_path / "out" / "trainingDigits" / "0_0.txt").stat().st_size == 1088
    with pytest.raises(FileExistsError):
        synth.synth_command(tmp_path / "out", seed=9, train_counts=SMALL, test_counts=[1] * 10)


def test_default_counts_are_the_tutorials() -> None:
    assert synth.DEFAULT_TRAIN_COUNTS == (189, 198, 195, 199, 186, 187, 195, 201, 180, 204)
    assert synth.DEFAULT_TEST_COUNTS == (87, 97, 92, 85, 114, 108, 87, 96, 91, 89)


def test_the_shipped_data_set_is_exactly_what_the_generator_makes() -> None:
    if not (SHIPPED / "trainingDigits").is_dir():
        pytest.skip(f"{SHIPPED} is missing: generate it with "
                    "python -m studio synth --out data/synthetic")
    shipped = load_dataset(SHIPPED)
    made = synth.generate_dataset(synth.DEFAULT_TRAIN_COUNTS, synth.DEFAULT_TEST_COUNTS,
                                  synth.DEFAULT_SEED)
    assert shipped.test is not None and made.test is not None
    assert shipped.train.names == made.train.names and shipped.test.names == made.test.names
    assert np.array_equal(shipped.train.images, made.train.images)
    assert np.array_equal(shipped.test.images, made.test.images)
