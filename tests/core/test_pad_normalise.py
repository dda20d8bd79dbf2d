"""Normalising a pad drawing to a data set's digit geometry: box, position and stroke width."""
from __future__ import annotations

import numpy as np
import pytest

from studio.core.digit_folders import load_dataset
from studio.core.drawing import stamp_segment
from studio.core.pad_normalise import (TUTORIAL_STYLE, DigitStyle, bounding_boxes, match_fill,
                                       normalise_drawing, stroke_widths, style_of)
from tests.conftest import DIGITS, require_shared


def drawn(strokes: list[list[tuple[float, float]]], radius: float = 1.0) -> np.ndarray:
    """A (32, 32) uint8 drawing of polylines given as (x, y) grid points, as the pad stamps them."""
    grid = np.zeros((32, 32), np.uint8)
    for points in strokes:
        for p0, p1 in zip(points[:-1], points[1:]):
            stamp_segment(grid, p0, p1, radius, 1)
    return grid


def test_stroke_width_of_a_band_is_its_width() -> None:
    for width in (2, 4, 6):
        image = np.zeros((32, 32), np.uint8)
        image[4:28, 10:10 + width] = 1
        assert stroke_widths(image.reshape(1, 1024))[0] == pytest.approx(width, rel=0.25)
    assert stroke_widths(np.zeros((1, 1024)))[0] == 0


def test_a_small_thin_off_centre_drawing_is_boxed_centred_and_thickened() -> None:
    # A small thin "0" in the top-left corner.
    ring = drawn([[(4, 2), (9, 2), (11, 7), (9, 12), (4, 12), (2, 7), (4, 2)]], radius=0.6)
    out = normalise_drawing(ring, TUTORIAL_STYLE)
    assert out.dtype == np.uint8 and out.shape == (1024,) and set(np.unique(out)) <= {0, 1}
    top, bottom, left, right = (int(v[0]) for v in bounding_boxes(out))
    assert bottom - top >= 30                                       # the data's full height
    assert abs((left + right) / 2 - TUTORIAL_STYLE.centre_x) <= 1.5
    assert TUTORIAL_STYLE.min_width - 2 <= right - left <= TUTORIAL_STYLE.max_width + 2
    assert out.mean() == pytest.approx(TUTORIAL_STYLE.fill, abs=0.04)
    assert stroke_widths(out[None])[0] > 2 * stroke_widths(ring.reshape(1, -1))[0]     # thickened
    # Still a ring: the middle is blank.
    assert out.reshape(32, 32)[16, int(TUTORIAL_STYLE.centre_x)] == 0


def test_a_slanted_bar_is_set_upright_and_a_blank_stays_blank() -> None:
    bar = drawn([[(10, 4), (20, 28)]], radius=2.5)
    out = normalise_drawing(bar).reshape(32, 32)
    top_cols, bottom_cols = np.nonzero(out[3])[0], np.nonzero(out[28])[0]
    assert abs(top_cols.mean() - bottom_cols.mean()) <= 2
    assert not normalise_drawing(np.zeros((32, 32), np.uint8)).any()
    with pytest.raises(ValueError, match="1024 cells"):
        normalise_drawing(np.zeros(10))


def test_the_style_follows_the_data_set() -> None:
    images = np.zeros((3, 32, 32), np.uint8)
    images[0, 8:24, 12:18] = 1
    images[1, 8:24, 10:20] = 1
    images[2, 8:24, 11:19] = 1
    style = style_of(images.reshape(3, 1024))
    assert style.height == 16 and style.centre_y == 16 and style.centre_x == 15
    assert 6 <= style.min_width <= style.max_width <= 10
    assert style.fill == 8 * 16 / 1024
    small = DigitStyle(height=16, min_width=6, max_width=10, centre_x=15, centre_y=16, fill=style.fill,
                       stroke_width=style.stroke_width)
    out = normalise_drawing(drawn([[(16, 2), (16, 30)]], radius=2.5), small)
    top, bottom, _, _ = (int(v[0]) for v in bounding_boxes(out))
    assert 6 <= top <= 10 and 22 <= bottom <= 26       # give or take a stroke-matching step
    with pytest.raises(ValueError, match="no image with ink"):
        style_of(np.zeros((2, 1024), np.uint8))


def test_match_fill_thickens_or_thins_towards_the_target() -> None:
    line = drawn([[(16, 3), (16, 29)]], radius=0.6).reshape(1024)
    fills = [match_fill(line, t).mean() for t in (0.01, 0.1, 0.3)]
    assert fills[0] == line.mean() < fills[1] < fills[2]
    assert fills[1] == pytest.approx(0.1, abs=0.03) and fills[2] == pytest.approx(0.3, abs=0.03)
    blob = drawn([[(16, 8), (16, 24)]], radius=8).reshape(1024)
    assert match_fill(blob, 0.2).mean() == pytest.approx(0.2, abs=0.05)


def test_the_tutorial_style_constant_is_what_style_of_measures() -> None:
    style = style_of(load_dataset(require_shared(DIGITS)).train.images)
    for name in ("height", "min_width", "max_width", "centre_x", "centre_y", "fill", "stroke_width"):
        assert getattr(style, name) == pytest.approx(getattr(TUTORIAL_STYLE, name), abs=0.01), name


def test_a_few_stray_pixels_never_break_normalisation() -> None:
    # Seen on the pad: a fooling image of two pixels; one pixel, a corner, a row of dots.
    rng = np.random.default_rng(0)
    drawings = [np.isin(np.arange(1024), [41, 275, 314, 521, 649])]          # scattered dots
    drawings += [np.isin(np.arange(1024), rng.choice(1024, rng.integers(1, 6), replace=False))
                 for _ in range(200)]
    for drawing in drawings:
        out = normalise_drawing(drawing.astype(np.uint8))
        assert out.shape == (1024,) and set(np.unique(out)) <= {0, 1}
