"""Small data sets made in the tests themselves, so most tests need neither ../shared nor data/."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.core.data import Dataset, Split
from studio.core.network import Network
from studio.core.training import BestEpochChanged, EpochFinished, RunFinished, TrainingConfig


def tiny_split(per_class: int, seed: int, noise: float = 0.05) -> Split:
    """``per_class`` noisy copies of ten fixed random 32x32 prototypes: learnable in a few epochs.

    The prototypes come from seed 1234 whatever ``seed`` is, so splits made with different seeds are
    a train/test pair of the same ten classes.
    """
    prototypes = np.random.default_rng(1234).random((10, 1024)) < 0.3
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), per_class)
    flips = rng.random((labels.size, 1024)) < noise
    images = (prototypes[labels] ^ flips).astype(np.uint8)
    names = tuple(f"{label}_{i % per_class}.txt" for i, label in enumerate(labels))
    return Split(images, labels.astype(np.int64), names)


def tiny_dataset(per_class: int = 10, test_per_class: int = 5, seed: int = 0) -> Dataset:
    """A train/test data set of ``tiny_split``s."""
    return Dataset("tiny", "<made in the tests>", tiny_split(per_class, seed),
                   tiny_split(test_per_class, seed + 1) if test_per_class else None)


def child_outlives_killed_parent(script: str, seconds: float = 10.0) -> bool:
    """Run ``script`` (Python code that starts a child process, prints its pid and waits) in a parent
    process from the repository's root, kill the parent, and say whether the child is still alive
    ``seconds`` later (killing it then)."""
    root = Path(__file__).resolve().parents[1]
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=root, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    os.kill(child_pid, 9)
    return True


# Stand-in runs for a training job's child (module-level: a child finds them by name). The events are
# what train() yields besides epochs (its BestEpochChanged, and a Note standing for any other kind),
# which a job must relay verbatim and in order.
@dataclass(frozen=True)
class Note:
    text: str


def scripted_run(network: Network, dataset: Any, config: TrainingConfig, control: Any = None,
                 first_epoch: int = 0) -> Iterator[object]:
    """Six epochs; a new best after epochs 2 and 3 (with its weights), a note after epoch 4."""
    for epoch in range(1, 7):
        network.biases[0][0] = epoch                  # so that each copy is told apart
        yield EpochFinished(epoch, 0.5, 0.5, None, None, 0.01, 0.01 * epoch, 0.1, 10)
        if epoch in (2, 3):
            yield BestEpochChanged(epoch, 0.1 * epoch, "train", network.copy())
        if epoch == 4:
            yield Note("half way")
    yield RunFinished(6, "max_epochs")


def ignore_stop(network: Network, dataset: Any, config: TrainingConfig, control: Any = None,
                first_epoch: int = 0) -> Iterator[object]:
    """A run stuck in a long computation: it never looks at its control again after the first epoch."""
    yield EpochFinished(1, 0.5, 0.5, None, None, 0.01, 0.01, 0.1, 10)
    time.sleep(60)
    yield RunFinished(1, "max_epochs")


def quick_network(epochs: int = 2, seed: int = 0, hidden: tuple[int, ...] = (32,)):
    """A network of the ``fast`` preset (``hidden`` layers) trained ``epochs`` on ``tiny_dataset(10, 0,
    seed)``: right on every sample, well under a second."""
    from dataclasses import replace

    from studio.core.training import PRESETS, RunControl, train
    config = replace(PRESETS["fast"], hidden=hidden, max_epochs=epochs, seed=seed)
    network = config.build_network(1024)
    for _ in train(network, tiny_dataset(10, 0, seed=seed), config, RunControl()):
        pass
    return network
