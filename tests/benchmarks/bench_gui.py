"""Benchmarks of the window while it trains (a script, not a test): prints figures, asserts nothing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_gui.py [--reps 3] [--seconds 5]

(a) Throughput: the same run (same settings, seed and epochs) trained headless (the bare
    ``studio.core.training.train`` loop in the main thread) and inside the app (window shown, the
    runner training, curves, weights and the pad's prediction redrawing from snapshots), interleaved,
    several repetitions. Prints the training seconds per epoch of each (summed from the epochs' own
    clocks, which include whatever the GUI takes from training) and the app's overhead, then the whole
    run's wall time from Start, which also holds the run's start-up. Target: the app costs less than 10%.
(b) Responsiveness: while the app trains flat out, a 10 ms precise QTimer in the GUI thread records
    how late each tick fires; prints p50/p99/max lateness, and the same with no training as a baseline.
    Target: p99 below 20 ms.

The data set is the tutorial's digits from ../shared when present, else the built-in synthetic set.
Process settings are the app's own (``studio.gui.app``): one BLAS thread, 1 ms switch interval.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from studio.gui import app as studio_app  # noqa: E402  (sets OPENBLAS_NUM_THREADS before NumPy)

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.core.data import Dataset  # noqa: E402
from studio.core.digit_folders import load_dataset  # noqa: E402
from studio.core.paths import DEFAULT_DATASET, PROJECT_ROOT  # noqa: E402
from studio.core.training import PRESETS, EpochFinished, TrainingConfig, train  # noqa: E402
from studio.gui.main_window import MainWindow  # noqa: E402
from tests.app.make_screenshot import open_and_wait  # noqa: E402  (the one way a script opens a data set)

SHARED_DIGITS = PROJECT_ROOT.parent / "shared" / "datasets" / "digits"


def dataset_path() -> Path:
    return SHARED_DIGITS if SHARED_DIGITS.exists() else DEFAULT_DATASET


def headless_run(dataset: Dataset, config: TrainingConfig) -> tuple[float, float]:
    """Training seconds per epoch (the epochs' own clocks) and wall seconds of the bare training loop."""
    network = config.build_network()
    started = time.perf_counter()
    trained = sum(e.seconds for e in train(network, dataset, config) if isinstance(e, EpochFinished))
    return trained / config.max_epochs, time.perf_counter() - started


def wait_until_idle(window: MainWindow, timeout_s: float = 600.0) -> None:
    """Run the event loop (sleeping, not spinning) until the window's runner is idle."""
    if window.runner.state == "idle":
        return
    loop = QEventLoop()
    window.runner.state_changed.connect(lambda state: loop.quit() if state == "idle" else None)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()


def app_run(window: MainWindow, config: TrainingConfig) -> tuple[float, float]:
    """The same run started from the window: training seconds per epoch (the epochs' own clocks, so
    what the GUI takes from training shows) and wall seconds from Start until the runner is idle."""
    window.controls.set_config(config)
    window.reset_network()
    started = time.perf_counter()
    window.start_training()
    wait_until_idle(window)
    seconds = time.perf_counter() - started
    history = window.metrics.history
    assert len(history) == config.max_epochs, "the app run did not train every epoch"
    return float(history.column("seconds").sum()) / config.max_epochs, seconds


def lateness(window: MainWindow | None, seconds: float) -> tuple[np.ndarray, float]:
    """Lateness (ms) of each tick of a 10 ms precise timer over ``seconds`` of the event loop, and
    the GUI thread's CPU use in that time (a fraction; its Python part is taken from training)."""
    clock = QElapsedTimer()
    clock.start()
    ticks: list[int] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(clock.nsecsElapsed()))
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    cpu, wall = time.thread_time(), time.perf_counter()
    timer.start()
    loop.exec()
    timer.stop()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    gaps_ms = np.diff(np.array(ticks, dtype=np.float64)) / 1e6
    return np.maximum(gaps_ms - 10.0, 0.0), cpu / wall


def describe(measured: tuple[np.ndarray, float]) -> str:
    late, cpu = measured
    return (f"p50 {np.percentile(late, 50):5.2f} ms   p99 {np.percentile(late, 99):5.2f} ms   "
            f"max {late.max():6.2f} ms   GUI thread CPU {100 * cpu:4.1f}%   ({late.size} ticks)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each throughput run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each lateness measurement")
    args = parser.parse_args()
    sys.setswitchinterval(studio_app.SWITCH_INTERVAL)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    path = dataset_path()
    dataset = load_dataset(path)
    print(f"data set: {path} ({len(dataset.train)} training, "
          f"{len(dataset.test) if dataset.test else 0} test samples)")
    print(f"Python {sys.version.split()[0]}, platform {app.platformName()}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
          f"switch interval {sys.getswitchinterval() * 1000:g} ms, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} (other processes skew every figure below)")

    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "bench.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings)
        window.resize(1360, 860)
        window.show()
        window.confirm_on_close = False      # a script: nothing to keep
        if not open_and_wait(window, path):
            print("could not open the data set")
            return 1
        window.pad.load_sample("test", 0)                 # the pad predicts on every snapshot
        app.processEvents()

        print("\n(a) throughput: headless train() loop vs the same run in the app "
              f"({args.reps} interleaved repetitions, seconds per epoch)")
        cases = {"article (per-sample SGD)": replace(PRESETS["article"], max_epochs=120),
                 "best (mini-batches)": replace(PRESETS["best"], max_epochs=24)}
        for name, config in cases.items():
            headless, inside = [], []
            for _ in range(args.reps):
                headless.append(headless_run(dataset, config))
                inside.append(app_run(window, config))
            h, a = (statistics.median(run[0] for run in runs) for runs in (headless, inside))
            hw, aw = (statistics.median(run[1] for run in runs) for runs in (headless, inside))
            print(f"  {name:26s} per epoch: headless {1000 * h:6.1f} ms, app {1000 * a:6.1f} ms, "
                  f"app overhead {100 * (a / h - 1):+5.1f}%   "
                  f"whole run ({config.max_epochs} epochs, start-up included): headless {hw:5.2f} s, "
                  f"app {aw:5.2f} s, {100 * (aw / hw - 1):+5.1f}%   "
                  f"(per-epoch runs: headless {', '.join(f'{1000 * x[0]:.1f}' for x in headless)}; "
                  f"app {', '.join(f'{1000 * x[0]:.1f}' for x in inside)})")

        print(f"\n(b) GUI responsiveness: lateness of a 10 ms timer over {args.seconds:g} s")
        print(f"  idle window                        {describe(lateness(window, args.seconds))}")
        for name, preset in (("article", "article"), ("best", "best")):
            window.controls.set_config(replace(PRESETS[preset], max_epochs=None))
            window.reset_network()
            window.start_training()
            late = lateness(window, args.seconds)
            epochs = len(window.metrics.history)
            window.runner.shutdown()
            print(f"  training flat out ({name:7s})         {describe(late)}   [{epochs} epochs trained]")
        window.close()
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
