"""Why squared error with sigmoid outputs learns slowly: the output layer's error signal under both losses.

With outputs ``a`` and targets ``y`` (both ``(n, k)``), squared error gives the output layer
delta^L = (a - y) * a (1 - a), whereas cross-entropy's delta^L = a - y. Since a (1 - a) <= 1/4,
squared error's steps are at least 4 times smaller, and far smaller on saturated outputs.
``output_delta_explanation`` measures both on a sample and says so in a sentence.

Left out: the other layers (``diagnostics.py`` measures every layer's gradient).
"""
from __future__ import annotations

import math

import numpy as np

from studio.core.diagnostics_text import format_number
from studio.core.network import Network, one_hot, sigmoid_prime_from_output


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
