"""Runs ``studio.core.training.train`` in a child process and reports to the GUI thread.

Why a process: per-sample SGD is a Python loop, and so is pyqtgraph's painting; in one process they
take turns on one GIL and training in the window ran 18-30 % slower than headless. The child
(``studio.core.training_process.run_in_child``, started with ``spawn``, one BLAS thread) trains on a core
of its own; the window's process only relays and draws. Starting it costs a fresh interpreter and
NumPy import, a few tenths of a second per run.

``TrainingRunner`` lives in the GUI thread; for each run it makes a worker ``QObject`` (no parent) and
starts it on its own ``QThread`` through ``studio.gui.worker_thread``. The worker writes the network
and the data set to a temporary folder, starts the child, and relays the messages the child sends
through a pipe as signals (waiting on the pipe releases the GIL). The child *coalesces* what
``train`` yields: it sends at most every 100 ms the list of ``EpochFinished`` events since its last
send, and with it, at most every 250 ms, a snapshot (a copy of the network taken at that moment,
between epochs); it always sends the remainder, a last snapshot and the final event when the run
ends. Emitting every epoch from a fast loop floods the GUI's event queue; snapshots are rarer because
each one redraws the weights and re-runs the pad's prediction, the GUI's costliest updates. The
receivers keep what they get: every snapshot is a network of its own.

So that the best epoch's weights can be kept even when no snapshot falls on it, the child also copies
the network after every epoch whose monitored accuracy (``studio.core.evaluation.monitored_accuracy``:
test accuracy, else training accuracy) beats every earlier epoch since ``start``, and sends the latest such
copy with the next batch, delivered as ``best_candidate_ready((epoch, network))`` right after the batch
holding that epoch and before the batch's snapshot. These are for keeping, not for display.

``start`` trains the caller's network *in place* as before: when the run ends the worker copies the
child's final weights into the network's own arrays, before ``run_finished`` is delivered and before
``shutdown`` returns (if the child dies without sending them, the network takes the last snapshot's).

Steering (pause, resume, step one epoch, stop, learning rate) goes to the run's ``SharedRunControl``
by direct method calls from the GUI thread; its state lives in shared memory that the child reads
before every batch. When the run is about to block on a pause the child first sends what it holds,
so a paused or stepped run always shows its latest epochs and weights (a snapshot taken then may be
mid-epoch: it is the network exactly as it stands while paused).

Lifecycle: ``start`` -> (``pause``/``resume``/``step_one_epoch``/``set_learning_rate``)* -> ``stop``
(asynchronous) or ``shutdown`` (stops and joins the thread, and with it the child; for closing the
window or replacing the network). A running ``QThread`` must never be destroyed, so the runner keeps
the thread until it has finished, and never calls ``terminate()`` on it. The child is terminated only
as a last resort, when it has not ended ``STOP_TIMEOUT`` seconds after a stop.

Left out: what is trained and how (``studio.core.training``), the child's side
(``studio.core.training_process``), and any display.
"""
from __future__ import annotations

import multiprocessing
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.compare import single_threaded_blas
from studio.core.data import Dataset
from studio.core.network import Network
from studio.core.training import EpochFinished, RunControl, RunDiverged, RunFinished, TrainingConfig
from studio.core.training_process import (EMIT_INTERVAL, SNAPSHOT_INTERVAL, SharedRunControl,
                                          error_message, run_in_child, write_run_files)
from studio.gui.worker_thread import join_thread, start_in_thread

STATES: tuple[str, ...] = ("idle", "running", "paused", "stopping")

#: Seconds a child may take to end after a stop before it is terminated (it normally takes one batch,
#: or its start-up if the stop came first).
STOP_TIMEOUT = 15.0

#: Seconds to wait for a child to exit once it has sent its last message.
EXIT_TIMEOUT = 5.0

#: How long one wait on the child's pipe lasts, in seconds (then the worker checks for a stop).
POLL_INTERVAL = 0.1

# Never fork: the window's process holds Qt and threads, which a forked child would inherit half-dead.
_CONTEXT = multiprocessing.get_context("spawn")


class _ChildLost(Exception):
    """The child ended, or had to be ended, without its final message."""


class _Worker(QObject):
    """Runs one child process from the thread it is moved to and relays its messages as signals. Every
    payload is ``(run_id, value)`` so that the runner can tell a finished run's late deliveries from the
    current run's."""

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
        self.control = SharedRunControl(_CONTEXT)
        self._network = network
        self._dataset = dataset
        self._config = config
        self._first_epoch = first_epoch
        self._emit_interval = emit_interval
        self._snapshot_interval = snapshot_interval
        self._last_snapshot: Network | None = None
        self._signals = {"epochs": self.epochs_arrived, "snapshot": self.snapshot_ready,
                         "best": self.best_candidate_ready, "failed": self.run_failed,
                         "blocked": self.blocked}

    @Slot()
    def run(self) -> None:
        """Start the child, relay its messages until it ends, put its final weights into the network;
        always emits ``done`` last."""
        folder: Path | None = None
        process: Any = None
        receiver: Any = None
        try:
            folder = Path(tempfile.mkdtemp(prefix="studio-run-"))
            write_run_files(folder, self._network, self._dataset)
            receiver, sender = _CONTEXT.Pipe(duplex=False)
            with single_threaded_blas():
                child = _CONTEXT.Process(
                    target=run_in_child, name=f"training-run-{self.run_id}", daemon=True,
                    args=(str(folder), self._network.sizes, self._network.activation, self._network.loss,
                          self._config, self._first_epoch, self.control, sender, self._emit_interval,
                          self._snapshot_interval, self._dataset.name, self._dataset.source))
                try:
                    child.start()
                finally:
                    # The child holds its own copy now; with this one closed, the child's end is the
                    # pipe's only writer, and reading past its last message means it has gone.
                    sender.close()
            process = child
            final = self._relay(process, receiver)
            if final is not None:
                self.run_finished.emit((self.run_id, final))
        except _ChildLost as lost:
            if self._last_snapshot is not None:
                self._take_weights(self._last_snapshot)
            self.run_failed.emit((self.run_id, str(lost)))
        except Exception as error:  # noqa: BLE001 - e.g. no room for the run's files: tell the user
            self.run_failed.emit((self.run_id, error_message(error)))
        finally:
            try:
                self.control.stop()           # a child still running after an error here must end too
                _end_child(process, receiver)
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
            finally:
                self.done.emit()

    def _relay(self, process: Any, receiver: Any) -> RunFinished | RunDiverged | None:
        """Emit the child's messages as they come until its last one; copy its final weights into the
        network; return the run's final event (None if it failed)."""
        final: RunFinished | RunDiverged | None = None
        stop_deadline: float | None = None
        while True:
            if not receiver.poll(POLL_INTERVAL):
                if stop_deadline is None and self.control.stop_requested:
                    stop_deadline = time.monotonic() + STOP_TIMEOUT
                if stop_deadline is not None and time.monotonic() > stop_deadline:
                    _terminate(process)
                    raise _ChildLost(f"The training process did not stop within {STOP_TIMEOUT:g} s and "
                                     f"was ended; the network keeps its last snapshot's weights.")
                continue
            try:
                kind, value = receiver.recv()
            except (EOFError, OSError):    # end of file, perhaps in the middle of a message: it died
                process.join(EXIT_TIMEOUT)
                raise _ChildLost(f"The training process ended unexpectedly (exit code "
                                 f"{process.exitcode}); the network keeps its last snapshot's "
                                 f"weights.") from None
            if kind == "done":
                if value is not None:
                    self._take_weights(value)
                return final
            if kind == "finished":
                final = value                 # delivered once the weights are in the network
                continue
            if kind == "failed":
                message, details = value
                # The dialog gets the one line; the traceback, from another process, goes to the console.
                sys.stderr.write(f"{message}\n{details}")
                value = message
            elif kind == "snapshot":
                self._last_snapshot = value
            self._signals[kind].emit((self.run_id, value))

    def _take_weights(self, source: Network) -> None:
        """Copy ``source``'s parameters into the network in place (the caller holds its arrays)."""
        if source.sizes == self._network.sizes:
            for p, q in zip(self._network.parameters(), source.parameters()):
                p[...] = q


def _end_child(process: Any, receiver: Any) -> None:
    """Join ``process`` (terminating it if it does not exit in ``EXIT_TIMEOUT``) and close the pipe."""
    if process is not None:
        process.join(EXIT_TIMEOUT)
        if process.is_alive():
            _terminate(process)
        process.close()
    if receiver is not None:
        receiver.close()


def _terminate(process: Any) -> None:
    """The last resort: SIGTERM, then SIGKILL."""
    process.terminate()
    process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join()


class TrainingRunner(QObject):
    """Starts, steers and ends training runs (each in a child process watched from a background
    thread); lives in the GUI thread.

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
        """Train ``network`` in place on ``dataset`` with ``config`` in a child process, numbering epochs
        from ``first_epoch + 1`` (to carry on a stopped run; see ``studio.core.training.train``).

        Until the run ends the network belongs to the run (its final weights are copied into it at the
        end): read ``snapshot_ready`` copies instead. Raises ``RuntimeError`` if a run is live and
        ``ValueError`` for invalid settings.
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
        """End any run and join its thread and child process; safe to call at any time, also when idle.

        Stops the run (waking it if paused), waits for its thread (which waits for the child and puts
        the final weights into the network), then delivers what the worker emitted before it ended (the
        last epochs, the final snapshot and ``run_finished``), so the caller holds the complete run when
        this returns.
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
