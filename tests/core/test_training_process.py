"""A run in a child process: the shared control across processes, and the child's entry function.

These start real ``spawn`` children (a few tenths of a second each), on the tiny data set.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from studio.core.network import Network
from studio.core.training import EpochFinished, RunFinished, TrainingConfig, train
from studio.core.training_process import (NETWORK_FILE, SharedRunControl, read_network, run_in_child,
                                          write_run_files)
from tests.helpers import tiny_dataset

ROOT = Path(__file__).resolve().parents[2]
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


# --------------------------------------------------------------------------------------------------
# The child's entry function
# --------------------------------------------------------------------------------------------------

class ChildRun:
    """``run_in_child`` in a spawned process, on files in a temporary folder."""

    def __init__(self, network: Network, config: TrainingConfig, first_epoch: int = 0,
                 emit_interval: float = 0.1, snapshot_interval: float = 0.25) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="studio-test-run-")
        self.dataset = tiny_dataset()
        write_run_files(Path(self.folder.name), network, self.dataset)
        self.control = SharedRunControl(CONTEXT)
        self.messages, sender = CONTEXT.Pipe(duplex=False)
        self.process = CONTEXT.Process(
            target=run_in_child, daemon=True,
            args=(self.folder.name, network.sizes, network.activation, network.loss, config, first_epoch,
                  self.control, sender, emit_interval, snapshot_interval,
                  self.dataset.name, self.dataset.source))
        self.process.start()
        sender.close()
        self.received: list[tuple[str, Any]] = []

    def until(self, kind: str) -> list[tuple[str, Any]]:
        """Messages up to and including the next one of ``kind``."""
        got = []
        while True:
            assert self.messages.poll(DEADLINE), f"no {kind!r} message in {DEADLINE:g} s"
            message = self.messages.recv()
            got.append(message)
            self.received.append(message)
            if message[0] == kind:
                return got

    def close(self) -> None:
        self.control.stop()
        self.process.join(DEADLINE)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.messages.close()
        self.folder.cleanup()

    def epochs(self) -> list[EpochFinished]:
        return [e for kind, value in self.received if kind == "epochs" for e in value]


def same_numbers(a: EpochFinished, b: EpochFinished) -> bool:
    """Equal in everything but the timings."""
    fields = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "learning_rate",
              "samples")
    return all(getattr(a, name) == getattr(b, name) for name in fields)


@pytest.mark.parametrize("config", [TrainingConfig(hidden=(8,), lr=0.5, max_epochs=6, seed=3),
                                    TrainingConfig(hidden=(8, 6), lr=0.1, batch_size=4, momentum=0.9,
                                                   activation="relu", loss="ce", max_epochs=5, seed=1)],
                         ids=["per-sample", "mini-batch"])
def test_a_child_run_ends_with_exactly_the_weights_of_the_same_run_here(config: TrainingConfig) -> None:
    inputs = tiny_dataset().train.images.shape[1]
    start = config.build_network(inputs, 10)
    run = ChildRun(start.copy(), config, first_epoch=1)
    try:
        run.until("done")
    finally:
        run.close()
    oracle = start.copy()
    events = list(train(oracle, tiny_dataset(), config, first_epoch=1))
    kinds = [kind for kind, _ in run.received]
    assert kinds[-2:] == ["finished", "done"] and kinds.count("done") == 1 and "failed" not in kinds
    assert run.received[-2][1] == events[-1] == RunFinished(config.max_epochs, "max_epochs")
    assert [e.epoch for e in run.epochs()] == list(range(2, config.max_epochs + 1))
    assert all(same_numbers(a, b) for a, b in zip(run.epochs(), [e for e in events if isinstance(e, EpochFinished)]))
    final = run.received[-1][1]
    for a, b in zip(final.parameters(), oracle.parameters()):
        np.testing.assert_array_equal(a, b)
    last_snapshot = next(value for kind, value in reversed(run.received) if kind == "snapshot")
    for a, b in zip(last_snapshot.parameters(), oracle.parameters()):
        np.testing.assert_array_equal(a, b)
    assert run.process.exitcode == 0


def test_a_child_run_is_paused_stepped_given_a_learning_rate_and_stopped() -> None:
    config = TrainingConfig(hidden=(8,), lr=0.01, max_epochs=None)
    run = ChildRun(config.build_network(), config, emit_interval=0.0)
    try:
        run.until("epochs")
        run.control.pause()
        run.until("blocked")                              # what it held was sent just before
        assert run.received[-2][0] == "snapshot"
        held = len(run.epochs())
        assert not run.messages.poll(0.5)                 # nothing while paused
        run.control.step_one_epoch()
        run.until("blocked")                              # the interrupted epoch, finished
        assert len(run.epochs()) == held + 1
        run.control.set_learning_rate(0.125)
        run.control.step_one_epoch()
        run.until("blocked")                              # a whole new epoch, at the new rate
        assert len(run.epochs()) == held + 2
        assert run.epochs()[-1].learning_rate == 0.125
        assert all(e.learning_rate == 0.01 for e in run.epochs()[:-1])
        run.control.stop()
        run.until("done")
    finally:
        run.close()
    assert run.received[-2] == ("finished", RunFinished(held + 2, "stopped"))


def test_an_error_in_the_child_becomes_a_message_with_its_traceback() -> None:
    config = TrainingConfig(hidden=(8,), max_epochs=3)
    run = ChildRun(Network.initialised((10, 8, 10)), config)     # the data has 1024 pixels
    try:
        run.until("done")
    finally:
        run.close()
    kinds = [kind for kind, _ in run.received]
    assert kinds == ["failed", "done"]
    message, details = run.received[0][1]
    assert "10 inputs" in message and "1024" in message and "training.py" in message
    assert details.startswith("Traceback") and "ValueError" in details
    assert run.received[-1][1].sizes == (10, 8, 10)


def test_network_files_round_trip_exactly() -> None:
    network = Network.initialised((1024, 5, 10), activation="tanh", loss="ce", seed=4)
    with tempfile.TemporaryDirectory() as folder:
        write_run_files(Path(folder), network, tiny_dataset())
        back = read_network(Path(folder) / NETWORK_FILE, network.sizes, "tanh", "ce")
    assert back.activation == "tanh" and back.loss == "ce"
    for a, b in zip(back.parameters(), network.parameters()):
        np.testing.assert_array_equal(a, b)


ORPHAN_SCRIPT = """
import multiprocessing, sys, tempfile
from pathlib import Path
from studio.core.training import TrainingConfig
from studio.core.training_process import SharedRunControl, run_in_child, write_run_files
from tests.helpers import tiny_dataset

if __name__ == "__main__":
    context = multiprocessing.get_context("spawn")
    config = TrainingConfig(hidden=(8,), max_epochs=None)
    network, dataset = config.build_network(), tiny_dataset()
    folder = tempfile.mkdtemp()
    write_run_files(Path(folder), network, dataset)
    control, (messages, sender) = SharedRunControl(context), context.Pipe(duplex=False)
    child = context.Process(target=run_in_child, args=(folder, network.sizes, network.activation,
                            network.loss, config, 0, control, sender))
    child.start()
    messages.poll(30)                     # training
    control.pause()                       # a paused child must notice too
    print(child.pid, flush=True)
    sys.stdin.read()                      # until killed
"""


def test_a_child_ends_when_its_parent_dies() -> None:
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(child_pid, 9)
    pytest.fail("the child outlived its parent by 10 s")
