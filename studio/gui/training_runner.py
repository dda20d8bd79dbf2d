"""Runs a training run (``studio.core.training_job.TrainingJob``, a child process) and reports to the
GUI thread.

Why a process: per-sample SGD is a Python loop, and so is pyqtgraph's painting; in one process they
take turns on one GIL and training in the window ran 18-30 % slower than headless. The job trains on
a core of its own; the window's process only relays and draws. Starting it costs a fresh interpreter
and NumPy import, a few tenths of a second per run.

``TrainingRunner`` lives in the GUI thread and hands each run to a ``studio.gui.worker_thread.JobRelay``,
which starts, polls and closes the job from a background thread; the runner only turns the batches of
events it relays into signals. The child *coalesces* what ``train`` yields (``studio.core.jobs.Batcher``):
at most every ``emit_interval`` seconds (50 ms) the epochs since its last send, and with them, at most
every ``snapshot_interval`` seconds (250 ms), a snapshot (a copy of the network taken at that moment,
between epochs); it always sends the remainder, a last snapshot and the final event when the run ends.
Emitting every epoch from a fast loop floods the GUI's event queue; snapshots are rarer because each
one redraws the weights and re-runs the pad's prediction, the GUI's costliest updates. The receivers
keep what they get: every snapshot is a network of its own.

So that the best epoch's weights can be kept even when no snapshot falls on it, ``train`` itself
reports each new best epoch (its ``BestEpochChanged`` rule: test accuracy, else training accuracy, beating
every earlier epoch since ``start``) with a copy of the weights; the latest one of a batch is delivered as
``best_candidate_ready((epoch, network))`` right after the epochs up to that epoch. These are for keeping,
not for display. Every other event the run yields arrives verbatim and in order as ``run_event(event)``.

``start`` trains the caller's network *in place* as before: when the run ends the job copies the
child's final weights into the network's own arrays, before ``run_finished`` is delivered and before
``shutdown`` returns (if the child dies without sending them, the network takes the last snapshot's).

Steering (pause, resume, step one epoch, stop, learning rate, early stopping) goes to the job's
``SharedRunControl`` by direct method calls from the GUI thread; its state lives in shared memory that
the child reads before every batch. When the run is about to block on a pause the child first sends
what it holds, so a paused or stepped run always shows its latest epochs and weights (a snapshot taken
then may be mid-epoch: it is the network exactly as it stands while paused).

Lifecycle: ``start`` -> (``pause``/``resume``/``step_one_epoch``/``set_learning_rate``/
``set_early_stopping``)* -> ``stop`` (asynchronous) or ``shutdown`` (stops and joins the thread, and
with it the child; for closing the window or replacing the network). The child is terminated only as a
last resort, by the job, when it has not ended ``training_job.STOP_TIMEOUT`` seconds after a stop.

Left out: what is trained and how (``studio.core.training``), the child's side and its lifecycle
(``studio.core.training_job``), threads (``studio.gui.worker_thread``) and any display.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.data import Dataset
from studio.core.jobs import BATCH_INTERVAL
from studio.core.network import Network
from studio.core.training import BestEpochChanged, EpochFinished, RunDiverged, RunFinished, TrainingConfig
from studio.core.training_job import (SNAPSHOT_INTERVAL, Paused, RunFailed,
                                      SharedRunControl, Snapshot, TrainingJob)
from studio.gui.worker_thread import JobRelay

RunnerState = Literal["idle", "running", "paused", "stopping"]
STATES: tuple[RunnerState, ...] = ("idle", "running", "paused", "stopping")

#: Shortest time between two batches of epochs, in seconds.
EMIT_INTERVAL = BATCH_INTERVAL


class TrainingRunner(QObject):
    """Starts, steers and ends training runs (each a ``TrainingJob`` in a child process, relayed from a
    background thread); lives in the GUI thread.

    Signals (all delivered in the GUI thread):
    ``epochs_arrived(list[EpochFinished])``, ``snapshot_ready(Network)`` (a copy, the receiver's to
    keep), ``best_candidate_ready((epoch, Network))`` (a copy taken right after an epoch that beat
    every earlier one since ``start``, delivered after the epochs up to it), ``run_event(object)``
    (any other event the run yields, verbatim and in order, e.g. ``BestEpochChanged``),
    ``run_finished(RunFinished | RunDiverged)``, ``run_failed(str)`` (an unexpected error; the run is
    over) and ``state_changed(str)``, a ``RunnerState``: ``idle``, ``running``, ``paused``, ``stopping``.
    """

    epochs_arrived = Signal(object)
    snapshot_ready = Signal(object)
    best_candidate_ready = Signal(object)
    run_event = Signal(object)
    run_finished = Signal(object)
    run_failed = Signal(str)
    state_changed = Signal(str)

    def __init__(self, parent: QObject | None = None, emit_interval: float = EMIT_INTERVAL,
                 snapshot_interval: float = SNAPSHOT_INTERVAL,
                 job_factory: Callable[..., TrainingJob] = TrainingJob) -> None:
        super().__init__(parent)
        self._emit_interval = emit_interval
        self._snapshot_interval = snapshot_interval
        self._job_factory = job_factory
        self._state: RunnerState = "idle"
        self._run_id = 0
        self._relay = JobRelay(self)
        self._relay.events_arrived.connect(self._on_relay_events_arrived)
        self._relay.job_failed.connect(self.run_failed)
        self._relay.job_ended.connect(self._on_relay_job_ended)
        self._control: SharedRunControl | None = None

    # -- state ---------------------------------------------------------------------------------------

    @property
    def state(self) -> RunnerState:
        return self._state

    @property
    def thread(self) -> QThread | None:
        """The live run's thread (None when idle); for tests and diagnostics only."""
        return self._relay.thread

    @property
    def is_live(self) -> bool:
        """True from ``start`` until the run's thread has finished."""
        return self._relay.is_live

    def _set_state(self, state: RunnerState) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    # -- commands ------------------------------------------------------------------------------------

    def start(self, network: Network, dataset: Dataset, config: TrainingConfig,
              first_epoch: int = 0) -> None:
        """Train ``network`` in place on ``dataset`` with ``config`` in a child process, numbering epochs
        from ``first_epoch + 1`` (to carry on a stopped run; see ``studio.core.training.train``).

        Until the run ends the network belongs to the run (its final weights are copied into it at the
        end): read ``snapshot_ready`` copies instead. Raises ``RuntimeError`` if a run is live and
        ``ValueError`` for invalid settings.
        """
        if self._relay.is_live:
            raise RuntimeError("a training run is already live: stop it (and let it finish) first")
        config.validate()
        self._run_id += 1
        job = self._job_factory(emit_interval=self._emit_interval, snapshot_interval=self._snapshot_interval)
        self._control = job.control
        self._relay.start(job, lambda: job.start(network, dataset, config, first_epoch),
                          f"training run {self._run_id}", self._emit_interval, what="Training")
        self._set_state("running")   # after: listeners may ask is_live

    def pause(self) -> None:
        """Pause before the next batch (the epoch resumes where it stopped)."""
        if self._control is not None and self._state == "running":
            self._control.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self._control is not None and self._state == "paused":
            self._control.resume()
            self._set_state("running")

    def step_one_epoch(self) -> None:
        """Train to the end of the current epoch (a whole one when paused between epochs), then pause."""
        if self._control is not None and self._state in ("running", "paused"):
            self._control.step_one_epoch()
            self._set_state("running")

    def stop(self) -> None:
        """Ask the run to end at the next batch (wakes a paused run); the thread finishes soon after."""
        if self._control is not None and self._state != "stopping":
            self._control.stop()
            self._set_state("stopping")

    def set_learning_rate(self, lr: float) -> None:
        """Use ``lr`` from the run's next epoch on (ignored when no run is live)."""
        if self._control is not None:
            self._control.set_learning_rate(lr)

    def set_early_stopping(self, patience: int | None) -> None:
        """End the run after ``patience`` epochs without a better monitored accuracy (None: off), from
        the run's next epoch end on (ignored when no run is live). Raises ``ValueError`` below 1."""
        if self._control is not None:
            self._control.set_early_stopping(patience)

    def shutdown(self) -> None:
        """End any run and join its thread and child process; safe to call at any time, also when idle.

        Stops the run (waking it if paused), waits for its thread (which waits for the child and puts
        the final weights into the network), then delivers what the job reported before it ended (the
        last epochs, the final snapshot and ``run_finished``), so the caller holds the complete run when
        this returns.
        """
        if not self._relay.is_live:
            return
        if self._control is not None:
            self._control.stop()
        self._set_state("stopping")
        self._relay.shutdown()

    # -- deliveries from the relay ----------------------------------------------------------------------

    @Slot(object)
    def _on_relay_events_arrived(self, events: list[object]) -> None:
        """Turn one batch into signals, in order; consecutive epochs travel as one list."""
        epochs: list[EpochFinished] = []
        for event in events:
            if isinstance(event, EpochFinished):
                epochs.append(event)
                continue
            if epochs:
                self.epochs_arrived.emit(epochs)
                epochs = []
            if isinstance(event, Snapshot):
                self.snapshot_ready.emit(event.network)
            elif isinstance(event, BestEpochChanged):
                self.best_candidate_ready.emit((event.epoch, event.network))
            elif isinstance(event, (RunFinished, RunDiverged)):
                self.run_finished.emit(event)
            elif isinstance(event, RunFailed):
                self.run_failed.emit(event.message)
            elif isinstance(event, Paused):
                # Only a step that ended pauses the run without the GUI asking; a stale notice from a
                # pause that has since been resumed finds the control running and changes nothing.
                if self._state == "running" and self._control is not None and self._control.paused:
                    self._set_state("paused")
            else:
                self.run_event.emit(event)
        if epochs:
            self.epochs_arrived.emit(epochs)

    @Slot()
    def _on_relay_job_ended(self) -> None:
        self._control = None
        self._set_state("idle")
