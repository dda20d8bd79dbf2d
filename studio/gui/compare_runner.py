"""Runs a ``studio.core.compare.Comparison`` from a background thread and reports to the GUI thread.

A comparison trains its runs in worker *processes*; someone still has to start them, read their
events and, at the end, join them, and that must not be the GUI thread (a poll waits for messages).
So ``ComparisonRunner`` (in the GUI thread) hands each comparison to a
``studio.gui.worker_thread.JobRelay``, which starts, polls and closes it from a background thread and
*coalesces* what it reads: at most every ``EMIT_INTERVAL`` seconds one ``CompareBatch`` holding every
event since the last one and, for each run that got new epochs, its summary so far
(``Comparison.live_summary``, computed in the relay's thread, not in the GUI's).

Cancel is a plain method call from the GUI thread straight to ``Comparison.cancel`` (a busy thread
would see a queued signal only after its loop); a cancel that comes before the processes have
started is kept by the comparison, whose workers then stop at once.

Lifecycle: ``start`` -> ``cancel`` (asynchronous; the runs end within a fraction of a second and the
comparison is closed) or ``shutdown`` (cancels, then joins the thread and delivers what was sent
before it ended; for closing the window).

Left out: what a comparison is and how runs are summed up (``studio.core.compare``), and any display
(``studio.gui.compare_view``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.compare import Comparison, CompareEvent, ComparisonEnded, RunEnded, RunEpochs
from studio.core.run_summary import RunSummary
from studio.core.data import Dataset
from studio.core.jobs import BATCH_INTERVAL
from studio.core.training import TrainingConfig
from studio.gui.worker_thread import JobRelay

#: Shortest time between two batches, in seconds (at most 20 a second).
EMIT_INTERVAL = BATCH_INTERVAL

ComparisonState = Literal["idle", "running", "cancelling"]
STATES: tuple[ComparisonState, ...] = ("idle", "running", "cancelling")


@dataclass(frozen=True)
class CompareBatch:
    """What arrived since the last batch: ``events`` in arrival order, and ``live`` summaries
    ``{run index: RunSummary}`` of the runs that got epochs and have not ended (as far as they went)."""

    events: tuple[CompareEvent, ...]
    live: dict[int, RunSummary] = field(default_factory=dict)


def _batch(comparison: Comparison, events: list[CompareEvent]) -> CompareBatch:
    """A ``CompareBatch`` of ``events`` with the live summaries of the runs that grew (in the relay's thread)."""
    ended = {e.index for e in events if isinstance(e, RunEnded)}
    grown = {e.index for e in events if isinstance(e, RunEpochs)} - ended
    live = {} if any(isinstance(e, ComparisonEnded) for e in events) else \
        {index: comparison.live_summary(index) for index in sorted(grown)}
    return CompareBatch(tuple(events), live)


class ComparisonRunner(QObject):
    """Starts and cancels comparisons in a background thread; lives in the GUI thread.

    Signals (delivered in the GUI thread): ``batch_arrived(CompareBatch)``, ``comparison_failed(str)``
    (an unexpected error; every run has still been ended and ``ComparisonEnded`` sent when possible),
    ``state_changed(str)``, a ``ComparisonState``: ``idle``, ``running`` or ``cancelling``.
    """

    batch_arrived = Signal(object)
    comparison_failed = Signal(str)
    state_changed = Signal(str)

    def __init__(self, parent: QObject | None = None, emit_interval: float = EMIT_INTERVAL,
                 start_method: str = "spawn") -> None:
        super().__init__(parent)
        self._emit_interval = emit_interval
        self._start_method = start_method
        self._state: ComparisonState = "idle"
        self._comparison_id = 0
        self._relay = JobRelay(self)
        self._relay.events_arrived.connect(self.batch_arrived)
        self._relay.job_failed.connect(self.comparison_failed)
        self._relay.job_ended.connect(self._on_relay_job_ended)

    @property
    def state(self) -> ComparisonState:
        return self._state

    @property
    def is_live(self) -> bool:
        """True from ``start`` until the comparison's thread has finished."""
        return self._relay.is_live

    @property
    def thread(self) -> QThread | None:
        """The live comparison's thread (None when idle); for tests only."""
        return self._relay.thread

    @property
    def comparison(self) -> Comparison | None:
        """The live comparison (None when idle). Only ``cancel`` may be called on it from this thread."""
        return self._relay.job  # type: ignore[return-value]

    def _set_state(self, state: ComparisonState) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    def start(self, dataset: Dataset, configs: list[TrainingConfig] | tuple[TrainingConfig, ...],
              workers: int | None = None) -> None:
        """Compare ``configs`` on ``dataset`` with ``workers`` processes (None: one per core).

        Raises ``RuntimeError`` if a comparison is live and ``ValueError`` for no configs, an invalid
        one, or workers < 1 (checked here, before any thread or process starts).
        """
        if self._relay.is_live:
            raise RuntimeError("a comparison is already running: cancel it (and let it end) first")
        configs = tuple(configs)
        if not configs:
            raise ValueError("nothing to compare: no runs")
        for config in configs:
            config.validate()
        if workers is not None and int(workers) < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self._comparison_id += 1
        comparison = Comparison(start_method=self._start_method)
        self._relay.start(comparison, lambda: comparison.start(dataset, configs, workers),
                          f"comparison {self._comparison_id}", self._emit_interval,
                          prepare=lambda events: _batch(comparison, events), what="The comparison")
        self._set_state("running")   # after: listeners may ask is_live

    def cancel(self) -> None:
        """Stop every run at its next batch; returns at once (the thread ends soon after)."""
        if self._relay.is_live and self._state == "running":
            self._relay.cancel()
            self._set_state("cancelling")

    def shutdown(self) -> None:
        """Cancel any comparison, join its thread (its processes are joined by then) and deliver what
        was sent before it ended. Safe to call at any time, also when idle."""
        if not self._relay.is_live:
            return
        self._set_state("cancelling")
        self._relay.shutdown()

    @Slot()
    def _on_relay_job_ended(self) -> None:
        self._set_state("idle")
