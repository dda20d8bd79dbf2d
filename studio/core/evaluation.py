"""Measures of a trained network on labelled data: the confusion matrix and what follows from it.

Here: the confusion matrix, the samples behind each of its cells (the mistakes a view shows as
pictures), the k most likely classes per sample, and keeping the weights of the best epoch across a
run's segments. All of it is pure bookkeeping over arrays a caller passes in; the network's forward
pass is in ``network.py``, and the run's own best-epoch and early-stopping rule in ``training.py``
(``BestEpoch``).
"""
from __future__ import annotations

import math

import numpy as np

from studio.core.data import Split
from studio.core.network import Network
from studio.core.training import EpochFinished


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """Counts (classes, classes): entry [t, p] is how many samples of true class t were predicted p."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    return np.bincount(labels * classes + predicted, minlength=classes * classes).reshape(classes, classes)


def samples_in_cell(labels: np.ndarray, predicted: np.ndarray, true: int, pred: int) -> np.ndarray:
    """Indices (ascending, int64) of the samples of class ``true`` predicted as ``pred``: the samples
    behind confusion-matrix entry [true, pred]. ``labels`` and ``predicted`` are (n,)."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predicted.shape} differ in shape")
    return np.flatnonzero((labels == true) & (predicted == pred)).astype(np.int64)


def mistakes_by_cell(labels: np.ndarray, predicted: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """``{(true, predicted): indices}`` for every off-diagonal cell with at least one sample; indices
    ascending. Keys are sorted by (true, predicted)."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predicted.shape} differ in shape")
    wrong = labels != predicted
    cells = sorted(set(zip(labels[wrong].tolist(), predicted[wrong].tolist())))
    return {(t, p): samples_in_cell(labels, predicted, t, p) for t, p in cells}


def mistakes(network: Network, split: Split) -> dict[tuple[int, int], np.ndarray]:
    """The samples of ``split`` that ``network`` gets wrong, by (true class, predicted class): indices
    into the split (``split.images[i]``, ``split.names[i]``), ascending."""
    predicted = network.predict(split.images.astype(np.float64))
    return mistakes_by_cell(split.labels, predicted)


def top_k(probabilities: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest outputs per row, highest first: ``(classes, values)``.

    ``probabilities`` (n, c) gives two (n, k) arrays; a single row (c,) gives two (k,) arrays. Ties go
    to the lower class. ``k`` is capped at c.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    single = p.ndim == 1
    p = np.atleast_2d(p)
    if p.ndim != 2:
        raise ValueError(f"probabilities must be (n, classes) or (classes,), got shape {p.shape}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    k = min(k, p.shape[1])
    classes = np.argsort(-p, axis=1, kind="stable")[:, :k]
    values = np.take_along_axis(p, classes, axis=1)
    return (classes[0], values[0]) if single else (classes, values)


def monitored_accuracy(event: EpochFinished) -> float:
    """The accuracy that best-epoch tracking and early stopping follow: test accuracy, or training
    accuracy when the data set has no test split."""
    return event.test_accuracy if event.test_accuracy is not None else event.train_accuracy


class BestWeights:
    """A copy of the network at its best epoch so far.

    ``offer`` after each epoch with that epoch's accuracy (see ``monitored_accuracy``): the network is
    copied only when the accuracy is strictly higher than the best so far, so of equal accuracies the
    earliest epoch is kept. NaN accuracies are never best. ``restore_into`` copies the best weights back
    into a network in place (views holding its arrays see the change).
    """

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.accuracy: float = -math.inf
        self._network: Network | None = None

    def offer(self, epoch: int, accuracy: float, network: Network) -> bool:
        """Keep a copy of ``network`` if ``accuracy`` beats the best so far; True if it did."""
        if not (accuracy > self.accuracy):   # also refuses NaN
            return False
        self.epoch, self.accuracy, self._network = int(epoch), float(accuracy), network.copy()
        return True

    def offer_event(self, event: EpochFinished, network: Network) -> bool:
        """``offer(event.epoch, monitored_accuracy(event), network)``."""
        return self.offer(event.epoch, monitored_accuracy(event), network)

    @property
    def network(self) -> Network | None:
        """A copy of the best network, or None if nothing has been offered."""
        return None if self._network is None else self._network.copy()

    def restore_into(self, network: Network) -> None:
        """Overwrite ``network``'s weights and biases with the best ones, in place."""
        if self._network is None:
            raise ValueError("no epoch has been offered yet: there are no best weights to restore")
        if network.sizes != self._network.sizes:
            raise ValueError(f"the best weights are for a {self._network.sizes} network, not {network.sizes}")
        for target, best in zip(network.parameters(), self._network.parameters()):
            target[...] = best

    def __repr__(self) -> str:
        return f"BestWeights(epoch={self.epoch}, accuracy={self.accuracy})"


