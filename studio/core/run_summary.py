"""A run in a few numbers: ``summarise`` turns a run's events into a ``RunSummary``, and the summaries
become text (``describe_summary`` a line, ``format_summary_table`` a table) or a CSV file.

A summary times the training-accuracy milestones ``THRESHOLDS`` (50 / 90 / 97 %: how many epochs and
seconds to reach each), keeps the best and final test accuracy and says whether the run diverged or
was stopped. Pure functions of the events: the same run always gives the same summary.

Left out: running anything (``compare.Comparison`` trains the runs and summarises them with this
module) and choosing what to vary (``variations.py``).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Sequence

from studio.core.training import EpochFinished, RunDiverged, RunEvent, RunFinished, TrainingConfig
from studio.core.variations import KNOBS

#: The training-accuracy milestones a summary times, as fractions.
THRESHOLDS: tuple[float, ...] = (0.5, 0.9, 0.97)

# --------------------------------------------------------------------------------------------------
# A run in a few numbers
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSummary:
    """What a run came to, computed from its events by ``summarise``.

    ``epochs`` counts finished epochs; ``seconds`` is the run's training time (the last
    ``EpochFinished.elapsed``). ``epochs_to_50`` is the first epoch whose training accuracy was
    >= 50 % and ``seconds_to_50`` the training time up to its end (likewise 90, 97); None if never.
    ``best_test_accuracy`` is the highest test accuracy after any epoch (the earliest such epoch in
    ``best_test_epoch``); test figures are None without a test split. ``diverged``: the run ended in
    NaN or infinity. ``stopped``: it was stopped (cancelled, or its worker failed) before its last
    epoch. ``message`` says why it diverged, was stopped early or failed ("" otherwise).
    """

    label: str
    config: TrainingConfig
    epochs: int
    seconds: float
    epochs_to_50: int | None
    seconds_to_50: float | None
    epochs_to_90: int | None
    seconds_to_90: float | None
    epochs_to_97: int | None
    seconds_to_97: float | None
    final_train_accuracy: float | None
    final_train_loss: float | None
    best_test_accuracy: float | None
    best_test_epoch: int | None
    final_test_accuracy: float | None
    diverged: bool
    stopped: bool
    message: str = ""

    @property
    def outcome(self) -> str:
        """``diverged``, ``stopped`` or ``finished``."""
        return "diverged" if self.diverged else "stopped" if self.stopped else "finished"

    def epochs_to(self, threshold: float) -> int | None:
        """``epochs_to_50`` etc. by threshold (one of ``THRESHOLDS``)."""
        return getattr(self, f"epochs_to_{_percent(threshold)}")

    def seconds_to(self, threshold: float) -> float | None:
        return getattr(self, f"seconds_to_{_percent(threshold)}")


def _percent(threshold: float) -> int:
    if threshold not in THRESHOLDS:
        raise ValueError(f"threshold must be one of {THRESHOLDS}, got {threshold}")
    return round(100 * threshold)


def summarise(config: TrainingConfig, events: Iterable[RunEvent], label: str | None = None) -> RunSummary:
    """The ``RunSummary`` of a run from its events (``EpochFinished``... then ``RunFinished`` or
    ``RunDiverged``). Pure: the same events always give the same summary.

    A stream without a final event is a run still going (or cut short without one): it is summed up
    as far as it goes, neither diverged nor stopped. Accuracies compare with ``>=``, so exactly 0.5
    reaches 50 %.
    """
    epochs: list[EpochFinished] = []
    diverged = stopped = False
    message = ""
    for event in events:
        if isinstance(event, EpochFinished):
            epochs.append(event)
        elif isinstance(event, RunDiverged):
            diverged, message = True, event.message
        elif isinstance(event, RunFinished) and event.reason == "stopped":
            stopped = True
            message = message or f"stopped after {event.epochs} epochs"
    reached: dict[str, Any] = {}
    for threshold in THRESHOLDS:
        first = next((e for e in epochs if e.train_accuracy >= threshold), None)
        reached[f"epochs_to_{_percent(threshold)}"] = first.epoch if first else None
        reached[f"seconds_to_{_percent(threshold)}"] = first.elapsed if first else None
    tested = [e for e in epochs if e.test_accuracy is not None]
    best = max(tested, key=lambda e: e.test_accuracy, default=None)  # max keeps the earliest of ties
    last = epochs[-1] if epochs else None
    return RunSummary(
        label=config.label() if label is None else label, config=config, epochs=len(epochs),
        seconds=last.elapsed if last else 0.0, **reached,
        final_train_accuracy=last.train_accuracy if last else None,
        final_train_loss=last.train_loss if last else None,
        best_test_accuracy=best.test_accuracy if best else None,
        best_test_epoch=best.epoch if best else None,
        final_test_accuracy=last.test_accuracy if last else None,
        diverged=diverged, stopped=stopped, message=message)


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------

def _seconds(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def _milestone(summary: RunSummary, threshold: float) -> str:
    epoch = summary.epochs_to(threshold)
    return "-" if epoch is None else f"{epoch} ({_seconds(summary.seconds_to(threshold))} s)"


def _accuracy(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def describe_summary(summary: RunSummary) -> str:
    """One line about a finished run, e.g. for a progress log:
    ``xavier, lr 0.01: finished, 50 epochs in 4.2 s; train 91.3%; 90% at epoch 31; best test 89.0% (epoch 48)``."""
    parts = [f"{summary.label}: {summary.outcome}, {summary.epochs} epochs in {_seconds(summary.seconds)} s"]
    if summary.final_train_accuracy is not None:
        parts.append(f"train {_accuracy(summary.final_train_accuracy)}")
    reached = [t for t in THRESHOLDS if summary.epochs_to(t) is not None]
    if reached:
        top = reached[-1]
        parts.append(f"{round(100 * top)}% at epoch {summary.epochs_to(top)}")
    if summary.best_test_accuracy is not None:
        parts.append(f"best test {_accuracy(summary.best_test_accuracy)} (epoch {summary.best_test_epoch})")
    line = "; ".join(parts)
    # A plain stop says nothing the outcome doesn't; divergence, failure or a run never started do.
    if summary.message and (summary.diverged or not summary.message.startswith("stopped after")):
        line += f" - {summary.message.splitlines()[0]}"
    return line


def format_summary_table(summaries: Sequence[RunSummary]) -> str:
    """A plain-text table, one row per run, columns aligned; milestones as ``epoch (seconds)``."""
    header = ["run", "epochs", "seconds", *(f"to {round(100 * t)}%" for t in THRESHOLDS),
              "best test (epoch)", "final test", "end"]
    rows = [header]
    for s in summaries:
        best = "-" if s.best_test_accuracy is None else f"{_accuracy(s.best_test_accuracy)} ({s.best_test_epoch})"
        rows.append([s.label, str(s.epochs), _seconds(s.seconds), *(_milestone(s, t) for t in THRESHOLDS),
                     best, _accuracy(s.final_test_accuracy), s.outcome])
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    lines = []
    for r, row in enumerate(rows):
        # The label column reads left-aligned, the figures right-aligned.
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if r == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


#: CSV columns, in order: the summary's figures, then every setting of the run.
CSV_COLUMNS: tuple[str, ...] = (
    "label", "outcome", "epochs", "seconds",
    *(f"{kind}_to_{round(100 * t)}" for t in THRESHOLDS for kind in ("epochs", "seconds")),
    "final_train_accuracy", "final_train_loss", "best_test_accuracy", "best_test_epoch",
    "final_test_accuracy", "diverged", "stopped", "message", *KNOBS)


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):
        return "-".join(str(v) for v in value)
    return str(value)


def summaries_to_csv(summaries: Sequence[RunSummary], path_or_file: str | os.PathLike | IO[str]) -> None:
    """Write one row per run with ``CSV_COLUMNS`` to a path or an open text file. Empty cells are None;
    floats are written exactly (``repr``); hidden sizes as ``16-16``."""
    def write(f: IO[str]) -> None:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for s in summaries:
            values = {**{name: getattr(s.config, name) for name in KNOBS},
                      **{name: getattr(s, name) for name in CSV_COLUMNS if name not in KNOBS}}
            writer.writerow([_csv_cell(values[name]) for name in CSV_COLUMNS])
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(Path(path_or_file), "w", newline="", encoding="utf-8") as f:
            write(f)
    else:
        write(path_or_file)

