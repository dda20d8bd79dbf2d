"""The "Get the tutorial's data set" dialog: downloads ``digits.zip`` with a progress bar and Cancel.

The download must answer Cancel, the dialog's close and the window's close within a second whatever
the server does: a silent server, one that sends its status line a byte at a time, a redirect loop or a
reset connection. A thread stuck in ``urlopen`` cannot be interrupted, so the dialog drives Qt's
asynchronous ``QNetworkAccessManager`` instead, whose ``abort()`` stops a request at once, in any state.
It runs in a worker object on its own thread (``studio.gui.worker_thread``), whose event loop carries
the request: the file is written and checked there (``studio.core.download.VerifiedFile``: size cap,
SHA-256, atomic replace), never in the GUI thread. Progress comes back as queued signals, at most every
50 ms (``studio.core.jobs.Batcher``). Cancel is a queued call to the worker's ``cancel`` slot, which its
idle event loop runs at once; closing the dialog in any way (Cancel, Esc, the window's close button,
the main window closing) cancels, then waits for the thread, which ends as soon as the request is aborted.

On success the dialog emits ``finished_with(path)`` (a ``str``) and closes with ``accept()``; the
caller opens the archive (``digit_folders.load_dataset``). A failure is shown in the dialog, whole (the
label wraps and the dialog grows to fit it), with "Try again".

Left out: opening the data set, and deciding whether to download at all (``download.has_digits_archive``).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, QUrl, Signal, Slot
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from studio.core import download
from studio.core.download import (CHUNK_SIZE, DIGITS_SIZE, TIMEOUT, DownloadError, VerifiedFile,
                                  connect_failure_message, digits_archive_path, http_error_message,
                                  redirect_loop_message)
from studio.core.jobs import BATCH_INTERVAL, Batcher
from studio.gui.worker_thread import join_thread, start_in_thread

#: Shortest time between two progress signals from the worker, in seconds.
EMIT_INTERVAL = BATCH_INTERVAL
#: How many redirects a download follows before it calls them a loop.
MAX_REDIRECTS = 10
#: How long closing the dialog waits for the worker to end, in milliseconds (it takes a few).
JOIN_TIMEOUT_MS = 900
_BAR_STEPS = 1000   # the bar counts per mille: QProgressBar takes ints, file sizes may not fit

_Error = QNetworkReply.NetworkError
_REASONS = {
    _Error.ConnectionRefusedError: "the connection was refused",
    _Error.HostNotFoundError: "the server's name could not be looked up (no network?)",
    _Error.TimeoutError: "it did not answer in time",
    _Error.OperationCanceledError: "it did not answer in time",     # what the transfer timeout reports
    _Error.RemoteHostClosedError: "the server closed the connection",
    _Error.TemporaryNetworkFailureError: "the network is down",
    _Error.NetworkSessionFailedError: "the network is down",
    _Error.SslHandshakeFailedError: "the secure connection could not be set up",
}


class _DownloadWorker(QObject):
    """Runs one download from the event loop of the thread it is moved to. Every payload is
    ``(run_id, value)`` so that the dialog can ignore a cancelled run's late deliveries."""

    progressed = Signal(object)    # (run_id, (done_bytes, total_bytes | None))
    succeeded = Signal(object)     # (run_id, path as str)
    failed = Signal(object)        # (run_id, message)
    cancelled = Signal(object)     # (run_id, None)
    done = Signal()

    def __init__(self, run_id: int, folder: Path | None, url: str, timeout: float) -> None:
        super().__init__()  # no parent: a QObject with a parent cannot be moved to another thread
        self.run_id = run_id
        self._folder = folder
        self._url = url
        self._timeout = timeout
        self._manager: QNetworkAccessManager | None = None
        self._reply: QNetworkReply | None = None
        self._target: VerifiedFile | None = None
        self._cancelling = False
        self._over = False
        self._progress: Batcher[tuple[int, int | None]] = Batcher(
            lambda items: self.progressed.emit((self.run_id, items[-1])), EMIT_INTERVAL)

    @Slot()
    def run(self) -> None:
        """Send the request and return: the thread's event loop carries it; ``done`` comes at the end."""
        destination = digits_archive_path(self._folder)
        try:
            if download.has_digits_archive(self._folder):
                size = destination.stat().st_size
                self._end(self.progressed, (size, size))
                self._end(self.succeeded, str(destination))
                return
            # Read at call time: tests point these at a small stand-in archive.
            self._target = VerifiedFile(self._url, destination, download.DIGITS_SHA256, download.DIGITS_SIZE)
        except (DownloadError, OSError) as error:
            self._end(self.failed, str(error))
            return
        request = QNetworkRequest(QUrl(self._url))
        request.setHeader(QNetworkRequest.KnownHeaders.UserAgentHeader, "backprop-studio")
        request.setAttribute(QNetworkRequest.Attribute.RedirectPolicyAttribute,
                             QNetworkRequest.RedirectPolicy.NoLessSafeRedirectPolicy)
        request.setMaximumRedirectsAllowed(MAX_REDIRECTS)
        request.setTransferTimeout(max(1, round(self._timeout * 1000)))   # no byte for this long: give up
        self._manager = QNetworkAccessManager()
        reply = self._manager.get(request)
        reply.setReadBufferSize(4 * CHUNK_SIZE)     # bounded memory whatever the server sends
        reply.metaDataChanged.connect(self._on_reply_meta_data_changed)
        reply.readyRead.connect(self._on_reply_ready_read)
        reply.finished.connect(self._on_reply_finished)
        self._reply = reply

    @Slot()
    def cancel(self) -> None:
        """Abort the request at once, whatever state it is in (runs in this worker's thread)."""
        self._cancelling = True
        if self._reply is not None and not self._over:
            self._reply.abort()                # emits finished, synchronously
        elif not self._over:
            self._end(self.cancelled, None)

    @Slot()
    def _on_reply_meta_data_changed(self) -> None:
        reply, target = self._reply, self._target
        if reply is None or target is None or self._over or not self._is_final_answer(reply):
            return
        length = reply.header(QNetworkRequest.KnownHeaders.ContentLengthHeader)
        try:
            target.begin(int(length) if length is not None else None)
        except DownloadError as error:
            self._fail(str(error))
            return
        self._progress.add((0, target.total), latest_only=True)

    @Slot()
    def _on_reply_ready_read(self) -> None:
        reply, target = self._reply, self._target
        if reply is None or target is None or self._over or not self._is_final_answer(reply):
            return
        try:
            while reply.bytesAvailable() > 0 and not self._over:
                target.write(bytes(reply.read(CHUNK_SIZE)))
                self._progress.add((target.done, target.total), latest_only=True)
        except DownloadError as error:
            self._fail(str(error))

    @Slot()
    def _on_reply_finished(self) -> None:
        reply, target = self._reply, self._target
        if reply is None or target is None or self._over:
            return
        error = reply.error()
        if self._cancelling:
            target.discard()
            self._end(self.cancelled, None)
            return
        if error == _Error.NoError:
            self._on_reply_ready_read()         # whatever is left
            if self._over:
                return
            try:
                path = target.commit()
            except DownloadError as failure:
                self._fail(str(failure))
                return
            self._progress.flush()
            self._end(self.succeeded, str(path))
            return
        self._fail(self._describe(reply, error))

    def _is_final_answer(self, reply: QNetworkReply) -> bool:
        """False for a redirect's own headers (Qt follows it) and for an error page."""
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        return status is None or 200 <= int(status) < 300

    def _describe(self, reply: QNetworkReply, error: QNetworkReply.NetworkError) -> str:
        if error == _Error.TooManyRedirectsError:
            return redirect_loop_message(self._url)
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        if status is not None and int(status) >= 300:
            reason = reply.attribute(QNetworkRequest.Attribute.HttpReasonPhraseAttribute) or ""
            return http_error_message(self._url, int(status), str(reason))
        if target_done := (self._target.done if self._target is not None else 0):
            total = self._target.total if self._target is not None else None
            of_total = f" of {total:,}" if total is not None else ""
            return f"The connection broke after {target_done:,}{of_total} bytes. Try again."
        reason = _REASONS.get(error) or " ".join(reply.errorString().split()) or "an unknown network error"
        return connect_failure_message(self._url, reason)

    def _fail(self, message: str) -> None:
        if self._target is not None:
            self._target.discard()
        self._end(self.failed, message)

    def _end(self, signal: Signal, value: object) -> None:
        """Report the outcome once, drop the request (later, in this thread) and say ``done``."""
        if self._over:
            return
        self._over = True
        if self._reply is not None:
            if not self._reply.isFinished():
                self._reply.abort()
            self._reply.deleteLater()
        if self._manager is not None:
            self._manager.deleteLater()
        signal.emit((self.run_id, value))
        self.done.emit()


def _kilobytes(count: int) -> str:
    return f"{count / 1000:,.0f}\u00a0kB"    # a no-break space: "740 kB" never splits across lines


class DownloadDialog(QDialog):
    """Downloads the tutorial's archive into ``folder`` (default: the user's data folder) from ``url``.

    Call ``start()`` after creating it (then ``open()`` or ``exec()``). Signal: ``finished_with(str)``,
    the archive's path, once it is downloaded and verified (or was already there).
    """

    finished_with = Signal(str)
    _cancel_requested = Signal()      # to the worker, queued to its thread

    def __init__(self, parent: QWidget | None = None, *, folder: str | Path | None = None,
                 url: str | None = None, timeout: float = TIMEOUT) -> None:
        super().__init__(parent)
        self.setWindowTitle("Get the tutorial's data set")
        self.setModal(True)
        self._folder = Path(folder) if folder is not None else None
        self._url = url if url is not None else download.DIGITS_URL
        self._timeout = timeout
        self._run_id = 0
        self._thread: QThread | None = None
        self._worker: _DownloadWorker | None = None
        self._path: str | None = None
        self._error: str | None = None
        self._active = False       # a run is live and has not reported its outcome yet

        intro = QLabel(f"The tutorial's 1,934 training and 946 test digits: digits.zip "
                       f"({_kilobytes(DIGITS_SIZE)}) from the book \"Machine Learning in Action\".")
        intro.setWordWrap(True)
        self.status_label = QLabel("")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)     # a message may quote a URL or a path
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
        self._error = None
        worker = _DownloadWorker(self._run_id, self._folder, self._url, self._timeout)
        self._cancel_requested.connect(worker.cancel)
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
        """Cancel a running download and join its thread: the worker aborts the request at once and
        ends; its thread is quit anyway after ``JOIN_TIMEOUT_MS``."""
        thread = self._thread
        if thread is None:
            return
        self._cancel_requested.emit()
        self._run_id += 1          # whatever the old worker still sends is stale now
        join_thread(thread, self, quit=False, timeout_ms=JOIN_TIMEOUT_MS)
        if self._worker is not None:
            self._cancel_requested.disconnect(self._worker.cancel)
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
        self._fit_to_text(self._error)

    def _fit_to_text(self, text: str) -> None:
        """Grow the dialog so that ``text`` shows whole in the status label: wide enough for its longest
        word (a URL cannot wrap; at most 90% of the screen), tall enough for its wrapped lines. A dialog
        keeps the size it was shown at, so a longer message would otherwise be cut off at the bottom."""
        layout = self.layout()
        layout.activate()
        margins = self.width() - self.status_label.contentsRect().width()
        longest = max((self.status_label.fontMetrics().horizontalAdvance(word) for word in text.split()), default=0)
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        cap = int(screen.width() * 0.9) if screen is not None else 1600
        width = min(max(self.width(), longest + margins + 4), cap)
        height = max(self.height(), self.heightForWidth(width))
        self.setMinimumSize(min(width, cap), self.heightForWidth(width))
        self.resize(width, height)

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
