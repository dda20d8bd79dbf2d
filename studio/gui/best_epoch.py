"""Keeping the best epoch of a run, and asking for an early stop when it stops getting better.

``BestEpochTracker`` follows a run from the GUI thread: it is offered the epochs the training runner
delivers and the snapshots it sends, keeps a copy of the network at the best epoch so far (core's
``BestWeights``, by test accuracy, or training accuracy without a test split: ``monitored_accuracy``)
and, when early stopping is on, feeds every epoch to core's ``EarlyStopping`` and emits
``early_stop_requested`` once the accuracy has not improved for ``patience`` epochs.

Where the weights come from: the runner sends snapshots (copies of the network) only every ~0.1 s,
each taken right after the last epoch it delivers with it, so most epochs come without weights. It
also sends a *candidate*, a copy taken right after each epoch that beat every earlier epoch of its run
segment, with the batch holding that epoch (``best_candidate_ready``): offer those with
``offer_candidate``, and ``best_epoch`` is the true best epoch (the first to reach the highest
accuracy). Offered only snapshots, ``best_epoch`` is the best of the epochs that came with one, which
may be a nearby epoch. Early stopping sees every epoch.

Epoch numbers are the events' own, which are the run's: a run trained in several segments (Start,
Stop, Start again) carries on with ``train(..., first_epoch=k)``, which numbers its epochs from k + 1.
``begin_segment`` only makes early stopping count its patience afresh.

Left out: the rules themselves (``studio.core.evaluation``), stopping the run (the window calls the
runner's ``stop`` on ``early_stop_requested``) and drawing the marker (the metrics plot).
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from studio.core.evaluation import BestWeights, EarlyStopping, monitored_accuracy
from studio.core.network import Network
from studio.core.training import EpochFinished


class BestEpochTracker(QObject):
    """Best weights and early stopping for one run, in the GUI thread.

    Signals: ``best_epoch_changed(int | None)``, the epoch whose weights are kept (None after
    ``reset``); ``early_stop_requested()``, at most once per segment, when early stopping is on and
    the accuracy has not improved for ``early_stopping_patience`` epochs.
    """

    best_epoch_changed = Signal(object)
    early_stop_requested = Signal()

    def __init__(self, early_stopping_patience: int | None = None, min_delta: float = 0.0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._min_delta = float(min_delta)
        self._patience: int | None = None
        self._early: EarlyStopping | None = None
        self._best = BestWeights()
        self._last_epoch = 0
        self._last_event: EpochFinished | None = None
        self._batch: dict[int, float] = {}      # the latest batch's epochs and their accuracies
        self._stop_sent = False
        self.early_stopping_patience = early_stopping_patience

    # -- settings -----------------------------------------------------------------------------------

    @property
    def early_stopping_patience(self) -> int | None:
        """Epochs without improvement before ``early_stop_requested``; None: early stopping is off."""
        return self._patience

    @early_stopping_patience.setter
    def early_stopping_patience(self, patience: int | None) -> None:
        """Turn early stopping on (counting from the next epoch) or off (None)."""
        self._early = None if patience is None else EarlyStopping(int(patience), self._min_delta)
        self._patience = None if patience is None else int(patience)
        self._stop_sent = False

    # -- a run --------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the run (a new network): no best epoch, early stopping counts afresh."""
        self._best = BestWeights()
        self._last_epoch = 0
        self._last_event = None
        self._batch = {}
        self.early_stopping_patience = self._patience
        self.best_epoch_changed.emit(None)

    def begin_segment(self) -> None:
        """The run goes on (Start again on the same network): early stopping counts its patience afresh;
        the best weights stay, and the epochs go on with the run's numbers."""
        self.early_stopping_patience = self._patience

    def offer(self, events: Sequence[EpochFinished], snapshot: Network | None = None) -> bool:
        """Record ``events`` (the runner's latest epochs, in order) and, if given, ``snapshot``: the
        network at the end of the latest epoch offered so far (the last of ``events``, or of an earlier
        call when ``events`` is empty). Returns True if the best epoch changed.

        The runner emits an epochs batch and then, sometimes, a snapshot taken right after it: call
        ``offer(events)`` on ``epochs_arrived`` and ``offer([], snapshot)`` on ``snapshot_ready``. A
        later snapshot for the same epoch never replaces the first (an equal accuracy is not better).
        """
        stop = False
        if events:
            self._batch = {event.epoch: monitored_accuracy(event) for event in events}
        for event in events:
            self._last_epoch = event.epoch
            self._last_event = event
            if self._early is not None and not self._stop_sent and self._early.update(monitored_accuracy(event)):
                stop = True
        changed = False
        if snapshot is not None and self._last_event is not None:
            changed = self._best.offer(self._last_epoch, monitored_accuracy(self._last_event), snapshot)
            if changed:
                self.best_epoch_changed.emit(self._best.epoch)
        if stop:
            self._stop_sent = True
            self.early_stop_requested.emit()
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

    @property
    def stop_requested(self) -> bool:
        """True once ``early_stop_requested`` has been emitted in this segment."""
        return self._stop_sent

    def best_network(self) -> Network | None:
        """A copy of the network at ``best_epoch``, or None."""
        return self._best.network

    def restore_into(self, network: Network) -> None:
        """Overwrite ``network``'s weights and biases with the best ones, in place. Only while no run
        trains it (the runner's thread owns a training network). Raises ``ValueError`` if there are no
        best weights or they are for a network of another shape."""
        self._best.restore_into(network)

    def __repr__(self) -> str:
        return (f"BestEpochTracker(best_epoch={self.best_epoch}, patience={self._patience}, "
                f"last_epoch={self._last_epoch})")
