"""Runs a fooling job (a search, the pad's overlay, a fragility measurement) on a worker thread.

A job is a generator function without arguments: its yields are progress, its return value the
result (``studio.core.fragility.measure_fragility`` is one; :func:`job` turns a plain call into one).
``JobRunner.start`` runs it on a new ``QThread`` (``worker_thread``); ``progress`` arrives at most
every 50 ms, then ``result_ready`` or ``failed`` with a message. ``cancel`` sets a ``threading.Event``
the worker checks between yields (a queued signal would only reach it after the job). A result of a
job that was cancelled or replaced is dropped, so a view only ever sees the answer to its last
question. ``shutdown`` cancels and joins every thread (for closing the window; tests call it too).

Left out: what the jobs compute (``studio.core.fooling``, ``studio.core.fragility``).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.gui.worker_thread import join_thread, start_in_thread

Job = Callable[[], Generator[Any, None, Any]]

#: Shortest time between two progress signals, in seconds (at most 20 a second).
PROGRESS_INTERVAL = 0.05


def job(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
    """A job that calls ``function(*args, **kwargs)`` and returns what it returns (no progress)."""
    def run() -> Generator[Any, None, Any]:
        return function(*args, **kwargs)
        yield  # pragma: no cover - makes this a generator function

    return run


class _Worker(QObject):
    """Runs one job in the thread it is moved to; every payload is ``(job_id, value)``."""

    progress = Signal(object)
    result_ready = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, job_id: int, work: Job, cancel: threading.Event) -> None:
        super().__init__()
        self._job_id = job_id
        self._work = work
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            steps = self._work()
            last = 0.0
            while not self._cancel.is_set():
                try:
                    item = next(steps)
                except StopIteration as end:
                    self.result_ready.emit((self._job_id, end.value))
                    return
                now = time.monotonic()
                if now - last >= PROGRESS_INTERVAL:
                    last = now
                    self.progress.emit((self._job_id, item))
            steps.close()
        except Exception as error:  # a job's failure is shown to the user, never kills the app
            self.failed.emit((self._job_id, str(error) or type(error).__name__))
        finally:
            self.done.emit()


class JobRunner(QObject):
    """One job at a time (``start`` while busy cancels the running one and replaces it).

    ``progress(value)``, ``result_ready(value)`` and ``failed(message)`` concern the latest job only;
    ``busy_changed(bool)`` says when a job starts and when its answer (or failure) has arrived.
    """

    progress = Signal(object)
    result_ready = Signal(object)
    failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._job_id = 0
        self._busy = False
        self._cancel: threading.Event | None = None
        self._threads: dict[int, QThread] = {}     # kept until finished: a running QThread is never destroyed
        self._workers: dict[int, _Worker] = {}

    @property
    def is_busy(self) -> bool:
        """A job was started and its answer has not arrived yet."""
        return self._busy

    def start(self, work: Job) -> None:
        """Run ``work`` (cancelling the job before it, whose answer will be dropped)."""
        self.cancel()
        self._job_id += 1
        job_id = self._job_id
        self._cancel = threading.Event()
        worker = _Worker(job_id, work, self._cancel)
        worker.progress.connect(self._on_worker_progress)
        worker.result_ready.connect(self._on_worker_result_ready)
        worker.failed.connect(self._on_worker_failed)
        self._workers[job_id] = worker
        self._set_busy(True)
        self._threads[job_id] = start_in_thread(worker, f"{self._name}-{job_id}", self._on_thread_finished)

    def cancel(self) -> None:
        """Ask the running job to stop at its next yield; its answer, if any, is dropped."""
        if self._cancel is not None:
            self._cancel.set()
            self._cancel = None
        self._job_id += 1                          # late answers of the old job no longer match
        self._set_busy(False)

    def shutdown(self) -> None:
        """Cancel and wait for every thread (a plain search ends within a fraction of a second)."""
        self.cancel()
        for thread in list(self._threads.values()):
            join_thread(thread, self)
        self._threads.clear()
        self._workers.clear()

    @property
    def thread_count(self) -> int:
        """Threads not yet finished (for tests: 0 after ``shutdown``)."""
        return len(self._threads)

    # -- slots --------------------------------------------------------------------------------------

    @Slot(object)
    def _on_worker_progress(self, payload: tuple[int, object]) -> None:
        if payload[0] == self._job_id:
            self.progress.emit(payload[1])

    @Slot(object)
    def _on_worker_result_ready(self, payload: tuple[int, object]) -> None:
        if payload[0] == self._job_id:
            self._cancel = None
            self._set_busy(False)
            self.result_ready.emit(payload[1])

    @Slot(object)
    def _on_worker_failed(self, payload: tuple[int, str]) -> None:
        if payload[0] == self._job_id:
            self._cancel = None
            self._set_busy(False)
            self.failed.emit(payload[1])

    @Slot()
    def _on_thread_finished(self) -> None:
        # A bound slot of this GUI-thread object, so it runs here (a lambda would run in the worker's
        # thread); forget every thread that has ended.
        for job_id in [j for j, thread in self._threads.items() if thread.isFinished()]:
            del self._threads[job_id]
            self._workers.pop(job_id, None)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
