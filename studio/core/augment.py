"""Data augmentation for training: random whole-pixel shifts of 32x32 images.

A shifted copy of a digit is still the same digit, so training on shifted copies teaches the network
that position does not matter, which a fully connected network cannot know by itself. Nothing else
(rotations, noise) lives here.
"""
from __future__ import annotations

import numpy as np


def shift_images(images: np.ndarray, max_shift: int, rng: np.random.Generator,
                 side: int = 32) -> np.ndarray:
    """Move each image by its own random (dy, dx), each in [-max_shift, max_shift]; vacated pixels are 0.

    ``images`` is (n, side*side), one row-major image per row; the result has the same shape and dtype.
    All images are shifted at once: each output pixel (r, c) of image i reads input pixel
    (r - dy_i, c - dx_i) of a zero-padded copy, so there is no per-image Python loop.
    """
    n = images.shape[0]
    if max_shift <= 0 or n == 0:
        return images.copy()
    pad = max_shift
    padded = np.zeros((n, side + 2 * pad, side + 2 * pad), dtype=images.dtype)
    padded[:, pad:pad + side, pad:pad + side] = images.reshape(n, side, side)
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    rows = (np.arange(side)[None, :] + pad - dy[:, None])[:, :, None]      # (n, side, 1)
    cols = (np.arange(side)[None, :] + pad - dx[:, None])[:, None, :]      # (n, 1, side)
    shifted = padded[np.arange(n)[:, None, None], rows, cols]
    return shifted.reshape(n, side * side)
