"""BestEpochTracker: which epoch's weights it keeps, restoring them, and when it asks to stop."""
from __future__ import annotations

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from studio.core.network import Network
from studio.core.training import EpochFinished
from studio.gui.best_epoch import BestEpochTracker


def epoch(n: int, test: float | None, train: float = 0.5) -> EpochFinished:
    return EpochFinished(epoch=n, train_loss=1.0, train_accuracy=train, test_loss=None if test is None else 1.0,
                         test_accuracy=test, seconds=0.1, elapsed=0.1 * n, learning_rate=0.1, samples=10)


def net(seed: int) -> Network:
    return Network.initialised((1024, 4, 10), seed=seed)


def assert_same_weights(a: Network, b: Network) -> None:
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)


def test_keeps_the_snapshot_of_the_best_epoch_and_restores_it() -> None:
    tracker = BestEpochTracker()
    changes: list[object] = []
    tracker.best_epoch_changed.connect(changes.append)
    accuracies = [0.5, 0.7, 0.6, 0.8, 0.75, 0.8]            # the second 0.8 is not better
    snapshots = [net(seed) for seed in range(len(accuracies))]
    for n, (accuracy, snapshot) in enumerate(zip(accuracies, snapshots), start=1):
        tracker.offer([epoch(n, accuracy)], snapshot)
    assert tracker.best_epoch == 4 and tracker.best_accuracy == 0.8
    assert changes == [1, 2, 4]
    target = net(99)
    tracker.restore_into(target)
    assert_same_weights(target, snapshots[3])
    snapshots[3].weights[0][...] = 0.0                        # the tracker kept a copy
    assert not np.array_equal(tracker.best_network().weights[0], snapshots[3].weights[0])


def test_a_snapshot_goes_with_the_latest_epoch_once() -> None:
    tracker = BestEpochTracker()
    tracker.offer([epoch(1, 0.9), epoch(2, 0.6)])             # epochs_arrived: no snapshot yet
    assert tracker.best_epoch is None
    first, second = net(1), net(2)
    assert tracker.offer([], first)                           # snapshot_ready: the network after epoch 2
    assert (tracker.best_epoch, tracker.best_accuracy) == (2, 0.6)
    assert not tracker.offer([], second)                      # a second one for epoch 2 is ignored
    tracker.restore_into(target := net(5))
    assert_same_weights(target, first)


def test_a_new_segment_keeps_the_run_numbers_and_reset_forgets(qtbot: QtBot) -> None:
    tracker = BestEpochTracker()
    tracker.offer([epoch(1, 0.5), epoch(2, 0.7), epoch(3, 0.6), epoch(4, 0.6)], net(0))
    assert tracker.last_epoch == 4
    assert tracker.best_epoch == 4                            # the only epoch offered with weights
    tracker.offer([epoch(5, 0.6), epoch(6, 0.8)], net(1))     # Start again: train(first_epoch=4) goes on at 5
    assert tracker.last_epoch == 6 and tracker.best_epoch == 6
    tracker.offer([epoch(7, 0.8)], net(2))
    assert tracker.best_epoch == 6                            # an equal accuracy is not better
    with qtbot.waitSignal(tracker.best_epoch_changed, timeout=1000) as blocker:
        tracker.reset()
    assert blocker.args == [None]
    assert tracker.best_epoch is None and tracker.last_epoch == 0
    with pytest.raises(ValueError, match="no epoch has been offered"):
        tracker.restore_into(net(2))


def test_without_a_test_split_it_follows_training_accuracy() -> None:
    tracker = BestEpochTracker()
    tracker.offer([epoch(1, None, train=0.3)], net(0))
    tracker.offer([epoch(2, None, train=0.6)], net(1))
    tracker.offer([epoch(3, None, train=0.4)], net(2))
    assert tracker.monitored == "training accuracy"
    assert (tracker.best_epoch, tracker.best_accuracy) == (2, 0.6)


def test_restoring_into_a_network_of_another_shape_is_refused() -> None:
    tracker = BestEpochTracker()
    tracker.offer([epoch(1, 0.5)], net(0))
    with pytest.raises(ValueError, match="network"):
        tracker.restore_into(Network.initialised((1024, 8, 10), seed=0))


def test_a_candidate_keeps_an_epoch_that_came_without_a_snapshot(qtbot: QtBot) -> None:
    tracker = BestEpochTracker()
    tracker.offer([epoch(1, 0.5)], net(0))
    assert tracker.best_epoch == 1
    tracker.offer([epoch(2, 0.6), epoch(3, 0.9), epoch(4, 0.7)])
    assert tracker.offer_candidate(9, net(9)) is False           # not an epoch of the latest batch
    with qtbot.waitSignal(tracker.best_epoch_changed, timeout=1000) as blocker:
        assert tracker.offer_candidate(3, net(3))
    assert blocker.args == [3]
    assert (tracker.best_epoch, tracker.best_accuracy) == (3, 0.9)
    tracker.offer([], net(4))                                    # the batch's snapshot, of epoch 4
    assert tracker.best_epoch == 3
    assert_same_weights(tracker.best_network(), net(3))
    tracker.offer([epoch(5, 0.9)])
    assert tracker.offer_candidate(5, net(5)) is False           # equal is not better: the first stays
    assert tracker.best_epoch == 3
