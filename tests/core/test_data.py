"""Digit files and data sets: the accepted variants, every malformed case, zips, writing, real data."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core import digit_text
from studio.core.data import DataError, Dataset, Split, merge_splits, next_sample_name, parse_digit_name
from studio.core.digit_folders import export_dataset, load_dataset, load_digit_folder, write_digit_folder
from studio.core.digit_text import format_digit_text, parse_digit_text


def shared_datasets() -> Path:
    """``../shared/datasets`` beside the repository, or skip: only CI and the project's machines have it."""
    path = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
    if not path.is_dir():
        pytest.skip(f"the shared data sets are not present ({path}); they sit beside the repository "
                    "only on the project's own machines and in CI")
    return path


def image_for(seed: int) -> np.ndarray:
    """A distinct (1024,) uint8 0/1 image per seed, so tests can tell samples apart."""
    return np.random.default_rng(seed).integers(0, 2, size=1024, dtype=np.uint8)


def digit_bytes(image: np.ndarray, newline: str = "\r\n", bom: bool = False, trailing: bool = True) -> bytes:
    """A digit file's bytes in one of the accepted variants, built without the code under test."""
    rows = ["".join("01"[v] for v in image[r * 32:(r + 1) * 32]) for r in range(32)]
    text = newline.join(rows) + (newline if trailing else "")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("ascii")


def write_digits(folder: Path, names: list[str], start_seed: int = 0) -> dict[str, np.ndarray]:
    """Write one valid CRLF file per name into ``folder``; return name -> image."""
    folder.mkdir(parents=True, exist_ok=True)
    images = {}
    for seed, name in enumerate(names, start=start_seed):
        images[name] = image_for(seed)
        (folder / name).write_bytes(digit_bytes(images[name]))
    return images


def good_lines() -> list[str]:
    return ["01" * 16] * 32


def text_file(lines: list[str], newline: str = "\r\n") -> bytes:
    return (newline.join(lines) + newline).encode("utf-8")


def assert_same_split(a: Split, b: Split) -> None:
    assert a.names == b.names
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.images, b.images)


# --------------------------------------------------------------------------------------------------
# One file
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("trailing", [False, True])
def test_parse_accepts_every_documented_variant(newline: str, bom: bool, trailing: bool) -> None:
    image = image_for(1)
    parsed = parse_digit_text(digit_bytes(image, newline, bom, trailing), "3_17.txt")
    assert parsed.dtype == np.uint8 and parsed.shape == (1024,)
    np.testing.assert_array_equal(parsed, image)


def test_parse_reads_row_major() -> None:
    lines = ["0" * 32] * 32
    lines[2] = "0" * 5 + "1" + "0" * 26
    parsed = parse_digit_text(text_file(lines), "x")
    assert np.flatnonzero(parsed).tolist() == [2 * 32 + 5]


def test_format_is_the_tutorial_format_and_round_trips() -> None:
    image = image_for(2)
    text = format_digit_text(image)
    assert text.encode("ascii") == digit_bytes(image)  # 32 lines of 32, each ending CRLF
    assert len(text) == 1088 and text.count("\r\n") == 32
    assert format_digit_text(image.reshape(32, 32).astype(bool)) == text
    np.testing.assert_array_equal(parse_digit_text(text.encode("ascii"), "x"), image)


@pytest.mark.parametrize("bad", [np.zeros(1023), np.zeros((16, 64)), np.full(1024, 2), np.full(1024, 0.5)])
def test_format_refuses_what_is_not_a_binary_digit(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        format_digit_text(bad)


@settings(max_examples=60, deadline=None)
@given(packed=st.binary(min_size=128, max_size=128),  # 1024 bits: far faster to draw than 1024 integers
       newline=st.sampled_from(["\r\n", "\n"]), bom=st.booleans(), trailing=st.booleans())
def test_parse_inverts_format_for_any_image(packed: bytes, newline: str, bom: bool, trailing: bool) -> None:
    image = np.unpackbits(np.frombuffer(packed, dtype=np.uint8))
    text = format_digit_text(image).replace("\r\n", newline)
    raw = (b"\xef\xbb\xbf" if bom else b"") + (text if trailing else text[:-len(newline)]).encode("ascii")
    np.testing.assert_array_equal(parse_digit_text(raw, "x"), image)


@settings(max_examples=150, deadline=None)
@given(position=st.integers(0, 1087), replacement=st.binary(min_size=0, max_size=3))
def test_any_damage_gives_an_image_or_a_data_error(position: int, replacement: bytes) -> None:
    raw = digit_bytes(image_for(3))
    damaged = raw[:position] + replacement + raw[position + 1:]
    try:
        image = parse_digit_text(damaged, "x")
    except DataError as error:
        assert str(error).startswith("x")
    else:
        assert image.shape == (1024,) and set(np.unique(image).tolist()) <= {0, 1}


END_OF_LINE = "expected the end of the line after 32 characters"


def with_line(number: int, line: str) -> list[str]:
    lines = good_lines()
    lines[number - 1] = line
    return lines


def test_bad_character_message_names_file_line_column_and_character() -> None:
    raw = text_file(with_line(5, "0" * 11 + "x" + "0" * 20))
    with pytest.raises(DataError) as caught:
        parse_digit_text(raw, "/data/3_17.txt")
    assert str(caught.value) == "/data/3_17.txt, line 5, column 12: expected '0' or '1', found 'x'"


@pytest.mark.parametrize("raw, fragment", [
    # characters that int() or str.isdigit() would take, or that are invisible
    (text_file(with_line(3, "0" * 9 + "\u0661" + "0" * 22)),
     "line 3, column 10: expected '0' or '1', found '\u0661'"),
    (text_file(with_line(1, "2" + "0" * 31)), "line 1, column 1: expected '0' or '1', found '2'"),
    (text_file(with_line(32, "0" * 31 + " ")), "line 32, column 32: expected '0' or '1', found ' '"),
    (text_file(with_line(4, "0\t" + "0" * 30)), "line 4, column 2: expected '0' or '1', found '\\t'"),
    # line lengths
    (text_file(with_line(7, "0" * 31)), "line 7: expected 32 characters, found 31"),
    (text_file(with_line(8, "0" * 33)), f"line 8, column 33: {END_OF_LINE}, found '0'"),
    (text_file(with_line(9, "")), "line 9: expected 32 characters, found 0"),
    (text_file(good_lines(), newline="\r\r\n"), f"line 1, column 33: {END_OF_LINE}, found '\\r'"),
    # line counts; \f, \x85 and \u2028 are line breaks to str.splitlines() but not here
    (text_file(good_lines()[:31]), "expected 32 lines, found 31"),
    (text_file(good_lines() + ["01" * 16]), "line 33: expected the end of the file after 32 lines, found 33"),
    (text_file(good_lines()) + b"\r\n", "line 33: expected the end of the file after 32 lines, found 33"),
    ("\f".join(good_lines()).encode(), f"line 1, column 33: {END_OF_LINE}, found '\\x0c'"),
    ("\u2028".join(good_lines()).encode(), f"line 1, column 33: {END_OF_LINE}, found '\\u2028'"),
    ("\r".join(good_lines()).encode(), f"line 1, column 33: {END_OF_LINE}, found '\\r'"),
    # not text at all
    (b"", "is empty"),
    (b"\xef\xbb\xbf", "is empty"),
    (text_file(good_lines()).replace(b"0", b"\0", 1), "binary file"),
    (text_file(good_lines())[:100] + b"\xff" + text_file(good_lines())[101:],
     "line 3: is not UTF-8 text (byte 0xff)"),
])
def test_every_malformed_file_is_a_data_error_naming_the_place(raw: bytes, fragment: str) -> None:
    with pytest.raises(DataError) as caught:
        parse_digit_text(raw, "/data/4_2.txt")
    message = str(caught.value)
    assert message.startswith("/data/4_2.txt")
    assert fragment in message


@pytest.mark.parametrize("name, key", [
    ("3_17.txt", (3, 17)), ("0_0.txt", (0, 0)), ("9_007.txt", (9, 7)), ("3_17.TXT", (3, 17)),
    ("10_1.txt", None), ("x_1.txt", None), ("3-17.txt", None), ("3_.txt", None), ("3_1.txt.bak", None),
    ("3_-1.txt", None), ("\u0663_1.txt", None), ("3_\u0661.txt", None), ("3_1.csv", None), (" 3_1.txt", None),
])
def test_parse_digit_name_is_ascii_and_exact(name: str, key: tuple[int, int] | None) -> None:
    assert parse_digit_name(name) == key


# --------------------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------------------

def test_folder_is_sorted_by_label_then_numeric_sequence(tmp_path: Path) -> None:
    names = ["1_10.txt", "0_2.txt", "1_9.txt", "1_100.txt", "0_10.txt", "9_0.txt", "1_0.txt"]
    images = write_digits(tmp_path, names)
    split = load_digit_folder(tmp_path)
    expected = ("0_2.txt", "0_10.txt", "1_0.txt", "1_9.txt", "1_10.txt", "1_100.txt", "9_0.txt")
    assert split.names == expected
    assert split.labels.dtype == np.int64 and split.labels.tolist() == [0, 0, 1, 1, 1, 1, 9]
    assert split.images.dtype == np.uint8 and split.images.shape == (7, 1024)
    np.testing.assert_array_equal(split.images, np.stack([images[n] for n in expected]))
    assert len(split) == 7
    assert split.class_counts().tolist() == [2, 4, 0, 0, 0, 0, 0, 0, 0, 1]
    assert split.class_counts().dtype == np.int64


def test_folder_mixes_variants_and_fast_and_slow_files(tmp_path: Path) -> None:
    variants = [("\r\n", False, True), ("\n", False, True), ("\r\n", True, False), ("\n", True, False)]
    for seed, (newline, bom, trailing) in enumerate(variants):
        (tmp_path / f"5_{seed}.txt").write_bytes(digit_bytes(image_for(seed), newline, bom, trailing))
    split = load_digit_folder(str(tmp_path))  # a str path works too
    np.testing.assert_array_equal(split.images, np.stack([image_for(s) for s in range(4)]))


def test_stray_files_are_ignored_but_bad_txt_names_are_not(tmp_path: Path) -> None:
    write_digits(tmp_path, ["2_1.txt", "2_0.txt"])
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (tmp_path / "._2_0.txt").write_bytes(b"\0\5\26\7AppleDouble")  # macOS resource fork, binary
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / "Thumbs.db").write_bytes(b"\xff\0")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "junk.txt").write_text("not read")
    assert load_digit_folder(tmp_path).names == ("2_0.txt", "2_1.txt")

    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="notes.txt: the name is not LABEL_SEQ.txt") as caught:
        load_digit_folder(tmp_path)
    assert str(tmp_path / "notes.txt") in str(caught.value)


def test_uppercase_extension_is_a_digit_file(tmp_path: Path) -> None:
    write_digits(tmp_path, ["4_1.TXT", "4_0.txt"])
    assert load_digit_folder(tmp_path).names == ("4_0.txt", "4_1.TXT")


def test_same_sample_twice_is_an_error(tmp_path: Path) -> None:
    write_digits(tmp_path, ["3_7.txt", "3_07.txt"])
    with pytest.raises(DataError, match="sample 7 of digit 3 appears twice"):
        load_digit_folder(tmp_path)


def test_first_bad_file_in_order_is_reported_with_its_full_path(tmp_path: Path) -> None:
    write_digits(tmp_path, [f"{label}_{seq}.txt" for label in range(3) for seq in range(5)])
    for name, column in [("2_3.txt", 3), ("1_4.txt", 30)]:  # both stay 1,088 bytes: the fast path's size
        raw = bytearray((tmp_path / name).read_bytes())
        raw[34 * 9 + column - 1] = ord("7")  # line 10
        (tmp_path / name).write_bytes(bytes(raw))
    with pytest.raises(DataError) as caught:
        load_digit_folder(tmp_path)
    assert str(caught.value) == f"{tmp_path / '1_4.txt'}, line 10, column 30: expected '0' or '1', found '7'"


def test_bad_line_end_in_a_1088_byte_file_is_caught(tmp_path: Path) -> None:
    write_digits(tmp_path, ["0_0.txt", "0_1.txt"])
    raw = bytearray((tmp_path / "0_1.txt").read_bytes())
    raw[34 * 3 + 32] = ord("0")  # line 4's '\r' becomes a 33rd cell
    (tmp_path / "0_1.txt").write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"0_1.txt, line 4, column 33: expected the end of the line"):
        load_digit_folder(tmp_path)


@pytest.mark.parametrize("setup, fragment", [
    (lambda p: None, "is empty"),
    (lambda p: (p / "README.md").write_text("x"),
     "holds no digit files named LABEL_SEQ.txt (found README.md)"),
    (lambda p: (p / "trainingDigits").mkdir(), "so open it as a data set"),
])
def test_folders_without_digits_are_errors(tmp_path: Path, setup, fragment: str) -> None:
    setup(tmp_path)
    with pytest.raises(DataError) as caught:
        load_digit_folder(tmp_path)
    assert str(caught.value).startswith(str(tmp_path)) and fragment in str(caught.value)


def test_missing_path_and_file_path_are_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_digit_folder(tmp_path / "nowhere")
    (tmp_path / "0_0.txt").write_bytes(digit_bytes(image_for(0)))
    with pytest.raises(DataError, match="is not a folder"):
        load_digit_folder(tmp_path / "0_0.txt")


def test_unreadable_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_digits(tmp_path, ["6_0.txt", "6_1.txt"])
    real_open = os.open

    def refusing_open(path: str, *args: object, **kwargs: object) -> int:
        # chmod cannot make a file unreadable for root (as in CI containers), so refuse here instead.
        if str(path).endswith("6_1.txt"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(DataError, match=r"6_1.txt: cannot be read \(Permission denied\)"):
        load_digit_folder(tmp_path)


def test_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    (tmp_path / "1_1.txt").write_bytes(b"0" * (digit_text.MAX_FILE_BYTES * 4))
    with pytest.raises(DataError, match="1_1.txt: is too large"):
        load_digit_folder(tmp_path)


# --------------------------------------------------------------------------------------------------
# Data sets: folders and zips
# --------------------------------------------------------------------------------------------------

def make_dataset_folder(root: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    train = write_digits(root / "trainingDigits", ["0_0.txt", "0_1.txt", "7_2.txt", "7_10.txt"])
    test = write_digits(root / "testDigits", ["3_0.txt", "1_5.txt"], start_seed=100)
    return train, test


def zip_folder(folder: Path, archive: Path, prefix: str = "", junk: bool = False) -> Path:
    """Zip every file under ``folder`` (with directory entries), names prefixed by ``prefix``."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            name = prefix + path.relative_to(folder).as_posix()
            if path.is_dir():
                zf.writestr(name + "/", b"")
            else:
                zf.write(path, name)
                if junk:  # what macOS's Finder adds to every archive
                    parent = path.parent.relative_to(folder).as_posix()
                    zf.writestr(f"__MACOSX/{prefix}{parent}/._{path.name}", b"\0\5\26\7\0\2\0\0Mac OS X")
        if junk:
            zf.writestr(f"{prefix}.DS_Store", b"\0\0\0\1Bud1\0")
    return archive


def test_dataset_folder_with_both_splits(tmp_path: Path) -> None:
    train, test = make_dataset_folder(tmp_path / "mine")
    (tmp_path / "mine" / "README.txt").write_text("the data set's root is not a digit folder")
    dataset = load_dataset(tmp_path / "mine")
    assert dataset.name == "mine" and dataset.source == str((tmp_path / "mine").resolve())
    assert dataset.train.names == ("0_0.txt", "0_1.txt", "7_2.txt", "7_10.txt")
    assert dataset.test is not None and dataset.test.names == ("1_5.txt", "3_0.txt")
    np.testing.assert_array_equal(dataset.test.images, np.stack([test["1_5.txt"], test["3_0.txt"]]))
    np.testing.assert_array_equal(dataset.train.images[3], train["7_10.txt"])


def test_dataset_from_single_folder_or_training_only_has_no_test(tmp_path: Path) -> None:
    write_digits(tmp_path / "drawings", ["5_0.txt", "5_1.txt"])
    single = load_dataset(tmp_path / "drawings")
    assert single.test is None and single.name == "drawings" and len(single.train) == 2
    write_digits(tmp_path / "only" / "trainingDigits", ["5_0.txt"])
    assert load_dataset(tmp_path / "only").test is None


def test_dataset_inside_one_wrapping_folder_is_found(tmp_path: Path) -> None:
    make_dataset_folder(tmp_path / "outer" / "digits")
    (tmp_path / "outer" / ".hidden").mkdir()
    dataset = load_dataset(tmp_path / "outer")
    assert len(dataset.train) == 4 and dataset.test is not None and len(dataset.test) == 2


@pytest.mark.parametrize("setup, fragment", [
    (lambda p: None, "is empty"),
    (lambda p: (p / "testDigits").mkdir(), "has testDigits/ but no trainingDigits/"),
    (lambda p: ((p / "a").mkdir(), (p / "b").mkdir()), "holds neither; expected trainingDigits/"),
    (lambda p: (p / "trainingDigits").mkdir(), "trainingDigits: is empty"),
    (lambda p: (p / "trainingDigits").mkdir() or (p / "trainingDigits" / "x.md").write_text("x"),
     "trainingDigits: holds no digit files"),
])
def test_dataset_folders_without_a_layout_are_errors(tmp_path: Path, setup, fragment: str) -> None:
    setup(tmp_path)
    with pytest.raises(DataError, match=fragment):
        load_dataset(tmp_path)


def test_zip_is_read_in_place_and_equals_the_folder(tmp_path: Path) -> None:
    make_dataset_folder(tmp_path / "src")
    archive = zip_folder(tmp_path / "src", tmp_path / "mine.zip")
    before = sorted(p.name for p in tmp_path.iterdir())
    from_zip, from_folder = load_dataset(archive), load_dataset(tmp_path / "src")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing extracted
    assert from_zip.name == "mine" and from_zip.source == str(archive.resolve())
    assert_same_split(from_zip.train, from_folder.train)
    assert from_zip.test is not None and from_folder.test is not None
    assert_same_split(from_zip.test, from_folder.test)


def test_zip_with_top_folder_and_macos_junk(tmp_path: Path) -> None:
    make_dataset_folder(tmp_path / "src")
    archive = zip_folder(tmp_path / "src", tmp_path / "a.zip", prefix="digits/", junk=True)
    dataset = load_dataset(archive)
    assert len(dataset.train) == 4 and dataset.test is not None and len(dataset.test) == 2


def test_zip_of_one_digit_folder_and_backslash_names(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as zf:
        zf.writestr("drawn\\8_1.txt", digit_bytes(image_for(1), "\n"))
        zf.writestr("drawn\\8_0.txt", digit_bytes(image_for(0)))
    dataset = load_dataset(tmp_path / "d.zip")
    assert dataset.test is None and dataset.train.names == ("8_0.txt", "8_1.txt")
    np.testing.assert_array_equal(dataset.train.images, np.stack([image_for(0), image_for(1)]))


def test_bad_member_is_named_inside_the_zip(tmp_path: Path) -> None:
    lines = with_line(2, "0" * 31 + "y")
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as zf:
        zf.writestr("trainingDigits/0_0.txt", digit_bytes(image_for(0)))
        zf.writestr("trainingDigits/0_1.txt", text_file(lines))
    with pytest.raises(DataError) as caught:
        load_dataset(tmp_path / "d.zip")
    assert str(caught.value) == (f"{tmp_path / 'd.zip'}/trainingDigits/0_1.txt, line 2, column 32: "
                                 "expected '0' or '1', found 'y'")


@pytest.mark.parametrize("members, fragment", [
    ({"photo.png": b"\x89PNG", "notes.md": b"x"}, "holds neither; expected trainingDigits/"),
    ({}, "is empty"),
    ({"notes.txt": b"hello"}, "notes.txt: the name is not LABEL_SEQ.txt"),
    ({"trainingDigits/0_0.txt": b"0" * (digit_text.MAX_FILE_BYTES + 1)}, "0_0.txt: is too large"),
    ({"trainingDigits/README": b"x"}, "trainingDigits: holds no digit files"),
])
def test_zips_that_hold_something_else_are_errors(tmp_path: Path, members: dict[str, bytes],
                                                  fragment: str) -> None:
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    with pytest.raises(DataError, match=fragment):
        load_dataset(tmp_path / "d.zip")


def test_duplicate_member_in_zip_is_an_error(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: that is the point
        zf.writestr("trainingDigits/2_4.txt", digit_bytes(image_for(0)))
        zf.writestr("trainingDigits/2_4.txt", digit_bytes(image_for(1)))
    with pytest.raises(DataError, match="sample 4 of digit 2 appears twice"):
        load_dataset(tmp_path / "d.zip")


def test_not_a_zip_corrupt_zip_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "fake.zip").write_text("just text")
    with pytest.raises(DataError, match="fake.zip: is not a zip archive"):
        load_dataset(tmp_path / "fake.zip")
    (tmp_path / "0_0.txt").write_bytes(digit_bytes(image_for(0)))  # one digit file is not a data set
    with pytest.raises(DataError, match="is not a zip archive"):
        load_dataset(tmp_path / "0_0.txt")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "missing.zip")
    # A member whose compressed bytes are damaged: the CRC check fails when it is read.
    with zipfile.ZipFile(tmp_path / "bad.zip", "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("trainingDigits/0_0.txt", digit_bytes(image_for(0)))
    raw = bytearray((tmp_path / "bad.zip").read_bytes())
    at = raw.index(b"0_0.txt") + len("0_0.txt") + 5  # inside the stored file's content
    raw[at] ^= 1
    (tmp_path / "bad.zip").write_bytes(bytes(raw))
    with pytest.raises(DataError, match="0_0.txt: cannot be read from the archive"):
        load_dataset(tmp_path / "bad.zip")


# --------------------------------------------------------------------------------------------------
# Writing, exporting, merging
# --------------------------------------------------------------------------------------------------

def small_split(names: list[str], start_seed: int = 0) -> Split:
    images = np.stack([image_for(s) for s in range(start_seed, start_seed + len(names))])
    labels = np.array([int(n[0]) for n in names], dtype=np.int64)
    return Split(images, labels, tuple(names))


def test_write_then_load_is_exact(tmp_path: Path) -> None:
    split = small_split(["0_0.txt", "0_3.txt", "4_1.txt", "4_12.txt"])
    write_digit_folder(split, tmp_path / "out" / "digits")
    assert_same_split(load_digit_folder(tmp_path / "out" / "digits"), split)
    assert (tmp_path / "out" / "digits" / "4_1.txt").read_bytes() == digit_bytes(image_for(2))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["digits"]  # no staging folder left


def test_write_refuses_a_non_empty_folder_and_bad_names(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.md").write_text("mine")
    with pytest.raises(FileExistsError):
        write_digit_folder(small_split(["0_0.txt"]), tmp_path / "full")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.md"]
    (tmp_path / "empty").mkdir()
    write_digit_folder(small_split(["0_0.txt"]), tmp_path / "empty")  # an empty folder is fine
    for names in (["0_0.txt", "0_0.txt"], ["../0_0.txt"], ["pad.txt"]):
        with pytest.raises(ValueError):
            write_digit_folder(small_split(names), tmp_path / "never")
    mislabelled = Split(np.zeros((1, 1024), np.uint8), np.array([5]), ("3_0.txt",))
    with pytest.raises(ValueError):
        write_digit_folder(mislabelled, tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_export_round_trip_with_and_without_test(tmp_path: Path) -> None:
    make_dataset_folder(tmp_path / "src")
    original = load_dataset(tmp_path / "src")
    export_dataset(original, tmp_path / "copy")
    copy = load_dataset(tmp_path / "copy")
    assert copy.test is not None and original.test is not None
    assert_same_split(copy.train, original.train)
    assert_same_split(copy.test, original.test)

    export_dataset(Dataset("t", "x", original.train, None), tmp_path / "train_only")
    assert sorted(p.name for p in (tmp_path / "train_only").iterdir()) == ["trainingDigits"]
    assert load_dataset(tmp_path / "train_only").test is None
    with pytest.raises(FileExistsError):  # checked before anything is written
        export_dataset(original, tmp_path / "train_only")
    assert sorted(p.name for p in (tmp_path / "train_only").iterdir()) == ["trainingDigits"]


def test_merge_sorts_by_label_and_sequence_and_refuses_name_clashes() -> None:
    train = small_split(["1_0.txt", "1_9.txt", "3_2.txt"])
    drawn = Split(np.stack([image_for(50), image_for(51), image_for(52)]), np.array([1, 0, 1]),
                  ("1_10.txt", "pad-a.txt", "1_5.txt"))
    merged = merge_splits(train, drawn)
    assert merged.names == ("pad-a.txt", "1_0.txt", "1_5.txt", "1_9.txt", "1_10.txt", "3_2.txt")
    assert merged.labels.tolist() == [0, 1, 1, 1, 1, 3]
    np.testing.assert_array_equal(merged.images[2], image_for(52))
    np.testing.assert_array_equal(merged.images[5], train.images[2])
    with pytest.raises(DataError, match="'1_9.txt'"):
        merge_splits(train, small_split(["1_9.txt"]))


def test_next_sample_name() -> None:
    split = small_split(["1_0.txt", "1_41.txt", "3_2.txt"])
    assert next_sample_name(split, 1) == "1_42.txt"
    assert next_sample_name(split, 7) == "7_0.txt"
    assert parse_digit_name(next_sample_name(split, 3)) == (3, 3)


@pytest.mark.parametrize("images, labels, names", [
    (np.zeros((2, 1024), np.float64), np.zeros(2, np.int64), ("a", "b")),
    (np.zeros((2, 1000), np.uint8), np.zeros(2, np.int64), ("a", "b")),
    (np.zeros((2, 1024), np.uint8), np.zeros(2, np.int32), ("a", "b")),
    (np.zeros((2, 1024), np.uint8), np.zeros(3, np.int64), ("a", "b")),
    (np.zeros((2, 1024), np.uint8), np.array([0, 10]), ("a", "b")),
    (np.zeros((2, 1024), np.uint8), np.zeros(2, np.int64), ("a",)),
])
def test_split_refuses_wrong_shapes_and_types(images: np.ndarray, labels: np.ndarray, names: tuple) -> None:
    with pytest.raises(ValueError):
        Split(images, labels, names)


def test_importing_the_data_module_loads_no_qt() -> None:
    code = "import sys, studio.core.data; print(sorted(m for m in sys.modules if 'PySide' in m or 'Qt' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------------------
# The tutorial's real data set
# --------------------------------------------------------------------------------------------------

TRAIN_COUNTS = [189, 198, 195, 199, 186, 187, 195, 201, 180, 204]
TEST_COUNTS = [87, 97, 92, 85, 114, 108, 87, 96, 91, 89]


def test_real_digits_counts_and_zip_equals_folder() -> None:
    shared = shared_datasets()
    folder = load_dataset(shared / "digits")
    assert (len(folder.train), len(folder.test or ())) == (1934, 946)
    assert folder.train.class_counts().tolist() == TRAIN_COUNTS
    assert folder.test is not None and folder.test.class_counts().tolist() == TEST_COUNTS
    assert folder.train.names[:3] == ("0_0.txt", "0_1.txt", "0_2.txt")  # numeric, not 0_10 after 0_1
    assert set(np.unique(folder.train.images).tolist()) == {0, 1}
    archive = load_dataset(shared / "digits.zip")
    assert archive.name == folder.name == "digits"
    assert_same_split(archive.train, folder.train)
    assert archive.test is not None
    assert_same_split(archive.test, folder.test)


def test_real_digits_written_back_are_byte_identical(tmp_path: Path) -> None:
    source = shared_datasets() / "digits" / "testDigits"
    full = load_digit_folder(source)
    every_fifth = slice(None, None, 5)  # 190 files of all ten digits: enough, and keeps the test fast
    split = Split(full.images[every_fifth], full.labels[every_fifth], full.names[every_fifth])
    write_digit_folder(split, tmp_path / "testDigits")
    for name in split.names:
        assert (tmp_path / "testDigits" / name).read_bytes() == (source / name).read_bytes()
    assert_same_split(load_digit_folder(tmp_path / "testDigits"), split)
