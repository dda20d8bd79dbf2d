"""My digits: atomic saves in the tutorial's format, numbering, delete, counts, merging into a run's
data; and where the user's data folder is."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from studio.core.data import DataError, Dataset, Split
from studio.core.digit_folders import load_digit_folder
from studio.core.digit_text import parse_digit_text
from studio.core.my_digits import MyDigits, empty_split, with_my_digits
from studio.core.user_dirs import ENV_VAR, my_digits_dir, user_data_dir
from tests.helpers import tiny_dataset


def drawing(seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random(1024) < 0.3).astype(np.uint8)


def test_add_writes_the_tutorials_format_with_the_next_free_number(tmp_path: Path) -> None:
    mine = MyDigits(tmp_path / "mine")
    assert len(mine.split()) == 0 and mine.count_per_class().tolist() == [0] * 10   # folder not there yet
    assert mine.add(drawing(0), 3) == "3_0.txt"
    assert mine.add(drawing(1), 3) == "3_1.txt"
    assert mine.add(drawing(2).reshape(32, 32), 7) == "7_0.txt"
    data = (tmp_path / "mine" / "3_1.txt").read_bytes()
    assert len(data) == 1088 and data.endswith(b"\r\n")
    np.testing.assert_array_equal(parse_digit_text(data, "x"), drawing(1))
    mine.delete("3_0.txt")
    assert mine.add(drawing(3), 3) == "3_2.txt"            # numbers are never reused after a gap
    assert mine.names() == ["3_1.txt", "3_2.txt", "7_0.txt"]
    counts = mine.count_per_class()
    assert counts.dtype == np.int64 and counts.tolist() == [0, 0, 0, 2, 0, 0, 0, 1, 0, 0]
    split = mine.split()
    assert split.names == ("3_1.txt", "3_2.txt", "7_0.txt") and split.labels.tolist() == [3, 3, 7]
    np.testing.assert_array_equal(split.images[2], drawing(2))
    assert not [name for name in os.listdir(tmp_path / "mine") if name.startswith(".")]   # no temp files


def test_add_refuses_bad_input_and_leaves_nothing(tmp_path: Path) -> None:
    mine = MyDigits(tmp_path)
    for label in (-1, 10, 2.0, True, "3"):
        with pytest.raises(ValueError):
            mine.add(drawing(0), label)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        mine.add(np.full(1024, 2, np.uint8), 1)
    with pytest.raises(ValueError):
        mine.add(np.zeros(1000, np.uint8), 1)
    assert os.listdir(tmp_path) == []


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = MyDigits(tmp_path)
    mine.add(drawing(0), 1)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        mine.add(drawing(1), 1)
    assert sorted(os.listdir(tmp_path)) == ["1_0.txt"]


def test_delete_checks_the_name(tmp_path: Path) -> None:
    mine = MyDigits(tmp_path / "mine")
    mine.add(drawing(0), 5)
    (tmp_path / "keep.txt").write_text("outside")
    for name in ("../keep.txt", "keep.txt", "5_0.txt/..", ".5_0.txt"):
        with pytest.raises(ValueError):
            mine.delete(name)
    with pytest.raises(DataError, match="no such drawing"):
        mine.delete("5_9.txt")
    mine.delete("5_0.txt")
    assert mine.names() == [] and len(mine.split()) == 0 and (tmp_path / "keep.txt").exists()


def test_a_file_damaged_outside_the_studio_is_reported(tmp_path: Path) -> None:
    mine = MyDigits(tmp_path)
    mine.add(drawing(0), 2)
    (tmp_path / "2_0.txt").write_text("hello")
    with pytest.raises(DataError, match="2_0.txt"):
        mine.split()


def test_with_my_digits_adds_to_the_train_split_only(tmp_path: Path) -> None:
    dataset = tiny_dataset(per_class=3, test_per_class=2)
    mine = MyDigits(tmp_path)
    mine.add(drawing(0), 4)
    mine.add(drawing(1), 4)
    mine.add(drawing(2), 0)
    merged = with_my_digits(dataset, mine.split())
    assert len(merged.train) == len(dataset.train) + 3 and merged.test is dataset.test
    assert "my digits" in merged.name
    assert merged.train.class_counts().tolist() == [4, 3, 3, 3, 5, 3, 3, 3, 3, 3]
    # tiny_dataset uses 4_0..4_2: the drawings follow on, so the names stay unique and exportable
    assert [n for n in merged.train.names if n.startswith("4_")] == ["4_0.txt", "4_1.txt", "4_2.txt", "4_3.txt", "4_4.txt"]
    index = merged.train.names.index("4_4.txt")
    np.testing.assert_array_equal(merged.train.images[index], drawing(1))
    assert with_my_digits(dataset, empty_split()) is dataset


def test_with_my_digits_avoids_names_whose_label_disagrees() -> None:
    images = np.zeros((1, 1024), np.uint8)
    odd = Split(images, np.array([1], np.int64), ("4_0.txt",))     # a label-1 sample named like a 4
    mine = Split(images, np.array([4], np.int64), ("4_0.txt",))
    train = with_my_digits(Dataset("odd", "memory", odd, None), mine).train
    assert sorted(train.names) == ["4_0.txt", "4_1.txt"]


def test_user_data_dir_override_and_platforms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "data"))
    assert user_data_dir() == tmp_path / "data"
    assert my_digits_dir() == tmp_path / "data" / "my-digits"
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_data_dir() == tmp_path / "xdg" / "backprop-studio"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")          # the XDG spec: ignore it
    assert user_data_dir() == tmp_path / "home" / ".local" / "share" / "backprop-studio"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert user_data_dir() == tmp_path / "home" / "Library" / "Application Support" / "Backprop Studio"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "roaming"))
    assert user_data_dir() == tmp_path / "roaming" / "Backprop Studio"


def test_default_folder_is_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    mine = MyDigits()
    mine.add(drawing(0), 9)
    assert len(load_digit_folder(tmp_path / "my-digits")) == 1
