"""The "Get the tutorial's data set" dialog: downloads ``digits.zip`` with a progress bar and Cancel.

``DownloadDialog`` runs ``studio.core.download.download_digits`` in a worker ``QObject`` moved to a
``QThread`` (the thread is not subclassed). Progress comes back as queued signals, at most every 50 ms.
Cancel is a ``threading.Event`` set directly from the GUI thread (a signal would reach the busy worker
only after the download ended); the download checks it between chunks. Closing the dialog in any way
(Cancel, Esc, the window's close button) sets the event, then quits and waits for the thread before
the dialog closes, so no running thread is ever destroyed.

On success the dialog emits ``finished_with(path)`` (a ``str``) and closes with ``accept()``; the
caller opens the archive (``data.load_dataset``). A failure is shown in the dialog with "Try again".

Left out: opening the data set, and deciding whether to download at all (``download.has_digits_archive``).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from studio.core.download import (DIGITS_SIZE, DIGITS_URL, TIMEOUT, DownloadCancelled, DownloadError,
                                  download_digits)
from studio.gui.worker_thread import join_thread, start_in_thread

#: Shortest time between two progress signals from the worker, in seconds.
EMIT_INTERVAL = 0.05
_BAR_STEPS = 1000   # the bar counts per mille: QProgressBar takes ints, file sizes may not fit


class _DownloadWorker(QObject):
    """Runs one download in the thread it is moved to. Every payload is ``(run_id, value)`` so that the
    dialog can ignore a cancelled run's late deliveries."""

    progressed = Signal(object)    # (run_id, (done_bytes, total_bytes | None))
    succeeded = Signal(object)     # (run_id, path as str)
    failed = Signal(object)        # (run_id, message)
    cancelled = Signal(object)     # (run_id, None)
    done = Signal()

    def __init__(self, run_id: int, folder: Path | None, url: str, timeout: float,
                 cancel: threading.Event) -> None:
        super().__init__()  # no parent: a QObject with a parent cannot be moved to another thread
        self.run_id = run_id
        self._folder = folder
        self._url = url
        self._timeout = timeout
        self._cancel = cancel
        self._last_emit = 0.0

    @Slot()
    def run(self) -> None:
        try:
            path = download_digits(self._folder, url=self._url, progress=self._on_progress,
                                   cancel=self._cancel, timeout=self._timeout)
        except DownloadCancelled:
            self.cancelled.emit((self.run_id, None))
        except DownloadError as error:
            self.failed.emit((self.run_id, str(error)))
        except Exception as error:  # noqa: BLE001 - any failure must reach the user, not kill the thread
            self.failed.emit((self.run_id, f"The download stopped on an unexpected error: "
                                           f"{type(error).__name__}: {error}"))
        else:
            self.succeeded.emit((self.run_id, str(path)))
        finally:
            self.done.emit()

    def _on_progress(self, done: int, total: int | None) -> None:
        """Called in this worker's thread after each chunk; passes on at most one call per interval
        (and always the last one)."""
        now = time.monotonic()
        if now - self._last_emit >= EMIT_INTERVAL or (total is not None and done >= total):
            self._last_emit = now
            self.progressed.emit((self.run_id, (done, total)))


def _kilobytes(count: int) -> str:
    return f"{count / 1000:,.0f}\u00a0kB"    # a no-break space: "740 kB" never splits across lines


class DownloadDialog(QDialog):
    """Downloads the tutorial's archive into ``folder`` (default: the user's data folder) from ``url``.

    Call ``start()`` after creating it (then ``open()`` or ``exec()``). Signal: ``finished_with(str)``,
    the archive's path, once it is downloaded and verified (or was already there).
    """

    finished_with = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, folder: str | Path | None = None,
                 url: str = DIGITS_URL, timeout: float = TIMEOUT) -> None:
        super().__init__(parent)
        self.setWindowTitle("Get the tutorial's data set")
        self.setModal(True)
        self._folder = Path(folder) if folder is not None else None
        self._url = url
        self._timeout = timeout
        self._run_id = 0
        self._thread: QThread | None = None
        self._worker: _DownloadWorker | None = None
        self._cancel = threading.Event()
        self._path: str | None = None
        self._error: str | None = None
        self._active = False       # a run is live and has not reported its outcome yet

        intro = QLabel(f"The tutorial's 1,934 training and 946 test digits: digits.zip "
                       f"({_kilobytes(DIGITS_SIZE)}) from the book \"Machine Learning in Action\".")
        intro.setWordWrap(True)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, _BAR_STEPS)
        self.progress_bar.setTextVisible(False)
        self.retry_button = QPushButton("Try again")
        self.retry_button.clicked.connect(self._on_retry_button_clicked)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.retry_button.setVisible(False)   # after addButton, which shows it
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    # -- public ---------------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """True from ``start`` until the download's thread has finished."""
        return self._thread is not None

    @property
    def path(self) -> str | None:
        """The archive's path once the download succeeded, else ``None``."""
        return self._path

    @property
    def error(self) -> str | None:
        """The message of the last failure shown, else ``None``."""
        return self._error

    def start(self) -> None:
        """Start the download (again, after a failure); does nothing while one is running."""
        if self._thread is not None:
            if self._active:
                return
            self._stop_thread()    # the last run has reported; its thread is ending: join it
        self._active = True
        self._run_id += 1
        self._cancel = threading.Event()
        self._error = None
        worker = _DownloadWorker(self._run_id, self._folder, self._url, self._timeout, self._cancel)
        worker.progressed.connect(self._on_worker_progressed)
        worker.succeeded.connect(self._on_worker_succeeded)
        worker.failed.connect(self._on_worker_failed)
        worker.cancelled.connect(self._on_worker_cancelled)
        self.progress_bar.setValue(0)
        self.status_label.setText("Connecting…")
        self.status_label.setStyleSheet("")
        self.retry_button.setVisible(False)
        self._set_cancel_text("Cancel")
        self._worker = worker
        self._thread = start_in_thread(worker, f"download {self._run_id}", self._on_thread_finished)

    def done(self, result: int) -> None:  # QDialog's name: every way of closing ends here
        self._stop_thread()
        super().done(result)

    # -- internals ------------------------------------------------------------------------------------

    def _set_cancel_text(self, text: str) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(text)

    def _stop_thread(self) -> None:
        """Cancel a running download and join its thread (returns within a chunk or ``timeout``)."""
        thread = self._thread
        if thread is None:
            return
        self._cancel.set()
        self._run_id += 1          # whatever the old worker still sends is stale now
        join_thread(thread, self)
        self._release()

    def _release(self) -> None:
        self._thread = None
        self._worker = None
        self._active = False

    def _is_current(self, payload: tuple[int, object]) -> bool:
        return self._worker is not None and payload[0] == self._run_id

    @Slot(object)
    def _on_worker_progressed(self, payload: tuple[int, tuple[int, int | None]]) -> None:
        if not self._is_current(payload):
            return
        done, total = payload[1]
        if total:
            self.progress_bar.setRange(0, _BAR_STEPS)
            self.progress_bar.setValue(min(_BAR_STEPS, round(_BAR_STEPS * done / total)))
            self.status_label.setText(f"Downloading… {_kilobytes(done)} of {_kilobytes(total)}")
        else:
            self.progress_bar.setRange(0, 0)   # busy indicator: the size is unknown
            self.status_label.setText(f"Downloading… {_kilobytes(done)}")

    @Slot(object)
    def _on_worker_succeeded(self, payload: tuple[int, str]) -> None:
        if not self._is_current(payload):
            return
        self._active = False
        self._path = payload[1]
        self.progress_bar.setRange(0, _BAR_STEPS)
        self.progress_bar.setValue(_BAR_STEPS)
        self.status_label.setText(f"Saved and verified: {self._path}")
        self.finished_with.emit(self._path)
        self.accept()

    @Slot(object)
    def _on_worker_failed(self, payload: tuple[int, str]) -> None:
        if not self._is_current(payload):
            return
        self._active = False
        self._error = payload[1]
        self.progress_bar.setRange(0, _BAR_STEPS)
        self.progress_bar.setValue(0)
        self.status_label.setText(self._error)
        self.status_label.setStyleSheet("color: #b00020;")
        self.retry_button.setVisible(True)
        self._set_cancel_text("Close")

    @Slot(object)
    def _on_worker_cancelled(self, payload: tuple[int, None]) -> None:
        if self._is_current(payload):
            self.reject()

    @Slot()
    def _on_retry_button_clicked(self) -> None:
        self.start()

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self._thread
        if thread is not None and self.sender() is thread:
            thread.wait()   # 'finished' is sent just before the thread ends: make sure it has
            self._release()
