"""Grey pictures of digits -> the tutorial's 32x32 binary images (the one conversion MNIST and image
folders share).

The tutorial's digits (the UCI/NIST 32x32 bitmaps) are upright, fill the full height of the box (95% of
them are 31-32 px tall), are about 20 px wide (5th-95th percentile 17-24 px, even for a "1"), and have
strokes 5-7 px wide (30.8% of the pixels are ink). MNIST digits, by contrast, are anti-aliased grey,
slanted as written, and sit in a 20x20 box inside 28x28. The mapping below turns such a picture into
something that looks like the tutorial's digits, in five steps, all NumPy and vectorised over a batch
of same-sized pictures:

1. **Ink** ``v`` in [0, 1], 1 = full ink (``ink_from_grey`` for ordinary pictures: the background is the
   median of the border pixels, dark-on-light or light-on-dark follows from it, and the contrast is
   stretched so that the strongest ink is 1; MNIST is already light-on-dark: ``v = grey / 255``).
2. **Deslant** by a shear about the centre of mass: with image moments
   ``mu11 = E[(x - x̄)(y - ȳ)]`` and ``mu02 = E[(y - ȳ)^2]`` (ink-weighted), row ``y`` is shifted by
   ``-a (y - ȳ)`` with ``a = mu11 / mu02`` (clamped to [-1, 1]), so the principal axis becomes vertical.
   The tutorial's bitmaps were slant-corrected; MNIST's are not.
3. **Crop** to the bounding box of the pixels with ``v >= BOX_LEVEL`` = 0.5.
4. **Rescale** the box so that its height becomes 32 px (the full box, like the tutorial's), keeping the
   aspect ratio, except that the width is clamped to [``MIN_WIDTH``, ``MAX_WIDTH``] = [12, 22] px: the
   tutorial's digits are never wide, and its "1"s are bars 12-20 px wide, not thin lines. The box is
   centred horizontally. Resampling is linear interpolation with a triangle filter widened by the
   shrink factor when shrinking (area averaging, no aliasing), written as two weight matrices per
   image: ``out = W_y @ v @ W_x.T`` with ``W_y`` ``(32, h)`` and ``W_x`` ``(32, w)``.
5. **Threshold**: a pixel is ink (1) where the resampled value is ``>= INK_THRESHOLD`` = 0.3.

How the constants were chosen, on the 10,000 MNIST test digits: converted, 31.3% of their pixels are ink
(the tutorial's 30.8%; a threshold of 0.5 gives 24% and visibly thinner strokes), all are 32 px tall,
their widths' median is 22 px. A 1-nearest-neighbour match against the tutorial's 1,934 training digits
recognises 78% of them (66% without the deslant step); a 1024-256-10 network trained on the tutorial's
digits alone recognises 75% (64% without deslant; 70% without the 12 px minimum width, which lifts its
"1"s from 53% to 90%). The rest is a difference between the writers (the tutorial's 7s are crossed,
for one), not the mapping.

Checked again against the tutorial's style (2026-12, the 10,000 t10k digits vs the 1,934 training
digits): ink 31.3% vs 30.8% of the pixels; height 32 px for both (5th-95th percentile 32-32 vs 31-32);
width median 22 vs 20 px (14-24 vs 17-24); mean horizontal/vertical run of ink 7.7/8.8 vs 8.1/8.2 px;
share of ink pixels whose four neighbours are ink (a stroke-width measure) 64.3% vs 64.7%; centre of
the ink (15.6, 15.2) vs (15.8, 15.5). Only the width differs, and the differences inside a digit are
in the writers' styles (the tutorial's 4s are closed, its 6s have small thick loops). A sweep of the
constants, scored by two networks (`best` preset with augmentation, seeds 0 and 1, trained on the
tutorial's digits alone; mean accuracy on the converted t10k), found none clearly better than the
values above (90.70%): INK_THRESHOLD 0.2 / 0.4 / 0.5 gave 90.02 / 90.68 / 90.32%; MAX_WIDTH 20 / 24
gave 90.48 / 90.59%; MIN_WIDTH 8 / 16 gave 90.79 / 89.42%; MAX_SLANT 0 / 0.5 gave 88.13 / 90.79%;
BOX_LEVEL 0.3 / 0.7 gave 90.69 / 90.06%; a per-image threshold giving every digit 30.5% ink (as the
tutorial's normaliser did) changed a 3-nearest-neighbour score by -0.1%. Differences of 0.1% (10
digits) are within the spread between network seeds, so the constants stay.

Left out: decoding files (``mnist.py`` and ``image_folder.py`` do that), denoising, and removing specks
far from the digit (a speck widens the bounding box, so pictures should be clean drawings or scans).
"""
from __future__ import annotations

import math

import numpy as np

SIDE = 32
#: A pixel with at least this much ink (0..1) counts when the digit's bounding box is found.
BOX_LEVEL = 0.5
#: A resampled pixel with at least this much ink (0..1) becomes 1.
INK_THRESHOLD = 0.3
#: Widest a converted digit may be, in pixels (the tutorial's digits: median 20, 95th percentile 24).
MAX_WIDTH = 22.0
#: Narrowest a converted digit may be, in pixels: the tutorial's "1"s are bars 12-20 px wide.
MIN_WIDTH = 12.0
#: Largest shear of the deslant step, in pixels of horizontal shift per row.
MAX_SLANT = 1.0
#: Images bigger than this (on their longer side) are first reduced by an integer block mean.
MAX_SOURCE_SIDE = 256
#: Images converted at once: bounds the float32 temporaries to a few tens of MB.
CHUNK = 2048


def ink_from_grey(grey: np.ndarray) -> np.ndarray:
    """A grey picture ``(h, w)`` (any real dtype and scale) -> ink ``(h, w)`` float32 in [0, 1].

    The background level ``b`` is the median of the border pixels. If ``b`` lies above the middle of
    the picture's range, the ink is dark on light and ``v = b - grey``, else ``v = grey - b``; then
    ``v = clip(v / max(v), 0, 1)``, so faint scans and any bit depth give the same scale. A picture
    with no contrast (all one grey) gives all zeros.
    """
    grey = np.asarray(grey, dtype=np.float32)
    if grey.ndim != 2 or grey.size == 0:
        raise ValueError(f"a grey picture must be a non-empty 2-D array, got shape {grey.shape}")
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    middle = (float(grey.min()) + float(grey.max())) / 2
    ink = background - grey if background > middle else grey - background
    peak = float(ink.max())
    if not peak > 0:
        return np.zeros_like(grey)
    return np.clip(ink / peak, 0.0, 1.0)


def block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """``(h, w)`` -> ``(ceil(h / f), ceil(w / f))``: the mean of each ``f x f`` block (edge blocks are
    padded with the edge's own values so that they are not darkened or lightened)."""
    if factor <= 1:
        return image
    h, w = image.shape
    padded = np.pad(image, ((0, -h % factor), (0, -w % factor)), mode="edge")
    return padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor).mean(axis=(1, 3))


def reduce_large(ink: np.ndarray) -> np.ndarray:
    """``(h, w)`` ink -> the same, block-averaged so that its longer side is at most ``MAX_SOURCE_SIDE``.

    A 4000x3000 photo needs no more than a few hundred pixels to make a 32x32 digit, and the resampling
    matrices grow with the source size."""
    factor = math.ceil(max(ink.shape) / MAX_SOURCE_SIDE)
    return block_mean(ink, factor).astype(np.float32, copy=False)


def deslant(ink: np.ndarray) -> np.ndarray:
    """Shear each image so that its ink's principal axis is vertical.

    ``ink`` ``(n, h, w)`` float in [0, 1] -> ``(n, h, w + 2p)`` float32, ``p`` the padding needed so no
    ink is pushed off the sides. Output pixel ``(y, x)`` takes the (linearly interpolated) input at
    ``x_src = x - p + a (y - ȳ)``, ``a = mu11 / mu02`` clamped to [-MAX_SLANT, MAX_SLANT]; an image without
    ink, or whose ink is one row (``mu02 = 0``), is not sheared.
    """
    n, h, w = ink.shape
    ys = np.arange(h, dtype=np.float32)
    xs = np.arange(w, dtype=np.float32)
    mass = ink.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1.0)
    row_mass = ink.sum(axis=2)                    # (n, h)
    y_mean = row_mass @ ys / safe
    x_mean = ink.sum(axis=1) @ xs / safe
    dy = ys[None, :] - y_mean[:, None]            # (n, h)
    dx = xs[None, :] - x_mean[:, None]            # (n, w)
    mu11 = ((ink @ dx[:, :, None])[:, :, 0] * dy).sum(axis=1) / safe
    mu02 = (row_mass * dy ** 2).sum(axis=1) / safe
    slant = np.divide(mu11, mu02, out=np.zeros_like(mu11), where=mu02 > 1e-6)
    slant = np.clip(slant, -MAX_SLANT, MAX_SLANT).astype(np.float32)
    shift = slant[:, None] * dy                   # (n, h): how far right row y's ink is read from
    pad = int(math.ceil(float(np.abs(shift).max(initial=0.0))))
    width = w + 2 * pad
    whole = np.floor(shift)
    frac = (shift - whole).astype(np.float32)[:, :, None]
    # Each output row is its input row moved by a whole number of pixels, blended with the same moved
    # one pixel further. So instead of gathering pixel by pixel, pad every row with zeros (2p on the
    # left: source column c sits at c + 2p; c ranges over [-2p, w + 2p)) and pick for each row one
    # contiguous window of width + 1 pixels starting at whole + p, in [0, 2p].
    padded = np.zeros((n, h, w + 4 * pad + 1), dtype=np.float32)
    padded[:, :, 2 * pad:2 * pad + w] = ink
    windows = np.lib.stride_tricks.sliding_window_view(padded, width + 1, axis=2)   # (n, h, 2p + 1, width + 1)
    start = (whole + pad).astype(np.int64)
    rows = windows[np.arange(n)[:, None], np.arange(h)[None, :], start]               # (n, h, width + 1)
    return rows[:, :, :-1] + frac * (rows[:, :, 1:] - rows[:, :, :-1])


def resample_weights(start: np.ndarray, scale: np.ndarray, offset: np.ndarray, n_source: int) -> np.ndarray:
    """Weights ``(n, 32, n_source)`` of a 1-D resampling, one matrix per image.

    Output pixel ``u`` (centre ``u + 0.5``) reads the source at ``p = start + (u + 0.5 - offset) / scale``
    (continuous coordinates, pixel ``k`` covers ``[k, k + 1)``). Source pixel ``k`` weighs
    ``max(0, 1 - |k + 0.5 - p| * min(scale, 1))``: the linear-interpolation triangle, widened by
    ``1 / scale`` when shrinking so that every source pixel counts (area averaging). Rows are
    normalised to sum to 1; a row that reaches no source pixel stays 0.
    """
    centres = np.arange(SIDE, dtype=np.float32) + 0.5
    position = start[:, None] + (centres[None, :] - offset[:, None]) / scale[:, None]   # (n, 32)
    source = np.arange(n_source, dtype=np.float32) + 0.5
    narrowing = np.minimum(scale, 1.0)[:, None, None]
    weights = np.maximum(0.0, 1.0 - np.abs(source[None, None, :] - position[:, :, None]) * narrowing)
    total = weights.sum(axis=2, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def _fit_chunk(ink: np.ndarray, threshold: float) -> np.ndarray:
    """Steps 2-5 for ``(n, h, w)`` ink -> ``(n, 1024)`` uint8."""
    ink = deslant(ink)
    n, h, w = ink.shape
    mask = ink >= BOX_LEVEL
    rows = mask.any(axis=2)
    cols = mask.any(axis=1)
    has_ink = rows.any(axis=1)
    # argmax finds the first True; on the reversed axis, the last one.
    top = rows.argmax(axis=1)
    bottom = h - rows[:, ::-1].argmax(axis=1)
    left = cols.argmax(axis=1)
    right = w - cols[:, ::-1].argmax(axis=1)
    box_h = np.where(has_ink, bottom - top, 1).astype(np.float32)
    box_w = np.where(has_ink, right - left, 1).astype(np.float32)
    scale_y = SIDE / box_h
    # The aspect ratio is kept unless it makes a digit wider or narrower than the tutorial's ever are.
    width = np.clip(box_w * scale_y, MIN_WIDTH, MAX_WIDTH)
    scale_x = width / box_w
    offset_y = np.zeros(n, dtype=np.float32)          # the box fills the full height
    offset_x = (SIDE - width) / 2                      # centred horizontally
    weights_y = resample_weights(top.astype(np.float32), scale_y, offset_y, h)
    weights_x = resample_weights(left.astype(np.float32), scale_x, offset_x, w)
    resampled = weights_y @ ink @ weights_x.transpose(0, 2, 1)     # (n, 32, 32)
    bits = (resampled >= threshold) & has_ink[:, None, None]
    return bits.reshape(n, SIDE * SIDE).astype(np.uint8)


def fit_digits(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """Ink ``(n, h, w)`` float in [0, 1] (1 = ink) -> ``(n, 1024)`` uint8 of 0/1, 32x32 row-major.

    Deslant, crop to the ink, rescale to the tutorial's size and threshold (see the module docstring
    for the maths). An image without ink (no pixel ``>= BOX_LEVEL``) becomes all zeros. Works in
    chunks of ``CHUNK`` images so memory stays bounded.
    """
    ink = np.asarray(ink)
    if ink.ndim != 3 or min(ink.shape[1:], default=0) < 1:
        raise ValueError(f"ink must have shape (n, h, w) with h, w >= 1, got {ink.shape}")
    out = np.empty((ink.shape[0], SIDE * SIDE), dtype=np.uint8)
    for start in range(0, ink.shape[0], CHUNK):
        chunk = ink[start:start + CHUNK].astype(np.float32, copy=False)
        out[start:start + CHUNK] = _fit_chunk(chunk, threshold)
    return out


def fit_digit(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """One picture's ink ``(h, w)`` in [0, 1] -> ``(1024,)`` uint8 of 0/1 (``fit_digits`` on one image;
    pictures bigger than ``MAX_SOURCE_SIDE`` are block-averaged first)."""
    ink = reduce_large(np.asarray(ink, dtype=np.float32))
    return fit_digits(ink[None], threshold)[0]


def has_ink(ink: np.ndarray) -> bool:
    """Whether any pixel of ``ink`` reaches ``BOX_LEVEL`` (else ``fit_digit`` would give a blank)."""
    return bool((np.asarray(ink) >= BOX_LEVEL).any())
