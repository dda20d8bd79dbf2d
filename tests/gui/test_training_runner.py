"""TrainingRunner: a real run in a real QThread, steered from the GUI thread (pytest-qt, offscreen)."""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from functools import partial

import numpy as np
import pytest
import PySide6
from pytestqt.qtbot import QtBot

from studio.core.data import Dataset, Split
from studio.core.network import Network
from studio.core.training import EpochFinished, RunDiverged, RunFinished, TrainingConfig, train
from studio.core.training_job import TrainingJob
from studio.gui.training_runner import TrainingRunner
from tests.helpers import Note, scripted_run


def tiny_dataset(n_train: int = 60, n_test: int | None = 20, seed: int = 0) -> Dataset:
    """Random 0/1 images with labels 0..9 in turn: fast to train, enough to move the numbers."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> Split:
        labels = np.arange(n, dtype=np.int64) % 10
        images = (rng.random((n, 1024)) < 0.3).astype(np.uint8)
        return Split(images, labels, tuple(f"{label}_{i}.txt" for i, label in enumerate(labels)))

    return Dataset("tiny", "memory", split(n_train), split(n_test) if n_test else None)


class Recorder:
    """Collects everything a runner emits, in the GUI thread."""

    def __init__(self, runner: TrainingRunner) -> None:
        self.epochs: list[EpochFinished] = []
        self.batches: list[list[EpochFinished]] = []
        self.snapshots: list[Network] = []
        self.finished: list[RunFinished | RunDiverged] = []
        self.failed: list[str] = []
        self.states: list[str] = []
        runner.epochs_arrived.connect(self.on_epochs)
        runner.snapshot_ready.connect(self.snapshots.append)
        runner.run_finished.connect(self.finished.append)
        runner.run_failed.connect(self.failed.append)
        runner.state_changed.connect(self.states.append)

    def on_epochs(self, events: list[EpochFinished]) -> None:
        self.batches.append(events)
        self.epochs.extend(events)


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TrainingRunner]:
    runner = TrainingRunner()
    yield runner
    thread = runner.thread
    runner.shutdown()
    assert runner.thread is None and runner.state == "idle"
    if thread is not None:
        assert thread.isFinished()
    assert multiprocessing.active_children() == []      # the run's child process has been joined


def test_a_run_delivers_every_epoch_once_in_order_then_finishes(qtbot: QtBot, runner: TrainingRunner) -> None:
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(8,), max_epochs=12)
    network = config.build_network()
    runner.start(network, tiny_dataset(), config)
    assert runner.state == "running" and runner.is_live
    qtbot.waitUntil(lambda: runner.state == "idle", timeout=20_000)
    assert [e.epoch for e in rec.epochs] == list(range(1, 13))
    assert rec.finished == [RunFinished(12, "max_epochs")]
    assert rec.states == ["running", "idle"]
    assert rec.failed == []
    # The last snapshot is a copy equal to the trained network, not the network itself.
    last = rec.snapshots[-1]
    assert last is not network
    for a, b in zip(last.parameters(), network.parameters()):
        np.testing.assert_array_equal(a, b)
        assert not np.shares_memory(a, b)
    assert runner.thread is None


def test_epochs_are_coalesced_into_batches(qtbot: QtBot, runner: TrainingRunner) -> None:
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(2,), max_epochs=400)
    started = time.monotonic()
    runner.start(config.build_network(), tiny_dataset(n_train=4, n_test=None), config)
    qtbot.waitUntil(lambda: runner.state == "idle", timeout=30_000)
    seconds = time.monotonic() - started
    assert len(rec.epochs) == 400
    # At most one emit per 50 ms and one snapshot per 100 ms, plus the first and the final ones.
    assert len(rec.batches) <= seconds / 0.05 + 2
    assert len(rec.batches) < 400
    assert 1 <= len(rec.snapshots) <= seconds / 0.1 + 2


def test_pause_holds_resume_continues(qtbot: QtBot, runner: TrainingRunner) -> None:
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    runner.start(config.build_network(), tiny_dataset(), config)
    qtbot.waitUntil(lambda: len(rec.epochs) >= 2, timeout=10_000)
    runner.pause()
    assert runner.state == "paused"
    qtbot.wait(300)                       # let the epoch in progress stop and the last emit land
    held = len(rec.epochs)
    qtbot.wait(700)
    assert len(rec.epochs) == held, "an epoch arrived while paused"
    runner.resume()
    assert runner.state == "running"
    qtbot.waitUntil(lambda: len(rec.epochs) >= held + 2, timeout=10_000)
    assert [e.epoch for e in rec.epochs] == list(range(1, len(rec.epochs) + 1))


def test_step_one_epoch_trains_exactly_one(qtbot: QtBot, runner: TrainingRunner) -> None:
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    runner.start(config.build_network(), tiny_dataset(), config)
    qtbot.waitUntil(lambda: len(rec.epochs) >= 1, timeout=10_000)
    runner.pause()
    qtbot.wait(300)
    before = len(rec.epochs)
    # Paused possibly mid-epoch: the first step finishes that epoch; the next steps are whole epochs.
    for k in (1, 2, 3):
        runner.step_one_epoch()
        qtbot.waitUntil(lambda: runner.state == "paused", timeout=10_000)
        qtbot.wait(150)
        assert len(rec.epochs) == before + k
    qtbot.wait(300)
    assert len(rec.epochs) == before + 3


def test_learning_rate_change_reaches_the_next_epochs(qtbot: QtBot, runner: TrainingRunner) -> None:
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(8,), lr=0.01, max_epochs=None)
    runner.start(config.build_network(), tiny_dataset(), config)
    qtbot.waitUntil(lambda: len(rec.epochs) >= 1, timeout=10_000)
    runner.pause()                        # no epochs in flight: the count below is the worker's
    qtbot.wait(300)
    changed_at = len(rec.epochs)
    runner.set_learning_rate(0.125)
    runner.resume()
    qtbot.waitUntil(lambda: len(rec.epochs) >= changed_at + 4, timeout=10_000)
    rates = [e.learning_rate for e in rec.epochs]
    assert all(r == 0.01 for r in rates[:changed_at])
    # From the next epoch on; the epoch the pause interrupted (already under way) keeps its rate.
    assert all(r == 0.125 for r in rates[changed_at + 1:])


def test_stop_wakes_a_paused_run(qtbot: QtBot, runner: TrainingRunner) -> None:
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    runner.start(config.build_network(), tiny_dataset(), config)
    qtbot.waitUntil(lambda: len(rec.epochs) >= 1, timeout=10_000)
    runner.pause()
    qtbot.wait(100)
    runner.stop()
    assert runner.state == "stopping"
    qtbot.waitUntil(lambda: runner.state == "idle", timeout=10_000)
    assert len(rec.finished) == 1 and rec.finished[0].reason == "stopped"
    assert rec.finished[0].epochs == rec.epochs[-1].epoch


def test_shutdown_while_running_joins_and_delivers_the_end(qtbot: QtBot, runner: TrainingRunner) -> None:
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    network = config.build_network()
    runner.start(network, tiny_dataset(), config)
    qtbot.waitUntil(lambda: len(rec.epochs) >= 1, timeout=10_000)
    thread = runner.thread
    runner.shutdown()
    assert thread.isFinished()
    assert runner.state == "idle" and not runner.is_live
    assert len(rec.finished) == 1 and rec.finished[0].reason == "stopped"
    # Everything the worker emitted was delivered before shutdown() returned.
    assert rec.epochs[-1].epoch == rec.finished[0].epochs
    for a, b in zip(rec.snapshots[-1].parameters(), network.parameters()):
        np.testing.assert_array_equal(a, b)


def test_shutdown_right_after_start_and_when_idle(qtbot: QtBot, runner: TrainingRunner) -> None:
    runner.shutdown()                     # idle: nothing to do
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    runner.start(config.build_network(), tiny_dataset(), config)
    runner.shutdown()
    assert runner.state == "idle"


def test_a_second_start_while_live_is_refused(qtbot: QtBot, runner: TrainingRunner) -> None:
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    runner.start(config.build_network(), tiny_dataset(), config)
    with pytest.raises(RuntimeError, match="already live"):
        runner.start(config.build_network(), tiny_dataset(), config)


def test_an_error_in_the_run_becomes_a_message(qtbot: QtBot, runner: TrainingRunner) -> None:
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(8,), max_epochs=3)
    wrong_inputs = Network.initialised((10, 8, 10))
    runner.start(wrong_inputs, tiny_dataset(), config)
    qtbot.waitUntil(lambda: runner.state == "idle", timeout=10_000)
    assert len(rec.failed) == 1
    assert "10 inputs" in rec.failed[0] and "1024" in rec.failed[0]
    assert rec.finished == []


def test_a_training_process_that_dies_ends_the_run_with_a_message(qtbot: QtBot,
                                                                   runner: TrainingRunner) -> None:
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    network = config.build_network()
    runner.start(network, tiny_dataset(), config)
    qtbot.waitUntil(lambda: len(rec.snapshots) >= 1, timeout=10_000)
    (child,) = multiprocessing.active_children()
    os.kill(child.pid, signal.SIGKILL)          # perhaps in the middle of a message
    qtbot.waitUntil(lambda: runner.state == "idle", timeout=10_000)
    assert len(rec.failed) == 1 and "ended unexpectedly (exit code -9)" in rec.failed[0]
    assert rec.finished == []
    # The network keeps the last weights it was seen with.
    for a, b in zip(rec.snapshots[-1].parameters(), network.parameters()):
        np.testing.assert_array_equal(a, b)


def test_divergence_is_reported_and_the_last_good_weights_are_kept(qtbot: QtBot, runner: TrainingRunner) -> None:
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(8,), activation="relu", loss="ce", lr=1e300, max_epochs=5)
    network = config.build_network()
    initial = network.copy()
    runner.start(network, tiny_dataset(n_test=None), config)
    qtbot.waitUntil(lambda: runner.state == "idle", timeout=10_000)
    assert len(rec.finished) == 1 and isinstance(rec.finished[0], RunDiverged)
    assert "diverged" in rec.finished[0].message.lower()
    for a, b in zip(rec.snapshots[-1].parameters(), initial.parameters()):
        np.testing.assert_array_equal(a, b)


def test_invalid_settings_are_refused_before_a_thread_starts(qtbot: QtBot, runner: TrainingRunner) -> None:
    config = TrainingConfig(hidden=(8,), batch_size=0)
    with pytest.raises(ValueError, match="batch size"):
        runner.start(Network.initialised((1024, 8, 10)), tiny_dataset(), config)
    assert runner.thread is None and runner.state == "idle"


@pytest.mark.skipif(PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12),
                    reason="PySide6 6.12.0 on Python < 3.12 aborts after a few hundred Signal.emit() "
                           "calls (bool_dealloc); see FACTS.md")
def test_soak_tens_of_thousands_of_signals(qtbot: QtBot) -> None:
    # emit_interval 0: one epochs_arrived and one snapshot_ready per epoch from the worker, each
    # re-emitted by the runner: 4 signals an epoch, over 20,000 from the worker thread alone.
    runner = TrainingRunner(emit_interval=0.0, snapshot_interval=0.0)
    rec = Recorder(runner)
    config = TrainingConfig(hidden=(2,), max_epochs=10_500)
    try:
        runner.start(config.build_network(), tiny_dataset(n_train=2, n_test=None), config)
        qtbot.waitUntil(lambda: runner.state == "idle", timeout=120_000)
    finally:
        runner.shutdown()
    assert len(rec.epochs) == 10_500
    assert len(rec.batches) + len(rec.snapshots) > 20_000
    assert [e.epoch for e in rec.epochs] == list(range(1, 10_501))
    assert rec.finished == [RunFinished(10_500, "max_epochs")]


def test_every_new_best_epoch_comes_with_its_own_weights(qtbot: QtBot) -> None:
    # Emits after every epoch, snapshots almost never: the candidates alone carry the best weights.
    runner = TrainingRunner(emit_interval=0.0, snapshot_interval=1e9)
    log: list[tuple[str, object]] = []
    runner.epochs_arrived.connect(lambda events: log.append(("epochs", [e.epoch for e in events])))
    runner.best_candidate_ready.connect(lambda candidate: log.append(("candidate", candidate)))
    config = TrainingConfig(hidden=(8,), lr=0.5, max_epochs=15)
    dataset = tiny_dataset()
    try:
        runner.start(config.build_network(), dataset, config)
        qtbot.waitUntil(lambda: runner.state == "idle", timeout=20_000)
    finally:
        runner.shutdown()
    # The oracle: the same run in this process, the network copied after every epoch.
    network = config.build_network()
    after: dict[int, Network] = {}
    records, best = [], -np.inf
    for event in train(network, dataset, config):
        if isinstance(event, EpochFinished):
            after[event.epoch] = network.copy()
            if event.test_accuracy > best:
                best = event.test_accuracy
                records.append(event.epoch)
    assert len(records) >= 2
    candidates = [(i, value) for i, (kind, value) in enumerate(log) if kind == "candidate"]
    assert [epoch for _, (epoch, _) in candidates] == records
    for i, (epoch, weights) in candidates:
        assert log[i - 1][0] == "epochs" and log[i - 1][1][-1] == epoch    # right after the batch ending at its epoch
        for a, b in zip(weights.parameters(), after[epoch].parameters()):
            np.testing.assert_array_equal(a, b)


def test_other_run_events_arrive_verbatim_in_order_as_run_event(qtbot: QtBot) -> None:
    # A stand-in run (what train() will yield besides epochs: a new best epoch, ...), in the child.
    runner = TrainingRunner(emit_interval=0.0, job_factory=partial(TrainingJob, run=scripted_run))
    log: list[object] = []
    best: list[Network] = []
    runner.epochs_arrived.connect(lambda events: log.extend(f"E{e.epoch}" for e in events))
    runner.best_candidate_ready.connect(lambda candidate: (log.append(f"B{candidate[0]}"), best.append(candidate[1])))
    runner.run_event.connect(log.append)
    runner.run_finished.connect(log.append)
    config = TrainingConfig(hidden=(4,), max_epochs=6)
    try:
        runner.start(config.build_network(), tiny_dataset(), config)
        qtbot.waitUntil(lambda: runner.state == "idle", timeout=20_000)
    finally:
        runner.shutdown()
    names = [item if isinstance(item, str) else type(item).__name__ for item in log]
    assert names == ["E1", "E2", "B2", "E3", "B3", "E4", "Note", "E5", "E6", "RunFinished"]
    assert log[6] == Note("half way")
    assert best[-1].biases[0][0] == 3                        # each best epoch with its own weights


def test_early_stopping_set_on_the_live_run_ends_it_and_is_refused_below_one(qtbot: QtBot,
                                                                          runner: TrainingRunner) -> None:
    runner.set_early_stopping(5)                             # idle: ignored
    finished: list[object] = []
    runner.run_finished.connect(finished.append)
    config = TrainingConfig(hidden=(8,), max_epochs=None)    # would run for ever
    runner.start(config.build_network(), tiny_dataset(), config)
    with pytest.raises(ValueError, match="early stopping"):
        runner.set_early_stopping(0)
    runner.set_early_stopping(2)
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    assert isinstance(finished[0], RunFinished) and finished[0].reason == "early_stopping"
