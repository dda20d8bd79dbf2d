"""Comparing runs: the same data, the same seed and sample order, one or two settings varied.

The tutorial ends by asking why different initialisations converge at such different speeds. This
module answers it by experiment: ``variations.vary`` makes one ``TrainingConfig`` per combination of the
chosen settings (everything else, seed and sample order included, stays the base's), ``Comparison`` trains
them side by side in worker processes and streams their epochs back, and ``run_summary.summarise``
boils each run down to a ``RunSummary`` (how many epochs and seconds to 50 / 90 / 97 % training
accuracy, best and final test accuracy, did it diverge or stop) that ``run_summary`` writes out as a
table or CSV.

Why processes and not threads: per-sample SGD is a Python loop around small NumPy calls, so threads
would take turns on the GIL. Each worker is a child process started by ``studio.core.jobs`` (spawn,
one BLAS thread, Ctrl-C ignored, exits with its parent), as a training run's is. The data set travels
once, as a temporary ``.npz`` file every worker reads; epochs come back through one multiprocessing
queue, a batch per run at most every ``FLUSH_INTERVAL`` seconds (``jobs.Batcher``). A ``Comparison``
has the shape of every job (``jobs.Job``): start, poll, cancel, close.

Using multiprocessing's locks under ``spawn`` also starts its one shared "resource tracker" helper
process, which lives until the program exits; the workers themselves never outlive ``close``.

Left out: Qt (``studio.gui.compare_runner`` relays a ``Comparison`` from a background thread),
plotting, and anything about a single run's internals (``training.py``, ``diagnostics.py``).
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import shutil
import tempfile
import time
import traceback
import weakref
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence, Union

from studio.core.data import N_CLASSES, Dataset
from studio.core.jobs import (Batcher, SharedFlag, child_setup, error_message, load_dataset_arrays,
                              save_dataset_arrays, start_processes, terminate)
from studio.core.run_summary import RunSummary, summarise
from studio.core.variations import distinct_labels
from studio.core.training import (EpochFinished, RunControl, RunEvent,
                                  RunFinished, TrainingConfig, train)

#: A worker sends a run's finished epochs at most this often (seconds): ~20 batches a second per run,
#: which a view can redraw without falling behind however fast the epochs are.
FLUSH_INTERVAL = 0.05   # jobs.BATCH_INTERVAL

#: How often (seconds) a worker looks at the shared cancel flag (a ``jobs.SharedFlag``); a clock read
#: per sample and a flag read every 20 ms cost nothing next to the sample's update.
CANCEL_CHECK_INTERVAL = 0.02


# --------------------------------------------------------------------------------------------------
# Events of a comparison (immutable; safe to hand to another thread)
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunStarted:
    """Run ``index`` (into the configs given to ``start``) began in worker process ``pid``, whose NumPy
    uses ``blas_threads`` BLAS threads (None if that cannot be read)."""

    index: int
    pid: int
    blas_threads: int | None


@dataclass(frozen=True)
class RunEpochs:
    """One or more consecutive finished epochs of run ``index``, oldest first."""

    index: int
    epochs: tuple[EpochFinished, ...]


@dataclass(frozen=True)
class RunEnded:
    """Run ``index`` is over (finished, diverged, stopped or never started because of a cancel)."""

    index: int
    summary: RunSummary


@dataclass(frozen=True)
class ComparisonEnded:
    """Every run has ended and every worker has exited; ``cancelled`` if ``cancel`` came first."""

    cancelled: bool


CompareEvent = Union[RunStarted, RunEpochs, RunEnded, ComparisonEnded]


# --------------------------------------------------------------------------------------------------
# The worker process
# --------------------------------------------------------------------------------------------------

_blas_threads_cache: list[int | None] = []


def blas_thread_count() -> int | None:
    """How many threads this process's OpenBLAS (the one NumPy loaded) uses; None if not OpenBLAS or
    not readable. Linux only (it finds the library in ``/proc/self/maps``)."""
    if _blas_threads_cache:
        return _blas_threads_cache[0]
    count: int | None = None
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        for path in sorted(paths):
            library = ctypes.CDLL(path)
            for symbol in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                           "openblas_get_num_threads64_", "openblas_get_num_threads"):
                function = getattr(library, symbol, None)
                if function is not None:
                    count = int(function())
                    break
            if count is not None:
                break
    except OSError:
        count = None
    _blas_threads_cache.append(count)
    return count


class SharedStopControl(RunControl):
    """A ``RunControl`` that also stops when a shared (multiprocessing) ``cancel`` event is set. Checked
    at most every ``CANCEL_CHECK_INTERVAL`` seconds from ``checkpoint`` (once per batch), so the cost per
    sample stays a clock read."""

    def __init__(self, cancel: Any, interval: float = CANCEL_CHECK_INTERVAL) -> None:
        super().__init__()
        self._cancel = cancel
        self._interval = interval
        self._next_check = 0.0

    def checkpoint(self) -> bool:
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self._interval
            if self._cancel.is_set():
                self.stop()
        return super().checkpoint()


def _worker_main(data: tuple[str, str, str], configs: tuple[TrainingConfig, ...], next_index: Any,
                 cancel: Any, messages: Any, flush_interval: float) -> None:
    """A worker process: read the data set, then take the next run index, train it, send its events;
    until no runs are left or ``cancel`` is set.

    ``data`` is (arrays file, name, source): the parent saves the data set once to a temporary file
    and every worker reads it. Passing the arrays as a ``Process`` argument would write them into each
    child's start-up pipe, which blocks ``Process.start`` until that child has imported NumPy and read
    them (workers would boot one after another) and for ever if the child dies first; a queue would
    need a feeder thread in the parent whose end cannot always be waited for.

    Messages (tuples, so that nothing but core types crosses the pipe):
    ``("started", index, pid, blas_threads)``, ``("epochs", index, [EpochFinished, ...])``,
    ``("ended", index, RunFinished | RunDiverged | None, error_text | None)``; an error text is one
    line (``jobs.error_message``) then the traceback.
    """
    child_setup()
    dataset = load_dataset_arrays(Path(data[0]), data[1], data[2])
    while not cancel.is_set():
        with next_index.get_lock():
            index = next_index.value
            if index >= len(configs):
                return
            next_index.value = index + 1
        messages.put(("started", index, os.getpid(), blas_thread_count()))
        _run_one(dataset, configs[index], index, SharedStopControl(cancel), messages, flush_interval)


def _run_one(dataset: Dataset, config: TrainingConfig, index: int, control: RunControl, messages: Any,
             flush_interval: float) -> None:
    epochs: Batcher[EpochFinished] = Batcher(lambda batch: messages.put(("epochs", index, batch)), flush_interval)
    terminal: RunEvent | None = None
    try:
        network = config.build_network(dataset.train.images.shape[1], N_CLASSES)
        for event in train(network, dataset, config, control):
            if isinstance(event, EpochFinished):
                epochs.add(event)
            else:
                terminal = event
    except Exception as error:   # a worker must report, not die silently: the parent shows the text
        epochs.flush()
        messages.put(("ended", index, None, f"{error_message(error, 'The run')}\n{traceback.format_exc()}"))
        return
    epochs.flush()
    messages.put(("ended", index, terminal, None))


# --------------------------------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------------------------------

class Comparison:
    """Train several configs on one data set in parallel worker processes and collect their events.

    Use from one thread (the CLI's main thread, or a GUI's worker thread)::

        with Comparison() as comparison:
            comparison.start(dataset, configs, workers=None)   # one process per core by default
            while not comparison.finished:
                for event in comparison.poll(0.1):             # RunStarted / RunEpochs / RunEnded /
                    ...                                        # ComparisonEnded
        # leaving the block (or close()) cancels what still runs and leaves no process behind

    ``cancel()`` is the one method safe to call from any other thread (or a signal handler): it sets
    the shared flag; every worker stops at its next batch (within ~``CANCEL_CHECK_INTERVAL``), sends
    its ``RunEnded`` and exits, and runs not yet started end at once with zero epochs.
    Every run gets exactly one ``RunEnded``, and ``ComparisonEnded`` comes last.

    Every run uses its own config's seed and sample order, so configs made by ``vary`` differ only in
    the varied settings. Workers take runs in index order as they become free.

    ``start_method`` is ``spawn`` (default) or ``forkserver``. Workers re-import the program's main
    module (not a ``-m package``'s ``__main__``), so it must guard its start-up with
    ``if __name__ == "__main__"`` and should not import Qt at the top. With ``forkserver`` the BLAS
    setting reaches the workers only if the server was first started by a comparison.
    """

    def __init__(self, *, flush_interval: float = FLUSH_INTERVAL, start_method: str = "spawn") -> None:
        if start_method == "fork":
            raise ValueError("'fork' is not safe in a process that holds Qt and threads; use 'spawn' "
                             "or 'forkserver'")
        self._flush_interval = float(flush_interval)
        self._context = multiprocessing.get_context(start_method)
        self._processes: list[Any] = []
        self._pids: list[int] = []            # kept: a closed Process object no longer tells its pid
        self._started = self._finished = self._closed = False
        self.configs: tuple[TrainingConfig, ...] = ()
        self.labels: tuple[str, ...] = ()
        self._history: list[list[EpochFinished]] = []
        self._summaries: list[RunSummary | None] = []
        self._running: dict[int, int] = {}     # pid -> index of the run that worker is training
        self._cancel_early = False

    # -- starting ----------------------------------------------------------------------------------

    def start(self, dataset: Dataset, configs: Sequence[TrainingConfig], workers: int | None = None) -> None:
        """Start ``min(workers, len(configs))`` worker processes (``workers`` None: ``os.cpu_count()``).

        The data set is saved once to a temporary ``.npz`` (removed by ``close``) that every worker reads;
        each worker gets all configs and takes run indices one after another. Returns at once (the
        workers start up, ~0.5-1 s, in parallel). Raises ``ValueError`` for no configs, an invalid one,
        or workers < 1.
        """
        if self._started:
            raise RuntimeError("this comparison has already been started; make a new one")
        configs = tuple(configs)
        if not configs:
            raise ValueError("nothing to compare: no configs given")
        for config in configs:
            config.validate()
        workers = (os.cpu_count() or 1) if workers is None else int(workers)
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.configs = configs
        self.labels = tuple(distinct_labels(configs))
        self._history = [[] for _ in configs]
        self._summaries = [None] * len(configs)
        self._messages = self._context.Queue()
        # Removed at close, or when this object goes, or at exit, whichever comes first.
        self._folder = Path(tempfile.mkdtemp(prefix="studio-compare-"))
        self._remove_folder = weakref.finalize(self, shutil.rmtree, self._folder, True)
        save_dataset_arrays(dataset, self._folder / "dataset.npz")
        data = (str(self._folder / "dataset.npz"), dataset.name, dataset.source)
        self._cancel = SharedFlag(self._context)       # never a lock a dead worker could hold
        if self._cancel_early:
            self._cancel.set()
        # Held here: a child rebuilds these from their names while it starts, after start() returns.
        self._next_index = self._context.Value("i", 0)
        self._started = True
        if self._cancel_early:      # again: a cancel from another thread may have come in between
            self._cancel.set()
        count = min(workers, len(configs))
        args = (data, configs, self._next_index, self._cancel, self._messages, self._flush_interval)
        self._processes = start_processes(_worker_main, [args] * count, "comparison-worker", self._context)
        self._pids = [process.pid for process in self._processes]

    # -- state a view can read --------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._started

    @property
    def finished(self) -> bool:
        """True once every run has ended and every worker has exited (``ComparisonEnded`` was sent)."""
        return self._finished

    @property
    def cancelled(self) -> bool:
        return self._started and self._cancel.is_set()

    @property
    def workers(self) -> int:
        return len(self._processes)

    @property
    def worker_pids(self) -> tuple[int, ...]:
        return tuple(self._pids)

    @property
    def summaries(self) -> list[RunSummary | None]:
        """Per run, its summary once it has ended, else None (a copy of the list)."""
        return list(self._summaries)

    def epochs(self, index: int) -> tuple[EpochFinished, ...]:
        """Every ``EpochFinished`` of run ``index`` received so far, oldest first."""
        return tuple(self._history[index])

    def live_summary(self, index: int) -> RunSummary:
        """The summary of run ``index`` as far as it has gone (its final one once it has ended)."""
        final = self._summaries[index]
        if final is not None:
            return final
        return summarise(self.configs[index], self._history[index], self.labels[index])

    # -- polling ---------------------------------------------------------------------------------

    def poll(self, timeout: float = 0.0) -> list[CompareEvent]:
        """The events that arrived, waiting up to ``timeout`` seconds for the first; [] once finished.

        Call from the thread that called ``start``.
        """
        if not self._started:
            raise RuntimeError("start the comparison before polling it")
        if self._finished or self._closed:
            return []
        # Which workers had exited *before* reading: everything such a worker sent is already in the
        # pipe (a process exits only after its queue's feeder thread has written it all), so after
        # draining, a run still open on an exited worker will never hear from it again.
        exited = {p.pid for p in self._processes if not p.is_alive()}
        all_exited = len(exited) == len(self._processes)
        events: list[CompareEvent] = []
        # Once all have exited, read to the end: nothing more can come.
        for message in self._drain(0.0 if all_exited else timeout, None if all_exited else 10_000):
            events.extend(self._handle(message))
        for pid in exited & set(self._running):
            process = next(p for p in self._processes if p.pid == pid)
            index = self._running.pop(pid)
            events.append(self._end(index, RunFinished(len(self._history[index]), "stopped"),
                                    f"worker process {pid} ended unexpectedly (exit code {process.exitcode})"))
        if all_exited:
            events.extend(self._finish("cancelled" if self._cancel.is_set() else
                                       "not run: every worker process had ended"))
        return events

    def _drain(self, timeout: float, limit: int | None) -> list[tuple]:
        """Messages waiting in the queue, waiting up to ``timeout`` for the first; at most ``limit``
        (bounded while workers run, so that one poll cannot go on for ever under a flood)."""
        messages = []
        try:
            messages.append(self._messages.get(timeout=timeout) if timeout > 0 else self._messages.get_nowait())
            while limit is None or len(messages) < limit:
                messages.append(self._messages.get_nowait())
        except queue.Empty:
            pass
        return messages

    def _handle(self, message: tuple) -> list[CompareEvent]:
        kind, index = message[0], message[1]
        if kind == "started":
            self._running[message[2]] = index
            return [RunStarted(index, message[2], message[3])]
        if kind == "epochs":
            self._history[index].extend(message[2])
            return [RunEpochs(index, tuple(message[2]))]
        if kind == "ended":
            for pid, running in list(self._running.items()):
                if running == index:
                    del self._running[pid]
            terminal, error = message[2], message[3]
            if error is not None:
                return [self._end(index, RunFinished(len(self._history[index]), "stopped"),
                                  error.strip())]
            return [self._end(index, terminal, "")]
        raise RuntimeError(f"unknown message from a worker: {kind!r}")

    def _end(self, index: int, terminal: RunEvent | None, message: str) -> RunEnded:
        events: list[RunEvent] = [*self._history[index], *([terminal] if terminal is not None else [])]
        summary = summarise(self.configs[index], events, self.labels[index])
        if message:
            summary = replace(summary, message=message)
        self._summaries[index] = summary
        return RunEnded(index, summary)

    def _finish(self, why_unstarted: str) -> list[CompareEvent]:
        """Close the books: every run not ended yet ends now (stopped), then ``ComparisonEnded``."""
        events: list[CompareEvent] = []
        for index, summary in enumerate(self._summaries):
            if summary is None:
                events.append(self._end(index, RunFinished(len(self._history[index]), "stopped"),
                                        why_unstarted))
        self._running.clear()
        self._finished = True
        events.append(ComparisonEnded(self._cancel.is_set()))
        return events

    # -- stopping --------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Ask every worker to stop at its next batch and start no more runs. Safe from any thread;
        returns at once. Keep polling (or call ``close``) to collect the ``RunEnded`` events."""
        if self._started:
            self._cancel.set()
        else:
            self._cancel_early = True      # start() will then start workers that stop at once

    def close(self, timeout: float = 5.0) -> list[CompareEvent]:
        """Cancel what still runs, wait up to ``timeout`` seconds for the workers to stop, terminate any
        that did not, and release the queue. Returns the events that arrived meanwhile, ending with
        ``ComparisonEnded`` if it had not been sent. Idempotent; call from the thread that started it.
        """
        if not self._started or self._closed:
            return []
        events: list[CompareEvent] = []
        self._cancel.set()
        deadline = time.monotonic() + timeout
        while not self._finished and time.monotonic() < deadline:
            events.extend(self.poll(min(0.05, max(deadline - time.monotonic(), 0.0))))
        if not self._finished:
            # Last resort. The queue is not read after this: a worker killed in the middle of a write
            # leaves half a message that would block the reader.
            for process in self._processes:
                if process.is_alive():
                    terminate(process)
            events.extend(self._finish("terminated: the worker did not stop in time"))
        for process in self._processes:
            process.join()
            process.close()
        self._messages.close()
        self._messages.join_thread()
        self._remove_folder()
        self._closed = True
        return events

    def __enter__(self) -> Comparison:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        ended = sum(s is not None for s in self._summaries)
        return (f"Comparison(runs={len(self.configs)}, ended={ended}, workers={len(self._processes)}, "
                f"finished={self._finished})")
