"""The paint pad's maths: capsule strokes and the widget-to-grid mapping, checked against a slow oracle."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core.drawing import (DEFAULT_BRUSH_RADIUS, GRID_SIZE, MIN_BRUSH_RADIUS, square_layout,
                                 stamp_segment, widget_to_grid)


def oracle_capsule(shape: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float],
                   radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell by cell, in plain Python: is the cell's centre within ``radius`` of the segment?

    Returns the expected grid and a mask of cells whose centre lies within 1e-9 of the capsule's edge,
    where rounding may legitimately decide either way.
    """
    (x0, y0), (x1, y1) = p0, p1
    out = np.zeros(shape, dtype=np.uint8)
    borderline = np.zeros(shape, dtype=bool)
    for i in range(shape[0]):
        for j in range(shape[1]):
            cx, cy = j + 0.5, i + 0.5
            dx, dy = x1 - x0, y1 - y0
            length2 = dx * dx + dy * dy
            t = 0.0 if length2 == 0 else min(max(((cx - x0) * dx + (cy - y0) * dy) / length2, 0.0), 1.0)
            distance = math.hypot(cx - (x0 + t * dx), cy - (y0 + t * dy))
            out[i, j] = distance <= radius
            borderline[i, j] = abs(distance - radius) < 1e-9
    for x, y in (p0, p1):
        if 0 <= x < shape[1] and 0 <= y < shape[0]:
            out[int(math.floor(y)), int(math.floor(x))] = 1
            borderline[int(math.floor(y)), int(math.floor(x))] = False
    return out, borderline


coords = st.floats(min_value=-6.0, max_value=38.0, allow_nan=False)
radii = st.floats(min_value=MIN_BRUSH_RADIUS, max_value=6.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(x0=coords, y0=coords, x1=coords, y1=coords, radius=radii)
def test_stamp_segment_matches_the_cell_by_cell_oracle(x0: float, y0: float, x1: float, y1: float,
                                                       radius: float) -> None:
    grid = np.zeros((GRID_SIZE, GRID_SIZE), dtype=np.uint8)
    stamp_segment(grid, (x0, y0), (x1, y1), radius, 1)
    expected, borderline = oracle_capsule(grid.shape, (x0, y0), (x1, y1), radius)
    np.testing.assert_array_equal(grid[~borderline], expected[~borderline])


def test_horizontal_stroke_through_cell_centres_is_five_cells_wide_with_the_default_brush() -> None:
    grid = np.zeros((32, 32), dtype=np.uint8)
    stamp_segment(grid, (8.5, 16.5), (23.5, 16.5), DEFAULT_BRUSH_RADIUS, 1)
    assert grid[:, 16].tolist() == [0] * 14 + [1] * 5 + [0] * 13   # rows 14..18 inked
    assert grid[16, 8:24].all()
    assert not grid[:, :6].any() and not grid[:, 26:].any()


def test_a_point_stamps_a_disc() -> None:
    grid = np.zeros((32, 32), dtype=np.uint8)
    stamp_segment(grid, (10.5, 10.5), (10.5, 10.5), 1.0, 1)
    ii, jj = np.nonzero(grid)
    assert sorted(zip(ii.tolist(), jj.tolist())) == [(9, 10), (10, 9), (10, 10), (10, 11), (11, 10)]


def test_erasing_sets_cells_back_to_zero_and_leaves_the_rest() -> None:
    grid = np.ones((32, 32), dtype=np.uint8)
    stamp_segment(grid, (0.0, 16.0), (32.0, 16.0), 1.0, 0)
    assert not grid[15:17, :].any()
    assert grid[:15, :].all() and grid[17:, :].all()


def test_a_thin_click_on_a_cell_corner_still_leaves_a_mark() -> None:
    grid = np.zeros((32, 32), dtype=np.uint8)
    stamp_segment(grid, (5.0, 7.0), (5.0, 7.0), MIN_BRUSH_RADIUS, 1)
    assert grid[7, 5] == 1


@settings(max_examples=100, deadline=None)
@given(x0=st.floats(0, 31.99), y0=st.floats(0, 31.99), x1=st.floats(0, 31.99), y1=st.floats(0, 31.99))
def test_a_thinnest_stroke_is_8_connected(x0: float, y0: float, x1: float, y1: float) -> None:
    grid = np.zeros((32, 32), dtype=np.uint8)
    stamp_segment(grid, (x0, y0), (x1, y1), MIN_BRUSH_RADIUS, 1)
    # Flood fill from one inked cell over 8-neighbours must reach every inked cell.
    cells = set(zip(*np.nonzero(grid)))
    start = next(iter(cells))
    seen, todo = {start}, [start]
    while todo:
        i, j = todo.pop()
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                n = (i + di, j + dj)
                if n in cells and n not in seen:
                    seen.add(n)
                    todo.append(n)
    assert seen == cells


def test_segment_entirely_outside_the_grid_changes_nothing() -> None:
    grid = np.zeros((32, 32), dtype=np.uint8)
    stamp_segment(grid, (-10.0, -10.0), (-5.0, 40.0), 2.5, 1)
    assert not grid.any()


@pytest.mark.parametrize("kwargs, message", [
    (dict(radius=0.1, value=1), "radius"),
    (dict(radius=2.5, value=2), "value"),
])
def test_bad_arguments_are_refused(kwargs: dict, message: str) -> None:
    grid = np.zeros((32, 32), dtype=np.uint8)
    with pytest.raises(ValueError, match=message):
        stamp_segment(grid, (1.0, 1.0), (2.0, 2.0), **kwargs)
    assert not grid.any()


def test_non_finite_points_are_refused() -> None:
    grid = np.zeros((32, 32), dtype=np.uint8)
    with pytest.raises(ValueError, match="finite"):
        stamp_segment(grid, (float("nan"), 1.0), (2.0, 2.0), 2.5, 1)


def test_square_layout_centres_the_largest_square() -> None:
    assert square_layout(400, 300) == (50.0, 0.0, 300.0)
    assert square_layout(300, 400, margin=10) == (10.0, 60.0, 280.0)
    assert square_layout(300, 400, margin=10, snap=32) == (22.0, 72.0, 256.0)   # 8 px per cell
    assert square_layout(20, 20, snap=32) == (0.0, 0.0, 20.0)                  # too small to snap


def test_widget_to_grid_maps_the_square_onto_the_cells() -> None:
    left, top, side = square_layout(400, 320)        # a 320 px square starting at x = 40
    assert widget_to_grid(40, 0, left, top, side) == (0.0, 0.0)
    assert widget_to_grid(360, 320, left, top, side) == (32.0, 32.0)
    x, y = widget_to_grid(40 + 10 * 3 + 5, 7 * 10 + 5, left, top, side)  # 10 px per cell
    assert (math.floor(x), math.floor(y)) == (3, 7)
    assert widget_to_grid(0, 0, left, top, side)[0] < 0                  # off the pad: not clipped
