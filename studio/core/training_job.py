"""One training run in a child process, steered and watched from the process that started it.

Trained in a thread of the window's process, per-sample SGD takes turns on one GIL with the window's
own Python (pyqtgraph paints in Python) and both slow down; in a child process (``studio.core.jobs``:
spawn, one BLAS thread, Ctrl-C ignored, exits with its parent) the run has an interpreter, and a core,
of its own. ``TrainingJob`` has the shape of every job (``studio.core.jobs.Job``)::

    job = TrainingJob()
    job.start(network, dataset, config)        # returns at once; the child starts (~0.2-0.6 s)
    while not job.finished:
        for event in job.poll(0.1):            # what the run reported, in order
            ...
    job.close()                                # stops what still runs, joins the child

``job.control`` (a ``SharedRunControl``) steers the run from any thread with ``RunControl``'s methods
(pause, resume, step one epoch, stop, learning rate, early stopping); its state lives in shared
memory that the child reads before every batch.

What ``poll`` returns, in the order the run produced it:

- every event ``train`` yields, verbatim: ``EpochFinished``, ``BestEpochChanged`` (a new best epoch with a
  copy of its weights: the run's own rule, so the window needs none) and any other;
  the run's final ``RunFinished`` / ``RunDiverged`` comes last, once the final weights are back in the
  network given to ``start`` (the run trains a copy in the child; the caller's network is updated in
  place when the run ends, or takes the last snapshot's weights if the child dies);
- ``Snapshot(network)``: a copy of the network as it stands, at most every ``snapshot_interval`` s;
- ``Paused()``: the run is about to wait on a pause (what it holds was sent just before);
- ``RunFailed(message)``: an unexpected error ended the run (the traceback goes to stderr), or the
  child died, or did not stop within ``stop_timeout`` seconds of a stop and was ended.

The child batches what it sends (``jobs.Batcher``, at most every ``emit_interval`` s): epochs and
snapshots are coalesced, and of several ``BestEpochChanged`` in one batch only the
latest travels; every other event travels as it came. Messages go through a one-way pipe rather than
a queue so that once the parent has closed its copy of the sending end, a child that dies, even in
the middle of a message, reads as end-of-file (a queue's reader would wait for the rest for ever).

Left out: the training itself (``training.py``) and Qt (``studio.gui.training_runner`` relays a job's
events as signals).
"""
from __future__ import annotations

import math
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.data import Dataset
from studio.core.jobs import (BATCH_INTERVAL, CONTEXT, AbandonableLock, Batcher, SharedFlag, child_setup, end_process,
                              error_message, load_dataset_arrays, save_dataset_arrays, start_processes, terminate)
from studio.core.network import Network
from studio.core.training import (BestEpochChanged, EpochFinished, RunControl, RunDiverged, RunFinished,
                                  TrainingConfig, train)

#: What a job runs in its child: ``training.train`` or a function with its signature (a module-level
#: function: it is pickled by name).
TrainFunction = Callable[..., Iterator[object]]

#: Shortest time between two snapshots, in seconds (each one redraws the weights and the pad's prediction).
SNAPSHOT_INTERVAL = 0.25

#: Seconds a child may take to end after a stop before it is terminated (it normally takes one batch,
#: or its start-up if the stop came first).
STOP_TIMEOUT = 15.0

#: Seconds to wait for a child to exit once it has sent its last message.
EXIT_TIMEOUT = 5.0

DATASET_FILE = "dataset.npz"
NETWORK_FILE = "network.npz"


# --------------------------------------------------------------------------------------------------
# What a job reports besides the run's own events (immutable; each network is a copy to keep)
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    """A copy of the network as it stood when it was sent (between epochs, or where a pause held it)."""

    network: Network


@dataclass(frozen=True)
class Paused:
    """The run is about to wait on a pause; everything it held was sent just before."""


@dataclass(frozen=True)
class RunFailed:
    """The run ended without its final event: ``message`` is one line for a person."""

    message: str


@dataclass(frozen=True)
class _ChildDone:
    """The child's last message: its final weights (None if the network could not be read)."""

    network: Network | None


# --------------------------------------------------------------------------------------------------
# The control, shared between the two processes
# --------------------------------------------------------------------------------------------------

class SharedRunControl(RunControl):
    """A ``RunControl`` shared between the process that steers a run and the child that trains it.

    Made in the parent from ``context`` (a multiprocessing context, ``spawn`` by default) and given to
    the child as a ``Process`` argument (multiprocessing primitives cross only that way). The stop and
    running flags are ``jobs.SharedFlag``s (Event-like, lock-free); the step flag, the pending learning
    rate and the early-stopping patience are shared values guarded by one ``jobs.AbandonableLock``:
    ``RunControl``'s methods then work unchanged on both sides.
    ``on_block`` (set in the child, never pickled) is called just before ``checkpoint`` blocks on a pause.
    """

    def __init__(self, context: Any = None, on_block: Callable[[], None] | None = None) -> None:
        # RunControl.__init__ would make thread-only primitives; these replace all of them.
        context = context or CONTEXT
        # Lock-free flags and a lock that is never waited on for long: a child killed mid-call must not
        # leave anything taken that Stop or closing the window would wait for (jobs.SharedFlag).
        self._stop = SharedFlag(context)
        self._running = SharedFlag(context, value=True)
        self._lock = AbandonableLock(context)
        # Raw values: self._lock already guards them (RunControl takes it around every use).
        self._step_flag = context.Value("b", 0, lock=False)
        self._lr_flag = context.Value("b", 0, lock=False)
        self._lr_value = context.Value("d", 0.0, lock=False)
        self._patience_flag = context.Value("b", 0, lock=False)
        self._patience = context.Value("q", 0, lock=False)      # 0: early stopping off
        self.on_block = on_block

    # RunControl reads and writes these two under its lock; here they live in shared memory.
    @property
    def _step_to_epoch_end(self) -> bool:
        return bool(self._step_flag.value)

    @_step_to_epoch_end.setter
    def _step_to_epoch_end(self, value: bool) -> None:
        self._step_flag.value = 1 if value else 0

    @property
    def _pending_lr(self) -> float | None:
        return self._lr_value.value if self._lr_flag.value else None

    @_pending_lr.setter
    def _pending_lr(self, lr: float | None) -> None:
        if lr is not None:
            self._lr_value.value = lr
        self._lr_flag.value = 0 if lr is None else 1

    # RunControl's pending early-stopping request (a flag and a patience, None: off), in shared memory too.
    @property
    def _patience_pending(self) -> bool:
        return bool(self._patience_flag.value)

    @_patience_pending.setter
    def _patience_pending(self, value: bool) -> None:
        self._patience_flag.value = 1 if value else 0

    @property
    def _pending_patience(self) -> int | None:
        return self._patience.value or None

    @_pending_patience.setter
    def _pending_patience(self, patience: int | None) -> None:
        self._patience.value = 0 if patience is None else int(patience)

    def checkpoint(self) -> bool:
        """Block while paused (calling ``on_block`` first); return True if the run must stop."""
        # Two shared-byte reads per call: the kernels call this every 32 samples or every batch.
        if not self._running.is_set():
            if self.on_block is not None:
                self.on_block()
            self._wait_while_paused()           # counts the wait, so it is not training time
        return self._stop.is_set()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["on_block"] = None          # a hook belongs to the process that set it
        return state


# --------------------------------------------------------------------------------------------------
# Files the parent writes for the child
# --------------------------------------------------------------------------------------------------

def write_run_files(folder: Path, network: Network, dataset: Dataset) -> None:
    """Write ``dataset`` and ``network``'s parameters to ``folder`` (uncompressed ``.npz``, no pickle)."""
    save_dataset_arrays(dataset, folder / DATASET_FILE)
    arrays = {f"{kind}_{l}": array for l, (w, b) in enumerate(zip(network.weights, network.biases))
              for kind, array in (("weights", w), ("biases", b))}
    with open(folder / NETWORK_FILE, "wb") as f:      # an open file: np.savez would add ".npz" to a name
        np.savez(f, **arrays)


def read_network(path: Path, sizes: tuple[int, ...], activation: str, loss: str) -> Network:
    """The network whose parameters ``write_run_files`` saved, with the given shape and functions."""
    layers = len(sizes) - 1
    with np.load(path, allow_pickle=False) as arrays:
        weights = [arrays[f"weights_{l}"] for l in range(layers)]
        biases = [arrays[f"biases_{l}"] for l in range(layers)]
    return Network(sizes, weights, biases, activation, loss)


# --------------------------------------------------------------------------------------------------
# The child
# --------------------------------------------------------------------------------------------------

class RunReporter:
    """The child's side of the pipe: batches what the run reports (``jobs.Batcher``) and adds a
    snapshot to a batch at most every ``snapshot_interval`` seconds."""

    def __init__(self, connection: Any, network: Network, emit_interval: float = BATCH_INTERVAL,
                 snapshot_interval: float = SNAPSHOT_INTERVAL) -> None:
        self._connection = connection
        self._network = network
        self._snapshot_interval = snapshot_interval
        self._last_snapshot = -math.inf
        self._force_snapshot = False
        self._snapshots = True
        self._batcher: Batcher[object] = Batcher(self._send, emit_interval)

    def report(self, event: object) -> None:
        """Note an event of the run (the network is as that event left it); send what is due."""
        if isinstance(event, EpochFinished):
            self._batcher.add(event)
        else:
            # A new best epoch from the run carries a copy of its weights: only the latest is worth sending.
            self._batcher.add(event, latest_only=isinstance(event, BestEpochChanged))

    def blocking(self) -> None:
        """The run is about to wait on a pause: send everything and a snapshot, then say so."""
        self.flush(snapshot=True)
        self._connection.send([Paused()])

    def failed(self, error: BaseException) -> None:
        """Send what is pending (without a snapshot: the network may be mid-update), then the error."""
        self._snapshots = False
        self._batcher.add(RunFailed(error_message(error)))
        self._batcher.flush()
        sys.stderr.write(f"{error_message(error)}\n{traceback.format_exc()}")

    def flush(self, snapshot: bool = False) -> None:
        """Send what is pending now, with a snapshot if ``snapshot`` (and it is allowed)."""
        self._force_snapshot = snapshot
        if snapshot and not self._batcher.pending:
            self._send([])
        else:
            self._batcher.flush()
        self._force_snapshot = False

    def _send(self, items: list[object]) -> None:
        now = time.monotonic()
        if self._snapshots and (self._force_snapshot or now - self._last_snapshot >= self._snapshot_interval):
            items.append(Snapshot(self._network))      # pickled by send(), now: the receiver gets a copy
            self._last_snapshot = now
        if items:
            self._connection.send(items)


def run_in_child(folder: str, sizes: tuple[int, ...], activation: str, loss: str, config: TrainingConfig,
                 first_epoch: int, control: SharedRunControl, connection: Any,
                 emit_interval: float = BATCH_INTERVAL, snapshot_interval: float = SNAPSHOT_INTERVAL,
                 dataset_name: str = "", dataset_source: str = "", run: TrainFunction = train) -> None:
    """A child process's entry: train the network in ``folder`` on the data set there with ``run``
    and report on ``connection`` (lists of items, see the module docstring); ``[_ChildDone(weights)]``
    comes last."""
    child_setup()
    network: Network | None = None
    reporter: RunReporter | None = None
    try:
        network = read_network(Path(folder) / NETWORK_FILE, sizes, activation, loss)
        reporter = RunReporter(connection, network, emit_interval, snapshot_interval)
        dataset = load_dataset_arrays(Path(folder) / DATASET_FILE, dataset_name, dataset_source)
        control.on_block = reporter.blocking
        for event in run(network, dataset, config, control, first_epoch=first_epoch):
            reporter.report(event)
        reporter.flush(snapshot=True)
    except Exception as error:  # noqa: BLE001 - any failure must reach the user, not end the child silently
        if reporter is None:
            connection.send([RunFailed(error_message(error))])
            sys.stderr.write(traceback.format_exc())
        else:
            reporter.failed(error)
    finally:
        connection.send([_ChildDone(network)])
        connection.close()


# --------------------------------------------------------------------------------------------------
# The parent
# --------------------------------------------------------------------------------------------------

class TrainingJob:
    """One run in a child process: ``start``, ``poll``, ``close`` (see the module docstring).

    Use from one thread (``control`` and ``cancel`` from any). ``emit_interval`` and
    ``snapshot_interval`` are the child's shortest times between two batches and two snapshots;
    ``run`` is what the child iterates (``training.train``; tests give a stand-in).
    """

    def __init__(self, *, emit_interval: float = BATCH_INTERVAL, snapshot_interval: float = SNAPSHOT_INTERVAL,
                 stop_timeout: float = STOP_TIMEOUT, run: TrainFunction = train, context: Any = CONTEXT) -> None:
        self._run = run
        self._emit_interval = emit_interval
        self._snapshot_interval = snapshot_interval
        self._stop_timeout = stop_timeout
        self._context = context
        self.control = SharedRunControl(context)
        self._network: Network | None = None
        self._process: Any = None
        self._receiver: Any = None
        self._folder: Path | None = None
        self._final: RunFinished | RunDiverged | None = None
        self._last_snapshot: Network | None = None
        self._stop_deadline: float | None = None
        self._started = self._finished = self._closed = False

    @property
    def finished(self) -> bool:
        """True once the run has ended and its last event was returned by ``poll``."""
        return self._finished

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self, network: Network, dataset: Dataset, config: TrainingConfig, first_epoch: int = 0) -> None:
        """Train ``network`` (updated in place when the run ends) on ``dataset`` with ``config`` in a child,
        numbering epochs from ``first_epoch + 1``. Raises ``ValueError`` for invalid settings and
        ``OSError`` if the run's temporary files cannot be written."""
        if self._started:
            raise RuntimeError("this training job has already been started; make a new one")
        config.validate()
        self._started = True
        self._network = network
        self._folder = Path(tempfile.mkdtemp(prefix="studio-run-"))
        write_run_files(self._folder, network, dataset)
        self._receiver, sender = self._context.Pipe(duplex=False)
        try:
            (self._process,) = start_processes(
                run_in_child, [(str(self._folder), network.sizes, network.activation, network.loss, config,
                                first_epoch, self.control, sender, self._emit_interval,
                                self._snapshot_interval, dataset.name, dataset.source, self._run)],
                "training-run", self._context)
        finally:
            # The child holds its own copy now; with this one closed, the child's end is the pipe's
            # only writer, and reading past its last message means it has gone.
            sender.close()

    def cancel(self) -> None:
        """Stop the run at its next batch (wakes a paused run). Safe from any thread."""
        self.control.stop()

    def poll(self, timeout: float = 0.0) -> list[object]:
        """What arrived, waiting up to ``timeout`` seconds for the first message; [] once finished."""
        if self._receiver is None:
            raise RuntimeError("start the training job before polling it")
        if self._finished:
            return []
        events: list[object] = []
        try:
            if self._receiver.poll(timeout):
                # Bounded, so that one poll cannot go on for ever under a flood.
                for _ in range(1000):
                    events.extend(self._take(self._receiver.recv()))
                    if self._finished or not self._receiver.poll(0):
                        break
        except (EOFError, OSError):    # end of file, perhaps in the middle of a message: it died
            code = None                # (or never started: start_processes raised)
            if self._process is not None:
                self._process.join(EXIT_TIMEOUT)
                code = self._process.exitcode
            events.append(self._lost(f"The training process ended unexpectedly (exit code {code})"))
            return events
        if not self._finished and self.control.stop_requested:
            if self._stop_deadline is None:
                self._stop_deadline = time.monotonic() + self._stop_timeout
            elif time.monotonic() > self._stop_deadline:
                terminate(self._process)
                events.append(self._lost(f"The training process did not stop within {self._stop_timeout:g} s "
                                         f"and was ended"))
        return events

    def _take(self, items: list[object]) -> list[object]:
        """The events of one message; the final event is held back until the final weights are in."""
        events: list[object] = []
        for item in items:
            if isinstance(item, _ChildDone):
                if item.network is not None:
                    self._take_weights(item.network)
                if self._final is not None:
                    events.append(self._final)
                self._finished = True
            elif isinstance(item, (RunFinished, RunDiverged)):
                self._final = item
            else:
                if isinstance(item, Snapshot):
                    self._last_snapshot = item.network
                events.append(item)
        return events

    def _lost(self, what: str) -> RunFailed:
        """The child ended, or had to be ended, without its final message: keep the last snapshot."""
        if self._last_snapshot is not None:
            self._take_weights(self._last_snapshot)
        self._finished = True
        return RunFailed(f"{what}; the network keeps its last snapshot's weights.")

    def _take_weights(self, source: Network) -> None:
        """Copy ``source``'s parameters into the caller's network in place (the caller holds its arrays)."""
        if self._network is not None and source.sizes == self._network.sizes:
            for p, q in zip(self._network.parameters(), source.parameters()):
                p[...] = q

    def close(self, timeout: float | None = None) -> list[object]:
        """Stop the run, collect what it still sends for up to ``timeout`` seconds (default the stop
        timeout), end the child if it has not ended, join it and remove the run's files. Returns the
        events read meanwhile. Idempotent."""
        if not self._started or self._closed:
            return []
        self._closed = True
        events: list[object] = []
        self.control.stop()            # a child still running must end too
        deadline = time.monotonic() + (self._stop_timeout if timeout is None else timeout)
        try:
            while self._receiver is not None and not self._finished and time.monotonic() < deadline:
                events.extend(self.poll(min(0.05, max(deadline - time.monotonic(), 0.0))))
            if self._process is not None and not self._finished:
                terminate(self._process)
                events.append(self._lost("The training process did not stop in time and was ended"))
        finally:
            end_process(self._process, EXIT_TIMEOUT)
            if self._receiver is not None:
                self._receiver.close()
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
        self._finished = True
        return events

    def __enter__(self) -> TrainingJob:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TrainingJob(pid={self.pid}, finished={self._finished})"

