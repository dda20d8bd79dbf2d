"""The paint pad's maths: brush strokes on a 32x32 binary grid, and where the grid sits in a widget.

Kept free of Qt so it can be tested (and read) without a screen; ``studio.gui.paint_pad`` only turns
mouse positions into grid coordinates with :func:`widget_to_grid` and calls :func:`stamp_segment`.
What is left out: anything about pixels on screen, colours, or events.

Coordinates
-----------
A grid point ``(x, y)`` is measured in cells from the grid's top-left corner: ``x`` to the right
(column), ``y`` downwards (row), like the rows of the data files. Cell ``grid[i, j]`` covers
``j <= x < j + 1`` and ``i <= y < i + 1``, so its centre is ``(j + 0.5, i + 0.5)``.
"""
from __future__ import annotations

import numpy as np

#: Cells per side of a drawing, as in the tutorial's data.
GRID_SIZE: int = 32

#: Default brush radius in cells: strokes about 5 cells wide, the typical stroke width of the
#: tutorial's digits. Measured on the 1,934 training files (``trainingDigits``) against a Zhang-Suen
#: skeleton of each digit: ink area / skeleton length has median 5.5 cells (10th-90th percentile
#: 4.0-8.0), and the city-block erosion depth of the ink on the skeleton has median 3 (mean 3.08),
#: i.e. 2 * 3 - 1 = 5 cells across. Synthetic arcs and lines stamped with radius 2.5 measure the
#: same (median 5.5, mean depth 2.96); radius 2.0 gives 4.1 and 2.33, radius 2.75 gives 5.9 and 3.22.
#: Across a straight stroke a capsule of radius r marks 2r cells on average (5 or 6 here, 5 when the
#: stroke runs through cell centres).
DEFAULT_BRUSH_RADIUS: float = 2.5

#: Smallest brush radius accepted: from 0.5 cells up every segment is an unbroken line (each column
#: or row it crosses has a cell centre within 0.5 of it).
MIN_BRUSH_RADIUS: float = 0.5

#: Largest brush radius accepted: half the grid; larger brushes only fill the whole pad.
MAX_BRUSH_RADIUS: float = GRID_SIZE / 2


def stamp_segment(grid: np.ndarray, p0: tuple[float, float], p1: tuple[float, float],
                  radius: float, value: int) -> None:
    """Set to ``value`` every cell of ``grid`` whose centre lies within ``radius`` of segment p0-p1.

    ``grid`` is a 2-D array of shape (rows, cols), changed in place (normally (32, 32) uint8).
    ``p0`` and ``p1`` are ``(x, y)`` grid points (see the module docstring); they may lie outside the
    grid, and the part of the capsule inside it is drawn. ``p0 == p1`` stamps a disc. The cells that
    contain ``p0`` and ``p1`` are always set too, so that a click with a thin brush never vanishes.
    ``value`` is 1 to draw and 0 to erase.
    """
    if grid.ndim != 2:
        raise ValueError(f"the grid must be 2-D (rows, cols), got shape {grid.shape}")
    if value not in (0, 1):
        raise ValueError(f"value must be 0 (erase) or 1 (draw), got {value!r}")
    radius = float(radius)
    if not (MIN_BRUSH_RADIUS <= radius <= MAX_BRUSH_RADIUS):
        raise ValueError(f"brush radius must be between {MIN_BRUSH_RADIUS} and {MAX_BRUSH_RADIUS} "
                         f"cells, got {radius}")
    x0, y0 = (float(v) for v in p0)
    x1, y1 = (float(v) for v in p1)
    if not all(np.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ValueError(f"segment end points must be finite, got {p0} and {p1}")
    rows, cols = grid.shape

    # Only cells in the capsule's bounding box can be hit; clip that box to the grid.
    j_lo = max(int(np.floor(min(x0, x1) - radius)), 0)
    j_hi = min(int(np.ceil(max(x0, x1) + radius)), cols)
    i_lo = max(int(np.floor(min(y0, y1) - radius)), 0)
    i_hi = min(int(np.ceil(max(y0, y1) + radius)), rows)
    if j_lo < j_hi and i_lo < i_hi:
        cx = np.arange(j_lo, j_hi) + 0.5            # cell centres, x
        cy = np.arange(i_lo, i_hi)[:, None] + 0.5   # cell centres, y (a column, to broadcast)
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        if length2 == 0.0:
            t = np.zeros((1, 1))
        else:
            # Parameter of the closest point on the segment, clamped to its ends: that clamp is what
            # makes the shape a capsule (a rectangle with round caps) rather than an infinite strip.
            t = np.clip(((cx - x0) * dx + (cy - y0) * dy) / length2, 0.0, 1.0)
        dist2 = (cx - (x0 + t * dx)) ** 2 + (cy - (y0 + t * dy)) ** 2
        grid[i_lo:i_hi, j_lo:j_hi][dist2 <= radius * radius] = value

    for x, y in ((x0, y0), (x1, y1)):
        i, j = int(np.floor(y)), int(np.floor(x))
        if 0 <= i < rows and 0 <= j < cols:
            grid[i, j] = value


def square_layout(width: float, height: float, margin: float = 0.0,
                  snap: int = 1) -> tuple[float, float, float]:
    """The largest square that fits a ``width`` x ``height`` area less ``margin`` on every side, centred.

    Returns ``(left, top, side)`` in the same units (widget pixels). With ``snap`` > 1 the side is
    rounded down to a multiple of ``snap`` (when at least ``snap``), so that a ``snap`` x ``snap`` grid
    gets whole-pixel cells and crisp edges. ``side`` is at least 1.
    """
    side = max(min(width, height) - 2.0 * margin, 1.0)
    if snap > 1 and side >= snap:
        side = float(int(side // snap) * snap)
    return (width - side) / 2.0, (height - side) / 2.0, side


def widget_to_grid(px: float, py: float, left: float, top: float, side: float,
                   cells: int = GRID_SIZE) -> tuple[float, float]:
    """A widget pixel position ``(px, py)`` as an ``(x, y)`` grid point, for a grid of ``cells`` per
    side drawn in the square at ``(left, top)`` with side ``side`` pixels. Not clipped: a drag that
    leaves the pad gives points outside ``[0, cells)``, and :func:`stamp_segment` clips them.
    """
    scale = cells / side
    return (px - left) * scale, (py - top) * scale
