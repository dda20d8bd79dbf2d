"""The numbers of a run, epoch by epoch: compact column storage, CSV export and display smoothing.

A ``RunHistory`` keeps one float64 column per metric (epoch, training loss and accuracy, test loss and
accuracy, seconds, learning rate, samples) in preallocated arrays that double when full, so a run of
100,000 epochs costs about 8 MB and appending is O(1) amortised. ``column(name)`` returns a view of
the filled part, which a plot can draw directly: entries already written never change, so a view
handed out earlier stays valid (it just stops short of later epochs).

A run may be trained in several *segments* (Start, Stop, Start again on the same network): the
caller passes ``first_epoch=history.last_epoch`` to ``studio.core.training.train``, whose events
then carry on the epoch numbers, so the history simply appends them.

``smooth`` is a moving average for display only; the history itself always holds the raw numbers.

Left out: plotting (``studio.gui.metrics_plot``), and anything about how the numbers were produced.
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from studio.core.training import EpochFinished, TrainingConfig

#: The stored columns, in storage order.
COLUMNS: tuple[str, ...] = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds",
                            "lr", "samples")

#: CSV header: the first five are fixed (``loss`` is the training loss), then the extras.
CSV_HEADER: tuple[str, ...] = ("epoch", "loss", "train_acc", "test_acc", "seconds", "test_loss", "lr")
_CSV_SOURCE: tuple[str, ...] = ("epoch", "train_loss", "train_acc", "test_acc", "seconds", "test_loss",
                                "lr")

_INITIAL_CAPACITY = 256


class RunHistory:
    """Per-epoch metrics of one run, stored column-wise in growable float64 arrays.

    ``test_loss`` and ``test_acc`` are NaN for epochs measured without a test split. Accuracies are
    fractions in [0, 1]. ``label`` is the legend text (by default ``config.label()``).
    """

    def __init__(self, config: TrainingConfig | None = None, label: str | None = None,
                 capacity: int = _INITIAL_CAPACITY) -> None:
        self.config = config
        self.label = label if label is not None else (config.label() if config is not None else "run")
        self._data = np.full((len(COLUMNS), max(int(capacity), 1)), np.nan, dtype=np.float64)
        self._index = {name: i for i, name in enumerate(COLUMNS)}
        self._n = 0

    # -- filling -----------------------------------------------------------------------------------

    def append(self, event: EpochFinished) -> None:
        """Add one epoch."""
        if self._n == self._data.shape[1]:
            self._grow(2 * self._data.shape[1])
        nan = np.nan
        self._data[:, self._n] = (
            event.epoch, event.train_loss, event.train_accuracy,
            nan if event.test_loss is None else event.test_loss,
            nan if event.test_accuracy is None else event.test_accuracy,
            event.seconds, event.learning_rate, event.samples)
        self._n += 1

    def extend(self, events: Iterable[EpochFinished]) -> None:
        """Add several epochs in order."""
        for event in events:
            self.append(event)

    def _grow(self, capacity: int) -> None:
        grown = np.full((len(COLUMNS), capacity), np.nan, dtype=np.float64)
        grown[:, :self._n] = self._data[:, :self._n]
        self._data = grown

    # -- reading -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return f"RunHistory({self.label!r}, epochs={self._n})"

    @property
    def capacity(self) -> int:
        """Epochs that fit before the arrays grow again."""
        return int(self._data.shape[1])

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays, in bytes."""
        return int(self._data.nbytes)

    def column(self, name: str) -> np.ndarray:
        """A read-only view of the filled part of column ``name`` (one of ``COLUMNS``), shape (n,)."""
        try:
            row = self._index[name]
        except KeyError:
            raise KeyError(f"no column {name!r}; the columns are {', '.join(COLUMNS)}") from None
        view = self._data[row, :self._n]
        view.flags.writeable = False
        return view

    @property
    def last_epoch(self) -> int:
        """Number of the last stored epoch (0 when empty)."""
        return int(self._data[0, self._n - 1]) if self._n else 0

    @property
    def has_test(self) -> bool:
        """True if any stored epoch has a test measurement."""
        return bool(self._n) and bool(np.isfinite(self._data[self._index["test_acc"], :self._n]).any())

    @property
    def total_seconds(self) -> float:
        """Training time of all stored epochs (pauses excluded)."""
        return float(self._data[self._index["seconds"], :self._n].sum())

    def samples_per_second(self, last: int = 5) -> float:
        """Training speed over the last ``last`` epochs, samples per second (0 when unknown)."""
        lo = max(self._n - last, 0)
        seconds = float(self._data[self._index["seconds"], lo:self._n].sum())
        samples = float(self._data[self._index["samples"], lo:self._n].sum())
        return samples / seconds if seconds > 0 else 0.0

    def row(self, epoch: int) -> dict[str, float] | None:
        """All columns of epoch number ``epoch``, or None if it is not stored."""
        epochs = self._data[0, :self._n]
        i = int(np.searchsorted(epochs, epoch))
        if i >= self._n or epochs[i] != epoch:
            return None
        return {name: float(self._data[j, i]) for j, name in enumerate(COLUMNS)}

    def remaining_epochs(self, max_epochs: int | None) -> int | None:
        """Epochs still to train for a run limited to ``max_epochs`` in all (None: no limit)."""
        if max_epochs is None:
            return None
        return max(int(max_epochs) - self.last_epoch, 0)

    def events(self) -> list[EpochFinished]:
        """The stored epochs as events again (``elapsed`` summed from ``seconds``), e.g. to replay a run."""
        rows = self._data[:, :self._n]
        elapsed = np.cumsum(rows[self._index["seconds"]])
        index = self._index

        def maybe(value: float) -> float | None:
            return None if np.isnan(value) else float(value)

        return [EpochFinished(int(rows[index["epoch"], i]), float(rows[index["train_loss"], i]),
                              float(rows[index["train_acc"], i]), maybe(rows[index["test_loss"], i]),
                              maybe(rows[index["test_acc"], i]), float(rows[index["seconds"], i]),
                              float(elapsed[i]), float(rows[index["lr"], i]), int(rows[index["samples"], i]))
                for i in range(self._n)]

    def trimmed(self) -> RunHistory:
        """A copy holding exactly the stored epochs (no spare capacity), e.g. to keep as a past run."""
        copy = RunHistory(self.config, self.label, capacity=max(self._n, 1))
        copy._data[:, :self._n] = self._data[:, :self._n]
        copy._n = self._n
        return copy

    # -- export ------------------------------------------------------------------------------------

    def to_csv(self, path_or_file: str | os.PathLike[str] | IO[str]) -> None:
        """Write the history as CSV with header ``epoch,loss,train_acc,test_acc,seconds,test_loss,lr``.

        ``loss`` is the training loss; accuracies are fractions; missing test values are empty cells.
        ``path_or_file`` is a path (written as UTF-8) or an open text file.
        """
        if isinstance(path_or_file, (str, os.PathLike)):
            with open(Path(path_or_file), "w", encoding="utf-8", newline="") as file:
                self._write_csv(file)
        else:
            self._write_csv(path_or_file)

    def _write_csv(self, file: IO[str]) -> None:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        columns = [self._data[self._index[name], :self._n] for name in _CSV_SOURCE]
        for values in zip(*columns):
            writer.writerow([_csv_cell(name, v) for name, v in zip(_CSV_SOURCE, values)])

    def to_csv_text(self) -> str:
        """The CSV text of ``to_csv``."""
        buffer = io.StringIO()
        self._write_csv(buffer)
        return buffer.getvalue()


def _csv_cell(name: str, value: Any) -> str:
    if not np.isfinite(value):
        return ""
    if name == "epoch":
        return str(int(value))
    return repr(float(value))


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average of ``values`` (n,) over ``window`` epochs, same shape, for display.

    Entry i is the mean of the finite values among ``values[i - window + 1 .. i]`` (fewer at the
    start, so nothing is cut off); NaN where that window holds none. ``window`` <= 1 returns a copy.
    Because each entry looks only backwards, smoothing a tail ``values[k - window + 1:]`` gives the same
    numbers from its ``window - 1``-th entry on as smoothing the whole array.
    """
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or values.size == 0:
        return values.copy()
    finite = np.isfinite(values)
    sums = np.concatenate(([0.0], np.cumsum(np.where(finite, values, 0.0))))
    counts = np.concatenate(([0], np.cumsum(finite)))
    hi = np.arange(1, values.size + 1)
    lo = np.maximum(hi - int(window), 0)
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (sums[hi] - sums[lo]) / n
    out[n == 0] = np.nan
    return out
