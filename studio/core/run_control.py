"""Steering a run from another thread: stop, pause, step one epoch, learning rate, early stopping.

``RunControl`` is what ``training.train`` and the epoch functions call (``checkpoint`` before every
batch) and what a window or the command line calls from its own thread. It keeps the time a run spent
blocked on a pause, so that pauses never count as training time.

Left out: the run itself (``training.py``) and steering across processes
(``training_job.SharedRunControl``, a subclass with shared-memory state).
"""
from __future__ import annotations

import threading
import time

import numpy as np


class RunControl:
    """Stop, pause, step, learning-rate and early-stopping requests for a run, safe from any thread.

    These must be plain method calls, not queued Qt signals: a busy worker only receives signals after
    its loop returns. The run calls ``checkpoint()`` before every batch; it blocks there while paused,
    so pausing never loses or repeats a sample, and the time it waits is kept (``take_blocked_seconds``)
    so that a pause never counts as training time.
    """

    # Class defaults, so that a subclass that makes its own primitives instead of calling __init__
    # (``training_job.SharedRunControl``) still has them.
    _blocked_seconds: float = 0.0
    _patience_pending: bool = False
    _pending_patience: int | None = None

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._step_to_epoch_end = False
        self._pending_lr: float | None = None
        self._patience_pending = False
        self._pending_patience = None

    # -- called by the controller (e.g. the GUI thread) ---------------------------------------------

    def stop(self) -> None:
        """Ask the run to end at the next batch; wakes a paused run so it can see the request."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        with self._lock:
            self._step_to_epoch_end = False
            self._running.clear()

    def resume(self) -> None:
        with self._lock:
            self._step_to_epoch_end = False
            self._running.set()

    def step_one_epoch(self) -> None:
        """Run until the end of the current epoch (one whole epoch when paused between epochs), then pause."""
        with self._lock:
            self._step_to_epoch_end = True
            self._running.set()

    def set_learning_rate(self, lr: float) -> None:
        """Use ``lr`` from the next epoch on."""
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a number > 0, got {lr}")
        with self._lock:
            self._pending_lr = float(lr)

    def set_early_stopping(self, patience: int | None) -> None:
        """Stop after ``patience`` epochs without a new best epoch (None: never), from the next epoch on."""
        if patience is not None and (isinstance(patience, bool) or int(patience) != patience or patience < 1):
            raise ValueError(f"early stopping must be a whole number of epochs >= 1 (or None for off), "
                             f"got {patience!r}")
        with self._lock:
            self._pending_patience = None if patience is None else int(patience)
            self._patience_pending = True

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # -- called by the run -----------------------------------------------------------------------

    def checkpoint(self) -> bool:
        """Block while paused; return True if the run must stop."""
        if not self._running.is_set():
            self._wait_while_paused()
        return self._stop.is_set()

    def _wait_while_paused(self) -> None:
        """Wait until resumed (or stopped), adding the time waited to the blocked time."""
        started = time.perf_counter()
        self._running.wait()
        self._blocked_seconds += time.perf_counter() - started

    def take_blocked_seconds(self) -> float:
        """Seconds spent blocked in ``checkpoint`` since the last call (only the run's thread calls both)."""
        seconds, self._blocked_seconds = self._blocked_seconds, 0.0
        return seconds

    def epoch_ended(self) -> None:
        """A stepped epoch is over: pause again."""
        with self._lock:
            if self._step_to_epoch_end:
                self._step_to_epoch_end = False
                self._running.clear()

    def take_learning_rate(self) -> float | None:
        with self._lock:
            lr, self._pending_lr = self._pending_lr, None
        return lr

    def take_early_stopping(self) -> tuple[bool, int | None]:
        """``(True, patience)`` if ``set_early_stopping`` was called since the last take, else ``(False, None)``."""
        with self._lock:
            pending, patience = self._patience_pending, self._pending_patience
            self._patience_pending, self._pending_patience = False, None
        return pending, patience
