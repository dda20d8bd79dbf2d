"""Opening data sets off the GUI thread, with Cancel: the window never waits on a file.

``DatasetLoader.open(path)`` reads ``path`` with ``studio.core.sources.open_data_source`` in a worker
thread (``worker_thread.start_in_thread``) and answers with ``opened(path, Dataset)`` or
``failed(path, message)`` in the GUI thread. Meanwhile whatever the window has loaded stays loaded and
usable. ``cancel()`` answers at once: the load's result is dropped (``cancelled(path)``); the thread
itself ends when the reader returns. Opening another path while one loads cancels the first.

The readers do not yet take a cancel check or report progress; ``read_source`` is the one place that
will pass them ``should_stop`` and ``progress`` when they do, and ``progress(fraction)`` is forwarded
already (the window shows a busy bar until a fraction arrives).

Left out: what the window does with a data set, and the readers themselves (``studio.core``).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.data import DataError, Dataset
from studio.core.sources import open_data_source
from studio.gui.worker_thread import join_thread, start_in_thread


def read_source(path: str, should_stop: Callable[[], bool], progress: Callable[[float], None]) -> Dataset:
    """Read the data set at ``path``. ``should_stop``/``progress`` are for readers that take them."""
    del should_stop, progress           # the readers do not take them yet
    return open_data_source(path)


def error_text(path: str, error: BaseException) -> str:
    """One message for any failure to read ``path``."""
    if isinstance(error, DataError):
        return str(error)
    if isinstance(error, OSError):
        return f"{error.filename or path}: {error.strerror or error}"
    if isinstance(error, MemoryError):
        return f"{path}: not enough memory to open it"
    return f"{path}: cannot be opened ({type(error).__name__}: {error})"


class _Worker(QObject):
    loaded = Signal(object)
    failed = Signal(object)
    progressed = Signal(object)
    done = Signal()

    def __init__(self, path: str, stop: threading.Event) -> None:
        super().__init__()
        self._path, self._stop = path, stop

    def _progress(self, fraction: float) -> None:
        self.progressed.emit((self._stop, float(fraction)))

    @Slot()
    def run(self) -> None:
        try:
            dataset = read_source(self._path, self._stop.is_set, self._progress)
        except Exception as error:     # noqa: BLE001  (any failure is the file's, shown to the user)
            self.failed.emit((self._stop, error_text(self._path, error)))
        else:
            self.loaded.emit((self._stop, dataset))
        finally:
            self.done.emit()


class DatasetLoader(QObject):
    """Loads one data set at a time in the background; lives in the GUI thread.

    Signals: ``opened(str, object)`` (path, ``Dataset``), ``failed(str, str)`` (path, message),
    ``cancelled(str)``, ``progressed(float)`` (0-1, when the reader reports it) and
    ``busy_changed(bool)``.
    """

    opened = Signal(str, object)
    failed = Signal(str, str)
    cancelled = Signal(str)
    progressed = Signal(float)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._path: str | None = None            # the load whose answer is awaited
        self._stop: threading.Event | None = None
        self._threads: dict[QThread, _Worker] = {}   # kept until finished: a running QThread must live

    @property
    def busy(self) -> bool:
        return self._path is not None

    @property
    def path(self) -> str | None:
        """The path being loaded, or None."""
        return self._path

    def open(self, path: str | Path) -> None:
        """Start loading ``path`` (cancelling a load under way)."""
        self.cancel()
        path = str(path)
        stop = threading.Event()
        worker = _Worker(path, stop)
        worker.loaded.connect(self._on_worker_loaded)
        worker.failed.connect(self._on_worker_failed)
        worker.progressed.connect(self._on_worker_progressed)
        self._path, self._stop = path, stop
        thread: QThread | None = None

        def finished() -> None:
            self._threads.pop(thread, None)

        thread = start_in_thread(worker, f"open {Path(path).name}", finished)
        self._threads[thread] = worker
        self.busy_changed.emit(True)

    def cancel(self) -> None:
        """Drop the load under way (its result is ignored); nothing loaded changes."""
        if self._path is None:
            return
        path, self._path = self._path, None
        if self._stop is not None:
            self._stop.set()
        self.cancelled.emit(path)
        self.busy_changed.emit(False)

    def shutdown(self) -> None:
        """Cancel and wait for every load thread to end (on close)."""
        self.cancel()
        for thread in list(self._threads):
            join_thread(thread, self)
        self._threads.clear()

    # Each answer carries its load's stop event: only the load awaited now is answered.

    @Slot(object)
    def _on_worker_loaded(self, payload: tuple[threading.Event, Dataset]) -> None:
        if self._path is not None and payload[0] is self._stop:
            path, self._path = self._path, None
            self.busy_changed.emit(False)
            self.opened.emit(path, payload[1])

    @Slot(object)
    def _on_worker_failed(self, payload: tuple[threading.Event, str]) -> None:
        if self._path is not None and payload[0] is self._stop:
            path, self._path = self._path, None
            self.busy_changed.emit(False)
            self.failed.emit(path, payload[1])

    @Slot(object)
    def _on_worker_progressed(self, payload: tuple[threading.Event, float]) -> None:
        if self._path is not None and payload[0] is self._stop:
            self.progressed.emit(payload[1])
