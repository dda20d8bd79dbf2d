"""Training against fooling: the added copies really fool the network, and without copies it is sgd_epoch."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from studio.core.network import Network, one_hot
from studio.core.train_against import AgainstFoolingEpoch
from studio.core.training import PRESETS, EpochFinished, Optimiser, RunControl, sgd_epoch, train
from tests.helpers import quick_network, tiny_dataset


def test_fooling_copies_fool_the_network_and_keep_their_labels() -> None:
    network = Network.initialised((1024, 8, 10), activation="tanh", loss="ce", init="xavier", seed=2)
    split = tiny_dataset(2, 0).train
    epoch = AgainstFoolingEpoch(copies=20, max_flips=30, seed=1)
    x = split.images.astype(np.float64)
    copies, labels = epoch.fooling_copies(network, x, split.labels)
    assert len(copies) > 0
    for copy, label in zip(copies, labels):
        nearest = np.min(np.count_nonzero(split.images[split.labels == label] != copy, axis=1))
        assert 1 <= nearest <= 30
        assert network.predict(copy[None])[0] != label            # read as another digit


def test_without_copies_an_epoch_is_sgd_epoch() -> None:
    # One flip never fools this confident network, so no copy is added: the same updates as sgd_epoch.
    dataset = tiny_dataset(4, 0)
    network = quick_network(epochs=4)
    x = dataset.train.images.astype(np.float64)
    labels = dataset.train.labels
    y = one_hot(labels)
    order = np.random.default_rng(0).permutation(len(labels))
    plain, against = network.copy(), network.copy()
    epoch = AgainstFoolingEpoch(copies=3, max_flips=1)
    a = sgd_epoch(plain, x, y, labels, order, 5, Optimiser(lr=0.05), RunControl())
    b = epoch(against, x, y, labels, order, 5, Optimiser(lr=0.05), RunControl())
    assert epoch.added == 0
    for p, q in zip(plain.parameters(), against.parameters()):
        np.testing.assert_allclose(p, q, atol=1e-12)
    assert (a.hits, a.samples) == (b.hits, b.samples) and a.loss_sum == pytest.approx(b.loss_sum)


def test_a_run_trains_against_fooling_copies() -> None:
    dataset = tiny_dataset(5, 2)
    config = replace(PRESETS["fast"], hidden=(8,), max_epochs=3)
    network = config.build_network(1024)
    epoch = AgainstFoolingEpoch(copies=2, max_flips=40)
    events = list(train(network, dataset, config, RunControl(), epoch_function=epoch))
    epochs = [e for e in events if isinstance(e, EpochFinished)]
    assert len(epochs) == 3 and all(e.samples == len(dataset.train) for e in epochs)
    assert epoch.added > 0
    with pytest.raises(ValueError):
        AgainstFoolingEpoch(copies=0)
