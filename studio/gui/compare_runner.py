"""Runs a ``studio.core.compare.Comparison`` from a background thread and reports to the GUI thread.

A comparison trains its runs in worker *processes*; someone still has to start them, read their
events and, at the end, join them. ``Comparison`` must be started, polled and closed from one thread,
and that thread must not be the GUI's (a poll waits for messages). So ``ComparisonRunner`` (in the GUI
thread) makes a worker ``QObject`` per comparison, moves it to a new ``QThread`` and starts it. The
worker polls the comparison and *coalesces* what it reads: at most every ``EMIT_INTERVAL`` seconds it
emits one ``CompareBatch`` holding every event since the last emit and, for each run that got new
epochs, its summary so far (``Comparison.live_summary``, computed in the worker, not in the GUI).

Cancel is a plain method call from the GUI thread straight to ``Comparison.cancel`` (a busy worker
would see a queued signal only after its loop), plus a ``threading.Event`` the worker reads after
``start`` returns, so that a cancel that comes while the processes are being started is not lost.

Lifecycle: ``start`` -> ``cancel`` (asynchronous; the runs end within a fraction of a second and the
worker closes the comparison) or ``shutdown`` (cancels, then joins the thread and delivers what the
worker sent before it ended; for closing the window). A running ``QThread`` is never destroyed and
never terminated: the runner keeps it until it has finished.

Left out: what a comparison is and how runs are summed up (``studio.core.compare``), and any display
(``studio.gui.compare_view``).
"""
from __future__ import annotations

import math
import threading
import time
import traceback
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.compare import (Comparison, CompareEvent, ComparisonEnded, RunEnded, RunEpochs,
                                 RunSummary)
from studio.core.data import Dataset
from studio.core.training import TrainingConfig
from studio.gui.worker_thread import join_thread, start_in_thread

#: Shortest time between two batches, in seconds (at most 20 a second).
EMIT_INTERVAL = 0.05

#: How long one poll waits for the first message, in seconds.
POLL_TIMEOUT = 0.05

STATES: tuple[str, ...] = ("idle", "running", "cancelling")


@dataclass(frozen=True)
class CompareBatch:
    """What the worker read since its last emit: ``events`` in arrival order, and ``live`` summaries
    ``{run index: RunSummary}`` of the runs that got epochs and have not ended (as far as they went)."""

    events: tuple[CompareEvent, ...]
    live: dict[int, RunSummary] = field(default_factory=dict)


class _Worker(QObject):
    """Starts, polls and closes one comparison in the thread it is moved to. Every payload is
    ``(comparison_id, value)`` so that the runner can drop late deliveries of an earlier comparison."""

    batch_ready = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, comparison_id: int, dataset: Dataset, configs: tuple[TrainingConfig, ...],
                 workers: int | None, emit_interval: float, start_method: str) -> None:
        super().__init__()  # no parent: a QObject with a parent cannot be moved to another thread
        self.comparison_id = comparison_id
        self.comparison = Comparison(start_method=start_method)
        self._cancel = threading.Event()
        self._dataset = dataset
        self._configs = configs
        self._workers = workers
        self._emit_interval = emit_interval
        self._pending: list[CompareEvent] = []
        self._last_emit = -math.inf

    def cancel(self) -> None:
        """Called from the GUI thread: stop every run (see the module docstring)."""
        self._cancel.set()
        self.comparison.cancel()

    @Slot()
    def run(self) -> None:
        """Start the comparison, forward its events until it has ended, close it; always ``done``."""
        comparison = self.comparison
        try:
            comparison.start(self._dataset, self._configs, self._workers)
            if self._cancel.is_set():          # a cancel that came while the processes started
                comparison.cancel()
            while not comparison.finished:
                self._pending.extend(comparison.poll(POLL_TIMEOUT))
                if self._pending and time.monotonic() - self._last_emit >= self._emit_interval:
                    self._flush()
        except Exception as error:  # noqa: BLE001 - any failure must reach the user, not kill the thread
            where = traceback.extract_tb(error.__traceback__)[-1]
            self.failed.emit((self.comparison_id,
                              f"The comparison stopped by an unexpected error: {type(error).__name__}: "
                              f"{error} ({where.filename.rsplit('/', 1)[-1]}, line {where.lineno})"))
        finally:
            try:
                # close() cancels what still runs, joins every process and returns the events read
                # meanwhile (ending with ComparisonEnded if it had not come yet).
                self._pending.extend(comparison.close())
                self._flush()
            finally:
                self.done.emit()

    def _flush(self) -> None:
        if not self._pending:
            return
        events, self._pending = tuple(self._pending), []
        ended = {e.index for e in events if isinstance(e, RunEnded)}
        grown = {e.index for e in events if isinstance(e, RunEpochs)} - ended
        live = {} if any(isinstance(e, ComparisonEnded) for e in events) else \
            {index: self.comparison.live_summary(index) for index in sorted(grown)}
        self.batch_ready.emit((self.comparison_id, CompareBatch(events, live)))
        self._last_emit = time.monotonic()


class ComparisonRunner(QObject):
    """Starts and cancels comparisons in a background thread; lives in the GUI thread.

    Signals (delivered in the GUI thread): ``batch_arrived(CompareBatch)``, ``comparison_failed(str)``
    (an unexpected error; every run has still been ended and ``ComparisonEnded`` sent when possible),
    ``state_changed(str)``: ``idle``, ``running`` or ``cancelling``.
    """

    batch_arrived = Signal(object)
    comparison_failed = Signal(str)
    state_changed = Signal(str)

    def __init__(self, parent: QObject | None = None, emit_interval: float = EMIT_INTERVAL,
                 start_method: str = "spawn") -> None:
        super().__init__(parent)
        self._emit_interval = emit_interval
        self._start_method = start_method
        self._state = "idle"
        self._comparison_id = 0
        self._thread: QThread | None = None
        self._worker: _Worker | None = None

    @property
    def state(self) -> str:
        return self._state

    @property
    def is_live(self) -> bool:
        """True from ``start`` until the comparison's thread has finished."""
        return self._thread is not None

    @property
    def thread(self) -> QThread | None:
        """The live comparison's thread (None when idle); for tests only."""
        return self._thread

    @property
    def comparison(self) -> Comparison | None:
        """The live comparison (None when idle). Only ``cancel`` may be called on it from this thread."""
        return None if self._worker is None else self._worker.comparison

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    def start(self, dataset: Dataset, configs: list[TrainingConfig] | tuple[TrainingConfig, ...],
              workers: int | None = None) -> None:
        """Compare ``configs`` on ``dataset`` with ``workers`` processes (None: one per core).

        Raises ``RuntimeError`` if a comparison is live and ``ValueError`` for no configs, an invalid
        one, or workers < 1 (checked here, before any thread or process starts).
        """
        if self._thread is not None:
            raise RuntimeError("a comparison is already running: cancel it (and let it end) first")
        configs = tuple(configs)
        if not configs:
            raise ValueError("nothing to compare: no runs")
        for config in configs:
            config.validate()
        if workers is not None and int(workers) < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self._comparison_id += 1
        worker = _Worker(self._comparison_id, dataset, configs, workers, self._emit_interval,
                         self._start_method)
        worker.batch_ready.connect(self._on_worker_batch_ready)
        worker.failed.connect(self._on_worker_failed)
        self._worker = worker
        self._thread = start_in_thread(worker, f"comparison {self._comparison_id}", self._on_thread_finished)
        self._set_state("running")   # after: listeners may ask is_live

    def cancel(self) -> None:
        """Stop every run at its next batch; returns at once (the thread ends soon after)."""
        if self._worker is not None and self._state == "running":
            self._worker.cancel()
            self._set_state("cancelling")

    def shutdown(self) -> None:
        """Cancel any comparison, join its thread (its processes are joined by then) and deliver what
        the worker sent before it ended. Safe to call at any time, also when idle."""
        thread = self._thread
        if thread is None:
            return
        if self._worker is not None:
            self._worker.cancel()
        self._set_state("cancelling")
        join_thread(thread, self)
        self._release()

    def _release(self) -> None:
        self._thread = None
        self._worker = None
        self._set_state("idle")

    def _is_current(self, payload: tuple[int, object]) -> bool:
        return self._worker is not None and payload[0] == self._comparison_id

    @Slot(object)
    def _on_worker_batch_ready(self, payload: tuple[int, CompareBatch]) -> None:
        if self._is_current(payload):
            self.batch_arrived.emit(payload[1])

    @Slot(object)
    def _on_worker_failed(self, payload: tuple[int, str]) -> None:
        if self._is_current(payload):
            self.comparison_failed.emit(payload[1])

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is not None and self._thread.isFinished():
            self._release()
