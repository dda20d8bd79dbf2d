"""Weights as pictures: mosaics with NaN gutters, pages, hit testing and symmetric colour levels."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core.weights_mosaic import (build_mosaic, first_layer_tiles, grid_shape, is_image_layer,
                                        page_count, page_units, symmetric_levels, tile_at,
                                        tile_origin, tiles_per_page)


def test_first_layer_tiles_are_rows_reshaped_row_major() -> None:
    w = np.arange(3 * 1024, dtype=float).reshape(3, 1024)
    tiles = first_layer_tiles(w, [2, 0])
    assert tiles.shape == (2, 32, 32)
    np.testing.assert_array_equal(tiles[0], w[2].reshape(32, 32))
    np.testing.assert_array_equal(tiles[1], w[0].reshape(32, 32))
    assert tiles[0][1, 0] == w[2, 32]          # pixel (row 1, col 0) is input 32


def test_first_layer_tiles_refuse_non_image_layers() -> None:
    with pytest.raises(ValueError, match="1024"):
        first_layer_tiles(np.zeros((4, 64)), [0])


def test_mosaic_places_tiles_row_major_with_nan_gutters() -> None:
    tiles = np.stack([np.full((2, 3), float(t)) for t in range(5)])
    mosaic = build_mosaic(tiles, rows=2, cols=3, gutter=1)
    assert mosaic.shape == (2 * 3 - 1, 3 * 4 - 1)
    for t in range(5):
        top, left = tile_origin(t, 3, (2, 3), 1)
        np.testing.assert_array_equal(mosaic[top:top + 2, left:left + 3], t)
    assert np.isnan(mosaic[2, :]).all()                # gutter row between the grid rows
    assert np.isnan(mosaic[:, 3]).all() and np.isnan(mosaic[:, 7]).all()   # gutter columns
    assert np.isnan(mosaic[3:, 8:]).all()              # empty sixth slot
    assert np.count_nonzero(~np.isnan(mosaic)) == 5 * 6


def test_mosaic_refuses_too_many_tiles() -> None:
    with pytest.raises(ValueError, match="fit"):
        build_mosaic(np.zeros((5, 2, 2)), rows=2, cols=2)


@settings(max_examples=200, deadline=None)
@given(n_tiles=st.integers(1, 40), gutter=st.integers(0, 3), h=st.integers(1, 5), w=st.integers(1, 5),
       data=st.data())
def test_tile_at_agrees_with_the_mosaic(n_tiles: int, gutter: int, h: int, w: int,
                                        data: st.DataObject) -> None:
    rows, cols = grid_shape(n_tiles)
    tiles = np.arange(n_tiles, dtype=float)[:, None, None] * np.ones((1, h, w))
    mosaic = build_mosaic(tiles, rows, cols, gutter)
    r = data.draw(st.integers(-2, mosaic.shape[0] + 2))
    c = data.draw(st.integers(-2, mosaic.shape[1] + 2))
    inside = 0 <= r < mosaic.shape[0] and 0 <= c < mosaic.shape[1]
    expected = None if not inside or np.isnan(mosaic[r, c]) else int(mosaic[r, c])
    assert tile_at(r, c, n_tiles, cols, (h, w), gutter) == expected


def test_grid_shape_is_near_square() -> None:
    assert grid_shape(16) == (4, 4)
    assert grid_shape(36) == (6, 6)
    assert grid_shape(10) == (3, 4)
    assert grid_shape(1) == (1, 1)


def test_paging_a_64_unit_layer() -> None:
    per_page = tiles_per_page(64)
    assert per_page == 36
    assert page_count(64, per_page) == 2
    assert list(page_units(64, 0, per_page)) == list(range(0, 36))
    assert list(page_units(64, 1, per_page)) == list(range(36, 64))
    with pytest.raises(ValueError, match="page 2"):
        page_units(64, 2, per_page)


def test_the_tutorials_16_units_fit_one_page() -> None:
    assert tiles_per_page(16) == 16
    assert page_count(16, 16) == 1
    assert list(page_units(16, 0, 16)) == list(range(16))


def test_symmetric_levels_use_the_largest_absolute_weight_of_the_layer() -> None:
    w = np.array([[0.5, -3.0], [2.0, 1.0]])
    assert symmetric_levels(w) == (-3.0, 3.0)
    assert symmetric_levels([w, np.array([4.5])]) == (-4.5, 4.5)
    assert symmetric_levels(np.array([np.nan, -2.0, np.inf])) == (-2.0, 2.0)
    assert symmetric_levels(np.zeros((3, 3))) == (-1.0, 1.0)


def test_is_image_layer() -> None:
    assert is_image_layer(1024)
    assert not is_image_layer(16)
