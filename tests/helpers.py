"""Small data sets made in the tests themselves, so most tests need neither ../shared nor data/."""
from __future__ import annotations

import numpy as np

from studio.core.data import Dataset, Split


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
