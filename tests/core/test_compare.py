"""Comparing runs: making the variants, summing runs up, tables, the parallel driver and ``compare``.

The driver tests start real worker processes (spawn costs ~0.5-1 s each time), so they use the tiny
data set and few of them; everything else is tested on hand-made values.
"""
from __future__ import annotations

import csv
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.compare import Comparison, ComparisonEnded, RunEnded, RunEpochs, RunStarted, blas_thread_count
from studio.core.run_summary import CSV_COLUMNS, THRESHOLDS, format_summary_table, summaries_to_csv, summarise
from studio.core.variations import distinct_labels, parse_vary, parse_vary_options, vary
from studio.core.digit_folders import export_dataset
from studio.core.training import (PRESETS, EpochFinished, RunDiverged, RunFinished, TrainingConfig,
                                  train)
from tests.helpers import tiny_dataset

ROOT = Path(__file__).resolve().parents[2]
BASE = TrainingConfig(hidden=(8,), lr=0.5, batch_size=1, max_epochs=6, seed=2)
DEADLINE = 30.0   # seconds; generous for a loaded machine, reached only if something hangs


# --------------------------------------------------------------------------------------------------
# vary and its text form
# --------------------------------------------------------------------------------------------------

def test_vary_is_the_cartesian_product_first_setting_outermost() -> None:
    configs = vary(PRESETS["article"], init=["randn", "xavier"], lr=[0.01, 0.1])
    assert [(c.init, c.lr) for c in configs] == [("randn", 0.01), ("randn", 0.1),
                                                 ("xavier", 0.01), ("xavier", 0.1)]
    # Everything not varied, seed and sample order included, is the base's.
    for config in configs:
        assert replace(config, init="randn", lr=0.01) == PRESETS["article"]


def test_vary_takes_aliases_text_and_single_values() -> None:
    configs = vary(BASE, batch="4", epochs=["10", "none"], hidden=["16-16", 32])
    assert [(c.batch_size, c.max_epochs, c.hidden) for c in configs] == [
        (4, 10, (16, 16)), (4, 10, (32,)), (4, None, (16, 16)), (4, None, (32,))]
    assert vary(BASE) == [BASE]


@pytest.mark.parametrize("text, expected", [
    ("init=randn,rand", ("init", ["randn", "rand"])),
    ("lr=0.01,0.1", ("lr", [0.01, 0.1])),
    (" batch = 1, 16 ", ("batch_size", [1, 16])),
    ("init-scale=0.5,2", ("init_scale", [0.5, 2.0])),
    ("hidden=16-16,32x8,64", ("hidden", [(16, 16), (32, 8), (64,)])),
    ("epochs=5,none", ("max_epochs", [5, None])),
    ("loss=sse,ce", ("loss", ["sse", "ce"])),
])
def test_parse_vary_converts_each_field_to_its_type(text: str, expected: tuple) -> None:
    knob, values = parse_vary(text)
    assert (knob, values) == expected
    assert [type(v) for v in values] == [type(v) for v in expected[1]]


@pytest.mark.parametrize("text, message", [
    ("init", "expected SETTING=VALUE"),
    ("=randn", "expected SETTING=VALUE"),
    ("intt=randn", "did you mean 'init'"),
    ("colour=red", "unknown setting 'colour'"),
    ("init=", "no values given"),
    ("init=randn,,rand", "an empty value"),
    ("init=glorot", "'glorot' is not one of randn"),
    ("lr=0.1x", "lr: '0.1x' is not a number"),
    ("batch=1.5", "batch_size: '1.5' is not a whole number"),
    ("seed=\u0661", "is not a whole number"),          # an Arabic-Indic one, which int() would take
    ("hidden=16,x", "hidden: 'x' is not layer sizes"),
    ("init=randn,randn", "'randn' is given twice"),
])
def test_parse_vary_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_vary(text)


def test_a_setting_varied_twice_or_an_invalid_value_is_refused() -> None:
    with pytest.raises(ValueError, match="init is varied twice"):
        parse_vary_options(["init=randn", "init=xavier"])
    assert parse_vary_options(["init=randn", "lr=1"]) == {"init": ["randn"], "lr": [1.0]}
    with pytest.raises(ValueError, match="learning rate must be a number > 0"):
        vary(BASE, lr=[0.1, -1])
    with pytest.raises(ValueError, match="no values"):
        vary(BASE, lr=[])


def test_distinct_labels_name_what_tells_runs_apart() -> None:
    configs = vary(BASE, seed=[0, 1]) + vary(BASE, init="xavier")
    assert distinct_labels(configs) == ["randn, lr 0.5, 8, seed 0", "randn, lr 0.5, 8, seed 1",
                                        "xavier, lr 0.5, 8"]


# --------------------------------------------------------------------------------------------------
# summarise and the tables
# --------------------------------------------------------------------------------------------------

def epoch(n: int, train: float, test: float | None, elapsed: float) -> EpochFinished:
    return EpochFinished(epoch=n, train_loss=1.0 / n, train_accuracy=train, test_loss=None,
                         test_accuracy=test, seconds=0.5, elapsed=elapsed, learning_rate=0.1, samples=10)


RUN = [epoch(1, 0.30, 0.25, 0.5), epoch(2, 0.50, 0.60, 1.0), epoch(3, 0.95, 0.80, 1.5),
       epoch(4, 0.96, 0.80, 2.0), epoch(5, 0.97, 0.75, 2.5)]


def test_summarise_finds_milestones_best_and_final_figures() -> None:
    s = summarise(BASE, [*RUN, RunFinished(5, "max_epochs")])
    assert (s.label, s.config, s.epochs, s.seconds) == (BASE.label(), BASE, 5, 2.5)
    # 0.50 counts as reaching 50 %; 0.95 reaches 90 % but only 0.97 reaches 97 %.
    assert (s.epochs_to_50, s.seconds_to_50) == (2, 1.0)
    assert (s.epochs_to_90, s.seconds_to_90) == (3, 1.5)
    assert (s.epochs_to_97, s.seconds_to_97) == (5, 2.5)
    assert [s.epochs_to(t) for t in THRESHOLDS] == [2, 3, 5] and s.seconds_to(0.9) == 1.5
    assert (s.best_test_accuracy, s.best_test_epoch) == (0.80, 3)   # the earliest of the tie
    assert (s.final_test_accuracy, s.final_train_accuracy, s.final_train_loss) == (0.75, 0.97, 0.2)
    assert (s.diverged, s.stopped, s.outcome, s.message) == (False, False, "finished", "")
    with pytest.raises(ValueError):
        s.epochs_to(0.8)


def test_summarise_divergence_stop_no_end_and_no_test_split() -> None:
    diverged = summarise(BASE, [RUN[0], RunDiverged(2, 1, "Training diverged in epoch 2")], label="x")
    assert diverged.label == "x" and diverged.epochs == 1 and diverged.diverged and not diverged.stopped
    assert diverged.outcome == "diverged" and diverged.message == "Training diverged in epoch 2"
    assert diverged.epochs_to_50 is None and diverged.seconds_to_50 is None
    stopped = summarise(BASE, [*RUN[:2], RunFinished(2, "stopped")])
    assert stopped.stopped and stopped.outcome == "stopped" and stopped.epochs_to_50 == 2
    going = summarise(BASE, RUN[:3])
    assert not going.stopped and not going.diverged and going.epochs == 3
    empty = summarise(BASE, [RunFinished(0, "stopped")])
    assert (empty.epochs, empty.seconds, empty.final_train_accuracy, empty.best_test_epoch) == (0, 0.0, None, None)
    untested = summarise(BASE, [replace(e, test_accuracy=None) for e in RUN])
    assert untested.best_test_accuracy is None and untested.final_test_accuracy is None


def test_table_and_csv_hold_every_run() -> None:
    a = summarise(BASE, [*RUN, RunFinished(5, "max_epochs")], label="randn, lr 0.5")
    b = summarise(BASE, [RUN[0], RunDiverged(2, 1, "boom")], label="xavier, lr 10")
    table = format_summary_table([a, b]).splitlines()
    assert table[0].split()[:3] == ["run", "epochs", "seconds"] and set(table[1]) <= {"-", " "}
    assert table[2].startswith("randn, lr 0.5") and "2 (1.0 s)" in table[2] and "80.0% (3)" in table[2]
    assert table[3].startswith("xavier, lr 10") and table[3].endswith("diverged") and table[3].count(" - ") >= 3
    assert len({len(line) for line in table[:2]}) == 1     # header and rule line up
    out = io.StringIO()
    summaries_to_csv([a, b], out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[0]["label"] == "randn, lr 0.5" and rows[0]["epochs_to_90"] == "3"
    assert float(rows[0]["best_test_accuracy"]) == 0.8 and rows[0]["hidden"] == "8"
    assert rows[1]["outcome"] == "diverged" and rows[1]["epochs_to_50"] == "" and rows[1]["message"] == "boom"


def test_csv_to_a_path(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    summaries_to_csv([summarise(BASE, RUN)], path)
    assert path.read_text(encoding="utf-8").splitlines()[1].startswith("\"randn, lr 0.5, 8\",finished,5,2.5,")


# --------------------------------------------------------------------------------------------------
# The parallel driver
# --------------------------------------------------------------------------------------------------

def poll_until(comparison: Comparison, condition, events: list) -> None:
    """Poll into ``events`` until ``condition(events)`` holds; fail after DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while not condition(events):
        assert time.monotonic() < deadline, f"gave up waiting; events so far: {events[-5:]}"
        events.extend(comparison.poll(0.05))


def assert_gone(pids: tuple[int, ...]) -> None:
    live = {p.pid for p in multiprocessing.active_children()}
    assert not live.intersection(pids)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_two_runs_in_parallel_match_the_same_runs_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test session itself runs with one BLAS thread; take that away to see that the workers get
    # theirs from the comparison, and that the variable is put back afterwards.
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    dataset = tiny_dataset()
    configs = vary(BASE, init=["randn", "xavier"])
    events: list = []
    with Comparison() as comparison:
        comparison.start(dataset, configs, workers=2)
        assert "OPENBLAS_NUM_THREADS" not in os.environ
        poll_until(comparison, lambda ev: comparison.finished, events)
        pids = comparison.worker_pids
    assert isinstance(events[-1], ComparisonEnded) and not events[-1].cancelled
    assert comparison.workers == 2 and len(set(pids)) == 2
    for index, config in enumerate(configs):
        mine = [e for e in events if getattr(e, "index", None) == index]
        assert isinstance(mine[0], RunStarted) and mine[0].pid in pids
        # None only where OpenBLAS cannot be asked (then this process cannot ask either).
        assert mine[0].blas_threads == (None if blas_thread_count() is None else 1)
        assert isinstance(mine[-1], RunEnded) and all(isinstance(e, RunEpochs) for e in mine[1:-1])
        streamed = [ep for e in mine[1:-1] for ep in e.epochs]
        assert [ep.epoch for ep in streamed] == list(range(1, 7))
        assert comparison.epochs(index) == tuple(streamed)
        # Same seed, same order, same maths: the worker's figures are the in-process run's.
        network = config.build_network()
        expected = [e for e in train(network, dataset, config) if isinstance(e, EpochFinished)]
        assert [e.train_loss for e in streamed] == [e.train_loss for e in expected]
        assert [e.test_accuracy for e in streamed] == [e.test_accuracy for e in expected]
        summary = mine[-1].summary
        assert summary == comparison.summaries[index] == comparison.live_summary(index)
        assert summary.epochs == 6 and summary.outcome == "finished" and summary.seconds > 0
        assert summary.label == config.label() and summary.best_test_accuracy is not None
    assert comparison.summaries[1].epochs_to_97 is not None          # xavier learns this set
    assert_gone(pids)


def test_cancel_mid_way_stops_every_run_and_leaves_no_process() -> None:
    configs = vary(replace(BASE, max_epochs=None), init=["randn", "xavier", "zeros"])   # endless runs
    events: list = []
    with Comparison() as comparison:
        comparison.start(tiny_dataset(), configs, workers=2)
        poll_until(comparison, lambda ev: {e.index for e in ev if isinstance(e, RunEpochs)} == {0, 1}, events)
        live = comparison.live_summary(0)        # a run still going: as far as it has got
        assert live.epochs == len(comparison.epochs(0)) >= 1 and not live.stopped
        assert comparison.summaries[0] is None and not comparison.finished
        comparison.cancel()
        poll_until(comparison, lambda ev: comparison.finished, events)
        pids = comparison.worker_pids
        assert comparison.close() == []
    ended = {e.index: e.summary for e in events if isinstance(e, RunEnded)}
    assert sorted(ended) == [0, 1, 2]
    assert all(s.stopped and s.outcome == "stopped" for s in ended.values())
    assert ended[0].epochs >= 1 and ended[1].epochs >= 1
    assert ended[2].epochs == 0 and ended[2].message == "cancelled"         # never started
    assert events[-1] == ComparisonEnded(cancelled=True) and comparison.cancelled
    assert_gone(pids)


def test_a_killed_worker_and_a_stuck_one_are_dealt_with() -> None:
    """One worker dies (its run ends 'unexpectedly'); close(timeout=0) terminates the other."""
    configs = vary(replace(BASE, max_epochs=None), init=["randn", "xavier"])
    # A long flush interval: after its first batch of epochs a worker writes nothing more, so killing
    # it cannot cut a message in half.
    comparison = Comparison(flush_interval=60.0)
    events: list = []
    comparison.start(tiny_dataset(), configs, workers=2)
    poll_until(comparison, lambda ev: {e.index for e in ev if isinstance(e, RunEpochs)} == {0, 1}, events)
    started = {e.index: e.pid for e in events if isinstance(e, RunStarted)}
    os.kill(started[0], signal.SIGKILL)
    poll_until(comparison, lambda ev: any(isinstance(e, RunEnded) for e in ev), events)
    first = next(e for e in events if isinstance(e, RunEnded))
    assert first.index == 0 and first.summary.stopped
    assert "ended unexpectedly (exit code -9)" in first.summary.message
    rest = comparison.close(timeout=0.0)
    assert [type(e) for e in rest] == [RunEnded, ComparisonEnded]
    assert rest[0].index == 1 and rest[0].summary.stopped and "terminated" in rest[0].summary.message
    assert comparison.finished and comparison.close() == []
    assert_gone(comparison.worker_pids)


def test_a_run_that_fails_in_its_worker_reports_the_error() -> None:
    # validate() lets a fractional batch size through; the training loop's range() does not.
    with Comparison() as comparison:
        comparison.start(tiny_dataset(), [replace(BASE, batch_size=2.5)], workers=None)
        events: list = []
        poll_until(comparison, lambda ev: comparison.finished, events)
    assert comparison.workers == 1                                  # never more workers than runs
    summary = comparison.summaries[0]
    assert summary.stopped and summary.epochs == 0
    first, rest = summary.message.split("\n", 1)
    assert first.startswith("The run stopped by an unexpected error: TypeError") and ", line " in first
    assert rest.startswith("Traceback")


def test_workers_that_die_before_any_run_end_every_run(capfd: pytest.CaptureFixture[str]) -> None:
    comparison = Comparison()
    comparison.start(tiny_dataset(), vary(BASE, init=["randn", "xavier", "zeros"]), workers=2)
    for path in comparison._folder.iterdir():       # the workers find no data set to read
        path.unlink()
    events: list = []
    poll_until(comparison, lambda ev: comparison.finished, events)
    assert [type(e) for e in events] == [RunEnded, RunEnded, RunEnded, ComparisonEnded]
    assert all(s.message == "not run: every worker process had ended" for s in comparison.summaries)
    assert events[-1] == ComparisonEnded(cancelled=False)
    assert comparison.close() == [] and not comparison._folder.exists()
    assert_gone(comparison.worker_pids)
    assert "FileNotFoundError" in capfd.readouterr().err           # each worker said why


def test_start_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="no configs"):
        Comparison().start(tiny_dataset(), [])
    with pytest.raises(ValueError, match="workers must be >= 1"):
        Comparison().start(tiny_dataset(), [BASE], workers=0)
    with pytest.raises(ValueError, match="learning rate"):
        Comparison().start(tiny_dataset(), [replace(BASE, lr=-1)])
    with pytest.raises(ValueError, match="fork"):
        Comparison(start_method="fork")
    with pytest.raises(RuntimeError):
        Comparison().poll()


# --------------------------------------------------------------------------------------------------
# python -m studio compare
# --------------------------------------------------------------------------------------------------

@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    export_dataset(tiny_dataset(), folder)
    return folder


def test_cli_compare_prints_a_line_per_run_then_the_table_and_writes_csv(data_dir: Path, tmp_path: Path) -> None:
    out, table = io.StringIO(), tmp_path / "runs.csv"
    status = main(["compare", "--data", str(data_dir), "--vary", "init=randn,xavier", "--hidden", "8",
                   "--lr", "0.5", "--epochs", "5", "--workers", "2", "--csv", str(table)], out=out)
    assert status == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "tiny: 100 training samples, 50 test samples; 2 runs on 2 worker processes"
    progress = [line for line in lines if line.startswith("[")]
    assert sorted(line[:5] for line in progress) == ["[1/2]", "[2/2]"]
    assert all("finished, 5 epochs" in line for line in progress)
    header = next(i for i, line in enumerate(lines) if line.startswith("run "))
    assert {lines[header + 2].split(",")[0], lines[header + 3].split(",")[0]} == {"randn", "xavier"}
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["init"] for r in rows] == ["randn", "xavier"] and all(r["epochs"] == "5" for r in rows)
    assert all(r["lr"] == "0.5" and r["hidden"] == "8" for r in rows)


@pytest.mark.parametrize("args, message", [
    (["--vary", "intt=randn"], "--vary: unknown setting 'intt'; did you mean 'init'?"),
    (["--vary", "lr=fast"], "--vary: lr: 'fast' is not a number"),
    (["--vary", "init=randn", "--workers", "0"], "--workers must be >= 1"),
    ([], "--vary"),
])
def test_cli_compare_mistakes_exit_2_with_one_line(args: list[str], message: str, data_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["compare", "--data", str(data_dir), *args], out=io.StringIO())
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1 and message in err


def test_cli_compare_ctrl_c_cancels_cleanly(data_dir: Path) -> None:
    """Ctrl-C in a terminal reaches the whole process group, workers included."""
    process = subprocess.Popen(
        [sys.executable, "-m", "studio", "compare", "--data", str(data_dir), "--hidden", "8",
         "--vary", "init=randn,xavier,zeros", "--epochs", "0", "--workers", "2"],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert "3 runs on 2 worker processes" in process.stdout.readline()
        time.sleep(0.8)                      # the workers start (and may train a little)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, err
    assert err == ""                         # no KeyboardInterrupt from any worker
    assert "cancelled" in out and out.count("stopped") >= 3
    # The group empties: no worker left behind (multiprocessing's resource tracker, also in it, exits
    # a moment after its parent).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("processes of the compare command are still running")
