"""Does training against fooling make a network harder to fool, and what does it cost?

Run: ``OPENBLAS_NUM_THREADS=1 python tests/benchmarks/bench_train_against.py [DIGITS_FOLDER]``. Trains the
fast preset for 10 epochs plainly and with ``AgainstFoolingEpoch(copies=8, max_flips=15)`` on the
tutorial's digits, then prints each one's training time, test accuracy and fragility summary on the
same 100 test samples (improved search, cap 60 flips). Prints figures; asserts nothing.
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from studio.core.fragility import choose_samples, fragility
from studio.core.sources import open_data_source
from studio.core.train_against import AgainstFoolingEpoch
from studio.core.training import PRESETS, RunControl, sgd_epoch, train


def main(folder: str) -> None:
    dataset = open_data_source(folder)
    test = dataset.test
    indices = choose_samples(len(test), 100)
    config = replace(PRESETS["fast"], max_epochs=10)
    for name, epoch in (("plain", sgd_epoch), ("against fooling", AgainstFoolingEpoch(copies=8, max_flips=15))):
        network = config.build_network(1024)
        started = time.perf_counter()
        for _ in train(network, dataset, config, RunControl(), epoch_function=epoch):
            pass
        seconds = time.perf_counter() - started
        accuracy = float(np.mean(network.predict(test.images.astype(np.float64)) == test.labels))
        added = getattr(epoch, "added", 0)
        print(f"{name}: {seconds:.1f} s, test accuracy {accuracy:.4f}, {added} fooling copies trained on")
        print("  " + fragility(network, test.images, test.labels, indices, 60).summary().replace("\n", "\n  "))


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "digits"
    main(sys.argv[1] if len(sys.argv) > 1 else str(default))
