"""One training run in a child process, steered and watched from the process that started it.

Per-sample SGD is a Python loop around small NumPy calls; trained in a thread of the window's process it
takes turns on one GIL with the window's own Python (pyqtgraph paints in Python), and both slow down.
In a child process the run has an interpreter, and a core, of its own.

``SharedRunControl`` is a ``RunControl`` whose state (stop, running, step to the epoch's end, pending
learning rate) lives in multiprocessing primitives made in the parent from a given context; passed to
the child as a ``Process`` argument, the same object steers the run from both sides with
``RunControl``'s methods, and ``checkpoint`` calls an ``on_block`` hook (in the child) just before it
blocks on a pause. ``run_in_child`` is the child's entry: it rebuilds the network and reads the data
set from a temporary folder the parent wrote (``write_run_files``), iterates ``train`` and sends
messages through the sending end of a one-way ``multiprocessing.Pipe``, coalesced by time
(``RunMessenger``), ending with the final weights. The messages mirror what a GUI worker emits, so
a relay can turn each into one signal:

- ``("epochs", [EpochFinished, ...])``: the epochs since the last such message, oldest first;
- ``("best", (epoch, Network))``: a copy taken right after an epoch whose monitored accuracy beat every
  earlier one in this run; sent after the ``"epochs"`` message holding that epoch;
- ``("snapshot", Network)``: a copy of the network as it stands;
- ``("blocked", None)``: the run is about to wait on a pause (what it holds was sent just before);
- ``("failed", (message, traceback_text))``: an unexpected error ended the run;
- ``("finished", RunFinished | RunDiverged)``: how the run ended;
- ``("done", Network | None)``: always last; the final weights (None if the network could not be read).

The data travel through files, not ``Process`` arguments: arguments go through the child's start-up
pipe, which blocks ``Process.start`` once they pass the pipe's buffer (see ``studio.core.compare``).
Messages go through a pipe rather than a queue so that the parent, once it has closed its copy of
the sending end, reads end-of-file if the child dies, even in the middle of a message (a queue's
reader would wait for the rest for ever); ``send`` pickles at once, in the training thread.
The child ignores Ctrl-C (the parent decides), uses one BLAS thread (set by the parent around
``Process.start``, with ``compare.single_threaded_blas``) and exits at once if its parent dies.

Left out: Qt (``studio.gui.training_runner`` relays the messages as signals), the training itself
(``training.py``), and starting or joining the process (the caller's).
"""
from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.compare import load_dataset_arrays, save_dataset_arrays
from studio.core.data import Dataset
from studio.core.evaluation import monitored_accuracy
from studio.core.network import Network
from studio.core.training import EpochFinished, RunControl, RunDiverged, RunFinished, TrainingConfig, train

#: Shortest time between two ``"epochs"`` messages, in seconds (the GUI redraws its curves 10 times a second).
EMIT_INTERVAL = 0.1

#: Shortest time between two snapshots, in seconds (each one redraws the weights and the pad's prediction).
SNAPSHOT_INTERVAL = 0.25

#: Exit code of a child whose parent died while it ran.
ORPHANED_EXIT_CODE = 3

DATASET_FILE = "dataset.npz"
NETWORK_FILE = "network.npz"


class SharedRunControl(RunControl):
    """A ``RunControl`` shared between the process that steers a run and the child that trains it.

    Made in the parent from ``context`` (a multiprocessing context, ``spawn`` by default) and given to
    the child as a ``Process`` argument (multiprocessing primitives cross only that way). The stop and
    running flags are Events, the step flag and the pending learning rate shared values guarded by one
    Lock: ``RunControl``'s methods then work unchanged on both sides. ``on_block`` (set in the child,
    never pickled) is called just before ``checkpoint`` blocks on a pause.
    """

    def __init__(self, context: Any = None, on_block: Callable[[], None] | None = None) -> None:
        # RunControl.__init__ would make thread-only primitives; these replace all of them.
        context = context or multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._running = context.Event()
        self._running.set()
        self._lock = context.Lock()
        # Raw values: self._lock already guards them (RunControl takes it around every use).
        self._step_flag = context.Value("b", 0, lock=False)
        self._lr_flag = context.Value("b", 0, lock=False)
        self._lr_value = context.Value("d", 0.0, lock=False)
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

    def checkpoint(self) -> bool:
        """Block while paused (calling ``on_block`` first); return True if the run must stop."""
        # Two Event reads per call (~2 us each): the kernels call this every 32 samples or every batch.
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

class RunMessenger:
    """Sends a run's events through ``connection``, coalesced by time: the ``"epochs"`` (with a pending
    best candidate) at most every ``emit_interval`` seconds, a snapshot with them at most every
    ``snapshot_interval`` seconds; ``flush`` sends what is pending."""

    def __init__(self, connection: Any, network: Network, emit_interval: float = EMIT_INTERVAL,
                 snapshot_interval: float = SNAPSHOT_INTERVAL) -> None:
        self._send = connection.send
        self._network = network
        self._emit_interval = emit_interval
        self._snapshot_interval = snapshot_interval
        self._pending: list[EpochFinished] = []
        self._last_emit = -math.inf
        self._last_snapshot = -math.inf
        self._best_accuracy = -math.inf
        self._candidate: tuple[int, Network] | None = None   # the best epoch not yet sent, and its copy

    def epoch_finished(self, event: EpochFinished) -> None:
        """Note ``event`` (the network is as that epoch left it) and send what is due."""
        self._pending.append(event)
        accuracy = monitored_accuracy(event)
        if accuracy > self._best_accuracy:         # never true for NaN
            self._best_accuracy = accuracy
            self._candidate = (event.epoch, self._network.copy())
        now = time.monotonic()
        if now - self._last_emit >= self._emit_interval:
            self.flush(snapshot=now - self._last_snapshot >= self._snapshot_interval)

    def flush(self, snapshot: bool) -> None:
        """Send the pending epochs and best candidate, and a snapshot if ``snapshot``."""
        if self._pending:
            self._send(("epochs", self._pending))
            self._pending = []
        if self._candidate is not None:
            # Sent even when the snapshot below is of the same epoch: a paused run's snapshot may be
            # taken mid-epoch, the candidate never is.
            self._send(("best", self._candidate))
            self._candidate = None
        self._last_emit = time.monotonic()
        if snapshot:
            self._send(("snapshot", self._network))        # pickled now: the receiver gets a copy
            self._last_snapshot = self._last_emit

    def blocking(self) -> None:
        """The run is about to wait on a pause: send everything, then say so."""
        self.flush(snapshot=True)
        self._send(("blocked", None))


def error_message(error: BaseException) -> str:
    """A one-line description of an unexpected error, naming the file and line it came from."""
    where = traceback.extract_tb(error.__traceback__)[-1]
    return (f"Training stopped by an unexpected error: {type(error).__name__}: {error} "
            f"({Path(where.filename).name}, line {where.lineno})")


def run_in_child(folder: str, sizes: tuple[int, ...], activation: str, loss: str, config: TrainingConfig,
                 first_epoch: int, control: SharedRunControl, connection: Any,
                 emit_interval: float = EMIT_INTERVAL, snapshot_interval: float = SNAPSHOT_INTERVAL,
                 dataset_name: str = "", dataset_source: str = "") -> None:
    """A child process's entry: train the network in ``folder`` on the data set there and report on
    ``connection`` (see the module docstring); ``("done", weights)`` is always the last message."""
    # Ctrl-C in a terminal goes to the whole process group: the parent decides, the child ignores it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    network: Network | None = None
    try:
        try:
            network = read_network(Path(folder) / NETWORK_FILE, sizes, activation, loss)
            dataset = load_dataset_arrays(Path(folder) / DATASET_FILE, dataset_name, dataset_source)
        except Exception as error:  # noqa: BLE001 - reported like any other failure
            connection.send(("failed", (error_message(error), traceback.format_exc())))
            return
        messenger = RunMessenger(connection, network, emit_interval, snapshot_interval)
        control.on_block = messenger.blocking
        train_and_report(network, dataset, config, first_epoch, control, messenger, connection)
    finally:
        connection.send(("done", network))
        connection.close()


def train_and_report(network: Network, dataset: Dataset, config: TrainingConfig, first_epoch: int,
                     control: RunControl, messenger: RunMessenger, connection: Any) -> None:
    """Iterate ``train`` and report through ``messenger``; an exception becomes a ``"failed"`` message.

    The order is the one the runner's signals keep: on failure the error first, then the pending epochs
    (no snapshot); otherwise the pending epochs, a last snapshot and the final event.
    """
    final: RunFinished | RunDiverged | None = None
    failed = False
    try:
        for event in train(network, dataset, config, control, first_epoch=first_epoch):
            if isinstance(event, EpochFinished):
                messenger.epoch_finished(event)
            else:
                final = event
    except Exception as error:  # noqa: BLE001 - any failure must reach the user, not end the child silently
        failed = True
        connection.send(("failed", (error_message(error), traceback.format_exc())))
    messenger.flush(snapshot=not failed)
    if final is not None:
        connection.send(("finished", final))


def _exit_with_parent() -> None:
    """Start a daemon thread that ends this process as soon as its parent has gone.

    ``multiprocessing.parent_process().join()`` waits on a pipe the parent holds open: it returns when
    the parent dies (or drops its ``Process`` object), whatever this process is doing, paused included.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(ORPHANED_EXIT_CODE)

    threading.Thread(target=watch, name="parent watchdog", daemon=True).start()
