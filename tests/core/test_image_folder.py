"""Folders of pictures in class folders: decoding with Pillow, ink polarity, layouts, bad pictures."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio.core.convert import ink_from_grey
from studio.core.data import DataError
from studio.core.image_folder import (is_image_folder, load_class_folders, load_image_folder,
                                      picture_to_digit)


def draw_seven(size: tuple[int, int] = (60, 80), ink: int = 0, paper: int = 255, width: int = 6,
               mode: str = "L") -> Image.Image:
    """A "7": a top bar and a diagonal, on ``paper``, in ``ink``."""
    w, h = size
    picture = Image.new(mode, size, paper if mode == "L" else (paper,) * len(mode))
    pen = ImageDraw.Draw(picture)
    colour = ink if mode == "L" else (ink,) * len(mode)
    pen.line([(w * 0.2, h * 0.15), (w * 0.8, h * 0.15), (w * 0.45, h * 0.85)], fill=colour, width=width)
    return picture


def draw_bar(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    picture = Image.new("L", size, 255)
    ImageDraw.Draw(picture).rectangle(box, fill=0)
    return picture


def test_dark_on_light_and_light_on_dark_give_the_same_digit(tmp_path: Path) -> None:
    draw_seven(ink=0, paper=255).save(tmp_path / "dark.png")
    draw_seven(ink=255, paper=0).save(tmp_path / "light.png")
    draw_seven(ink=60, paper=200).save(tmp_path / "grey.png")     # low contrast: stretched
    dark = picture_to_digit(tmp_path / "dark.png")
    assert dark.shape == (1024,) and dark.dtype == np.uint8
    assert 0.1 < dark.mean() < 0.5
    grid = dark.reshape(32, 32)
    assert grid[0].any() and grid[31].any()                        # fills the height
    assert grid[:4].sum() > grid[14:18].sum()                       # the 7's bar is at the top
    np.testing.assert_array_equal(picture_to_digit(tmp_path / "light.png"), dark)
    np.testing.assert_array_equal(picture_to_digit(tmp_path / "grey.png"), dark)


def test_transparent_canvas_jpeg_bmp_and_16_bit(tmp_path: Path) -> None:
    draw_seven().save(tmp_path / "opaque.png")
    reference = picture_to_digit(tmp_path / "opaque.png")
    # black strokes on a transparent canvas whose hidden colour is black too: alpha must decide
    rgba = Image.new("RGBA", (60, 80), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).line([(12, 12), (48, 12), (27, 68)], fill=(0, 0, 0, 255), width=6)
    rgba.save(tmp_path / "transparent.png")
    np.testing.assert_array_equal(picture_to_digit(tmp_path / "transparent.png"), reference)
    draw_seven(mode="RGB").save(tmp_path / "photo.jpg", quality=90)
    draw_seven().save(tmp_path / "scan.bmp")
    np.testing.assert_array_equal(picture_to_digit(tmp_path / "scan.bmp"), reference)
    assert np.mean(picture_to_digit(tmp_path / "photo.jpg") != reference) < 0.03   # JPEG noise
    wide = (np.asarray(draw_seven(), dtype=np.uint16) * 257)
    Image.fromarray(wide).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as deep:
        assert deep.mode.startswith("I")
    np.testing.assert_array_equal(picture_to_digit(tmp_path / "deep.png"), reference)


def test_a_large_photo_is_reduced_first(tmp_path: Path) -> None:
    draw_seven(size=(1500, 2000), width=150).save(tmp_path / "big.png")
    draw_seven(size=(60, 80), width=6).save(tmp_path / "small.png")
    big, small = picture_to_digit(tmp_path / "big.png"), picture_to_digit(tmp_path / "small.png")
    assert np.mean(big != small) < 0.05


def test_ink_polarity_follows_the_border() -> None:
    grey = np.full((10, 10), 200.0)
    grey[3:7, 3:7] = 20.0
    ink = ink_from_grey(grey)
    assert ink[5, 5] == 1.0 and ink[0, 0] == 0.0
    ink = ink_from_grey(255 - grey)
    assert ink[5, 5] == 1.0 and ink[0, 0] == 0.0
    assert not ink_from_grey(np.full((4, 4), 9.0)).any()


def make_class_folders(root: Path, per_class: dict[int, int]) -> None:
    for label, count in per_class.items():
        (root / str(label)).mkdir(parents=True)
        for i in range(count):
            draw_seven().save(root / str(label) / f"img{i}.png")


def test_class_folders_load_sorted_by_label_and_natural_name(tmp_path: Path) -> None:
    root = tmp_path / "pics"
    make_class_folders(root, {3: 0, 7: 0})
    # img2 is a narrow bar, img10 a wide one: natural order puts img2 first although "img10" < "img2"
    draw_bar((40, 40), (18, 5, 22, 35)).save(root / "3" / "img2.png")
    draw_bar((40, 40), (8, 5, 32, 35)).save(root / "3" / "img10.png")
    draw_seven().save(root / "7" / "a.png")
    (root / "7" / "Thumbs.db").write_bytes(b"junk")
    (root / "7" / "notes.txt").write_text("ignored")
    (root / "7" / ".hidden.png").write_bytes(b"junk")
    split = load_class_folders(root)
    assert split.names == ("3_0.txt", "3_1.txt", "7_0.txt")
    assert split.labels.tolist() == [3, 3, 7]
    widths = split.images.reshape(-1, 32, 32).any(axis=1).sum(axis=1)
    assert widths[0] < widths[1]
    dataset = load_image_folder(root)
    assert dataset.name == "pics" and dataset.test is None and len(dataset.train) == 3


@pytest.mark.parametrize("train_name, test_name", [("train", "test"), ("training", "testing")])
def test_train_and_test_layout(tmp_path: Path, train_name: str, test_name: str) -> None:
    make_class_folders(tmp_path / train_name, {0: 2, 1: 1})
    make_class_folders(tmp_path / test_name, {5: 1})
    assert is_image_folder(tmp_path)
    dataset = load_image_folder(tmp_path)
    assert len(dataset.train) == 3 and dataset.test is not None and dataset.test.labels.tolist() == [5]


def test_test_without_train_is_refused(tmp_path: Path) -> None:
    make_class_folders(tmp_path / "test", {5: 1})
    with pytest.raises(DataError, match="no train/"):
        load_image_folder(tmp_path)


def test_bad_pictures_are_refused_naming_the_file(tmp_path: Path) -> None:
    make_class_folders(tmp_path, {4: 1})
    bad = tmp_path / "4" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataError) as caught:
        load_class_folders(tmp_path)
    assert str(bad) in str(caught.value) and "cannot be read as a picture" in str(caught.value)
    bad.unlink()
    truncated = tmp_path / "4" / "cut.png"
    truncated.write_bytes((tmp_path / "4" / "img0.png").read_bytes()[:120])
    with pytest.raises(DataError, match="cut.png"):
        load_class_folders(tmp_path)
    truncated.unlink()
    Image.new("L", (30, 30), 128).save(tmp_path / "4" / "blank.png")
    with pytest.raises(DataError, match=r"blank\.png: holds no digit"):
        load_class_folders(tmp_path)


def test_stray_folders_and_empty_sets_are_refused(tmp_path: Path) -> None:
    make_class_folders(tmp_path, {1: 1})
    (tmp_path / "extra").mkdir()
    with pytest.raises(DataError, match="'extra', which is not a class folder"):
        load_class_folders(tmp_path)
    (tmp_path / "extra").rmdir()
    (tmp_path / "1" / "img0.png").unlink()
    with pytest.raises(DataError, match="holds no pictures"):
        load_class_folders(tmp_path)


def test_is_image_folder(tmp_path: Path) -> None:
    assert not is_image_folder(tmp_path)
    assert not is_image_folder(tmp_path / "missing")
    (tmp_path / "7").mkdir()
    assert is_image_folder(tmp_path)


def test_fit_digit_matches_the_folder_conversion(tmp_path: Path) -> None:
    from studio.core.convert import fit_digit
    picture = draw_seven(size=(400, 500), width=40)
    picture.save(tmp_path / "seven.png")
    ink = ink_from_grey(np.asarray(picture, dtype=np.float32))
    np.testing.assert_array_equal(fit_digit(ink), picture_to_digit(tmp_path / "seven.png"))
