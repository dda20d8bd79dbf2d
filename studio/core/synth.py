"""A handwriting synthesiser: the studio's built-in data set of 32x32 binary digits, made from strokes.

The studio must train on first launch with no download, so it ships digits that it draws itself in the
style of the tutorial's data set (the "Machine Learning in Action" ch. 2 digits, which are UCI optdigits
32x32 bitmaps). Those bitmaps went through NIST's normaliser, and the synthesiser copies its visible
effects rather than any particular sample:

* every digit fills the box height (rows 0 to 31) and is brought to a width of about 20 columns,
  centred: squeezed if wider, stretched by at most 15% if narrower (so a "1" stays a narrow bar);
* strokes are thickened until about 30% of the 1024 pixels are ink, whatever the digit (so a long
  "8" has thin strokes and a short "1" very thick ones);
* digits are nearly upright: each is sheared to its digit's typical slant (a 7 leans forward, a 6 back);
* edges are ragged by a pixel or so.

How one digit is drawn (``render_digit``): pick a variant of the digit (open or closed 4, 7 with or
without a bar, ...) from ``VARIANTS``, a table of strokes whose control points are in units of a
100-high box; jitter each control point and each stroke; squeeze, bend and rotate the whole; trace each
stroke as a Catmull-Rom curve; warp the curves smoothly (the middle moved up or down, then an elastic
deformation, ``_warp``); shear them to a slant drawn around the digit's ``LEAN``; fit them into the box
as above; then ink every pixel whose distance to the nearest curve (divided by the stroke's pen width,
plus a little smooth noise) is among the ``ink fraction x 1024`` smallest. Small loops drawn with the
thick pen that a short digit gets fill in, as blotted loops do in the tutorial's digits. Rendering is done for
many digits at once with NumPy broadcasting: the shipped 2,880 digits take about four seconds.

The stroke tables are drawn by hand. The per-digit constants (ink fraction, width, slant, with their
spreads) are aggregate statistics of the tutorial's training set, per digit; no sample is copied.

Everything random comes from one ``np.random.Generator``: the same seed gives the same images bit for
bit. Only IEEE-exact operations (+, -, *, /, sqrt) touch the pixels, and the few sines and cosines are
Python's, so the images do not depend on NumPy's SIMD paths.

Left out: letters and other symbols, grey levels (the tutorial's images are binary), sizes other than
32x32, and writer styles beyond the tables (e.g. a 1 with a long serif base and a 7 with a curly top are
rare or missing).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from studio.core.data import Dataset, Split
from studio.core.digit_folders import export_dataset

SIZE = 32
PIXELS = SIZE * SIZE

#: The seed of the shipped set in data/synthetic.
DEFAULT_SEED = 20240
#: Samples per digit 0-9, the same as the tutorial's trainingDigits and testDigits.
DEFAULT_TRAIN_COUNTS: tuple[int, ...] = (189, 198, 195, 199, 186, 187, 195, 201, 180, 204)
DEFAULT_TEST_COUNTS: tuple[int, ...] = (87, 97, 92, 85, 114, 108, 87, 96, 91, 89)


# --------------------------------------------------------------------------------------------------
# The strokes. Each digit has variants; each variant has a weight (how often it is drawn) and strokes.
# A stroke is a string of control points "x,y" in a box 100 high (y grows downwards, x is roughly
# 0-100 but only proportions matter: the width is normalised later). A "*" after a point makes a sharp
# corner there (the curve is split into two smooth pieces); a stroke whose last point repeats its first
# is a closed loop.
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """One way of writing a digit: ``strokes`` in the notation above, drawn with relative ``weight``."""

    name: str
    weight: float
    strokes: tuple[str, ...]


VARIANTS: dict[int, tuple[Variant, ...]] = {
    0: (
        Variant("oval", 4, ("50,0 82,14 94,50 82,86 50,100 18,86 6,50 18,14 50,0",)),
        Variant("overlap at top", 2, ("62,6 40,2 16,18 6,52 18,86 50,100 82,86 94,50 84,14 56,0 34,8",)),
        Variant("leaning egg", 2, ("56,0 84,12 92,44 80,84 48,100 16,88 8,54 22,16 56,0",)),
    ),
    1: (
        Variant("plain", 5, ("52,0 50,50 48,100",)),
        Variant("flag", 4, ("12,34 56,0* 52,50 48,100",)),
        Variant("flag and base", 3, ("14,30 56,0* 52,50 48,100", "15,100 85,100")),
        Variant("curved flag", 1, ("10,40 36,20 56,0* 52,50 48,100",)),
    ),
    2: (
        Variant("plain", 5, ("8,28 26,6 58,0 88,14 88,36 62,60 28,84 4,100* 50,98 96,100",)),
        Variant("loop", 3, ("8,28 26,6 58,0 88,14 88,36 60,62 30,84 14,98 4,92 16,84 34,92 62,100 96,98",)),
        Variant("straight neck", 1, ("8,22 40,0 78,4 86,24* 8,100* 96,98",)),
    ),
    3: (
        Variant("round", 5, ("10,14 40,0 74,4 86,22 70,42 42,50* 74,56 92,74 80,94 50,100 10,88",)),
        Variant("flat top", 2, ("8,2 88,0* 44,42* 78,52 92,72 78,94 46,100 8,88",)),
        Variant("wide middle", 1, ("12,12 44,0 78,8 80,28 58,46 36,50* 70,54 90,74 78,94 46,100 8,86",)),
    ),
    4: (
        Variant("open", 5, ("48,0 2,64* 100,60", "76,2 70,100")),
        Variant("open, upright left", 2, ("18,4 8,68* 100,66", "72,0 68,100")),
        Variant("closed", 4, ("66,0 6,50* 100,48", "66,0 64,100")),
        Variant("curved left", 3, ("14,0 10,32 26,52 56,52 88,40", "86,0 70,100")),
        Variant("italic", 4, ("42,0 6,60* 96,56", "86,0 50,100")),
        Variant("italic, curved left", 2, ("30,0 12,36 22,58 60,56 96,48", "90,0 52,100")),
    ),
    5: (
        Variant("two strokes", 5, ("14,2 8,42* 36,36 66,42 86,60 88,80 70,96 44,100 16,94", "14,2 94,0")),
        Variant("one stroke", 2, ("92,0 14,2* 8,42* 38,36 68,44 86,62 84,84 62,98 34,100 12,92",)),
        Variant("small belly", 1, ("14,0 8,48* 54,42 84,60 82,86 56,100 24,98 8,88", "14,0 94,2")),
        Variant("long tail", 2, ("18,2 12,36* 42,32 70,42 78,60 64,82 34,98 6,100", "18,2 96,0")),
    ),
    6: (
        Variant("curved", 5, ("80,0 44,12 18,40 8,68 18,92 50,100 84,90 94,68 80,48 50,42 22,50 10,66",)),
        Variant("straight back", 0.5, ("72,0 38,28 14,60 10,80 28,98 58,98 84,82 80,58 54,48 28,54 14,74",)),
        Variant("small loop", 1, ("84,0 46,14 18,48 10,76 28,98 58,96 76,80 66,62 40,62 18,76",)),
    ),
    7: (
        Variant("plain", 2, ("4,4 92,0* 76,40 60,100",)),
        Variant("barred", 7, ("4,4 92,0* 76,40 60,100", "26,52 96,48")),
        Variant("serif, barred", 2, ("6,24 6,2* 92,0* 76,44 60,100", "26,52 96,48")),
        Variant("serif", 1, ("6,20 6,2* 92,0* 76,44 60,100",)),
    ),
    8: (
        Variant("one stroke", 4, ("84,12 52,0 18,10 20,32 50,48 78,62 84,88 50,100 14,88 18,64 50,48 "
                                  "80,32 84,12 72,4",)),
        Variant("two loops", 3, ("50,0 84,12 80,36 50,48 20,36 16,12 50,0",
                                 "50,48 84,62 86,88 50,100 12,88 16,62 50,48")),
        Variant("open top", 2, ("84,14 54,0 22,8 20,30 50,48 80,64 84,88 50,100 16,88 20,64 50,48 72,34",)),
        Variant("small top", 1, ("70,8 52,0 36,8 38,26 52,40 78,60 80,86 50,100 20,88 24,62 52,40 "
                                 "66,22 70,8",)),
        Variant("hourglass", 2, ("82,4 20,2* 80,96* 18,98* 82,4",)),
        Variant("leaning loops", 2, ("66,0 90,12 84,34 58,46 40,34 44,10 66,0",
                                     "58,46 70,66 62,92 34,100 10,86 20,60 58,46")),
    ),
    9: (
        Variant("straight tail", 4, ("86,18 56,0 22,4 8,24 24,44 60,44 86,18* 88,60 86,100",)),
        Variant("hooked tail", 3, ("86,18 56,0 22,4 8,24 24,44 60,44 86,18* 90,64 84,90 58,100 30,94",)),
        Variant("small loop, wide hook", 2, ("84,14 58,0 28,4 16,20 28,36 58,36 84,14* 88,56 80,84 "
                                             "54,100 22,98 4,86",)),
        Variant("closed loop", 2, ("50,0 84,14 80,38 50,46 16,38 12,14 50,0", "84,14 88,60 86,100")),
        Variant("slanted tail", 3, ("84,14 58,0 28,4 16,20 30,36 60,34 84,14* 70,56 46,100",)),
        Variant("flat loop, hooked", 2, ("86,10 56,0 22,4 12,18 30,30 62,28 86,10* 88,58 76,88 50,100 "
                                         "26,92",)),
    ),
}

#: The share of the 1024 pixels that is ink, mean and spread per digit: the normaliser thickens every
#: digit to about the same amount of ink (a short "1" gets thick strokes, a long "8" thin ones).
INK_FRACTION_MEAN = (0.314, 0.321, 0.302, 0.301, 0.305, 0.297, 0.301, 0.300, 0.332, 0.312)
INK_FRACTION_SD = (0.033, 0.044, 0.031, 0.03, 0.029, 0.031, 0.028, 0.028, 0.04, 0.035)

#: The width of the ink in pixels, mean per digit and spread, as in the tutorial's digits: its
#: normaliser brings every digit to about 20 columns, but stretches a narrow one by MAX_STRETCH at most.
WIDTH = (20.3, 21.0, 21.8, 20.2, 22.5, 19.9, 20.9, 20.5, 19.6, 20.5)
WIDTH_SD = 1.5
MAX_STRETCH = 1.15

#: How much narrower than the tables each digit is written: the tables are drawn about 100 wide for
#: legibility, handwritten digits are about half as wide as tall. It matters for the pen (the ink is
#: spread over the strokes of the natural shape) and for digits too narrow to reach their WIDTH.
ASPECT = (0.58, 0.62, 0.55, 0.56, 0.65, 0.52, 0.6, 0.58, 0.5, 0.6)

#: The typical slant of each digit, -cov(x, y) / var(y) of its ink (x shift per unit of height, > 0 when
#: the top leans right), as measured on the tutorial's digits: upright on the whole, but a 7 leans
#: forward and a 6 back.
LEAN = (-0.04, -0.05, -0.14, -0.08, 0.03, -0.03, -0.22, 0.17, 0.0, -0.07)
#: ... and its spread from writer to writer (1s and 9s vary most).
LEAN_SD = (0.06, 0.11, 0.08, 0.07, 0.09, 0.08, 0.06, 0.08, 0.08, 0.1)


# --------------------------------------------------------------------------------------------------
# Parsing the tables once, at import
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Stroke:
    """A parsed stroke: control points (k, 2) in box units (0-1 high) and the indices of its corners."""

    points: np.ndarray
    corners: tuple[int, ...]
    closed: bool


def _parse_stroke(text: str) -> _Stroke:
    """'x,y x,y* ...' -> a _Stroke; a trailing '*' marks a corner, a repeated first point a loop."""
    points, corners = [], []
    for i, token in enumerate(text.split()):
        if token.endswith("*"):
            corners.append(i)
            token = token[:-1]
        x, y = token.split(",")
        points.append((float(x) / 100.0, float(y) / 100.0))
    closed = len(points) > 2 and points[0] == points[-1]
    if closed:
        points.pop()
    return _Stroke(np.array(points), tuple(corners), closed)


_PARSED: dict[int, tuple[tuple[_Stroke, ...], ...]] = {
    digit: tuple(tuple(_parse_stroke(s) for s in v.strokes) for v in variants)
    for digit, variants in VARIANTS.items()
}
#: Cumulative variant probabilities per digit, for drawing a variant with one uniform number.
_CUMULATIVE: dict[int, np.ndarray] = {
    digit: np.cumsum([v.weight for v in variants])[:-1] / sum(v.weight for v in variants)
    for digit, variants in VARIANTS.items()
}


# --------------------------------------------------------------------------------------------------
# Geometry: from control points to polylines
# --------------------------------------------------------------------------------------------------

#: Curve samples per span between two control points: spans are about 8 pixels long, so segments of
#: 2-3 pixels, whose chords stray from the arc by a fifth of a pixel at most.
_SAMPLES_PER_SPAN = 4


def _catmull_rom_basis(samples: int) -> np.ndarray:
    """Weights (samples, 4) of p[i-1], p[i], p[i+1], p[i+2] at t = 0, 1/samples, ... along the span
    from p[i] to p[i+1] of a uniform Catmull-Rom curve."""
    t = np.arange(samples) / samples
    t2, t3 = t * t, t * t * t
    return 0.5 * np.stack([-t3 + 2 * t2 - t, 3 * t3 - 5 * t2 + 2, -3 * t3 + 4 * t2 + t, t3 - t2], axis=1)


_CR_BASIS = _catmull_rom_basis(_SAMPLES_PER_SPAN)


def _catmull_rom(points: np.ndarray, closed: bool) -> np.ndarray:
    """A uniform Catmull-Rom curve through ``points`` (k, 2), sampled as a polyline (m, 2).

    An open curve gets phantom end points mirrored from its neighbours so it starts and ends on the
    first and last control point; a closed one wraps around. Two points make a straight segment.
    """
    if len(points) == 2 and not closed:
        return points.copy()
    if closed:
        p = np.concatenate([points[-1:], points, points[:2]])
    else:
        p = np.concatenate([2 * points[:1] - points[1:2], points, 2 * points[-1:] - points[-2:-1]])
    spans = len(p) - 3
    quads = p[np.arange(spans)[:, None] + np.arange(4)]                   # (spans, 4, 2)
    # (spans, samples, 2): each sample is a weighted sum of its span's four points.
    curve = (_CR_BASIS[None, :, :, None] * quads[:, None, :, :]).sum(axis=2)
    return np.concatenate([curve.reshape(-1, 2), p[-2:-1]])


def _stroke_polylines(points: np.ndarray, corners: tuple[int, ...], closed: bool) -> list[np.ndarray]:
    """Polylines (m, 2) of one stroke: one smooth piece between consecutive corners."""
    if closed and not corners:
        return [_catmull_rom(points, closed=True)]
    if closed:
        points = np.concatenate([points, points[:1]])
    cuts = [0, *corners, len(points) - 1]
    return [_catmull_rom(points[a:b + 1], closed=False) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


@dataclass(frozen=True)
class _Shape:
    """A digit ready to render: segments from ``a`` to ``b`` (m, 2) in pen space (pixel x divided by
    ``stretch``, pixel y), the inverse square of the pen width on each segment, ``inv_width2`` (m,),
    and the ink fraction to reach."""

    a: np.ndarray
    b: np.ndarray
    inv_width2: np.ndarray
    ink: float
    stretch: float


#: How much each digit varies, in box units (the box is 1 high) unless said otherwise.
JITTER = 0.05           # standard deviation of each control point's displacement
STROKE_SHIFT = 0.02     # ... of each whole stroke's displacement (a 7's bar lands a little off)
ROTATION = 3.0          # sd of a rotation, degrees
SQUEEZE = 0.1           # sd of the log of a horizontal squeeze (writers' own aspect ratios)
BEND = 0.08             # sd of a quadratic warp that curves rows and columns a little
PEN = 0.12              # sd of the log of each stroke's pen width relative to the others
PROPORTION = 0.3        # sd of k in the proportion warp (see ``_warp``): k = 0.3 moves the middle 7.5%
ELASTIC = 0.04          # sd of each displacement of the elastic lattice (see ``_warp``)


def _random_strokes(label: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[float]]:
    """Polylines of one randomly varied digit in box units (y down, about 0-1 high), with a pen width
    factor per polyline."""
    variant = _PARSED[label][int(np.searchsorted(_CUMULATIVE[label], rng.random(), side="right"))]
    squeeze = ASPECT[label] * math.exp(rng.normal(0.0, SQUEEZE))
    bend = rng.normal(0.0, BEND, size=2)
    angle = math.radians(rng.normal(0.0, ROTATION))
    cos, sin = math.cos(angle), math.sin(angle)
    polylines, widths = [], []
    for stroke in variant:
        pts = stroke.points + rng.normal(0.0, JITTER, size=stroke.points.shape)
        pts = pts + rng.normal(0.0, STROKE_SHIFT, size=2)
        x, y = pts[:, 0] * squeeze, pts[:, 1]
        x = x + bend[0] * (y - 0.5) ** 2
        y = y + bend[1] * (x - 0.5) ** 2
        pts = np.stack([cos * x - sin * y, sin * x + cos * y], axis=1)
        pen = math.exp(rng.normal(0.0, PEN))
        for line in _stroke_polylines(pts, stroke.corners, stroke.closed):
            polylines.append(line)
            widths.append(pen)
    polylines = _warp(polylines, rng)
    lean = LEAN[label] + rng.normal(0.0, LEAN_SD[label])
    return _shear_to_lean(polylines, lean), widths


def _bernstein3(u: np.ndarray) -> np.ndarray:
    """Cubic Bernstein weights (m, 4) at u (m,) in [0, 1]."""
    v = 1.0 - u
    return np.stack([v * v * v, 3 * u * v * v, 3 * u * u * v, u * u * u], axis=1)


def _warp(polylines: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """The polylines (each (m, 2), box units) under one smooth random deformation of the plane.

    First a proportion warp of the height, v -> v + k v (1 - v) with v = 0 at the digit's top and 1 at
    its bottom (monotonic for |k| < 1): it moves the middle up or down, so an 8's waist, a 4's bar and
    the bottom of a 9's loop land higher or lower, and one loop grows as the other shrinks. Then an
    elastic free-form deformation: a 4 x 4 lattice of random displacements spread over the digit's
    bounding box and blended with cubic Bernstein weights, which bends strokes smoothly as a hand does,
    unlike the per-point jitter. Only + and * are used, so the result is exact.
    """
    allp = np.concatenate(polylines)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 1e-3)
    k = float(np.clip(rng.normal(0.0, PROPORTION), -0.8, 0.8))
    lattice = rng.normal(0.0, ELASTIC, size=(4, 4, 2))
    u = (allp[:, 0] - lo[0]) / span[0]
    v = (allp[:, 1] - lo[1]) / span[1]
    v = v + k * v * (1.0 - v)
    bu, bv = _bernstein3(u), _bernstein3(v)
    warped = np.stack([allp[:, 0], lo[1] + v * span[1]], axis=1)
    # Sixteen terms added one by one in a fixed order, so the sum is the same on every machine.
    for i in range(4):
        for j in range(4):
            warped = warped + (bv[:, i] * bu[:, j])[:, None] * lattice[i, j]
    return np.split(warped, np.cumsum([len(p) for p in polylines])[:-1])


def _lean(polylines: list[np.ndarray]) -> tuple[float, float]:
    """The slant of a drawing, -cov(x, y) / var(y) of its ink (y down, so > 0 leans forward), and the
    mean y. The ink is taken as the curves themselves, uniform along their length: for a segment from
    a to b, the mean of x y is (ax ay + bx by) / 3 + (ax by + bx ay) / 6."""
    a = np.concatenate([p[:-1] for p in polylines])
    b = np.concatenate([p[1:] for p in polylines])
    d = b - a
    w = np.sqrt(d[:, 0] ** 2 + d[:, 1] ** 2)
    w = w / w.sum()
    mx = float((w * (a[:, 0] + b[:, 0])).sum()) / 2
    my = float((w * (a[:, 1] + b[:, 1])).sum()) / 2
    ax, ay, bx, by = a[:, 0] - mx, a[:, 1] - my, b[:, 0] - mx, b[:, 1] - my
    cov = float((w * ((ax * ay + bx * by) / 3 + (ax * by + bx * ay) / 6)).sum())
    var = float((w * ((ay * ay + by * by + ay * by) / 3)).sum())
    return -cov / var, my


def _shear_to_lean(polylines: list[np.ndarray], lean: float) -> list[np.ndarray]:
    """The polylines sheared horizontally so that their slant (see ``_lean``) becomes ``lean``.

    The tutorial's digits are nearly upright whatever the writer's hand (a slant normaliser, it seems,
    as in NIST's pipeline), so each digit is brought to its class's typical slant plus a little noise
    rather than slanted at random.
    """
    current, my = _lean(polylines)
    k = lean - current
    return [np.stack([p[:, 0] - k * (p[:, 1] - my), p[:, 1]], axis=1) for p in polylines]


def _fit_to_box(polylines: list[np.ndarray], widths: list[float], ink: float, label: int,
                rng: np.random.Generator) -> _Shape:
    """Scale and place polylines like the tutorial's normaliser: the ink spans rows 0-31 and about
    ``WIDTH[label]`` columns, centred; a narrow digit is stretched sideways at most ``MAX_STRETCH``.

    The digit is drawn with a round pen at its natural aspect ("pen space": box units times one scale
    ``s``) and then stretched (or squeezed) sideways by ``stretch`` into pixels, so the pen is stretched
    with the digit, as it is when a bitmap is resized. The pen radius r is not known until the size is,
    and the size depends on r (the curves must stay r inside the box), so both are found by a few
    rounds of: scale for r, measure the length L of the curves, solve ink area = 2 r L + pi r^2 for r.
    """
    a = np.concatenate([p[:-1] for p in polylines])
    b = np.concatenate([p[1:] for p in polylines])
    w = np.concatenate([np.full(len(p) - 1, wd) for p, wd in zip(polylines, widths)])
    allp = np.concatenate(polylines)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 1e-3)
    target = float(np.clip(rng.normal(WIDTH[label], WIDTH_SD), 12.0, SIZE - 1.0))
    d = b - a
    unit_length = float(np.sqrt(d[:, 0] ** 2 + d[:, 1] ** 2).sum())
    r, stretch = 3.0, 1.0
    for _ in range(5):
        s = (SIZE - 2 * r) / span[1]
        stretch = min(target / (span[0] * s + 2 * r), MAX_STRETCH)
        length = unit_length * s
        area = ink * PIXELS / stretch
        r = (math.sqrt(length * length + math.pi * area) - length) / math.pi
    s = (SIZE - 2 * r) / span[1]
    stretch = min(target / (span[0] * s + 2 * r), MAX_STRETCH)
    centre_x = SIZE / 2 + rng.normal(0.0, 0.4)
    offset = np.array([centre_x / stretch - s * (lo[0] + hi[0]) / 2, r - s * lo[1]])
    return _Shape(a * s + offset, b * s + offset, 1.0 / (w * w), ink, stretch)


def _random_shape(label: int, rng: np.random.Generator) -> _Shape:
    """One random digit ``label`` as segments in pen space, ready for ``_render``."""
    polylines, widths = _random_strokes(label, rng)
    ink = float(np.clip(rng.normal(INK_FRACTION_MEAN[label], INK_FRACTION_SD[label]), 0.2, 0.42))
    return _fit_to_box(polylines, widths, ink, label, rng)


# --------------------------------------------------------------------------------------------------
# Rendering many shapes at once
# --------------------------------------------------------------------------------------------------

#: Pixel centres (1024, 1) each, row-major: pixel (row i, column j) has its centre at (j + 0.5, i + 0.5).
_PX = (np.arange(PIXELS) % SIZE + 0.5).astype(np.float32)[:, None]
_PY = (np.arange(PIXELS) // SIZE + 0.5).astype(np.float32)[:, None]

#: Standard deviation of the noise added to the distance field, in pen widths: it makes edges ragged.
#: The noise is smoothed over 3 x 3 pixels (``_smooth_noise``), so the edges get bumps, not specks.
_EDGE_NOISE = 0.35
#: Shapes rendered per NumPy batch: bounds the (batch, 1024, segments) temporaries to a few MB.
_BATCH = 24


def _distance_fields(shapes: Sequence[_Shape]) -> np.ndarray:
    """For each shape, the distance (n, 1024) of every pixel centre to its nearest segment, in pen widths.

    Segments are padded to the same count by repeating each shape's first one (a repeat cannot change
    a minimum), so the whole batch is one broadcast over (n, 1024, segments). Single precision halves
    the memory traffic and is ample for pixels.
    """
    m = max(len(s.a) for s in shapes)

    def padded(values: list[np.ndarray]) -> np.ndarray:
        return np.stack([np.concatenate([v, np.repeat(v[:1], m - len(v), axis=0)])
                         for v in values]).astype(np.float32)

    a = padded([s.a for s in shapes])                          # (n, m, 2)
    b = padded([s.b for s in shapes])
    iw2 = padded([s.inv_width2 for s in shapes])[:, None, :]   # (n, 1, m)
    ax, ay = a[:, None, :, 0], a[:, None, :, 1]                # (n, 1, m)
    dx, dy = b[:, None, :, 0] - ax, b[:, None, :, 1] - ay
    len2 = dx * dx + dy * dy
    inv_len2 = np.where(len2 > 0, 1.0 / np.maximum(len2, np.float32(1e-12)), 0.0).astype(np.float32)
    # Pixel centres in each shape's pen space, where the pen is round.
    px = _PX[None] / np.array([s.stretch for s in shapes], dtype=np.float32)[:, None, None]
    # Projection of each pixel centre onto each segment, clamped to the segment's ends.
    rx, ry = px - ax, _PY - ay                                 # (n, 1024, m)
    t = np.clip((rx * dx + ry * dy) * inv_len2, 0.0, 1.0)
    ex = rx - t * dx
    ey = ry - t * dy
    # The square root is monotonic, so it is taken once per pixel after the minimum, not per segment.
    return np.sqrt(((ex * ex + ey * ey) * iw2).min(axis=2))


def _smooth_noise(white: np.ndarray) -> np.ndarray:
    """(n, 34, 34) white noise -> (n, 32, 32) noise of unit spread that varies over 2-3 pixels: the sum
    of each 3 x 3 neighbourhood, divided by 3. Scanned edges are ragged in small bumps, not in single
    stray pixels."""
    rows = white[:, :-2] + white[:, 1:-1] + white[:, 2:]
    return (rows[:, :, :-2] + rows[:, :, 1:-1] + rows[:, :, 2:]) / 3.0


def _render(shapes: Sequence[_Shape], rng: np.random.Generator) -> np.ndarray:
    """Binary images (n, 1024) uint8: for each shape, the ``ink x 1024`` pixels nearest its strokes.

    Shapes are batched in order of segment count so that little padding is wasted; the edge noise is
    drawn per image in the original order, so the result does not depend on the batching.
    """
    n = len(shapes)
    noise = _smooth_noise(rng.normal(0.0, 1.0, size=(n, SIZE + 2, SIZE + 2)))
    noise = (noise * _EDGE_NOISE).reshape(n, PIXELS).astype(np.float32)
    order = np.argsort([len(s.a) for s in shapes], kind="stable")
    images = np.zeros((n, PIXELS), dtype=np.uint8)
    for start in range(0, n, _BATCH):
        idx = order[start:start + _BATCH]
        dist = _distance_fields([shapes[i] for i in idx]) + noise[idx]
        nearest = np.argsort(dist, axis=1, kind="stable")
        for row, i in enumerate(idx):
            images[i, nearest[row, :int(round(shapes[i].ink * PIXELS))]] = 1
    return images


def render_digit(label: int, rng: np.random.Generator) -> np.ndarray:
    """One random handwritten-looking digit ``label`` as a (32, 32) uint8 array of 0/1."""
    if not 0 <= int(label) <= 9:
        raise ValueError(f"a digit label is 0-9, got {label}")
    return _render([_random_shape(int(label), rng)], rng)[0].reshape(SIZE, SIZE)


def render_digits(labels: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """Random digits for ``labels`` (n,) as (n, 1024) uint8 0/1, one row per label, in order."""
    shapes = [_random_shape(int(label), rng) for label in labels]
    return _render(shapes, rng) if shapes else np.zeros((0, PIXELS), dtype=np.uint8)


# --------------------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------------------

def _check_counts(counts: Sequence[int]) -> tuple[int, ...]:
    counts = tuple(int(c) for c in counts)
    if len(counts) != 10 or any(c < 0 for c in counts):
        raise ValueError(f"counts must be 10 numbers of samples >= 0, one per digit 0-9, got {counts}")
    return counts


def _split(counts: Sequence[int], rng: np.random.Generator) -> Split:
    """``counts[d]`` random samples of each digit d, ordered by (label, sequence number)."""
    counts = _check_counts(counts)
    labels = np.repeat(np.arange(10, dtype=np.int64), counts)
    names = tuple(f"{label}_{seq}.txt" for label, count in enumerate(counts) for seq in range(count))
    return Split(render_digits(labels.tolist(), rng), labels, names)


def generate_split(counts: Sequence[int], seed: int) -> Split:
    """A split with ``counts[d]`` samples of digit d (``counts`` has 10 entries): images (n, 1024) uint8
    0/1, labels (n,) int64 and names ``"d_seq.txt"``, ordered by (label, seq). The same seed and counts
    give the same images bit for bit."""
    return _split(counts, np.random.default_rng(seed))


def generate_dataset(train_counts: Sequence[int] = DEFAULT_TRAIN_COUNTS,
                     test_counts: Sequence[int] = DEFAULT_TEST_COUNTS, seed: int = DEFAULT_SEED,
                     name: str = "synthetic") -> Dataset:
    """A training split equal to ``generate_split(train_counts, seed)`` and a test split drawn from an
    independent stream of the same seed (``np.random.default_rng([seed, 1])``), so no test image is a
    training image of this or any other seed."""
    train = generate_split(train_counts, seed)
    test = _split(test_counts, np.random.default_rng([seed, 1]))
    return Dataset(name, f"synthetic handwriting, seed {seed}", train, test)


def synth_command(out: str | Path, seed: int = DEFAULT_SEED,
                  train_counts: Sequence[int] = DEFAULT_TRAIN_COUNTS,
                  test_counts: Sequence[int] = DEFAULT_TEST_COUNTS) -> Dataset:
    """``python -m studio synth``: generate a data set and write ``out/trainingDigits`` and
    ``out/testDigits`` in the tutorial's format. ``FileExistsError`` if either is not empty."""
    dataset = generate_dataset(train_counts, test_counts, seed)
    export_dataset(dataset, out)
    return dataset
