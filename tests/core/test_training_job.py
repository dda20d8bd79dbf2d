"""A run in a child process: the shared control across processes, and ``TrainingJob`` (start, poll,
close) end to end.

These start real ``spawn`` children (a few tenths of a second each), on the tiny data set.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from studio.core.network import Network
from studio.core.training import EpochFinished, RunControl, RunDiverged, RunFinished, TrainingConfig, train
from studio.core.training_job import (NETWORK_FILE, Paused, RunFailed, SharedRunControl,
                                      Snapshot, TrainingJob, read_network, write_run_files)
from tests.helpers import child_outlives_killed_parent, BestEpochChanged, Note, ignore_stop, scripted_run, tiny_dataset

CONTEXT = multiprocessing.get_context("spawn")
DEADLINE = 30.0   # seconds; reached only if something hangs


@pytest.fixture(autouse=True)
def no_child_left() -> Iterator[None]:
    yield
    assert multiprocessing.active_children() == []


def next_message(messages: Any, timeout: float = DEADLINE) -> Any:
    return messages.get(timeout=timeout)


# --------------------------------------------------------------------------------------------------
# The control, steered from this process and read in a child
# --------------------------------------------------------------------------------------------------

def _child_reads_the_control(control: SharedRunControl, results: Any) -> None:
    results.put(("lr", control.take_learning_rate(), control.take_learning_rate()))
    results.put(("paused before epoch_ended", control.paused))
    control.epoch_ended()                       # a step was asked for: the run pauses itself
    results.put(("paused after epoch_ended", control.paused, control.stop_requested))


def _child_reads_the_control_for_ever(control: SharedRunControl, results: Any) -> None:
    results.put("reading")
    while True:                                 # as a run does, as fast as it can: until it is killed
        control.checkpoint()
        control.take_learning_rate()
        control.epoch_ended()


def test_a_child_killed_while_reading_the_control_never_blocks_the_steering_side() -> None:
    """A multiprocessing Event or Lock taken by a child at the moment it is killed stays taken, and Stop
    waited for it for ever (it did in 18 of 30 tries before the flags became lock-free)."""
    import threading
    for _ in range(6):                          # each try hung with 60% odds before the fix
        control = SharedRunControl(CONTEXT)
        results = CONTEXT.Queue()
        child = CONTEXT.Process(target=_child_reads_the_control_for_ever, args=(control, results))
        child.start()
        assert next_message(results) == "reading"
        time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.join(DEADLINE)
        done = threading.Event()

        def steer() -> None:
            control.stop()
            control.pause()
            control.resume()
            control.set_learning_rate(0.5)
            done.set()
        threading.Thread(target=steer, daemon=True).start()
        # Stop is lock-free; each of the three locked calls gives up on a dead holder within 0.5 s.
        assert done.wait(5.0), "steering a run whose child was killed blocked"
        assert control.stop_requested and not control.paused


def test_requests_made_here_are_seen_in_the_child_and_its_changes_here() -> None:
    control = SharedRunControl(CONTEXT)
    results = CONTEXT.Queue()
    control.set_learning_rate(0.25)
    control.step_one_epoch()
    child = CONTEXT.Process(target=_child_reads_the_control, args=(control, results))
    child.start()
    try:
        assert next_message(results) == ("lr", 0.25, None)      # taken once
        assert next_message(results) == ("paused before epoch_ended", False)
        assert next_message(results) == ("paused after epoch_ended", True, False)
    finally:
        child.join(DEADLINE)
    assert child.exitcode == 0
    assert control.paused and control.take_learning_rate() is None   # the child's changes, seen here
    control.resume()
    assert not control.paused


def _child_waits_at_checkpoints(control: SharedRunControl, results: Any) -> None:
    control.on_block = partial(results.put, "blocking")
    while True:
        stop = control.checkpoint()
        results.put(("returned", stop))
        if stop:
            return
        time.sleep(0.02)


def drain(results: Any, seconds: float) -> list[Any]:
    got, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            got.append(results.get(timeout=left))
        except queue.Empty:
            break
    return got


def test_checkpoint_blocks_while_paused_calls_on_block_first_and_stop_wakes_it() -> None:
    control = SharedRunControl(CONTEXT)
    results = CONTEXT.Queue()
    control.pause()
    child = CONTEXT.Process(target=_child_waits_at_checkpoints, args=(control, results))
    child.start()
    try:
        assert next_message(results) == "blocking"
        assert drain(results, 0.5) == []                    # held at the checkpoint
        control.resume()
        assert next_message(results) == ("returned", False)
        control.pause()
        got = drain(results, 0.5)
        assert got[-1] == "blocking" and set(got[:-1]) <= {("returned", False)}
        control.stop()                                      # wakes the paused child
        assert next_message(results) == ("returned", True)
    finally:
        child.join(DEADLINE)
    assert child.exitcode == 0


def test_the_hook_is_not_pickled_and_the_learning_rate_is_checked() -> None:
    control = SharedRunControl(CONTEXT, on_block=lambda: None)
    assert control.__getstate__()["on_block"] is None
    with pytest.raises(ValueError, match="learning rate"):
        control.set_learning_rate(0.0)


def _child_takes_early_stopping(control: SharedRunControl, results: Any) -> None:
    results.put(control.take_early_stopping())
    control.set_early_stopping(None)


def test_early_stopping_set_here_is_taken_in_the_child_and_checked() -> None:
    control = SharedRunControl(CONTEXT)
    assert control.take_early_stopping() == (False, None)
    for bad in (0, -3, 2.5, True):
        with pytest.raises((ValueError, TypeError)):
            control.set_early_stopping(bad)  # type: ignore[arg-type]
    control.set_early_stopping(7)
    results = CONTEXT.Queue()
    child = CONTEXT.Process(target=_child_takes_early_stopping, args=(control, results))
    child.start()
    try:
        assert next_message(results) == (True, 7)
    finally:
        child.join(DEADLINE)
    assert child.exitcode == 0 and control.take_early_stopping() == (True, None)   # turned off there, seen here


def test_every_steering_method_of_run_control_is_shared() -> None:
    """A method RunControl gains must be given shared state here too, or it would steer nothing."""
    shared = {"stop", "pause", "resume", "step_one_epoch", "set_learning_rate", "paused", "stop_requested",
              "checkpoint", "epoch_ended", "take_learning_rate", "set_early_stopping", "take_early_stopping",
              "take_blocked_seconds"}
    public = {name for name in dir(RunControl) if not name.startswith("_")}
    assert public - shared == set(), f"not known to be shared across processes: {public - shared}"
    assert {"_patience_pending", "_pending_patience", "_pending_lr", "_step_to_epoch_end"} <= set(vars(SharedRunControl))


# --------------------------------------------------------------------------------------------------
# TrainingJob
# --------------------------------------------------------------------------------------------------

class JobRun:
    """A started ``TrainingJob`` on the tiny data set, and every event it returned."""

    def __init__(self, network: Network, config: TrainingConfig, first_epoch: int = 0, **options: Any) -> None:
        self.job = TrainingJob(**options)
        self.network = network
        self.job.start(network, tiny_dataset(), config, first_epoch)
        self.received: list[object] = []
        # What one poll returned after the awaited event: the next wait reads it first. One poll can
        # bring several epochs when this process is slow to ask; forgetting them would make the test
        # count fewer epochs than the run trained.
        self._unread: list[object] = []

    def until(self, condition: Any) -> list[object]:
        """Poll until ``condition(event)`` holds for an event; return the events up to it (those after
        it in the same poll are kept for the next wait)."""
        got: list[object] = []
        deadline = time.monotonic() + DEADLINE
        while True:
            assert time.monotonic() < deadline, f"gave up waiting; got {got[-5:]}"
            events, self._unread = (self._unread, []) if self._unread else (self.job.poll(0.05), [])
            for index, event in enumerate(events):
                got.append(event)
                self.received.append(event)
                if condition(event):
                    self._unread = events[index + 1:]
                    return got
            assert not self.job.finished or got, "the job finished without the awaited event"

    def until_finished(self) -> None:
        deadline = time.monotonic() + DEADLINE
        self.received.extend(self._unread)
        self._unread = []
        while not self.job.finished:
            assert time.monotonic() < deadline
            self.received.extend(self.job.poll(0.05))

    def close(self) -> None:
        self.received.extend(self._unread)
        self._unread = []
        self.received.extend(self.job.close())

    def epochs(self) -> list[EpochFinished]:
        return [e for e in self.received if isinstance(e, EpochFinished)]


def same_numbers(a: EpochFinished, b: EpochFinished) -> bool:
    """Equal in everything but the timings."""
    fields = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "learning_rate",
              "samples")
    return all(getattr(a, name) == getattr(b, name) for name in fields)


@pytest.mark.parametrize("config", [TrainingConfig(hidden=(8,), lr=0.5, max_epochs=6, seed=3),
                                    TrainingConfig(hidden=(8, 6), lr=0.1, batch_size=4, momentum=0.9,
                                                   activation="relu", loss="ce", max_epochs=5, seed=1)],
                         ids=["per-sample", "mini-batch"])
def test_a_job_ends_with_exactly_the_weights_of_the_same_run_here(config: TrainingConfig) -> None:
    inputs = tiny_dataset().train.images.shape[1]
    start = config.build_network(inputs, 10)
    network = start.copy()
    run = JobRun(network, config, first_epoch=1)
    try:
        run.until_finished()
    finally:
        run.close()
    oracle = start.copy()
    events = list(train(oracle, tiny_dataset(), config, first_epoch=1))
    assert run.received[-1] == events[-1] == RunFinished(config.max_epochs, "max_epochs")
    assert not any(isinstance(e, RunFailed) for e in run.received)
    assert [e.epoch for e in run.epochs()] == list(range(2, config.max_epochs + 1))
    assert all(same_numbers(a, b) for a, b in zip(run.epochs(), [e for e in events if isinstance(e, EpochFinished)]))
    for a, b in zip(network.parameters(), oracle.parameters()):     # the caller's network, in place
        np.testing.assert_array_equal(a, b)
    last_snapshot = next(e.network for e in reversed(run.received) if isinstance(e, Snapshot))
    for a, b in zip(last_snapshot.parameters(), oracle.parameters()):
        np.testing.assert_array_equal(a, b)
        assert not np.shares_memory(a, network.parameters()[0])
    assert run.job.poll(0.1) == [] and run.job.close() == []           # finished, closed: idempotent


def test_a_job_is_paused_stepped_given_a_learning_rate_and_stopped() -> None:
    config = TrainingConfig(hidden=(8,), lr=0.01, max_epochs=None)
    run = JobRun(config.build_network(), config, emit_interval=0.0)
    try:
        run.until(lambda e: isinstance(e, EpochFinished))
        run.job.control.pause()
        run.until(lambda e: isinstance(e, Paused))           # what it held was sent just before
        assert isinstance(run.received[-2], Snapshot)
        held = len(run.epochs())
        assert run.job.poll(0.5) == []                       # nothing while paused
        run.job.control.step_one_epoch()
        run.until(lambda e: isinstance(e, Paused))           # the interrupted epoch, finished
        assert len(run.epochs()) == held + 1
        run.job.control.set_learning_rate(0.125)
        run.job.control.step_one_epoch()
        run.until(lambda e: isinstance(e, Paused))           # a whole new epoch, at the new rate
        assert len(run.epochs()) == held + 2
        assert run.epochs()[-1].learning_rate == 0.125
        assert all(e.learning_rate == 0.01 for e in run.epochs()[:-1])
        run.job.cancel()
        run.until_finished()
    finally:
        run.close()
    assert run.received[-1] == RunFinished(held + 2, "stopped")
    assert [e.epoch for e in run.epochs()] == list(range(1, held + 3))     # none missed, none repeated


def test_an_error_in_the_child_becomes_one_line_and_its_traceback_goes_to_stderr(
        capfd: pytest.CaptureFixture[str]) -> None:
    config = TrainingConfig(hidden=(8,), max_epochs=3)
    network = Network.initialised((10, 8, 10))                # the data has 1024 pixels
    run = JobRun(network, config)
    try:
        run.until_finished()
    finally:
        run.close()
    assert len(run.received) == 1 and isinstance(run.received[0], RunFailed)
    message = run.received[0].message
    assert "10 inputs" in message and "1024" in message and "training.py" in message and "\n" not in message
    err = capfd.readouterr().err
    assert "Traceback" in err and "ValueError" in err


def test_a_killed_child_is_recovered_with_the_last_snapshot() -> None:
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    network = config.build_network()
    run = JobRun(network, config, emit_interval=0.0, snapshot_interval=0.0)
    try:
        run.until(lambda e: isinstance(e, Snapshot))
        os.kill(run.job.pid, signal.SIGKILL)                  # perhaps in the middle of a message
        run.until_finished()
    finally:
        run.close()
    failed = [e for e in run.received if isinstance(e, RunFailed)]
    assert len(failed) == 1 and "ended unexpectedly (exit code -9)" in failed[0].message
    assert not any(isinstance(e, (RunFinished, RunDiverged)) for e in run.received)
    last_snapshot = next(e.network for e in reversed(run.received) if isinstance(e, Snapshot))
    for a, b in zip(last_snapshot.parameters(), network.parameters()):
        np.testing.assert_array_equal(a, b)


def test_a_child_that_ignores_stop_is_ended_after_the_stop_timeout() -> None:
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    run = JobRun(config.build_network(), config, stop_timeout=0.3, run=ignore_stop)
    try:
        run.until(lambda e: isinstance(e, EpochFinished))
        run.job.cancel()
        started = time.monotonic()
        run.until_finished()
        assert time.monotonic() - started < 5
    finally:
        run.close()
    assert isinstance(run.received[-1], RunFailed) and "did not stop within 0.3 s" in run.received[-1].message


def test_close_right_after_start_leaves_no_process_and_no_files() -> None:
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    job = TrainingJob()
    job.start(config.build_network(), tiny_dataset(), config)
    folder = job._folder
    events = job.close()
    assert job.finished and not folder.exists()
    assert all(not isinstance(e, RunFailed) for e in events)


@pytest.mark.parametrize("emit_interval", [0.0, 3600.0], ids=["every-event", "one-batch"])
def test_other_events_are_relayed_verbatim_in_order_and_only_the_latest_best(emit_interval: float) -> None:
    config = TrainingConfig(hidden=(4,), max_epochs=6)
    run = JobRun(config.build_network(), config, emit_interval=emit_interval, run=scripted_run)
    try:
        run.until_finished()
    finally:
        run.close()
    relayed = [e for e in run.received if not isinstance(e, Snapshot)]
    names = [f"E{e.epoch}" if isinstance(e, EpochFinished) else
             f"B{e.epoch}" if isinstance(e, BestEpochChanged) else type(e).__name__ for e in relayed]
    if emit_interval == 0.0:
        assert names == ["E1", "E2", "B2", "E3", "B3", "E4", "Note", "E5", "E6", "RunFinished"]
    else:      # the first event goes at once, the rest in one batch: one best, the latest, in its place
        assert names == ["E1", "E2", "E3", "B3", "E4", "Note", "E5", "E6", "RunFinished"]
    best = [e for e in relayed if isinstance(e, BestEpochChanged)]
    assert best[-1].network.biases[0][0] == 3 and best[-1].accuracy == pytest.approx(0.3)
    assert next(e for e in relayed if isinstance(e, Note)) == Note("half way")


def test_network_files_round_trip_exactly() -> None:
    network = Network.initialised((1024, 5, 10), activation="tanh", loss="ce", seed=4)
    with tempfile.TemporaryDirectory() as folder:
        write_run_files(Path(folder), network, tiny_dataset())
        back = read_network(Path(folder) / NETWORK_FILE, network.sizes, "tanh", "ce")
    assert back.activation == "tanh" and back.loss == "ce"
    for a, b in zip(back.parameters(), network.parameters()):
        np.testing.assert_array_equal(a, b)


ORPHAN_SCRIPT = """
import sys
from studio.core.training import TrainingConfig
from studio.core.training_job import TrainingJob
from tests.helpers import BestEpochChanged, Note, ignore_stop, scripted_run, tiny_dataset

if __name__ == "__main__":
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    job = TrainingJob()
    job.start(config.build_network(), tiny_dataset(), config)
    job.poll(30)                          # training
    job.control.pause()                   # a paused child must notice too
    print(job.pid, flush=True)
    sys.stdin.read()                      # until killed
"""


def test_a_child_ends_when_its_parent_dies() -> None:
    assert not child_outlives_killed_parent(ORPHAN_SCRIPT), "the child outlived its parent by 10 s"
