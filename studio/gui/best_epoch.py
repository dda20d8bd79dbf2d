"""Keeping the best epoch's weights of a run in the GUI thread, across its segments.

The rule is the run's own (``training.BestEpoch``: test accuracy, or training accuracy without a test
split; the first epoch to reach the highest): ``train`` reports each new best epoch with a copy of its
weights, which the runner delivers as ``best_candidate_ready`` right after the batch of epochs ending
at it; offer those with ``offer_candidate``. ``BestEpochTracker`` keeps the best of them across the
segments of a run (Start, Stop, Start again: each segment's ``train`` knows only its own epochs) and
puts them back on Restore best weights. Early stopping is the run's too (``TrainingConfig.early_stopping``,
``RunControl.set_early_stopping``): nothing here decides when a run ends.

Epoch numbers are the events' own, which are the run's: a run trained in several segments carries on
with ``train(..., first_epoch=k)``, which numbers its epochs from k + 1.

Left out: drawing the marker (the metrics plot) and stopping the run (the run itself).
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from studio.core.evaluation import BestWeights, monitored_accuracy
from studio.core.network import Network
from studio.core.training import EpochFinished


class BestEpochTracker(QObject):
    """The best epoch's weights of one run, in the GUI thread.

    Signal: ``best_epoch_changed(int | None)``, the epoch whose weights are kept (None after ``reset``).
    """

    best_epoch_changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._best = BestWeights()
        self._last_epoch = 0
        self._last_event: EpochFinished | None = None
        self._batch: dict[int, float] = {}      # the latest batch's epochs and their accuracies

    # -- a run --------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the run (a new network): no best epoch, early stopping counts afresh."""
        self._best = BestWeights()
        self._last_epoch = 0
        self._last_event = None
        self._batch = {}
        self.best_epoch_changed.emit(None)

    def offer(self, events: Sequence[EpochFinished], snapshot: Network | None = None) -> bool:
        """Record ``events`` (the runner's latest epochs, in order) and, if given, ``snapshot``: the
        network at the end of the latest epoch offered so far (the last of ``events``, or of an earlier
        call when ``events`` is empty). Returns True if the best epoch changed.

        The runner emits an epochs batch and then, sometimes, a snapshot taken right after it: call
        ``offer(events)`` on ``epochs_arrived`` and ``offer([], snapshot)`` on ``snapshot_ready``. A
        later snapshot for the same epoch never replaces the first (an equal accuracy is not better).
        """
        if events:
            self._batch = {event.epoch: monitored_accuracy(event) for event in events}
            self._last_epoch = events[-1].epoch
            self._last_event = events[-1]
        changed = False
        if snapshot is not None and self._last_event is not None:
            changed = self._best.offer(self._last_epoch, monitored_accuracy(self._last_event), snapshot)
            if changed:
                self.best_epoch_changed.emit(self._best.epoch)
        return changed

    def offer_candidate(self, epoch: int, snapshot: Network) -> bool:
        """Record ``snapshot``, the network right after ``epoch``, an epoch of the latest ``events``
        offered (the runner's ``best_candidate_ready``, which follows the batch holding its epoch).
        Returns True if the best epoch changed; a candidate for an epoch not in that batch is ignored."""
        accuracy = self._batch.get(int(epoch))
        if accuracy is None or not self._best.offer(int(epoch), accuracy, snapshot):
            return False
        self.best_epoch_changed.emit(self._best.epoch)
        return True

    # -- reading and restoring ----------------------------------------------------------------------

    @property
    def best_epoch(self) -> int | None:
        """The epoch whose weights are kept (run numbering), or None."""
        return self._best.epoch

    @property
    def best_accuracy(self) -> float | None:
        """The monitored accuracy at ``best_epoch`` (a fraction), or None."""
        return None if self._best.epoch is None else self._best.accuracy

    @property
    def monitored(self) -> str:
        """What is followed: ``test accuracy``, or ``training accuracy`` when there is no test split."""
        if self._last_event is not None and self._last_event.test_accuracy is None:
            return "training accuracy"
        return "test accuracy"

    @property
    def last_epoch(self) -> int:
        """The latest epoch offered (run numbering); 0 before any."""
        return self._last_epoch

    def best_network(self) -> Network | None:
        """A copy of the network at ``best_epoch``, or None."""
        return self._best.network

    def restore_into(self, network: Network) -> None:
        """Overwrite ``network``'s weights and biases with the best ones, in place. Only while no run
        trains it (the runner's thread owns a training network). Raises ``ValueError`` if there are no
        best weights or they are for a network of another shape."""
        self._best.restore_into(network)

    def __repr__(self) -> str:
        return f"BestEpochTracker(best_epoch={self.best_epoch}, last_epoch={self._last_epoch})"
