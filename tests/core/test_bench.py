"""A smoke run of the benchmark's pieces on a tiny data set: they run and report; no time is asserted."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from studio import bench
from studio.core.data import Dataset, Split
from studio.core.digit_folders import export_dataset, load_dataset


def _tiny_digits(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    splits = []
    for count in (40, 12):
        labels = np.arange(count, dtype=np.int64) % 10
        images = (rng.random((count, 1024)) < 0.3).astype(np.uint8)
        names = tuple(f"{label}_{i}.txt" for i, label in enumerate(labels))
        splits.append(Split(images, labels, names))
    export_dataset(Dataset("tiny", "test", splits[0], splits[1]), folder)
    return folder


def test_the_benchmark_pieces_run_and_report_on_a_tiny_data_set(tmp_path: Path) -> None:
    digits = _tiny_digits(tmp_path / "digits")
    dataset = load_dataset(digits)
    notes: list[str] = []
    figures = (bench.bench_per_sample(dataset, None, 2, notes)
               + bench.bench_loading(digits, None, 1, notes)
               + bench.bench_memory(dataset, 300, traced=150))
    assert [f.what.split(" ")[0] for f in figures] == ["Per-sample", "Loading", "Memory"]
    assert all(f.ours for f in figures)
    assert figures[-1].met == "yes"                      # 300 epochs of a tiny run stay flat
    assert any("tutorial's code was not found" in n for n in notes)
