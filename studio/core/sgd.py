"""One epoch of SGD written to be read, and the pieces every epoch function shares.

An *epoch function* trains a network in place on one pass over the training rows and reports an
``EpochTally``. ``sgd_epoch`` is the readable one: for every batch, ``Network.backward`` (the
tutorial's backprop formulas) then ``Optimiser.step`` (W <- W - lr dC/dW, with optional momentum and
weight decay). The fast kernels (``kernel_per_sample.py``, ``kernel_minibatch.py``) have the same
signature and make the same updates with fewer NumPy calls; the tests hold them to ``sgd_epoch``.

This module imports only ``network.py``: the kernels import it, ``training.py`` imports it and the
kernels, and nothing here or in the kernels imports ``training.py`` (no import cycle).

Left out: the run around the epochs (``training.py``), Qt, data loading.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from studio.core.network import LOSS_FUNCTIONS, Network


class EpochControl(Protocol):
    """What an epoch function needs from the run's control (``training.RunControl`` is one).

    ``checkpoint()`` is called before a batch (the per-sample kernel: every few samples); it may block
    while the run is paused, and returns True when the run must stop. At every call the network must
    be exactly the one trained so far, since a paused run's snapshot is taken there.
    """

    def checkpoint(self) -> bool: ...


class EpochFunction(Protocol):
    """The signature of every epoch function: ``sgd_epoch``, ``PerSampleSGD()``, ``MiniBatchSGD()``.

    Trains ``network`` in place on the rows of ``x`` (n, inputs) in ``order``, in batches of
    ``batch_size``, with one-hot targets ``y`` (n, classes) and classes ``labels`` (n,).
    """

    def __call__(self, network: Network, x: np.ndarray, y: np.ndarray, labels: np.ndarray,
                 order: np.ndarray, batch_size: int, optimiser: Optimiser,
                 control: EpochControl) -> EpochTally: ...


@dataclass
class EpochTally:
    """What an epoch function reports: summed per-sample loss, correct predictions, samples seen,
    and whether it stopped before the end of the epoch (asked to, at a checkpoint)."""

    loss_sum: float = 0.0
    hits: int = 0
    samples: int = 0
    stopped: bool = False


def tally_outputs(loss_name: str, z_out: np.ndarray, outputs: np.ndarray, y: np.ndarray,
                  labels: np.ndarray, stopped: bool) -> EpochTally:
    """The tally of trained samples from their outputs before their own update.

    ``z_out`` (n, classes) are the output layer's weighted inputs, ``outputs`` its activations, ``y``
    the one-hot targets and ``labels`` the classes (n,). The loss is the loss object's own ``fn``
    (``network.LOSS_FUNCTIONS``), the same that ``Network.backward`` and ``evaluate`` use.
    """
    loss_sum = float(np.sum(LOSS_FUNCTIONS[loss_name].fn(z_out, outputs, y)))
    hits = int(np.count_nonzero(np.argmax(outputs, axis=1) == labels))
    return EpochTally(loss_sum=loss_sum, hits=hits, samples=len(labels), stopped=stopped)


@dataclass
class Optimiser:
    """SGD with optional momentum and L2 weight decay; ``velocities`` mirror W1, b1, W2, b2, ...

    Plain SGD is the tutorial's ``W <- W - lr dC/dW``. With momentum mu and decay lambda:
    ``v <- mu v - lr (dC/dW + lambda W)``, ``W <- W + v`` (biases are not decayed).
    """

    lr: float
    momentum: float = 0.0
    weight_decay: float = 0.0
    velocities: list[np.ndarray] = field(default_factory=list)

    def step(self, network: Network, grad_w: list[np.ndarray], grad_b: list[np.ndarray]) -> None:
        """Apply one update in place. Plain SGD (no momentum, no decay) is the tutorial's W -= lr * dW."""
        if self.momentum == 0.0 and self.weight_decay == 0.0:
            for w, b, gw, gb in zip(network.weights, network.biases, grad_w, grad_b):
                w -= self.lr * gw
                b -= self.lr * gb
            return
        if not self.velocities:
            self.velocities = [np.zeros_like(p) for p in network.parameters()]
        grads = []
        for w, gw, gb in zip(network.weights, grad_w, grad_b):
            grads.append(gw + self.weight_decay * w if self.weight_decay else gw)
            grads.append(gb)
        for p, v, g in zip(network.parameters(), self.velocities, grads):
            v *= self.momentum
            v -= self.lr * g
            p += v


def sgd_epoch(network: Network, x: np.ndarray, y: np.ndarray, labels: np.ndarray, order: np.ndarray,
              batch_size: int, optimiser: Optimiser, control: EpochControl) -> EpochTally:
    """Train one epoch in place: batches of ``batch_size`` rows of x (n, inputs) taken in ``order``.

    ``y`` are one-hot targets (n, classes) and ``labels`` the classes (n,). The loss and hits are
    taken from each batch's forward pass, before that batch's update.
    """
    tally = EpochTally()
    for start in range(0, len(order), batch_size):
        if control.checkpoint():
            tally.stopped = True
            break
        rows = order[start:start + batch_size]
        grads = network.backward(x[rows], y[rows])
        optimiser.step(network, grads.weights, grads.biases)
        tally.loss_sum += grads.loss * len(rows)
        tally.hits += int(np.count_nonzero(np.argmax(grads.output, axis=1) == labels[rows]))
        tally.samples += len(rows)
    return tally
