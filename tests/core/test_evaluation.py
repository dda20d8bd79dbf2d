"""Evaluation: the confusion matrix and its cells, mistakes, top-k, best weights and early stopping."""
from __future__ import annotations

import math

import numpy as np
import pytest

from studio.core.evaluation import (BestWeights, confusion_matrix, mistakes,
                                    mistakes_by_cell, monitored_accuracy, samples_in_cell, top_k)
from studio.core.network import Network
from studio.core.training import EpochFinished
from tests.helpers import tiny_split

LABELS = np.array([0, 0, 1, 1, 2, 2, 2, 1])
PREDICTED = np.array([0, 1, 1, 2, 2, 0, 0, 2])


def test_confusion_matrix_counts_true_rows_and_predicted_columns() -> None:
    matrix = confusion_matrix(LABELS, PREDICTED, classes=3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 2], [2, 0, 1]])


def test_samples_in_cell_and_mistakes_by_cell() -> None:
    assert samples_in_cell(LABELS, PREDICTED, 2, 0).tolist() == [5, 6]
    assert samples_in_cell(LABELS, PREDICTED, 0, 0).tolist() == [0]
    assert samples_in_cell(LABELS, PREDICTED, 0, 2).tolist() == []
    cells = mistakes_by_cell(LABELS, PREDICTED)
    assert list(cells) == [(0, 1), (1, 2), (2, 0)]
    assert {key: value.tolist() for key, value in cells.items()} == {(0, 1): [1], (1, 2): [3, 7], (2, 0): [5, 6]}
    assert all(value.dtype == np.int64 for value in cells.values())
    assert mistakes_by_cell(LABELS, LABELS) == {}
    with pytest.raises(ValueError):
        samples_in_cell(LABELS, PREDICTED[:3], 0, 0)
    with pytest.raises(ValueError):
        mistakes_by_cell(LABELS, PREDICTED[:3])


def test_mistakes_of_a_network_that_always_says_three() -> None:
    split = tiny_split(4, seed=0)
    biases = [np.zeros(10)]
    biases[0][3] = 5.0
    network = Network((1024, 10), [np.zeros((10, 1024))], biases, loss="ce")
    found = mistakes(network, split)
    assert sorted(found) == [(t, 3) for t in range(10) if t != 3]
    for (true, _), indices in found.items():
        assert indices.tolist() == np.flatnonzero(split.labels == true).tolist()


def test_top_k_orders_outputs_and_breaks_ties_to_the_lower_class() -> None:
    p = np.array([[0.1, 0.5, 0.2, 0.2], [0.4, 0.3, 0.2, 0.1]])
    classes, values = top_k(p, k=3)
    np.testing.assert_array_equal(classes, [[1, 2, 3], [0, 1, 2]])
    np.testing.assert_allclose(values, [[0.5, 0.2, 0.2], [0.4, 0.3, 0.2]])
    one_classes, one_values = top_k(p[0], k=2)
    assert one_classes.tolist() == [1, 2] and one_values.tolist() == [0.5, 0.2]
    assert top_k(p, k=10)[0].shape == (2, 4)
    with pytest.raises(ValueError):
        top_k(p, k=0)
    with pytest.raises(ValueError):
        top_k(np.zeros((2, 2, 2)))


def event(epoch: int, train: float, test: float | None) -> EpochFinished:
    return EpochFinished(epoch=epoch, train_loss=0.1, train_accuracy=train, test_loss=None,
                         test_accuracy=test, seconds=0.1, elapsed=0.1 * epoch, learning_rate=0.1, samples=10)


def test_monitored_accuracy_prefers_the_test_split() -> None:
    assert monitored_accuracy(event(1, 0.9, 0.8)) == 0.8
    assert monitored_accuracy(event(1, 0.9, None)) == 0.9
    assert monitored_accuracy(event(1, 0.9, 0.0)) == 0.0


def test_best_weights_keep_the_earliest_best_epoch_and_restore_in_place() -> None:
    network = Network.initialised((4, 3, 2), seed=0)
    best = BestWeights()
    assert best.network is None
    with pytest.raises(ValueError, match="no epoch"):
        best.restore_into(network)
    kept = {}
    for epoch, accuracy in enumerate([0.5, 0.7, 0.7, 0.6, math.nan], start=1):
        for w in network.weights:
            w += 1.0                               # a different network every epoch
        taken = best.offer(epoch, accuracy, network)
        assert taken == (epoch in (1, 2))
        kept[epoch] = network.copy()
    assert (best.epoch, best.accuracy) == (2, 0.7)
    arrays = [id(p) for p in network.parameters()]
    best.restore_into(network)
    assert [id(p) for p in network.parameters()] == arrays        # same arrays, new values
    for p, q in zip(network.parameters(), kept[2].parameters()):
        np.testing.assert_array_equal(p, q)
    copy = best.network
    copy.weights[0][...] = 0                                       # a copy: the kept one is unchanged
    assert np.abs(best.network.weights[0]).sum() > 0
    assert best.offer_event(event(9, 0.99, None), network) and best.epoch == 9
    with pytest.raises(ValueError, match="network"):
        best.restore_into(Network.initialised((4, 5, 2), seed=0))
