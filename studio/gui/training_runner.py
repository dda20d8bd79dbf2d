"""Runs ``studio.core.training.train`` in a background thread and reports to the GUI thread.

``TrainingRunner`` lives in the GUI thread; for each run it makes a worker ``QObject`` (no parent) and
starts it on its own ``QThread`` through ``studio.gui.worker_thread``. The worker
iterates the core's training generator and *coalesces* what it yields: it emits at most every 100 ms
the list of ``EpochFinished`` events since its last emit, and with it, at most every 250 ms, a snapshot
(``network.copy()``, taken in the worker at that moment, between epochs); it always emits the remainder,
a last snapshot and the final event when the run ends. Emitting every epoch from a fast loop floods the
GUI's event queue. Snapshots are rarer than epochs because each one redraws the weights and re-runs the
pad's prediction, the GUI's costliest updates, and the GUI thread's Python time is taken from training
(one GIL). Snapshots are copies because pyqtgraph and the views keep references to what they get.

So that the best epoch's weights can be kept even when no snapshot falls on it, the worker also copies
the network after every epoch whose monitored accuracy (``studio.core.evaluation.monitored_accuracy``:
test accuracy, else training accuracy) beats every earlier epoch since ``start``, and sends the latest such
copy with the next emit as ``best_candidate_ready((epoch, network))``, right after the batch holding
that epoch and before the batch's snapshot. These are for keeping, not for display.

Steering (pause, resume, step one epoch, stop, learning rate) goes to the run's ``RunControl`` by
direct method calls from the GUI thread: a busy worker would only see queued signals after its loop
returned. When the run is about to block on a pause it first emits what it holds, so a paused or
stepped run always shows its latest epochs and weights (a snapshot taken then may be mid-epoch: it is
the network exactly as it stands while paused).

Lifecycle: ``start`` -> (``pause``/``resume``/``step_one_epoch``/``set_learning_rate``)* -> ``stop``
(asynchronous) or ``shutdown`` (stops and joins the thread; for closing the window or replacing the
network). A running ``QThread`` must never be destroyed, so the runner keeps the thread until it has
finished, and never calls ``terminate()``.

Left out: what is trained and how (``studio.core.training``), and any display.
"""
from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.data import Dataset
from studio.core.evaluation import monitored_accuracy
from studio.core.network import Network
from studio.core.training import EpochFinished, RunControl, RunDiverged, RunFinished, TrainingConfig, train
from studio.gui.worker_thread import join_thread, start_in_thread

#: Shortest time between two emits of the worker, in seconds (10 deliveries a second at most, the
#: curves' redraw rate: sending more often would only queue work for the GUI thread).
EMIT_INTERVAL = 0.1

#: Shortest time between two snapshots, in seconds (4 a second at most: heatmaps, pad and views redraw
#: from them, and every redraw is GUI-thread time taken from a per-sample run).
SNAPSHOT_INTERVAL = 0.25

STATES: tuple[str, ...] = ("idle", "running", "paused", "stopping")


class _WatchedControl(RunControl):
    """A ``RunControl`` that calls ``on_block`` (in the run's thread) just before the run blocks on a pause."""

    def __init__(self, on_block: Callable[[], None]) -> None:
        super().__init__()
        self._on_block = on_block

    def checkpoint(self) -> bool:
        if self.paused:
            self._on_block()
        return super().checkpoint()


class _Worker(QObject):
    """Iterates one run in the thread it is moved to. Every payload is ``(run_id, value)`` so that the
    runner can tell a finished run's late deliveries from the current run's."""

    epochs_arrived = Signal(object)
    snapshot_ready = Signal(object)
    best_candidate_ready = Signal(object)
    run_finished = Signal(object)
    run_failed = Signal(object)
    blocked = Signal(object)
    done = Signal()

    def __init__(self, run_id: int, network: Network, dataset: Dataset, config: TrainingConfig,
                 first_epoch: int, emit_interval: float, snapshot_interval: float) -> None:
        super().__init__()  # no parent: a QObject with a parent cannot be moved to another thread
        self.run_id = run_id
        self.control = _WatchedControl(self._on_control_block)
        self._network = network
        self._dataset = dataset
        self._config = config
        self._first_epoch = first_epoch
        self._emit_interval = emit_interval
        self._snapshot_interval = snapshot_interval
        self._pending: list[EpochFinished] = []
        self._last_emit = -math.inf
        self._last_snapshot = -math.inf
        self._best_accuracy = -math.inf
        self._candidate: tuple[int, Network] | None = None   # the best epoch not yet sent, and its copy

    @Slot()
    def run(self) -> None:
        """Train until the run ends; always emits what is pending, then ``done``."""
        final: RunFinished | RunDiverged | None = None
        failed = False
        try:
            for event in train(self._network, self._dataset, self._config, self.control,
                               first_epoch=self._first_epoch):
                if isinstance(event, EpochFinished):
                    self._pending.append(event)
                    accuracy = monitored_accuracy(event)
                    if accuracy > self._best_accuracy:         # never true for NaN
                        self._best_accuracy = accuracy
                        self._candidate = (event.epoch, self._network.copy())
                    now = time.monotonic()
                    if now - self._last_emit >= self._emit_interval:
                        self._flush(snapshot=now - self._last_snapshot >= self._snapshot_interval)
                else:
                    final = event
        except Exception as error:  # noqa: BLE001 - any failure must reach the user, not kill the thread
            failed = True
            where = traceback.extract_tb(error.__traceback__)[-1]
            self.run_failed.emit((self.run_id, f"Training stopped by an unexpected error: "
                                               f"{type(error).__name__}: {error} "
                                               f"({where.filename.rsplit('/', 1)[-1]}, line {where.lineno})"))
        finally:
            try:
                self._flush(snapshot=not failed)
                if final is not None:
                    self.run_finished.emit((self.run_id, final))
            finally:
                self.done.emit()

    def _flush(self, snapshot: bool) -> None:
        if self._pending:
            self.epochs_arrived.emit((self.run_id, self._pending))
            self._pending = []
        if self._candidate is not None:
            # Sent even when the snapshot below is of the same epoch: a paused run's snapshot may be
            # taken mid-epoch, the candidate never is.
            self.best_candidate_ready.emit((self.run_id, self._candidate))
            self._candidate = None
        self._last_emit = time.monotonic()
        if snapshot:
            self.snapshot_ready.emit((self.run_id, self._network.copy()))
            self._last_snapshot = self._last_emit

    def _on_control_block(self) -> None:
        """Called in this worker's thread, between batches, when the run is about to wait on a pause."""
        self._flush(snapshot=True)
        self.blocked.emit((self.run_id, None))


class TrainingRunner(QObject):
    """Starts, steers and ends training runs in a background thread; lives in the GUI thread.

    Signals (all delivered in the GUI thread):
    ``epochs_arrived(list[EpochFinished])``, ``snapshot_ready(Network)`` (a copy, the receiver's to
    keep), ``best_candidate_ready((epoch, Network))`` (a copy taken right after an epoch that beat
    every earlier one since ``start``, delivered after the batch holding that epoch),
    ``run_finished(RunFinished | RunDiverged)``, ``run_failed(str)`` (an unexpected error; the run is
    over) and ``state_changed(str)``, one of ``idle``, ``running``, ``paused``, ``stopping``.
    """

    epochs_arrived = Signal(object)
    snapshot_ready = Signal(object)
    best_candidate_ready = Signal(object)
    run_finished = Signal(object)
    run_failed = Signal(str)
    state_changed = Signal(str)

    def __init__(self, parent: QObject | None = None, emit_interval: float = EMIT_INTERVAL,
                 snapshot_interval: float = SNAPSHOT_INTERVAL) -> None:
        super().__init__(parent)
        self._emit_interval = emit_interval
        self._snapshot_interval = snapshot_interval
        self._state = "idle"
        self._run_id = 0
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self._control: RunControl | None = None

    # -- state ---------------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def thread(self) -> QThread | None:
        """The live run's thread (None when idle); for tests and diagnostics only."""
        return self._thread

    @property
    def is_live(self) -> bool:
        """True from ``start`` until the run's thread has finished."""
        return self._thread is not None

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    # -- commands ------------------------------------------------------------------------------------

    def start(self, network: Network, dataset: Dataset, config: TrainingConfig,
              first_epoch: int = 0) -> None:
        """Train ``network`` in place on ``dataset`` with ``config`` in a new thread, numbering epochs
        from ``first_epoch + 1`` (to carry on a stopped run; see ``studio.core.training.train``).

        Until the run ends the network belongs to the worker thread: read ``snapshot_ready`` copies
        instead. Raises ``RuntimeError`` if a run is live and ``ValueError`` for invalid settings.
        """
        if self._thread is not None:
            raise RuntimeError("a training run is already live: stop it (and let it finish) first")
        config.validate()
        self._run_id += 1
        worker = _Worker(self._run_id, network, dataset, config, first_epoch, self._emit_interval,
                         self._snapshot_interval)
        worker.epochs_arrived.connect(self._on_worker_epochs_arrived)
        worker.snapshot_ready.connect(self._on_worker_snapshot_ready)
        worker.best_candidate_ready.connect(self._on_worker_best_candidate_ready)
        worker.run_finished.connect(self._on_worker_run_finished)
        worker.run_failed.connect(self._on_worker_run_failed)
        worker.blocked.connect(self._on_worker_blocked)
        self._worker, self._control = worker, worker.control
        self._thread = start_in_thread(worker, f"training run {self._run_id}", self._on_thread_finished)
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

    def shutdown(self) -> None:
        """End any run and join its thread; safe to call at any time, also when idle.

        Stops the run (waking it if paused), waits for its thread, then delivers what the worker
        emitted before it ended (the last epochs, the final snapshot and ``run_finished``), so the
        caller holds the complete run when this returns.
        """
        thread = self._thread
        if thread is None:
            return
        if self._control is not None:
            self._control.stop()
        self._set_state("stopping")
        join_thread(thread, self)
        self._release()

    def _release(self) -> None:
        self._thread = None
        self._worker = None
        self._control = None
        self._set_state("idle")

    # -- deliveries from the worker ---------------------------------------------------------------------

    def _is_current(self, payload: tuple[int, object]) -> bool:
        return self._worker is not None and payload[0] == self._run_id

    @Slot(object)
    def _on_worker_epochs_arrived(self, payload: tuple[int, list[EpochFinished]]) -> None:
        if self._is_current(payload):
            self.epochs_arrived.emit(payload[1])

    @Slot(object)
    def _on_worker_snapshot_ready(self, payload: tuple[int, Network]) -> None:
        if self._is_current(payload):
            self.snapshot_ready.emit(payload[1])

    @Slot(object)
    def _on_worker_best_candidate_ready(self, payload: tuple[int, tuple[int, Network]]) -> None:
        if self._is_current(payload):
            self.best_candidate_ready.emit(payload[1])

    @Slot(object)
    def _on_worker_run_finished(self, payload: tuple[int, RunFinished | RunDiverged]) -> None:
        if self._is_current(payload):
            self.run_finished.emit(payload[1])

    @Slot(object)
    def _on_worker_run_failed(self, payload: tuple[int, str]) -> None:
        if self._is_current(payload):
            self.run_failed.emit(payload[1])

    @Slot(object)
    def _on_worker_blocked(self, payload: tuple[int, None]) -> None:
        # Only a step that ended pauses the run without the GUI asking; a stale notice from a pause
        # that has since been resumed finds the control running and changes nothing.
        if self._is_current(payload) and self._state == "running" and self._control is not None \
                and self._control.paused:
            self._set_state("paused")

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is not None and self._thread.isFinished():
            self._release()
