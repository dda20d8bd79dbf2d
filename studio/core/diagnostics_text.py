"""A ``diagnostics.Diagnosis`` in words: one plain-language sentence per layer, from its numbers only.

``layer_sentence`` says whether a layer is saturated (or, for ReLU, has dead units), whether its
gradient is near zero, weak, healthy or very large, and how far its weights moved, and when the
gradient is near zero, why: the layer sits on the flat part of its function, its units carry nothing
about the input, the network already fits the sample, or little error reaches it from above. The
thresholds below are where those words change; they were measured on the tutorial's data.

Left out: measuring (``diagnostics.py``) and any advice beyond what the numbers show.
"""
from __future__ import annotations

import math
from typing import Sequence

from studio.core.diagnostics import Diagnosis, LayerReading

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
