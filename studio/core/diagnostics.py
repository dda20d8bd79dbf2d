"""Why a network learns or doesn't: saturation, gradient flow and update sizes, layer by layer.

Given a network and a sample of the data, ``diagnose`` measures each layer: histograms of its
weighted inputs ``z`` and outputs ``a`` (on bin edges fixed per layer, so that epochs compare), how
much of it sits on the flat part of its function (where f'(z) ~ 0 and backprop passes almost nothing
on), the size of its gradient, and, given the weights before an epoch, how far the epoch moved them.
Shapes: a sample ``x`` is ``(n, inputs)``; a layer's ``z`` and ``a`` are ``(n, units)``.

Saturation, precisely, per (sample, unit) pair:

* sigmoid (hidden or output): a < ``SIGMOID_LOW`` or a > ``SIGMOID_HIGH`` (there a (1 - a) < 0.0196,
  under 8 % of the slope's maximum 0.25);
* tanh: |a| > ``TANH_SATURATION`` (1 - a^2 < 0.08);
* ReLU: a == 0, the unit does not fire and passes no gradient.

A unit counts as saturated when it is so on at least ``UNIT_SATURATION_SHARE`` of the sample (ReLU:
on all of it, a "dead" unit). A softmax output layer has no saturation measure: with cross-entropy its
error signal is a - y, which does not vanish when the outputs are extreme.

Left out: the numbers in words (``diagnostics_text.py``), the output layer's error signal under the
two losses (``output_delta.py``), keeping a run's figures over time (``diagnostics_tracker.py``),
training (``training.py``; a caller measures between epochs) and plotting (the GUI).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from studio.core.data import Split
from studio.core.network import LOSS_FUNCTIONS, Network, one_hot

# -- what counts as saturated ----------------------------------------------------------------------
SIGMOID_LOW = 0.02
SIGMOID_HIGH = 0.98
TANH_SATURATION = 0.96
#: A unit is saturated if it is on at least this share of the sample (ReLU: dead means never fires).
UNIT_SATURATION_SHARE = 0.95
#: A unit whose output's standard deviation over the sample is below this is constant: it tells the
#: next layer nothing about the input.
CONSTANT_UNIT_STD = 1e-6

DEFAULT_BINS = 40

FunctionName = Literal["sigmoid", "tanh", "relu", "softmax"]


# --------------------------------------------------------------------------------------------------
# Histogram edges
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class LayerEdges:
    """Bin edges for one layer: ``z`` and ``a``, each ``(bins + 1,)`` increasing. Values beyond the
    ends are counted in the first or last bin, so the counts always add up to samples x units."""

    z: np.ndarray
    a: np.ndarray


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is >= ``value`` (> 0): 3.2 -> 5, 0.07 -> 0.1."""
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"needs a finite number > 0, got {value}")
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10.0 * power


def _finite_max_abs(values: np.ndarray) -> float:
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 0.0


def layer_functions(network: Network) -> list[str]:
    """The function of each weight layer: the hidden activation, then the output's (sigmoid or softmax)."""
    return [network.activation] * (network.num_layers - 1) + [network.output]


def histogram_edges(network: Network, x: np.ndarray, bins: int = DEFAULT_BINS) -> list[LayerEdges]:
    """Fixed edges per layer for ``network`` on sample ``x`` (n, inputs).

    z: symmetric, ``[-s, s]`` with s = ``nice_ceiling(1.5 * max |z|)`` (1 if z is all zero), so there is
    room for z to grow as training goes on. a: the function's range, [0, 1] for sigmoid and softmax,
    [-1, 1] for tanh, [0, nice_ceiling(1.5 * max a)] for ReLU.
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    fp = network.forward(x)
    edges = []
    for z, a, function in zip(fp.zs, fp.activations[1:], layer_functions(network)):
        top = _finite_max_abs(z)
        span = nice_ceiling(1.5 * top) if top > 0 else 1.0
        if function == "tanh":
            low, high = -1.0, 1.0
        elif function == "relu":
            peak = _finite_max_abs(a)
            low, high = 0.0, nice_ceiling(1.5 * peak) if peak > 0 else 1.0
        else:
            low, high = 0.0, 1.0
        edges.append(LayerEdges(np.linspace(-span, span, bins + 1), np.linspace(low, high, bins + 1)))
    return edges


def clipped_histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``values`` (any shape) in the bins of ``edges``; values beyond the ends go to the end
    bins, NaN is left out. Shape (len(edges) - 1,), int64."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    flat = np.clip(flat[~np.isnan(flat)], edges[0], edges[-1])
    counts, _ = np.histogram(flat, bins=edges)
    return counts.astype(np.int64)


# --------------------------------------------------------------------------------------------------
# Per-layer measures
# --------------------------------------------------------------------------------------------------

def saturated_mask(function: str, a: np.ndarray) -> np.ndarray | None:
    """Boolean (n, units): where the output ``a`` of a ``function`` layer is on the flat part of it
    (see the module's docstring); None for softmax, which has no such measure."""
    if function == "sigmoid":
        return (a < SIGMOID_LOW) | (a > SIGMOID_HIGH)
    if function == "tanh":
        return np.abs(a) > TANH_SATURATION
    if function == "relu":
        return ~(a > 0.0)
    if function == "softmax":
        return None
    raise ValueError(f"unknown function {function!r}")


def saturated_units(function: str, a: np.ndarray) -> np.ndarray | None:
    """Boolean (units,): saturated on >= ``UNIT_SATURATION_SHARE`` of the rows of ``a`` (n, units);
    for ReLU, dead: not firing on any row. None for softmax."""
    mask = saturated_mask(function, a)
    if mask is None:
        return None
    if function == "relu":
        return mask.all(axis=0)
    return mask.mean(axis=0) >= UNIT_SATURATION_SHARE


def gradient_norms(network: Network, x: np.ndarray, y: np.ndarray) -> list[float]:
    """||dC/dW^l||_F per layer, of the gradient averaged over the sample x (n, inputs), y one-hot (n, k):
    the norms of ``network.backward(x, y).weights``."""
    return [float(np.linalg.norm(g)) for g in network.backward(x, y).weights]


def update_ratios(before: Sequence[np.ndarray], after: Sequence[np.ndarray]) -> list[float]:
    """||W_after - W_before||_F / ||W_before||_F per layer: how far the weights moved relative to
    their size. inf if the layer started all zero and moved, 0 if it stayed all zero."""
    if len(before) != len(after):
        raise ValueError(f"{len(before)} layers before but {len(after)} after")
    ratios = []
    for w0, w1 in zip(before, after):
        if np.shape(w0) != np.shape(w1):
            raise ValueError(f"weights changed shape: {np.shape(w0)} -> {np.shape(w1)}")
        change = float(np.linalg.norm(np.asarray(w1) - np.asarray(w0)))
        size = float(np.linalg.norm(w0))
        ratios.append(change / size if size > 0 else (math.inf if change > 0 else 0.0))
    return ratios


@dataclass(frozen=True, eq=False)
class LayerReading:
    """What ``diagnose`` measured in one weight layer on a sample of ``samples`` rows.

    ``layer`` is 1-based as in the formulas; ``function`` is the layer's activation (the last layer's
    is the output: sigmoid or softmax); ``units`` its width.
    ``z_counts``/``a_counts`` (bins,) int64 count the samples x units values of z and a in the bins of
    ``z_edges``/``a_edges`` (bins + 1,) (values beyond the ends in the end bins).
    ``saturated_share``: share of (sample, unit) outputs saturated; ``saturated_units``: units saturated
    on >= 95 % of the sample (ReLU: dead units); both None for softmax. ``constant_units``: units whose
    output does not vary over the sample (std < ``CONSTANT_UNIT_STD``).
    ``gradient_norm`` = ||dC/dW||_F of the mean gradient over the sample; ``weight_norm`` = ||W||_F;
    ``update_ratio`` = ||W - W_before|| / ||W_before||, None when no earlier weights were given.
    """

    layer: int
    function: str
    units: int
    samples: int
    is_output: bool
    z_counts: np.ndarray
    z_edges: np.ndarray
    a_counts: np.ndarray
    a_edges: np.ndarray
    saturated_share: float | None
    saturated_units: int | None
    constant_units: int
    gradient_norm: float
    weight_norm: float
    update_ratio: float | None

    @property
    def saturated_units_share(self) -> float | None:
        return None if self.saturated_units is None else self.saturated_units / self.units

    def __repr__(self) -> str:
        share = "n/a" if self.saturated_share is None else f"{self.saturated_share:.2f}"
        return (f"LayerReading(layer={self.layer}, {self.function}, saturated={share}, "
                f"|g|={self.gradient_norm:.2e}, update={self.update_ratio})")


@dataclass(frozen=True, eq=False)
class Diagnosis:
    """``layers`` (one ``LayerReading`` per weight layer, input side first) and the network's mean
    ``loss`` and ``accuracy`` on the same sample of ``samples`` rows."""

    layers: tuple[LayerReading, ...]
    loss: float
    accuracy: float
    samples: int


def _weights_of(before: Network | Sequence[np.ndarray]) -> list[np.ndarray]:
    return list(before.weights) if isinstance(before, Network) else [np.asarray(w) for w in before]


def diagnose(network: Network, x: np.ndarray, labels: np.ndarray, *, edges: Sequence[LayerEdges] | None = None,
             bins: int = DEFAULT_BINS, before: Network | Sequence[np.ndarray] | None = None) -> Diagnosis:
    """Measure every layer of ``network`` on sample ``x`` (n, inputs) with classes ``labels`` (n,).

    ``edges``: histogram edges per layer (default: ``histogram_edges(network, x, bins)``; pass the
    same edges every epoch so the histograms compare). ``before``: the weights (a network or the list
    W1, W2, ...) at an earlier point, e.g. the start of the epoch, for ``update_ratio``.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    labels = np.asarray(labels, dtype=np.int64)
    if x.shape[0] != labels.shape[0] or x.shape[0] == 0:
        raise ValueError(f"needs a non-empty sample with one label per row, got {x.shape[0]} rows and "
                         f"{labels.shape[0]} labels")
    edges = list(edges) if edges is not None else histogram_edges(network, x, bins)
    if len(edges) != network.num_layers:
        raise ValueError(f"{network.num_layers} layers need {network.num_layers} edge sets, got {len(edges)}")
    y = one_hot(labels, network.sizes[-1])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        fp = network.forward(x)
        norms = gradient_norms(network, x, y)
        ratios = update_ratios(_weights_of(before), network.weights) if before is not None else None
        loss = float(np.mean(LOSS_FUNCTIONS[network.loss].fn(fp.zs[-1], fp.output, y)))
        accuracy = float(np.mean(np.argmax(fp.output, axis=1) == labels))
        readings = []
        for l, (z, a, function) in enumerate(zip(fp.zs, fp.activations[1:], layer_functions(network))):
            mask = saturated_mask(function, a)
            units = saturated_units(function, a)
            readings.append(LayerReading(
                layer=l + 1, function=function, units=a.shape[1], samples=a.shape[0],
                is_output=l == network.num_layers - 1,
                z_counts=clipped_histogram(z, edges[l].z), z_edges=edges[l].z.copy(),
                a_counts=clipped_histogram(a, edges[l].a), a_edges=edges[l].a.copy(),
                saturated_share=None if mask is None else float(mask.mean()),
                saturated_units=None if units is None else int(units.sum()),
                constant_units=int(np.count_nonzero(a.std(axis=0) < CONSTANT_UNIT_STD)),
                gradient_norm=norms[l], weight_norm=float(np.linalg.norm(network.weights[l])),
                update_ratio=None if ratios is None else ratios[l]))
    return Diagnosis(tuple(readings), loss, accuracy, x.shape[0])


def diagnostic_sample(split: Split, size: int = 256, seed: int | np.random.Generator = 0
                      ) -> tuple[np.ndarray, np.ndarray]:
    """A random sample of ``size`` rows of ``split`` (all of it if smaller), in split order:
    images (m, 1024) float64 and labels (m,) int64."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = len(split)
    rows = np.arange(n) if size >= n else np.sort(rng.choice(n, size, replace=False))
    return split.images[rows].astype(np.float64), split.labels[rows].astype(np.int64)
