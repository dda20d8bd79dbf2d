"""Arranging a layer's weights as pictures: the maths behind the weights view, without Qt.

A first-layer unit ``k`` computes ``z_k = W1[k] . x + b_k`` over the 1024 pixels of a 32x32 drawing,
so row ``k`` of ``W1`` reshaped to 32x32 shows which pixels push that unit up (positive weights) or
down (negative). This module lays such tiles out as one mosaic image with NaN gutters between them
(one image is drawn much faster than many), splits many units into pages, finds the unit under a
mosaic pixel, and picks colour levels that are symmetric about 0 so that white always means 0.

What it leaves out: colours, widgets and events (``studio.gui.weights_view``).

Mosaic layout: tiles are placed row-major (left to right, then down), tile ``t`` of a page at grid
row ``t // cols`` and column ``t % cols``; each tile is ``(h, w)`` pixels and neighbouring tiles are
``gutter`` NaN pixels apart. Empty slots on a short last page are NaN too.
"""
from __future__ import annotations

import math

import numpy as np

#: Side of the pictures a first layer sees: its input is a 32x32 drawing flattened row by row.
IMAGE_SIDE: int = 32

#: Tiles on one page when a layer has more units than fit comfortably (6 x 6).
LARGE_PAGE: int = 36

#: Layers with at most this many units show them all on one page (the tutorial's 16 -> 4 x 4).
SMALL_LAYER: int = 16


def is_image_layer(n_inputs: int) -> bool:
    """True when a layer's input is a 32x32 image, so that each unit's weights can be shown as one."""
    return n_inputs == IMAGE_SIDE * IMAGE_SIDE


def tiles_per_page(n_units: int) -> int:
    """How many tiles one page holds for a layer of ``n_units``: all of them up to 16, else 36."""
    if n_units < 1:
        raise ValueError(f"a layer has at least one unit, got {n_units}")
    return n_units if n_units <= SMALL_LAYER else LARGE_PAGE


def page_count(n_units: int, per_page: int) -> int:
    """Number of pages needed to show ``n_units`` tiles, ``per_page`` at a time (at least 1)."""
    if per_page < 1:
        raise ValueError(f"a page holds at least one tile, got {per_page}")
    return max(1, math.ceil(n_units / per_page))


def page_units(n_units: int, page: int, per_page: int) -> range:
    """The unit indices (0-based rows of the weight matrix) shown on page ``page`` (0-based)."""
    pages = page_count(n_units, per_page)
    if not 0 <= page < pages:
        raise ValueError(f"page {page} does not exist: {n_units} units at {per_page} a page make "
                         f"{pages} page(s), numbered from 0")
    return range(page * per_page, min((page + 1) * per_page, n_units))


def grid_shape(n_tiles: int) -> tuple[int, int]:
    """(rows, cols) of the tile grid for ``n_tiles``: as square as possible, cols >= rows."""
    cols = max(1, math.ceil(math.sqrt(n_tiles)))
    rows = max(1, math.ceil(n_tiles / cols))
    return rows, cols


def build_mosaic(tiles: np.ndarray, rows: int, cols: int, gutter: int = 1) -> np.ndarray:
    """One float image holding ``tiles`` (k, h, w) on a ``rows`` x ``cols`` grid with NaN gutters.

    Returns an array of shape ``(rows * (h + gutter) - gutter, cols * (w + gutter) - gutter)``, row
    major (row = image y). Requires ``k <= rows * cols``; unused slots stay NaN.
    """
    tiles = np.asarray(tiles, dtype=np.float64)
    if tiles.ndim != 3:
        raise ValueError(f"tiles must have shape (k, h, w), got {tiles.shape}")
    k, h, w = tiles.shape
    if k > rows * cols:
        raise ValueError(f"{k} tiles do not fit a {rows} x {cols} grid")
    if gutter < 0:
        raise ValueError(f"gutter must be 0 or more pixels, got {gutter}")
    mosaic = np.full((rows * (h + gutter) - gutter, cols * (w + gutter) - gutter), np.nan)
    for t in range(k):
        top, left = tile_origin(t, cols, (h, w), gutter)
        mosaic[top:top + h, left:left + w] = tiles[t]
    return mosaic


def first_layer_tiles(weights: np.ndarray, units: range | list[int]) -> np.ndarray:
    """Rows ``units`` of a first-layer weight matrix (n_out, 1024) as pictures, shape (k, 32, 32).

    Row-major reshape, the same order in which a drawing's 32 rows were flattened into 1024 inputs,
    so pixel (i, j) of a tile is the weight from input pixel (i, j).
    """
    weights = np.asarray(weights)
    if weights.ndim != 2 or not is_image_layer(weights.shape[1]):
        raise ValueError(f"first-layer weights must have shape (units, {IMAGE_SIDE ** 2}), "
                         f"got {weights.shape}")
    return weights[list(units)].reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def tile_origin(index: int, cols: int, tile_shape: tuple[int, int], gutter: int = 1) -> tuple[int, int]:
    """(top, left) mosaic pixel of tile ``index`` on a grid ``cols`` wide."""
    h, w = tile_shape
    return (index // cols) * (h + gutter), (index % cols) * (w + gutter)


def tile_at(row: int, col: int, n_tiles: int, cols: int, tile_shape: tuple[int, int],
            gutter: int = 1) -> int | None:
    """Which tile (0-based, within the page) mosaic pixel (row, col) belongs to.

    None for a gutter pixel, an empty slot, or a position outside the mosaic.
    """
    h, w = tile_shape
    if row < 0 or col < 0:
        return None
    grid_row, in_row = divmod(int(row), h + gutter)
    grid_col, in_col = divmod(int(col), w + gutter)
    if in_row >= h or in_col >= w or grid_col >= cols:
        return None
    index = grid_row * cols + grid_col
    return index if index < n_tiles else None


def symmetric_levels(weights: np.ndarray | list[np.ndarray]) -> tuple[float, float]:
    """Colour levels (-m, m) with m the largest finite |w|, so that 0 sits in the colour map's middle.

    One pair for a whole layer (pass all its weights) makes tiles comparable with each other. When no
    weight is finite and nonzero (an all-zero initialisation), m is 1 so the colour bar stays usable.
    """
    arrays = weights if isinstance(weights, list) else [weights]
    m = 0.0
    for a in arrays:
        a = np.abs(np.asarray(a, dtype=np.float64))
        finite = a[np.isfinite(a)]
        if finite.size:
            m = max(m, float(finite.max()))
    if m == 0.0:
        m = 1.0
    return -m, m
