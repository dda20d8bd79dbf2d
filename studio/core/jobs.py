"""Work in child processes: the plumbing every job shares (a training run, a comparison's workers).

Per-sample SGD is a Python loop around small NumPy calls, and so is pyqtgraph's painting: in one
process they take turns on one GIL. A job therefore trains in child processes, and this module is
the one place that knows how such a child is started, fed, watched and ended:

- ``CONTEXT``: ``spawn``, never ``fork`` (the window's process holds Qt and threads, which a forked
  child would inherit half-dead);
- ``start_process``: starts a child with ``BLAS_THREAD_VARIABLES`` set to 1 (N children use N cores,
  not N times BLAS's own threads) and, from the main thread, with SIGINT ignored during its start-up;
- ``child_setup``: the first call of every child's entry function: ignore Ctrl-C (a terminal sends it
  to the whole process group; the parent decides) and exit as soon as the parent has gone;
- ``save_dataset_arrays`` / ``load_dataset_arrays``: the data set travels as a temporary
  uncompressed ``.npz`` file, never as a ``Process`` argument (arguments go through the child's
  start-up pipe, which blocks ``Process.start`` once they pass the pipe's buffer, and for ever if
  the child dies first);
- ``error_message``: one line naming an unexpected error and the file and line it came from;
- ``end_process``: join, then terminate, then kill: the last resort for a child that will not stop;
- ``SharedFlag`` and ``AbandonableLock``: what the parent and its children share to steer a run. A
  child may die at any moment (killed, out of memory); nothing it holds may then stop the parent;
- ``Batcher``: the one coalescer: collects items and hands them on in lists at most every
  ``BATCH_INTERVAL`` seconds. Emitting every epoch from a fast loop floods the receiver's queue (a
  GUI fell 22 s behind); 20 batches a second keep it near 10 ms.

A job built on these has one shape, ``Job``: started by its owner, then ``poll(timeout)`` for the
events that arrived, ``finished`` once it is over, ``cancel()`` from any thread, ``close()`` to end it
and join every process (idempotent). ``studio.core.training_job.TrainingJob`` and
``studio.core.compare.Comparison`` are the two; ``studio.gui.worker_thread`` relays any job to the GUI.

Left out: what the children compute, and Qt.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from studio.core.data import Dataset, Split

#: Never fork: see the module docstring.
CONTEXT = multiprocessing.get_context("spawn")

#: Shortest time between two batches a job sends, in seconds (20 a second at most).
BATCH_INTERVAL = 0.05

#: Environment variables that cap the BLAS and OpenMP thread pools of a child.
BLAS_THREAD_VARIABLES: tuple[str, ...] = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: Exit code of a child whose parent died while it ran.
ORPHANED_EXIT_CODE = 3

T = TypeVar("T")

#: How often a ``SharedFlag.wait`` looks again, in seconds.
FLAG_POLL_SECONDS = 0.01

#: How long an ``AbandonableLock`` is waited for before its holder is taken for dead, in seconds.
LOCK_PATIENCE_SECONDS = 0.5


class SharedFlag:
    """A yes/no flag shared with child processes, with ``threading.Event``'s ``set``, ``clear``,
    ``is_set`` and ``wait``.

    One byte of shared memory and no lock. A multiprocessing ``Event`` takes a lock shared by every
    process even to read it; a child killed while holding it (the kernels read the stop flag before
    every batch) leaves it taken for good, and the parent's next ``set`` (Stop, or closing the window)
    waits forever. A byte is written and read whole, so no lock is needed; ``wait`` polls every
    ``FLAG_POLL_SECONDS``. Made in the parent from a multiprocessing context and handed to a child as a
    ``Process`` argument.
    """

    def __init__(self, context: Any = CONTEXT, value: bool = False) -> None:
        self._byte = context.Value("b", 1 if value else 0, lock=False)

    def set(self) -> None:
        self._byte.value = 1

    def clear(self) -> None:
        self._byte.value = 0

    def is_set(self) -> bool:
        return self._byte.value != 0

    def wait(self, timeout: float | None = None) -> bool:
        """Block until set (True) or ``timeout`` seconds have passed (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._byte.value == 0:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(FLAG_POLL_SECONDS)
        return True


class AbandonableLock:
    """A multiprocessing lock for ``with`` blocks of a few microseconds, shared with child processes,
    that stops waiting after ``LOCK_PATIENCE_SECONDS``: held that long, it was taken by a child that
    died holding it, and the caller goes on without it rather than hang (the other side is gone)."""

    def __init__(self, context: Any = CONTEXT) -> None:
        self._lock = context.Lock()
        self._held = threading.local()

    def __enter__(self) -> AbandonableLock:
        self._held.value = self._lock.acquire(timeout=LOCK_PATIENCE_SECONDS)
        return self

    def __exit__(self, *exc: object) -> None:
        if getattr(self._held, "value", False):
            self._held.value = False
            self._lock.release()

    def __getstate__(self) -> dict[str, Any]:
        return {"_lock": self._lock}            # a thread-local belongs to one process

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._lock = state["_lock"]
        self._held = threading.local()


class Job(Protocol):
    """What a view or a command line needs of work done elsewhere (see the module docstring)."""

    @property
    def finished(self) -> bool: ...

    def poll(self, timeout: float = 0.0) -> list[Any]: ...

    def cancel(self) -> None: ...

    def close(self, timeout: float = 5.0) -> list[Any]: ...


# --------------------------------------------------------------------------------------------------
# Starting a child
# --------------------------------------------------------------------------------------------------

_environment_lock = threading.Lock()


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Set ``BLAS_THREAD_VARIABLES`` to 1 in ``os.environ`` for the duration, then put them back.

    A spawned process inherits the environment at the moment it starts, and its NumPy reads these
    when it is first imported, which happens while the child unpickles its task, before any of our
    code could run there: so they must be set here, around ``Process.start``.
    """
    with _environment_lock:
        saved = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
        try:
            for name in BLAS_THREAD_VARIABLES:
                os.environ[name] = "1"
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextmanager
def sigint_ignored_while_starting() -> Iterator[None]:
    """Ignore SIGINT while starting processes (main thread only), so children inherit 'ignored' and a
    Ctrl-C during their start-up cannot print a KeyboardInterrupt traceback from each of them."""
    # getsignal is None when the handler was not set from Python; it could not be put back then.
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def start_processes(target: Callable[..., None], args_per_child: Sequence[tuple[Any, ...]], name: str,
                    context: Any = CONTEXT) -> list[Any]:
    """Start one daemon process per ``args`` in ``args_per_child`` running ``target(*args)``, with one
    BLAS thread and SIGINT ignored during start-up; returns them (started) in order.

    ``target`` must call ``child_setup()`` first. Numbered ``name-1``, ``name-2``... when several.
    """
    processes = []
    with single_threaded_blas(), sigint_ignored_while_starting():
        for number, args in enumerate(args_per_child, start=1):
            label = name if len(args_per_child) == 1 else f"{name}-{number}"
            process = context.Process(target=target, args=args, name=label, daemon=True)
            process.start()
            processes.append(process)
    return processes


def child_setup() -> None:
    """The first call of a child's entry function: ignore Ctrl-C and exit when the parent has gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent()


def exit_with_parent() -> None:
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


def end_process(process: Any, timeout: float) -> None:
    """Join ``process`` for up to ``timeout`` seconds; if it is still alive, SIGTERM it, then SIGKILL.
    Closes the ``Process`` object. Does nothing for None."""
    if process is None:
        return
    process.join(timeout)
    if process.is_alive():
        terminate(process)
    process.close()


def terminate(process: Any) -> None:
    """The last resort: SIGTERM, then SIGKILL; returns once the process has gone."""
    process.terminate()
    process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join()


# --------------------------------------------------------------------------------------------------
# The data set, to the child
# --------------------------------------------------------------------------------------------------

def save_dataset_arrays(dataset: Dataset, path: Path) -> None:
    """Write ``dataset``'s splits to ``path`` as an uncompressed ``.npz`` (no pickle), for children."""
    arrays: dict[str, np.ndarray] = {}
    for key, split in (("train", dataset.train), ("test", dataset.test)):
        if split is not None:
            arrays[f"{key}_images"] = split.images
            arrays[f"{key}_labels"] = split.labels
            arrays[f"{key}_names"] = np.asarray(split.names, dtype=str)
    with open(path, "wb") as f:        # an open file: np.savez would add ".npz" to a name
        np.savez(f, **arrays)


def load_dataset_arrays(path: Path, name: str, source: str) -> Dataset:
    """The ``Dataset`` that ``save_dataset_arrays`` wrote."""
    with np.load(path, allow_pickle=False) as arrays:
        splits = {key: Split(arrays[f"{key}_images"], arrays[f"{key}_labels"],
                             tuple(str(n) for n in arrays[f"{key}_names"]))
                  for key in ("train", "test") if f"{key}_images" in arrays}
    return Dataset(name, source, splits["train"], splits.get("test"))


# --------------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------------

def error_message(error: BaseException, what: str = "Training") -> str:
    """One line about an unexpected error, naming the file and line it came from, e.g.
    ``Training stopped by an unexpected error: ValueError: ... (training.py, line 12)``."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""
    return f"{what} stopped by an unexpected error: {type(error).__name__}: {error}{where}"


class Batcher(Generic[T]):
    """Collects items and hands them to ``send`` in lists, at most every ``interval`` seconds.

    ``add`` sends what is pending once ``interval`` has passed since the last send; ``flush`` sends it
    now (nothing if nothing is pending). An item added with ``latest_only=True`` replaces any pending
    item of the same type, and goes to the end: of several new best epochs between two sends, only the
    last one travels, after the epochs before it. ``send`` gets a new list each time (it may keep it).
    """

    def __init__(self, send: Callable[[list[T]], None], interval: float = BATCH_INTERVAL) -> None:
        self._send = send
        self.interval = float(interval)
        self._pending: list[T] = []
        self._last_send = -float("inf")

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def due(self) -> bool:
        """True once ``interval`` seconds have passed since the last send."""
        return time.monotonic() - self._last_send >= self.interval

    def add(self, item: T, latest_only: bool = False) -> None:
        if latest_only:
            self._pending = [p for p in self._pending if type(p) is not type(item)]
        self._pending.append(item)
        if self.due():
            self.flush()

    def extend(self, items: Iterable[T]) -> None:
        """``add`` each item (none of them ``latest_only``)."""
        for item in items:
            self._pending.append(item)
        if self._pending and self.due():
            self.flush()

    def flush(self) -> None:
        if self._pending:
            items, self._pending = self._pending, []
            self._last_send = time.monotonic()
            self._send(items)
