"""The child-process plumbing every job shares: the batcher, error text, data transport, and children
started with one BLAS thread, Ctrl-C ignored and a watchdog that ends them with their parent."""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from studio.core.jobs import (CONTEXT, Batcher, child_setup, end_process, error_message, load_dataset_arrays,
                              save_dataset_arrays, single_threaded_blas, start_processes)
from tests.helpers import child_outlives_killed_parent, tiny_dataset

DEADLINE = 30.0   # seconds; reached only if something hangs


@pytest.fixture(autouse=True)
def no_child_left() -> Iterator[None]:
    yield
    assert multiprocessing.active_children() == []


# --------------------------------------------------------------------------------------------------
# The batcher
# --------------------------------------------------------------------------------------------------

class Best:
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch


def test_the_batcher_sends_the_first_item_at_once_then_at_most_every_interval() -> None:
    sent: list[list[object]] = []
    batcher: Batcher[object] = Batcher(sent.append, interval=3600)
    batcher.add(1)
    batcher.add(2)
    batcher.extend([3, 4])
    assert sent == [[1]] and batcher.pending
    batcher.flush()
    assert sent == [[1], [2, 3, 4]] and not batcher.pending
    batcher.flush()                                   # nothing pending: nothing sent
    assert len(sent) == 2


def test_with_interval_zero_every_item_goes_alone() -> None:
    sent: list[list[object]] = []
    batcher: Batcher[object] = Batcher(sent.append, interval=0.0)
    for item in range(5):
        batcher.add(item)
    assert sent == [[0], [1], [2], [3], [4]]


def test_the_batcher_waits_for_its_interval() -> None:
    sent: list[list[object]] = []
    batcher: Batcher[object] = Batcher(sent.append, interval=0.05)
    batcher.add(0)
    started = time.monotonic()
    while time.monotonic() - started < 0.3:
        batcher.add(1)
        time.sleep(0.001)
    seconds = time.monotonic() - started
    assert 2 <= len(sent) <= seconds / 0.05 + 2
    assert sum(len(batch) for batch in sent) + (1 if batcher.pending else 0) >= 2


def test_latest_only_keeps_the_last_of_its_type_after_what_came_before() -> None:
    sent: list[list[object]] = []
    batcher: Batcher[object] = Batcher(sent.append, interval=3600)
    batcher.add("first")                              # sent at once
    batcher.add("e1")
    batcher.add(Best(1), latest_only=True)
    batcher.add("e2")
    batcher.add(Best(2), latest_only=True)
    batcher.add("e3")
    batcher.flush()
    batch = sent[1]
    assert [getattr(item, "epoch", item) for item in batch] == ["e1", "e2", 2, "e3"]


# --------------------------------------------------------------------------------------------------
# Error text, data transport, environment
# --------------------------------------------------------------------------------------------------

def test_error_message_is_one_line_naming_the_file_and_line() -> None:
    try:
        int("x")
    except ValueError as error:
        message = error_message(error, "The comparison")
    assert message.startswith("The comparison stopped by an unexpected error: ValueError: invalid literal")
    assert "(test_jobs.py, line " in message and "\n" not in message
    assert error_message(KeyError("k")) == "Training stopped by an unexpected error: KeyError: 'k'"


def test_the_data_set_reaches_a_child_whole(tmp_path: Path) -> None:
    dataset = tiny_dataset()
    save_dataset_arrays(dataset, tmp_path / "d.npz")
    again = load_dataset_arrays(tmp_path / "d.npz", dataset.name, dataset.source)
    for a, b in ((dataset.train, again.train), (dataset.test, again.test)):
        np.testing.assert_array_equal(a.images, b.images)
        np.testing.assert_array_equal(a.labels, b.labels)
        assert a.names == b.names
    save_dataset_arrays(tiny_dataset(test_per_class=0), tmp_path / "e.npz")
    assert load_dataset_arrays(tmp_path / "e.npz", "x", "y").test is None


def test_single_threaded_blas_sets_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with single_threaded_blas():
        assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["OMP_NUM_THREADS"] == "1"
    assert os.environ["OPENBLAS_NUM_THREADS"] == "7" and "OMP_NUM_THREADS" not in os.environ


# --------------------------------------------------------------------------------------------------
# Children
# --------------------------------------------------------------------------------------------------

def _report_and_wait(results: Any) -> None:
    child_setup()
    results.put((os.environ.get("OPENBLAS_NUM_THREADS"), signal.getsignal(signal.SIGINT) == signal.SIG_IGN))
    time.sleep(60)                                    # until ended


def test_children_get_one_blas_thread_ignore_ctrl_c_and_a_stuck_one_is_ended(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    results = CONTEXT.Queue()
    processes = start_processes(_report_and_wait, [(results,), (results,)], "test-child")
    try:
        assert os.environ["OPENBLAS_NUM_THREADS"] == "4"
        assert [p.name for p in processes] == ["test-child-1", "test-child-2"]
        assert [results.get(timeout=DEADLINE) for _ in processes] == [("1", True)] * 2
        os.kill(processes[0].pid, signal.SIGINT)      # ignored
        time.sleep(0.2)
        assert processes[0].is_alive()
    finally:
        started = time.monotonic()
        for process in processes:
            end_process(process, 0.1)                 # SIGTERM: it ends
        assert time.monotonic() - started < 5
        results.close()
        results.join_thread()


ORPHAN_SCRIPT = """
import sys, time
from tests.core.test_jobs import _report_and_wait
from studio.core.jobs import CONTEXT, start_processes

if __name__ == "__main__":
    results = CONTEXT.Queue()
    (child,) = start_processes(_report_and_wait, [(results,)], "orphan")
    results.get(timeout=30)               # the child is up, its watchdog running
    print(child.pid, flush=True)
    sys.stdin.read()                      # until killed
"""


def test_a_child_ends_when_its_parent_is_killed() -> None:
    assert not child_outlives_killed_parent(ORPHAN_SCRIPT), "the child outlived its parent by 10 s"
