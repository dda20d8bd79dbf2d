"""RunHistory and smooth: storage, growth, segments, CSV, and the display smoothing."""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np
import pytest

from studio.core.history import COLUMNS, CSV_HEADER, RunHistory, smooth
from studio.core.training import PRESETS, EpochFinished, TrainingConfig


def event(epoch: int, loss: float = 0.5, acc: float = 0.8, test_loss: float | None = 0.6,
          test_acc: float | None = 0.7, seconds: float = 0.01, lr: float = 0.01,
          samples: int = 100) -> EpochFinished:
    return EpochFinished(epoch=epoch, train_loss=loss, train_accuracy=acc, test_loss=test_loss,
                         test_accuracy=test_acc, seconds=seconds, elapsed=seconds * epoch,
                         learning_rate=lr, samples=samples)


def test_append_stores_every_field_in_its_column() -> None:
    history = RunHistory(TrainingConfig())
    history.append(event(1, loss=0.9, acc=0.1, test_loss=0.8, test_acc=0.2, seconds=0.5, lr=0.03,
                         samples=7))
    assert len(history) == 1
    expected = {"epoch": 1, "train_loss": 0.9, "train_acc": 0.1, "test_loss": 0.8, "test_acc": 0.2,
                "seconds": 0.5, "lr": 0.03, "samples": 7}
    for name, value in expected.items():
        np.testing.assert_array_equal(history.column(name), [value])
    assert set(expected) == set(COLUMNS)


def test_missing_test_values_are_nan() -> None:
    history = RunHistory()
    history.append(event(1, test_loss=None, test_acc=None))
    assert np.isnan(history.column("test_loss")[0]) and np.isnan(history.column("test_acc")[0])
    assert not history.has_test


def test_growth_by_doubling_keeps_values_and_memory_stays_compact() -> None:
    history = RunHistory(capacity=4)
    history.extend(event(e, loss=1.0 / e) for e in range(1, 100_001))
    assert len(history) == 100_000
    assert history.capacity == 131_072          # 4 doubled until >= 100,000
    assert history.nbytes == len(COLUMNS) * 131_072 * 8
    assert history.nbytes < 10 * 1024 * 1024
    np.testing.assert_array_equal(history.column("epoch"), np.arange(1, 100_001))
    np.testing.assert_allclose(history.column("train_loss"), 1.0 / np.arange(1, 100_001))
    # No per-epoch Python objects are kept: the object itself is small.
    assert sys.getsizeof(history.__dict__) < 2000


def test_column_is_a_read_only_view_that_stays_valid_after_growth() -> None:
    history = RunHistory(capacity=2)
    history.extend([event(1, loss=3.0), event(2, loss=2.0)])
    early = history.column("train_loss")
    history.extend(event(e) for e in range(3, 10))
    np.testing.assert_array_equal(early, [3.0, 2.0])
    with pytest.raises(ValueError):
        history.column("train_loss")[0] = 1.0
    with pytest.raises(KeyError, match="columns are"):
        history.column("accuracy")


def test_segments_continue_the_epoch_numbers() -> None:
    history = RunHistory()
    history.extend([event(1), event(2), event(3)])
    history.extend([event(4), event(5)])        # a train() call with first_epoch=3
    np.testing.assert_array_equal(history.column("epoch"), [1, 2, 3, 4, 5])
    assert history.last_epoch == 5
    assert history.remaining_epochs(8) == 3
    assert history.remaining_epochs(4) == 0
    assert history.remaining_epochs(None) is None


def test_row_and_speed_and_time() -> None:
    history = RunHistory()
    history.extend([event(1, seconds=0.5, samples=100), event(2, seconds=1.5, samples=100, lr=0.5)])
    assert history.row(2)["lr"] == 0.5
    assert history.row(3) is None
    assert history.total_seconds == pytest.approx(2.0)
    assert history.samples_per_second() == pytest.approx(100.0)
    assert history.samples_per_second(last=1) == pytest.approx(100 / 1.5)
    assert RunHistory().samples_per_second() == 0.0


def test_label_defaults_to_the_config_label() -> None:
    config = PRESETS["article"]
    assert RunHistory(config).label == config.label() == "randn, lr 0.01"
    assert RunHistory(config, label="mine").label == "mine"


def test_trimmed_copy_is_independent_and_compact() -> None:
    history = RunHistory(capacity=64)
    history.extend([event(1), event(2, loss=0.25)])
    copy = history.trimmed()
    assert copy.capacity == 2 and len(copy) == 2
    history.append(event(3))
    assert len(copy) == 2
    np.testing.assert_array_equal(copy.column("train_loss"), [0.5, 0.25])


def test_csv_has_the_fixed_header_and_the_numbers(tmp_path: Path) -> None:
    history = RunHistory()
    history.extend([event(1, loss=0.5, acc=0.25, test_acc=0.125, seconds=0.75, test_loss=0.3, lr=0.01),
                    event(2, test_loss=None, test_acc=None)])
    path = tmp_path / "run.csv"
    history.to_csv(path)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0][:5] == ["epoch", "loss", "train_acc", "test_acc", "seconds"]
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1] == ["1", "0.5", "0.25", "0.125", "0.75", "0.3", "0.01"]
    assert rows[2][3] == "" and rows[2][5] == ""          # no test split in that epoch
    buffer = io.StringIO()
    history.to_csv(buffer)
    assert buffer.getvalue() == path.read_text(encoding="utf-8") == history.to_csv_text()


def test_csv_round_trips_floats_exactly(tmp_path: Path) -> None:
    history = RunHistory()
    history.append(event(1, loss=0.1 + 0.2))
    rows = list(csv.reader(io.StringIO(history.to_csv_text())))
    assert float(rows[1][1]) == 0.1 + 0.2


def test_smooth_is_a_trailing_mean_with_partial_windows() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(smooth(values, 2), [1.0, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(smooth(values, 3), [1.0, 1.5, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(smooth(values, 1), values)
    assert smooth(values, 1) is not values
    assert smooth(np.array([]), 5).shape == (0,)


def test_smooth_matches_a_direct_mean_and_skips_nan() -> None:
    rng = np.random.default_rng(0)
    values = rng.random(300)
    values[[5, 6, 100]] = np.nan
    window = 7
    expected = np.array([np.nanmean(values[max(0, i - window + 1):i + 1]) for i in range(300)])
    np.testing.assert_allclose(smooth(values, window), expected, rtol=1e-9)
    assert np.isnan(smooth(np.array([np.nan, np.nan, 1.0]), 2)[:2]).all()


def test_smoothing_a_tail_gives_the_same_numbers() -> None:
    values = np.random.default_rng(1).random(1000)
    window, k = 25, 600
    whole = smooth(values, window)
    tail = smooth(values[k - window + 1:], window)[window - 1:]
    np.testing.assert_allclose(tail, whole[k:], rtol=1e-12)


def test_events_replay_the_stored_epochs() -> None:
    history = RunHistory()
    history.extend([event(1), event(2, test_loss=None, test_acc=None)])
    again = RunHistory()
    again.extend(history.events())
    assert again.to_csv_text() == history.to_csv_text()
    assert history.events()[1].test_accuracy is None and history.events()[1].elapsed == pytest.approx(
        history.total_seconds)
