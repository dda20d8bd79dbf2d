"""A pad drawing, normalised the way a data set's digits are: the image the network should be shown.

A digit drawn with the mouse is rarely the size, position or stroke width of the digits a network was
trained on: the tutorial's digits fill the full 32-pixel height, are about 20 px wide, centred, upright,
with as much ink in every digit (about 31% of the pixels: a "1" is a fat bar, an "8" has thinner strokes);
a drawing may be small, off-centre, slanted and thin. A network trained
on such data (a fully connected one especially) reads what it has seen. So before the pad asks the
network, the drawing is put through the same kind of normaliser the data went through:

1. **Deslant** (``convert.deslant``): shear so that the ink's principal axis is vertical.
2. **Box**: crop to the ink's bounding box and resample it (``convert.resample_weights``) so that its
   height is the data's typical height and its width keeps the aspect ratio, clamped to the data's
   range of widths; the box's centre goes to the data's typical box centre. Threshold at 0.5.
3. **Stroke width**: dilate or erode by whole pixels (4-neighbour cross, at most ``MAX_STROKE_STEPS``
   steps; then box again, see ``normalise_drawing``) until the share of ink pixels is closest to the
   data's typical one. The tutorial's normaliser thickened every digit to about the same ink, so its
   stroke width depends on the digit, and matching the ink matches it. (A stroke width measured
   directly, ``stroke_widths``, would make a "1" a thin bar that the network reads as a 7.)

The typical values (``DigitStyle``) are measured on the loaded data set (``style_of``), so a network
trained on converted MNIST or on the synthetic set gets drawings shaped like those.

Left out: Qt, the pad's own strokes (``drawing.py``), and anything a single binary image does not tell
(pen speed, stroke order).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core.convert import deslant, resample_weights

SIDE = 32
#: Most dilation or erosion steps used to match the stroke width (a drawing 5 times too small, scaled
#: up, has strokes about 20 px too wide: 8 steps of erosion take 16 px off).
MAX_STROKE_STEPS = 8


@dataclass(frozen=True)
class DigitStyle:
    """Typical geometry of a data set's digits, in pixels of the 32x32 grid.

    ``height``: median bounding-box height; ``min_width``/``max_width``: 5th and 95th percentiles of the
    box widths; ``centre_x``/``centre_y``: mean centre of the box (continuous coordinates, the grid
    spans 0-32); ``fill``: median share of ink pixels; ``stroke_width``: median of ``2 * ink / perimeter``
    (shown to the learner; the normaliser matches ``fill``).
    """

    height: float
    min_width: float
    max_width: float
    centre_x: float
    centre_y: float
    fill: float
    stroke_width: float


#: The tutorial's training digits, measured with ``style_of`` (used when no data set is loaded).
TUTORIAL_STYLE = DigitStyle(height=32.0, min_width=17.0, max_width=24.0, centre_x=16.47, centre_y=16.0,
                            fill=0.3076, stroke_width=4.03)


def bounding_boxes(images: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(n, 1024)`` or ``(n, 32, 32)`` binary -> ``(top, bottom, left, right)``, each ``(n,)`` int,
    bottom/right exclusive; an image without ink gets the empty box ``(0, 0, 0, 0)``."""
    grid = np.asarray(images).reshape(-1, SIDE, SIDE).astype(bool)
    rows, cols = grid.any(axis=2), grid.any(axis=1)
    has_ink = rows.any(axis=1)
    top = np.where(has_ink, rows.argmax(axis=1), 0)
    bottom = np.where(has_ink, SIDE - rows[:, ::-1].argmax(axis=1), 0)
    left = np.where(has_ink, cols.argmax(axis=1), 0)
    right = np.where(has_ink, SIDE - cols[:, ::-1].argmax(axis=1), 0)
    return top, bottom, left, right


def _neighbours(grid: np.ndarray) -> list[np.ndarray]:
    padded = np.pad(grid, ((0, 0), (1, 1), (1, 1)))
    return [padded[:, :-2, 1:-1], padded[:, 2:, 1:-1], padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]]


def stroke_widths(images: np.ndarray) -> np.ndarray:
    """``(n, 1024)`` binary -> ``(n,)`` stroke width estimates ``2 * ink / perimeter`` in pixels.

    The perimeter counts the sides between an ink pixel and a blank one (or the grid's edge). A band
    of width ``w`` and length ``L >> w`` gives ``2 w L / (2 L + 2 w)``, about ``w``. No ink gives 0.
    """
    grid = np.asarray(images).reshape(-1, SIDE, SIDE).astype(bool)
    ink = grid.sum(axis=(1, 2))
    perimeter = sum((grid & ~n).sum(axis=(1, 2)) for n in _neighbours(grid))
    return np.divide(2.0 * ink, perimeter, out=np.zeros(len(grid)), where=perimeter > 0)


def style_of(images: np.ndarray) -> DigitStyle:
    """The typical geometry (``DigitStyle``) of a data set's ``(n, 1024)`` binary images.

    Images without ink are ignored; raises ``ValueError`` if none has ink.
    """
    images = np.asarray(images)
    top, bottom, left, right = bounding_boxes(images)
    inked = bottom > top
    if not inked.any():
        raise ValueError("the data set has no image with ink to measure")
    top, bottom, left, right = top[inked], bottom[inked], left[inked], right[inked]
    widths = right - left
    return DigitStyle(height=float(np.median(bottom - top)),
                      min_width=float(np.percentile(widths, 5)), max_width=float(np.percentile(widths, 95)),
                      centre_x=float(np.mean((left + right) / 2)), centre_y=float(np.mean((top + bottom) / 2)),
                      fill=float(np.median(images.reshape(len(inked), -1)[inked].mean(axis=1))),
                      stroke_width=float(np.median(stroke_widths(images.reshape(len(inked), -1)[inked]))))


def _step(grid: np.ndarray, direction: int) -> np.ndarray:
    """One dilation (+1) or erosion (-1) of ``(1, 32, 32)`` bool ``grid`` with a 4-neighbour cross."""
    neighbours = _neighbours(grid)
    if direction > 0:
        return grid | np.logical_or.reduce(neighbours)
    return grid & np.logical_and.reduce(neighbours)


def match_fill(image: np.ndarray, target: float, max_steps: int = MAX_STROKE_STEPS) -> np.ndarray:
    """``(1024,)`` binary -> the same dilated or eroded by up to ``max_steps`` pixels, whichever
    version's share of ink pixels is closest to ``target`` (an erosion that leaves less than a sixth
    of the ink is not considered: the digit would fall apart)."""
    grid = np.asarray(image).reshape(1, SIDE, SIDE).astype(bool)
    ink = int(grid.sum())
    candidates = [grid]
    for direction in (1, -1):
        current = grid
        for _ in range(max_steps):
            current = _step(current, direction)
            if direction < 0 and current.sum() * 6 < ink:
                break
            candidates.append(current)
    fills = np.array([c.mean() for c in candidates])
    best = candidates[int(np.argmin(np.abs(fills - target)))]
    return best.reshape(SIDE * SIDE).astype(np.uint8)


def _box(ink: np.ndarray, style: DigitStyle) -> np.ndarray:
    """``(1, h, w)`` float ink -> ``(32, 32)`` bool: its bounding box resampled to ``style``'s box."""
    mask = ink[0] >= 0.5
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:             # a few stray pixels can vanish when resampled: nothing to box
        return np.zeros((SIDE, SIDE), dtype=bool)
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    scale_y = style.height / (bottom - top)
    width = float(np.clip((right - left) * scale_y, style.min_width, style.max_width))
    scale_x = width / (right - left)
    offset_y = style.centre_y - style.height / 2
    offset_x = style.centre_x - width / 2
    weights_y = resample_weights(np.array([top], np.float32), np.array([scale_y], np.float32),
                                 np.array([offset_y], np.float32), ink.shape[1])
    weights_x = resample_weights(np.array([left], np.float32), np.array([scale_x], np.float32),
                                 np.array([offset_x], np.float32), ink.shape[2])
    return (weights_y @ ink @ weights_x.transpose(0, 2, 1))[0] >= 0.5


def normalise_drawing(drawing: np.ndarray, style: DigitStyle = TUTORIAL_STYLE) -> np.ndarray:
    """A pad drawing ``(32, 32)`` or ``(1024,)`` of 0/1 -> ``(1024,)`` uint8 0/1, deslanted, boxed and
    stroke-matched to ``style`` (see the module docstring). A blank drawing stays blank.

    A small drawing scaled up has fat strokes, and thinning them shrinks the box by the pixels taken
    off each side; so box, match the ink, and box again (the second box changes the size by a few
    pixels at most, and a last match of at most one step keeps the ink)."""
    drawing = np.asarray(drawing)
    if drawing.size != SIDE * SIDE:
        raise ValueError(f"a drawing must have {SIDE * SIDE} cells, got shape {drawing.shape}")
    ink = deslant(drawing.reshape(1, SIDE, SIDE).astype(np.float32))          # (1, 32, w)
    if not (ink >= 0.5).any():
        return np.zeros(SIDE * SIDE, dtype=np.uint8)
    matched = match_fill(_box(ink, style), style.fill, MAX_STROKE_STEPS)
    boxed = _box(matched.reshape(1, SIDE, SIDE).astype(np.float32), style)
    return match_fill(boxed, style.fill, 1)
