"""Data augmentation for training: random distortions of 32x32 binary digits, drawn afresh each epoch.

A slightly rotated, stretched, sheared, thicker or wobblier copy of a digit is still the same digit, so
training on such copies teaches a network what does not matter, which a fully connected network cannot
know by itself. The tutorial's digits are all written in one style (thick strokes, full height, upright);
other people's handwriting (MNIST, a mouse on the pad) differs in exactly these ways.

The transforms, each named by an ``AugmentName``:

* ``shift`` (the config's own ``shift`` field): move the image by whole pixels (``shift_images``);
* ``rotate``: turn by an angle uniform in +-``MAX_ROTATION`` degrees about the image centre;
* ``scale``: stretch x and y independently by factors in ``SCALE_X`` and ``SCALE_Y``;
* ``shear``: slant, ``x' = x + k (y - centre)`` with ``k`` uniform in +-``MAX_SHEAR``;
* ``elastic``: a smooth random displacement field (white noise blurred by a Gaussian of
  ``ELASTIC_SIGMA`` px, scaled to a mean length of ``ELASTIC_ALPHA`` px) bends strokes locally;
* ``thickness``: one step of binary dilation or erosion (4-neighbour cross), or nothing, each with
  probability 1/3, so strokes get 2 px thicker or thinner.

The geometric ones are composed into one sampling grid per image: output pixel ``p`` (centre
coordinates) reads the input at ``A^-1 (p - c) + c + d(p)``, ``A`` the product of rotation, scale and
shear, ``c`` the image centre and ``d`` the elastic field, rounded to the nearest pixel (nearest
neighbour keeps the images binary). Images are transformed ``CHUNK`` at a time with index arithmetic;
there is no per-image Python loop. Everything random comes from a ``np.random.Generator``, drawn for
all images first, so the result does not depend on the chunking.

Left out: noise, erasing parts of digits, colour: the images stay binary 0/1 with the input's dtype.
"""
from __future__ import annotations

from typing import Iterable, Literal, get_args

import numpy as np

AugmentName = Literal["rotate", "scale", "shear", "thickness", "elastic"]
AUGMENTS: tuple[str, ...] = get_args(AugmentName)

AUGMENT_DESCRIPTIONS: dict[str, str] = {
    "rotate": "turn each digit by up to 12 degrees either way",
    "scale": "stretch each digit's width by 0.8-1.15 and its height by 0.85-1.05",
    "shear": "slant each digit by up to 0.3 px per row either way",
    "thickness": "make each digit's strokes 2 px thicker or thinner (or leave them), one in three each",
    "elastic": "bend strokes with a smooth random displacement (about 1.5 px)",
}

#: Share of the images left as they are each epoch.
KEEP_FRACTION = 0.3
#: Largest rotation, degrees.
MAX_ROTATION = 12.0
#: Ranges of the horizontal and vertical stretch factors (digits already fill the box height, so
#: they are mostly shrunk vertically; widths vary more between writers than heights).
SCALE_X = (0.8, 1.15)
SCALE_Y = (0.85, 1.05)
#: Largest shear, pixels of horizontal move per row.
MAX_SHEAR = 0.3
#: Smoothness (Gaussian blur sigma, px) and mean size (px) of the elastic displacement.
ELASTIC_SIGMA = 4.0
ELASTIC_ALPHA = 1.5


def parse_augment(text: str) -> tuple[str, ...]:
    """``"rotate,scale"`` -> ``("rotate", "scale")``; ``""`` or ``"none"`` -> ``()``.

    Raises ``ValueError`` naming the unknown names and the known ones. Names are returned in the
    canonical order of ``AUGMENTS``, each once.
    """
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if names == ["none"]:
        return ()
    return normalise_augment(names)


def normalise_augment(names: Iterable[str]) -> tuple[str, ...]:
    """The names in ``AUGMENTS`` order without repeats; ``ValueError`` for unknown ones."""
    names = [str(n) for n in names]
    unknown = [n for n in names if n not in AUGMENTS]
    if unknown:
        raise ValueError(f"unknown augmentation {', '.join(repr(n) for n in unknown)}: choose from "
                         f"{', '.join(AUGMENTS)} (or none)")
    return tuple(a for a in AUGMENTS if a in names)


def shift_images(images: np.ndarray, max_shift: int, rng: np.random.Generator,
                 side: int = 32) -> np.ndarray:
    """Move each image by its own random (dy, dx), each in [-max_shift, max_shift]; vacated pixels are 0.

    ``images`` is (n, side*side), one row-major image per row; the result has the same shape and dtype:
    output pixel (r, c) of image i is input pixel (r - dy_i, c - dx_i), or 0 outside the image. The
    images that share a shift are moved together with one slice copy, so the loop runs over the at
    most (2 max_shift + 1)^2 shifts, not over the images.
    """
    n = images.shape[0]
    if max_shift <= 0 or n == 0:
        return images.copy()
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    source = images.reshape(n, side, side)
    shifted = np.zeros_like(source)
    width = 2 * max_shift + 1
    shift_number = (dy + max_shift) * width + (dx + max_shift)
    for number in np.unique(shift_number):
        which = np.flatnonzero(shift_number == number)
        down, right = int(number) // width - max_shift, int(number) % width - max_shift
        # Rows r >= down read rows r - down (down >= 0), and likewise for columns.
        shifted[which, max(down, 0):side + min(down, 0), max(right, 0):side + min(right, 0)] = \
            source[which, max(-down, 0):side - max(down, 0), max(-right, 0):side - max(right, 0)]
    return shifted.reshape(n, side * side)


def warp_images(images: np.ndarray, matrices: np.ndarray, displacement: np.ndarray | None = None,
                side: int = 32) -> np.ndarray:
    """Apply one 2x2 linear map per image about the image centre, plus an optional displacement field.

    ``images`` (n, side*side) binary; ``matrices`` (n, 2, 2) acting on ``(x, y)`` column vectors (x to
    the right, y down): the ink at point ``q`` moves to ``A (q - c) + c``. ``displacement`` (n, side,
    side, 2) is added to the source position ``(x, y)`` each output pixel reads. Nearest-neighbour
    sampling; sources outside the image read 0. Returns (n, side*side) with ``images``' dtype.
    """
    n = images.shape[0]
    if n == 0:
        return images.copy()
    centre = (side - 1) / 2
    coords = np.arange(side, dtype=np.float32) - np.float32(centre)
    inverse = np.linalg.inv(matrices).astype(np.float32)       # (n, 2, 2)
    # The images are read from a copy with a one-pixel zero border, so source positions are counted
    # from that border: + 1, and + 0.5 so that truncating to an integer rounds to the nearest pixel.
    # Output pixel (row r, column c) reads x = inv00 c' + inv01 r' + centre (c', r' from the centre).
    offset = np.float32(centre + 0.5 + 1)
    src_x = (inverse[:, 0, 0, None, None] * coords[None, None, :] + offset) \
        + inverse[:, 0, 1, None, None] * coords[None, :, None]                 # (n, side, side)
    src_y = (inverse[:, 1, 0, None, None] * coords[None, None, :] + offset) \
        + inverse[:, 1, 1, None, None] * coords[None, :, None]
    if displacement is not None:
        src_x += displacement[..., 0]
        src_y += displacement[..., 1]
    # Every source outside the image is clamped onto the zero border, so it reads 0 without a mask;
    # positions are then >= 0, where truncation is the floor.
    padded_side = side + 2
    np.clip(src_x, 0, side + 1, out=src_x)
    np.clip(src_y, 0, side + 1, out=src_y)
    flat = src_y.astype(np.int32)
    flat *= padded_side
    flat += src_x.astype(np.int32)
    flat += (np.arange(n, dtype=np.int32) * padded_side * padded_side)[:, None, None]
    padded = np.zeros((n, padded_side, padded_side), dtype=images.dtype)
    padded[:, 1:-1, 1:-1] = images.reshape(n, side, side)
    return padded.ravel()[flat.ravel()].reshape(n, side * side)


def _cross_neighbours(grid: np.ndarray) -> list[np.ndarray]:
    """The four 4-neighbour shifted copies of (n, side, side) ``grid`` (zero outside)."""
    n, rows, cols = grid.shape
    padded = np.zeros((n, rows + 2, cols + 2), dtype=grid.dtype)
    padded[:, 1:-1, 1:-1] = grid
    return [padded[:, :-2, 1:-1], padded[:, 2:, 1:-1], padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]]


def change_thickness(images: np.ndarray, steps: np.ndarray, side: int = 32) -> np.ndarray:
    """Dilate (step +1) or erode (step -1) each image by one pixel with a 4-neighbour cross; 0 leaves it.

    ``images`` (n, side*side) binary, ``steps`` (n,) in {-1, 0, 1}. Dilation inks every pixel next to
    ink; erosion keeps only ink whose four neighbours are ink. An erosion that would leave fewer than
    a third of the ink (a digit of thin strokes would fall apart) is not done.
    """
    n = images.shape[0]
    grid = images.reshape(n, side, side).astype(np.uint8)
    up, down, left, right = _cross_neighbours(grid)
    neighbours = up + down + left + right                       # 0-4 inked neighbours
    dilated = grid | (neighbours > 0)
    eroded = grid & (neighbours == 4)
    kept = eroded.sum(axis=(1, 2)) * 3 >= grid.sum(axis=(1, 2))
    steps = np.asarray(steps)
    out = np.where((steps > 0)[:, None, None], dilated,
                   np.where(((steps < 0) & kept)[:, None, None], eroded, grid))
    return out.reshape(n, side * side).astype(images.dtype)


#: The elastic noise is drawn on a coarse grid of this many points per side and smoothed up to the image.
ELASTIC_GRID = 8


def _smoothing_matrix(side: int, points: int, sigma: float) -> np.ndarray:
    """(side, points) matrix ``U``: ``U @ v`` spreads values on ``points`` evenly spaced points over
    ``side`` pixels with Gaussian weights of ``sigma`` px (rows normalised to sum to 1)."""
    pixel = np.arange(side)[:, None] + 0.5
    point = (np.arange(points)[None, :] + 0.5) * side / points
    weights = np.exp(-0.5 * ((pixel - point) / sigma) ** 2)
    return weights / weights.sum(axis=1, keepdims=True)


def elastic_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """The white noise behind ``n`` elastic fields: (n, 2, k, k) float32 uniform in [-1, 1], k = ``ELASTIC_GRID``."""
    k = ELASTIC_GRID
    return rng.uniform(-1.0, 1.0, size=(n * 2 * k, k)).astype(np.float32).reshape(n, 2, k, k)


def elastic_field(n: int, rng: np.random.Generator, sigma: float = ELASTIC_SIGMA,
                  alpha: float = ELASTIC_ALPHA, side: int = 32) -> np.ndarray:
    """Smooth random displacement fields (n, side, side, 2) float32, ``alpha`` px root mean square per axis
    (``field_from_noise`` of ``elastic_noise``)."""
    return field_from_noise(elastic_noise(n, rng), sigma, alpha, side)


def field_from_noise(noise: np.ndarray, sigma: float = ELASTIC_SIGMA, alpha: float = ELASTIC_ALPHA,
                     side: int = 32) -> np.ndarray:
    """Displacement fields (n, side, side, 2) float32 from ``elastic_noise`` (n, 2, k, k).

    The white noise on a coarse ``ELASTIC_GRID`` x ``ELASTIC_GRID`` grid per image and axis is
    spread over the pixels by a Gaussian of ``sigma`` px along rows and columns, ``U @ noise @ U.T``
    (done as two plain matrix products for all fields at once), and scaled by the constant that makes
    its expected mean square ``alpha^2``: a pixel's value is ``sum_ij U_pi U_qj noise_ij``, whose
    variance is ``(sum_i U_pi^2)(sum_j U_qj^2) / 3``. (Blurring per-pixel noise gives the same kind of
    field; the coarse grid is 16 times less noise to draw and blur.)
    """
    n, k = noise.shape[0], ELASTIC_GRID
    u = _smoothing_matrix(side, k, sigma)
    energy = (u ** 2).sum(axis=1)
    scale = alpha / np.sqrt(np.mean(energy[:, None] * energy[None, :]) / 3)
    u = u.astype(np.float32)
    along_x = (noise.reshape(n * 2 * k, k) @ (u.T * np.float32(scale))).reshape(n, 2, k, side)  # (n, 2, k, side)
    # Now along y: (side, k) @ (k, everything else) as one product, then put the axes back.
    both = u @ along_x.transpose(2, 0, 1, 3).reshape(k, n * 2 * side)             # (side, n * 2 * side)
    return both.reshape(side, n, 2, side).transpose(1, 0, 3, 2)                    # (n, row, col, axis)


def random_matrices(n: int, augment: tuple[str, ...], rng: np.random.Generator) -> np.ndarray:
    """(n, 2, 2) maps ``shear @ scale @ rotation`` with parameters drawn for the named transforms.

    Every parameter is drawn whether its transform is on or not, so turning one transform on or off
    does not change what the others draw.
    """
    angle = np.deg2rad(rng.uniform(-MAX_ROTATION, MAX_ROTATION, size=n))
    scale_x = rng.uniform(*SCALE_X, size=n)
    scale_y = rng.uniform(*SCALE_Y, size=n)
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR, size=n)
    if "rotate" not in augment:
        angle[:] = 0.0
    if "scale" not in augment:
        scale_x[:] = scale_y[:] = 1.0
    if "shear" not in augment:
        shear[:] = 0.0
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    zeros, ones = np.zeros(n), np.ones(n)
    scaling = np.stack([np.stack([scale_x, zeros], -1), np.stack([zeros, scale_y], -1)], -2)
    shearing = np.stack([np.stack([ones, shear], -1), np.stack([zeros, ones], -1)], -2)
    return shearing @ scaling @ rotation


#: Images distorted in one go: small enough that the sampling grids stay in the CPU's cache (about
#: twice as fast as all at once), large enough that the loop over chunks costs nothing.
CHUNK = 128


def augment_images(images: np.ndarray, augment: tuple[str, ...], rng: np.random.Generator,
                   side: int = 32) -> np.ndarray:
    """``images`` (n, side*side) binary, distorted by the named transforms (see the module docstring).

    The geometric transforms (rotate, scale, shear, elastic) are one sampling step; thickness comes
    after. ``augment`` empty returns a copy. Same shape and dtype as ``images``.

    Everything random is drawn first, for all ``n`` images in a fixed order (the maps, the elastic
    noise, the thickness steps, which images are kept), so the result does not depend on how the work
    is split; then only the images not kept are distorted, ``CHUNK`` at a time.
    """
    augment = normalise_augment(augment)
    n = images.shape[0]
    if not augment or n == 0:
        return images.copy()
    matrices = random_matrices(n, augment, rng)
    noise = elastic_noise(n, rng) if "elastic" in augment else None
    steps = rng.integers(-1, 2, size=n) if "thickness" in augment else None
    keep = rng.random(n) < KEEP_FRACTION if KEEP_FRACTION > 0 else np.zeros(n, dtype=bool)
    geometric = noise is not None or any(a in augment for a in ("rotate", "scale", "shear"))
    out = images.copy()
    distorted = np.flatnonzero(~keep)
    for start in range(0, len(distorted), CHUNK):
        rows = distorted[start:start + CHUNK]
        chunk = images[rows]
        if geometric:
            field = field_from_noise(noise[rows], side=side) if noise is not None else None
            chunk = warp_images(chunk, matrices[rows], field, side)
        if steps is not None:
            chunk = change_thickness(chunk, steps[rows], side)
        out[rows] = chunk
    return out


def epoch_images(images: np.ndarray, augment: tuple[str, ...], shift: int, seed: int,
                 epoch: int) -> np.ndarray:
    """The training images of epoch ``epoch`` (counting from 1): augmented, then shifted.

    The distortions come from the stream ``(seed, 3, epoch)`` and the shifts from ``(seed, 2, epoch)``
    (as before augmentation existed), so a run carried on after a stop sees the same images, and a
    run with only ``shift`` sees the images it always did.
    """
    out = augment_images(images, augment, np.random.default_rng([seed, 3, epoch])) if augment else images
    if shift:
        out = shift_images(out, shift, np.random.default_rng([seed, 2, epoch]))
    return out
