"""The one module that owns ``QThread``s: running a worker object on its own thread, ending it safely,
and relaying any job (``studio.core.jobs.Job``: a training run, a comparison) to the GUI thread.

A worker is a ``QObject`` created without a parent with a ``run`` slot and a ``done`` signal emitted
last (in a ``finally``). The pattern follows Qt for Python's threading examples: move the object to a
plain ``QThread`` (never a subclass), start the thread, and on shutdown ask the work to stop,
``quit()``, ``wait()``. Destroying a running ``QThread`` aborts the process, so callers keep the thread
referenced until ``join_thread`` returns or ``finished`` has fired. A worker whose ``run`` returns at
once and then works from the thread's event loop (the download) is joined with ``quit=False``.

``JobRelay`` (in the GUI thread) is what a runner uses for a job: its worker starts the job, polls it
(waiting on a pipe or queue releases the GIL), batches what it reads (``jobs.Batcher``, at most every
``interval`` seconds) and closes it, from a background thread; the GUI thread only ever calls the
job's ``cancel`` (and its control's methods), which return at once. A job's process lifecycle (start,
kill, join, orphans) is the job's own business, in core.

Left out: what a job does and what its events mean (the runners turn them into their own signals).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QThread, Signal, Slot

from studio.core.jobs import BATCH_INTERVAL, Batcher, Job, error_message

#: How long one poll of a job waits for its first event, in seconds.
POLL_TIMEOUT = 0.05


def start_in_thread(worker: QObject, name: str, on_finished: Callable[[], None]) -> QThread:
    """Move ``worker`` to a new thread named ``name`` that runs ``worker.run`` and quits when the
    worker emits ``done``; ``on_finished`` runs in the caller's thread once the thread has ended.

    Connect the worker's other signals before calling this: the thread starts at once.
    """
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)      # fails for an object with a parent
    thread.started.connect(worker.run)
    # Direct: quit() is thread-safe, and a queued call would wait for the GUI thread, which may be
    # blocked in join_thread()'s wait().
    worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.finished.connect(on_finished)
    thread.start()
    return thread


def join_thread(thread: QThread, receiver: QObject, quit: bool = True, timeout_ms: int = -1) -> None:
    """Wait for ``thread`` to end (its worker must already have been asked to stop), then deliver the
    signals its worker queued to ``receiver``, so the caller has everything the worker sent.

    ``quit=False`` lets the thread's event loop run until the worker emits ``done`` (for a worker that
    works from its event loop); it is quit anyway after ``timeout_ms`` (-1: never).
    """
    if quit:
        thread.quit()
    if timeout_ms < 0:
        thread.wait()
    elif not thread.wait(timeout_ms):
        thread.quit()
        thread.wait()
    QCoreApplication.sendPostedEvents(receiver, QEvent.Type.MetaCall)


class _JobWorker(QObject):
    """Starts, polls and closes one job in the thread it is moved to. Every payload is
    ``(job_id, value)`` so that the relay can drop late deliveries of an earlier job."""

    events_ready = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, job_id: int, job: Job, start: Callable[[], None], interval: float,
                 prepare: Callable[[list[Any]], Any] | None, what: str) -> None:
        super().__init__()  # no parent: a QObject with a parent cannot be moved to another thread
        self.job_id = job_id
        self._job = job
        self._start = start
        self._prepare = prepare
        self._what = what
        self._batcher: Batcher[Any] = Batcher(self._emit, interval)

    @Slot()
    def run(self) -> None:
        """Start the job, relay its events until it has finished, close it; always ``done`` last."""
        try:
            self._start()
            while not self._job.finished:
                self._batcher.extend(self._job.poll(POLL_TIMEOUT))
        except Exception as error:  # noqa: BLE001 - any failure must reach the user, not kill the thread
            self._batcher.flush()
            self.failed.emit((self.job_id, error_message(error, self._what)))
        finally:
            try:
                # close() stops what still runs, joins every process and returns what came meanwhile.
                self._batcher.extend(self._job.close())
                self._batcher.flush()
            finally:
                self.done.emit()

    def _emit(self, events: list[Any]) -> None:
        value = self._prepare(events) if self._prepare is not None else events
        self.events_ready.emit((self.job_id, value))


class JobRelay(QObject):
    """Runs one job at a time from a background thread; lives in the GUI thread.

    Signals (in the GUI thread, for the current job only): ``events_arrived(object)``, the job's events
    in batches (a list, or what ``prepare`` made of it in the worker thread), ``job_failed(str)`` (the
    job could not be started or polled; it has still been closed) and ``job_ended()``, once its thread
    has finished (after every other signal of the job).
    """

    events_arrived = Signal(object)
    job_failed = Signal(str)
    job_ended = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job_id = 0
        self._job: Job | None = None
        self._worker: _JobWorker | None = None     # kept with its thread: Qt does not own it
        self._thread: QThread | None = None

    @property
    def thread(self) -> QThread | None:
        """The live job's thread (None when idle); for tests and diagnostics only."""
        return self._thread

    @property
    def job(self) -> Job | None:
        """The live job (None when idle). Only ``cancel`` (and a training job's ``control``) may be
        used from the GUI thread."""
        return self._job

    @property
    def is_live(self) -> bool:
        return self._thread is not None

    def start(self, job: Job, start: Callable[[], None], name: str, interval: float = BATCH_INTERVAL,
              prepare: Callable[[list[Any]], Any] | None = None, what: str = "The job") -> None:
        """Call ``start()`` (which starts ``job``), then poll ``job`` until it has finished, from a new
        thread named ``name``. ``what`` names the job in an error message."""
        if self._thread is not None:
            raise RuntimeError("a job is already live")
        self._job_id += 1
        worker = _JobWorker(self._job_id, job, start, interval, prepare, what)
        worker.events_ready.connect(self._on_worker_events_ready)
        worker.failed.connect(self._on_worker_failed)
        self._job = job
        self._worker = worker
        self._thread = start_in_thread(worker, name, self._on_thread_finished)

    def cancel(self) -> None:
        """Ask the live job to stop; returns at once."""
        if self._job is not None:
            self._job.cancel()

    def shutdown(self) -> None:
        """Cancel the live job, join its thread (its processes are joined by then) and deliver what its
        worker sent, then ``job_ended``. Safe to call at any time, also when idle."""
        thread = self._thread
        if thread is None:
            return
        self.cancel()
        join_thread(thread, self)
        self._release()

    def _release(self) -> None:
        if self._thread is None:
            return
        self._thread = None
        self._job = None
        self._worker = None
        self.job_ended.emit()

    def _is_current(self, payload: tuple[int, object]) -> bool:
        return self._thread is not None and payload[0] == self._job_id

    @Slot(object)
    def _on_worker_events_ready(self, payload: tuple[int, Any]) -> None:
        if self._is_current(payload):
            self.events_arrived.emit(payload[1])

    @Slot(object)
    def _on_worker_failed(self, payload: tuple[int, str]) -> None:
        if self._is_current(payload):
            self.job_failed.emit(payload[1])

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is not None and self._thread.isFinished():
            self._release()
