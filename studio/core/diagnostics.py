"""Why a network learns or doesn't: saturation, gradient flow and update sizes, layer by layer.

Given a network and a sample of the data, ``diagnose`` measures each layer: histograms of its
weighted inputs ``z`` and outputs ``a`` (on bin edges fixed per layer, so that epochs compare), how
much of it sits on the flat part of its function (where f'(z) ~ 0 and backprop passes almost nothing
on), the size of its gradient, and, given the weights before an epoch, how far the epoch moved them.
``plain_reading`` turns those numbers, and only those numbers, into one sentence per layer.
``output_delta_explanation`` shows why squared error with sigmoid outputs learns slowly:
delta^L = (a - y) * a (1 - a), whereas cross-entropy's delta^L = a - y. ``DiagnosticsTracker``
keeps the per-epoch figures of a run in preallocated arrays for plotting.

Saturation, precisely, per (sample, unit) pair:

* sigmoid (hidden or output): a < ``SIGMOID_LOW`` or a > ``SIGMOID_HIGH`` (there a (1 - a) < 0.0196,
  under 8 % of the slope's maximum 0.25);
* tanh: |a| > ``TANH_SATURATION`` (1 - a^2 < 0.08);
* ReLU: a == 0, the unit does not fire and passes no gradient.

A unit counts as saturated when it is so on at least ``UNIT_SATURATION_SHARE`` of the sample (ReLU:
on all of it, a "dead" unit). A softmax output layer has no saturation measure: with cross-entropy its
error signal is a - y, which does not vanish when the outputs are extreme.

Left out: training (``training.py``; a caller measures between epochs), plotting (the GUI), and any
advice beyond what the numbers show.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from studio.core.data import Split
from studio.core.network import LOSS_FUNCTIONS, Network, one_hot, sigmoid_prime_from_output

# -- what counts as saturated ----------------------------------------------------------------------
SIGMOID_LOW = 0.02
SIGMOID_HIGH = 0.98
TANH_SATURATION = 0.96
#: A unit is saturated if it is on at least this share of the sample (ReLU: dead means never fires).
UNIT_SATURATION_SHARE = 0.95
#: A unit whose output's standard deviation over the sample is below this is constant: it tells the
#: next layer nothing about the input.
CONSTANT_UNIT_STD = 1e-6

# -- how the numbers are read ----------------------------------------------------------------------
#: At least this share of (sample, unit) outputs saturated: the layer reads as saturated.
SATURATION_MOST = 0.5
#: At least this share: "some" saturation; below it, "few".
SATURATION_SOME = 0.1
#: At least this share of ReLU units dead reads as "many".
DEAD_UNITS_MANY = 0.25
#: Frobenius norm of a layer's mean gradient over the sample. Measured on the tutorial's data with
#: lr 0.01: healthy layers sit at 1e-2 .. 5e-1; all-ones or all-positive weights give 1e-12 .. 3e-5.
GRADIENT_NEAR_ZERO = 1e-4
GRADIENT_WEAK = 1e-3
GRADIENT_LARGE = 10.0
#: ||W_after - W_before|| / ||W_before|| over one epoch of per-sample SGD. Healthy layers moved by
#: 5e-3 .. 0.9 per epoch on the tutorial's data; saturated ones by 1e-11 .. 1e-4.
UPDATE_TINY = 1e-3
UPDATE_LARGE = 1.0
#: Training accuracy on the sample at or above which small gradients read as "already fits".
FITTED_ACCURACY = 0.97

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


# --------------------------------------------------------------------------------------------------
# Plain-language readings
# --------------------------------------------------------------------------------------------------

def format_number(value: float) -> str:
    """Compact: 0.04, 0.35, 12, 2e-6, 3e+12; "inf"/"nan" as such."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.2g}" if abs(value) < 100 else f"{value:.0f}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _percent(share: float) -> str:
    # 99.6 % must not read as "100%" unless it is: a single unsaturated output matters here.
    value = 100 * share
    if 0 < value < 1:
        return "<1%"
    if 99 < value < 100:
        return ">99%"
    return f"{value:.0f}%"


def layer_sentence(reading: LayerReading, accuracy: float | None = None) -> str:
    """One plain-language line about one layer, derived only from its numbers (and, if given, the
    network's accuracy on the sample), e.g.
    ``layer 1 (sigmoid): 97% of outputs saturated (15 of 16 units on nearly every sample); gradients
    near zero (|g| = 2e-6): this is why it barely learns``."""
    head = f"layer {reading.layer} ({reading.function}{' output' if reading.is_output else ''})"
    g = reading.gradient_norm
    if not (math.isfinite(g) and math.isfinite(reading.weight_norm)):
        return f"{head}: its weights or gradients are NaN or infinite: training has diverged"
    parts: list[str] = []
    stuck = False            # on the flat part of its function: the reason gradients vanish
    if reading.function == "relu":
        dead = reading.saturated_units or 0
        if dead / reading.units >= DEAD_UNITS_MANY:
            stuck = True
            parts.append(f"{dead} of {reading.units} units dead (never fire on this sample)")
        elif dead:
            parts.append(f"{dead} of {reading.units} units dead")
        else:
            parts.append("no dead units")
    elif reading.saturated_share is not None:
        share = reading.saturated_share
        if share >= SATURATION_MOST:
            stuck = True
            on_all = reading.saturated_units or 0
            parts.append(f"{_percent(share)} of outputs saturated ("
                         + (f"{on_all} of {reading.units} units on nearly every sample)" if on_all else
                            "no unit on nearly every sample)"))
        elif share >= SATURATION_SOME:
            parts.append(f"{_percent(share)} of outputs saturated")
        else:
            parts.append(f"few outputs saturated ({_percent(share)})")
    constant = reading.constant_units == reading.units
    if constant and not stuck:
        parts.append("no unit's output changes from sample to sample")
    if g < GRADIENT_NEAR_ZERO:
        gradient = f"gradients near zero (|g| = {format_number(g)})"
    elif g < GRADIENT_WEAK:
        gradient = f"gradients weak (|g| = {format_number(g)})"
    elif g > GRADIENT_LARGE:
        gradient = f"gradients very large (|g| = {format_number(g)}): steps may overshoot"
    else:
        gradient = f"gradients healthy (|g| = {format_number(g)})"
    parts.append(gradient)
    ratio = reading.update_ratio
    if ratio is not None:
        if not math.isfinite(ratio):
            parts.append("weights moved away from all zero")
        elif ratio == 0:
            parts.append("weights did not move")
        elif ratio < UPDATE_TINY:
            parts.append(f"weights barely moved (by {format_number(ratio)} of their size)")
        elif ratio > UPDATE_LARGE:
            parts.append(f"weights changed by {format_number(ratio)}x their size: the learning rate may "
                         f"be too high")
        else:
            parts.append(f"weights moved by {format_number(ratio)} of their size")
    line = f"{head}: " + "; ".join(parts)
    if g < GRADIENT_NEAR_ZERO:
        if stuck:
            line += ": this is why it barely learns"
        elif constant:
            line += ": its units carry nothing about the input, so there is little to learn from"
        elif accuracy is not None and accuracy >= FITTED_ACCURACY:
            line += ": the network already fits this sample"
        else:
            line += ": little error reaches this layer from above"
    return line


def plain_reading(layers: Sequence[LayerReading] | Diagnosis, accuracy: float | None = None) -> str:
    """``layer_sentence`` for each layer, one per line. Given a ``Diagnosis``, its accuracy is used."""
    if isinstance(layers, Diagnosis):
        accuracy = layers.accuracy if accuracy is None else accuracy
        layers = layers.layers
    return "\n".join(layer_sentence(reading, accuracy) for reading in layers)


# --------------------------------------------------------------------------------------------------
# The output layer's error signal under the two losses
# --------------------------------------------------------------------------------------------------

def _times(ratio: float) -> str:
    if ratio >= 10:
        return f"{ratio:,.0f}x"
    return f"{ratio:.1f}x"


def output_delta_explanation(network: Network, x: np.ndarray, y: np.ndarray) -> dict:
    """How big the output layer's error signal delta^L is on a sample, under this network's loss and
    under the other one for the same outputs.

    ``x`` (n, inputs); ``y`` one-hot targets (n, k) or labels (n,). With outputs a:

    * squared error (sigmoid outputs): delta^L = (a - y) * a (1 - a);
    * cross-entropy: delta^L = a - y (softmax with its cross-entropy, and also sigmoid outputs with
      the per-unit cross-entropy, give this same expression).

    "The other loss" applies its formula to the same a: for a cross-entropy network, what squared
    error's factor a (1 - a) would do to these outputs. Returns a dict:

    ``loss``, ``other_loss`` ("sse"/"ce"); ``samples``; ``mean_abs_error`` = mean |a - y|;
    ``mean_slope`` = mean a (1 - a); ``sse_mean_abs_delta`` = mean |(a - y) a (1 - a)|;
    ``ce_mean_abs_delta`` = mean |a - y|; ``mean_abs_delta`` and ``other_mean_abs_delta`` (the same two,
    this loss's first); ``slowdown`` = ce / sse mean |delta^L|, how many times smaller squared error
    makes the output layer's steps (at least 4, since a (1 - a) <= 1/4; inf if squared error's is
    exactly 0); ``text``: a sentence built from these numbers. Means run over all n x k outputs.
    If every output is exactly right, ``slowdown`` is 1 (both are 0).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = np.asarray(y)
    if y.ndim == 1:
        y = one_hot(y, network.sizes[-1])
    if y.shape != (x.shape[0], network.sizes[-1]):
        raise ValueError(f"targets must be ({x.shape[0]}, {network.sizes[-1]}) or ({x.shape[0]},) labels, "
                         f"got {y.shape}")
    a = network.forward(x).output
    error = a - y
    slope = sigmoid_prime_from_output(a)
    sse = float(np.mean(np.abs(error * slope)))
    ce = float(np.mean(np.abs(error)))
    mean_slope = float(np.mean(slope))
    slowdown = ce / sse if sse > 0 else (math.inf if ce > 0 else 1.0)
    this, other = network.loss, "ce" if network.loss == "sse" else "sse"
    n = format_number
    if ce == 0:
        text = "every output is exactly on its target: neither loss has an error left to pass back"
    elif this == "sse":
        text = (f"squared error multiplies each output's error |a - y| (mean {n(ce)}) by the sigmoid's "
                f"slope a(1 - a) (mean {n(mean_slope)}), so |delta^L| averages {n(sse)}; cross-entropy's "
                f"a - y would give {n(ce)}")
        if math.isinf(slowdown):
            text += ": the outputs are saturated and the output layer has stopped learning"
        else:   # a (1 - a) <= 1/4, so this is always at least 4x
            text += f": the output layer learns {_times(slowdown)} slower than it would with cross-entropy"
    else:
        text = (f"cross-entropy's delta^L = a - y passes each output's error on unchanged (mean {n(ce)}); "
                f"squared error would multiply it by a(1 - a) (mean {n(mean_slope)}), leaving {n(sse)}")
        if math.isinf(slowdown):
            text += ": with squared error these saturated outputs would not learn at all"
        else:
            text += f": the output layer would learn {_times(slowdown)} slower with squared error"
    return {"loss": this, "other_loss": other, "samples": int(x.shape[0]), "mean_abs_error": ce,
            "mean_slope": mean_slope, "sse_mean_abs_delta": sse, "ce_mean_abs_delta": ce,
            "mean_abs_delta": sse if this == "sse" else ce, "other_mean_abs_delta": ce if this == "sse" else sse,
            "slowdown": slowdown, "text": text}


# --------------------------------------------------------------------------------------------------
# Keeping the figures of a run
# --------------------------------------------------------------------------------------------------

#: The per-layer scalar series a ``DiagnosticsTracker`` keeps, in this order.
SERIES: tuple[str, ...] = ("saturated_share", "saturated_units_share", "constant_units_share",
                           "gradient_norm", "weight_norm", "update_ratio")


class DiagnosticsTracker:
    """The diagnostics of one run over time, for plotting: call ``record`` after each epoch (or every
    few) from the thread that trains; read with ``epochs``, ``series``, ``histograms``, ``accuracy``,
    ``loss``, which return copies (safe to hand to another thread and to keep).

    Storage is preallocated and doubles when full: epochs (n,) int64; scalars (n, series, layers)
    float64; z and a histogram counts (n, layers, bins) int32. The histogram edges are fixed at the
    first ``record``, from the network then (see ``histogram_edges``). ``update_ratio`` is measured
    against the weights of the previous ``record`` (NaN at the first).
    """

    def __init__(self, x: np.ndarray, labels: np.ndarray, *, bins: int = DEFAULT_BINS, capacity: int = 64) -> None:
        self.x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        self.labels = np.asarray(labels, dtype=np.int64)
        if bins < 1 or capacity < 1:
            raise ValueError(f"bins and capacity must be >= 1, got {bins} and {capacity}")
        self.bins = int(bins)
        self._capacity = int(capacity)
        self._n = 0
        self.edges: list[LayerEdges] | None = None
        self.functions: tuple[str, ...] = ()
        self._last_weights: list[np.ndarray] | None = None
        self._epochs = np.zeros(0, dtype=np.int64)

    # -- writing -----------------------------------------------------------------------------------

    def record(self, epoch: int, network: Network) -> Diagnosis:
        """Diagnose ``network`` on the tracker's sample, store the figures under ``epoch``, return them."""
        if self.edges is None:
            self.edges = histogram_edges(network, self.x, self.bins)
        diagnosis = diagnose(network, self.x, self.labels, edges=self.edges, before=self._last_weights)
        self.append(epoch, diagnosis)
        self._last_weights = [w.copy() for w in network.weights]
        return diagnosis

    def append(self, epoch: int, diagnosis: Diagnosis) -> None:
        """Store a diagnosis made elsewhere (same layers and bins as the ones before)."""
        layers = len(diagnosis.layers)
        if self._n == 0 and self._epochs.size == 0:
            self._allocate(layers)
            self.functions = tuple(r.function for r in diagnosis.layers)
            if self.edges is None:
                self.edges = [LayerEdges(r.z_edges.copy(), r.a_edges.copy()) for r in diagnosis.layers]
        if layers != self._scalars.shape[2] or diagnosis.layers[0].z_counts.size != self.bins:
            raise ValueError(f"this tracker holds {self._scalars.shape[2]} layers of {self.bins} bins")
        if self._n == self._epochs.size:
            self._grow()
        i = self._n
        self._epochs[i] = epoch
        self._accuracy[i] = diagnosis.accuracy
        self._loss[i] = diagnosis.loss
        for l, r in enumerate(diagnosis.layers):
            values = (r.saturated_share, r.saturated_units_share, r.constant_units / r.units,
                      r.gradient_norm, r.weight_norm, r.update_ratio)
            self._scalars[i, :, l] = [np.nan if v is None else v for v in values]
            self._z_counts[i, l] = r.z_counts
            self._a_counts[i, l] = r.a_counts
        self._n += 1

    def _allocate(self, layers: int) -> None:
        c = self._capacity
        self._epochs = np.zeros(c, dtype=np.int64)
        self._accuracy = np.full(c, np.nan)
        self._loss = np.full(c, np.nan)
        self._scalars = np.full((c, len(SERIES), layers), np.nan)
        self._z_counts = np.zeros((c, layers, self.bins), dtype=np.int32)
        self._a_counts = np.zeros((c, layers, self.bins), dtype=np.int32)

    def _grow(self) -> None:
        """Double every array (amortised O(1) per record; old data copied once per doubling)."""
        def doubled(a: np.ndarray, fill: float | int) -> np.ndarray:
            bigger = np.full((2 * a.shape[0], *a.shape[1:]), fill, dtype=a.dtype)
            bigger[:a.shape[0]] = a
            return bigger
        self._epochs = doubled(self._epochs, 0)
        self._accuracy = doubled(self._accuracy, np.nan)
        self._loss = doubled(self._loss, np.nan)
        self._scalars = doubled(self._scalars, np.nan)
        self._z_counts = doubled(self._z_counts, 0)
        self._a_counts = doubled(self._a_counts, 0)

    # -- reading -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        return int(self._epochs.size) or self._capacity

    @property
    def layers(self) -> int:
        return 0 if self._n == 0 else int(self._scalars.shape[2])

    def epochs(self) -> np.ndarray:
        """The recorded epoch numbers, (n,) int64."""
        return self._epochs[:self._n].copy()

    def accuracy(self) -> np.ndarray:
        """Accuracy on the sample per record, (n,)."""
        return self._accuracy[:self._n].copy()

    def loss(self) -> np.ndarray:
        """Mean loss on the sample per record, (n,)."""
        return self._loss[:self._n].copy()

    def series(self, name: str) -> np.ndarray:
        """One of ``SERIES`` per record and layer, (n, layers) float64; NaN where it does not apply."""
        if name not in SERIES:
            raise ValueError(f"unknown series {name!r}; choose one of {', '.join(SERIES)}")
        if self._n == 0:
            return np.zeros((0, 0))
        return self._scalars[:self._n, SERIES.index(name), :].copy()

    def histograms(self, kind: Literal["z", "a"], layer: int) -> tuple[np.ndarray, np.ndarray]:
        """Counts per record for 1-based ``layer``, (n, bins) int32 (an image: records down, bins across),
        and the edges (bins + 1,)."""
        if kind not in ("z", "a"):
            raise ValueError(f"kind must be 'z' or 'a', got {kind!r}")
        if self.edges is None or not 1 <= layer <= len(self.edges):
            raise ValueError(f"no layer {layer} recorded")
        counts = self._z_counts if kind == "z" else self._a_counts
        edges = self.edges[layer - 1].z if kind == "z" else self.edges[layer - 1].a
        return counts[:self._n, layer - 1, :].copy(), edges.copy()

    def __repr__(self) -> str:
        return f"DiagnosticsTracker(records={self._n}, layers={self.layers}, bins={self.bins})"
