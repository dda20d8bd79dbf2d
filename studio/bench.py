"""Speed and memory figures of Backprop Studio next to their baselines, as a markdown table.

    python -m studio.bench [--digits PATH] [--repeat N] [--quick]

Every comparison runs in this one process, its contenders interleaved (A, B, C, A, B, C, ...) so that
a busy machine slows them alike, and each figure is the median of ``--repeat`` runs. Wall-clock time
(``time.perf_counter``). What is compared:

1. Per-sample SGD, the ``article`` preset: an epoch of the studio's ``PerSampleSGD`` (as a run
   uses it) against the tutorial's own code (``shared/baselines/article_net.py``, imported by path,
   never copied) on the same data and order; the weights of both are compared afterwards.
2. Mini-batch SGD, batch 16, 1024-16-16-10, sigmoid hidden layers, softmax + cross-entropy, float64:
   ``MiniBatchSGD`` against PyTorch (CPU, one thread) and scikit-learn's ``MLPClassifier`` (sgd and
   adam, one ``partial_fit`` pass), each skipped with a note when not installed. These epochs are
   short, so this comparison takes 3 x ``--repeat`` runs, contenders in a new random order each round.
3. Time from Start to 97% test accuracy with the ``fast`` preset (with ``sgd_epoch`` as baseline),
   and the ``best`` preset's test accuracy and training time (skipped with ``--quick``).
4. Loading the data set: ``load_dataset`` against the tutorial's loader.
5. Memory over a long run of a tiny network (100,000 epochs; 10,000 with ``--quick``).

BLAS runs on one thread (``OPENBLAS_NUM_THREADS=1`` unless already set), as in the app.
Not part of the app and not imported by it; the tests only smoke-run it.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy is imported, as main.py does

import argparse  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Callable, Sequence  # noqa: E402

import numpy as np  # noqa: E402

from studio.core.data import Dataset, Split  # noqa: E402
from studio.core.digit_folders import load_dataset  # noqa: E402
from studio.core.kernel_minibatch import MiniBatchSGD  # noqa: E402
from studio.core.kernel_per_sample import PerSampleSGD  # noqa: E402
from studio.core.network import one_hot  # noqa: E402
from studio.core.sgd import Optimiser, sgd_epoch  # noqa: E402
from studio.core.training import (PRESETS, EpochFinished, RunControl, TrainingConfig,  # noqa: E402
                                  choose_epoch_function, train)

DEFAULT_SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@dataclass
class Figure:
    """One row of the table. ``ratio`` is baseline / ours for times (higher is better)."""

    what: str
    ours: str
    baseline: str
    ratio: str
    target: str
    met: str


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _load_article_net(shared: Path) -> ModuleType | None:
    path = shared / "baselines" / "article_net.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("article_net", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


# --------------------------------------------------------------------------------------------------
# 1. Per-sample SGD against the tutorial's code
# --------------------------------------------------------------------------------------------------

def bench_per_sample(dataset: Dataset, article_net: ModuleType | None, repeat: int,
                     notes: list[str]) -> list[Figure]:
    config = PRESETS["article"]
    x = dataset.train.images.astype(np.float64)
    labels = np.asarray(dataset.train.labels, dtype=np.int64)
    y = one_hot(labels)
    order = np.random.default_rng(config.seed).permutation(len(labels))
    ours_net = config.build_network()
    generic_net = config.build_network()
    kernel = choose_epoch_function(config)
    assert isinstance(kernel, PerSampleSGD)
    baseline = article_net.Net(config.seed) if article_net else None
    label_list = [int(v) for v in labels]
    ours, generic, theirs = [], [], []
    for _ in range(repeat):
        ours.append(_timed(lambda: kernel(ours_net, x, y, labels, order, 1, Optimiser(config.lr), RunControl())))
        generic.append(_timed(lambda: sgd_epoch(generic_net, x, y, labels, order, 1, Optimiser(config.lr),
                                                RunControl())))
        if baseline is not None:
            theirs.append(_timed(lambda: baseline.train_epoch(x, label_list, order)))
    steady = _median(ours[1:] if len(ours) > 1 else ours)
    figures = []
    if baseline is not None:
        ref = _median(theirs)
        mine = [baseline.W1, baseline.b1, baseline.W2, baseline.b2, baseline.W3, baseline.b3]
        diff = max(float(np.abs(p - q.reshape(p.shape)).max()) for p, q in zip(ours_net.parameters(), mine))
        notes.append(f"Per-sample exactness: after {repeat} epochs the studio's weights differ from the "
                     f"tutorial code's by at most {diff:.1e} (target 1e-9: {_verdict(diff <= 1e-9)}).")
        figures.append(Figure("Per-sample epoch (`article` preset), steady state", _ms(steady),
                              f"tutorial code {_ms(ref)}", f"{ref / steady:.2f}x", ">= 3x",
                              _verdict(ref / steady >= 3)))
        figures.append(Figure("Per-sample epoch, first of a run (no cache yet)", _ms(ours[0]),
                              f"tutorial code {_ms(ref)}", f"{ref / ours[0]:.2f}x", "", ""))
    else:
        notes.append("The tutorial's code was not found (../shared/baselines/article_net.py): per-sample "
                     "epochs compared with the studio's readable `sgd_epoch` only.")
    gen = _median(generic)
    figures.append(Figure("Per-sample epoch against the readable `sgd_epoch`", _ms(steady),
                          f"`sgd_epoch` {_ms(gen)}", f"{gen / steady:.2f}x", "", ""))
    return figures


# --------------------------------------------------------------------------------------------------
# 2. Mini-batch SGD against PyTorch and scikit-learn
# --------------------------------------------------------------------------------------------------

def _torch_epoch_function(x: np.ndarray, labels: np.ndarray, seed: int):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(1024, 16), torch.nn.Sigmoid(), torch.nn.Linear(16, 16),
                                torch.nn.Sigmoid(), torch.nn.Linear(16, 10)).double()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    tx, ty = torch.from_numpy(x), torch.from_numpy(labels)
    loss_fn = torch.nn.functional.cross_entropy

    def epoch(order: np.ndarray) -> None:
        perm = torch.from_numpy(order)
        for start in range(0, len(order), 16):
            rows = perm[start:start + 16]
            loss = loss_fn(model(tx[rows]), ty[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return epoch, torch.__version__


def bench_minibatch(dataset: Dataset, repeat: int, notes: list[str]) -> list[Figure]:
    x = dataset.train.images.astype(np.float64)
    labels = np.asarray(dataset.train.labels, dtype=np.int64)
    y = one_hot(labels)
    config = TrainingConfig(hidden=(16, 16), activation="sigmoid", loss="ce", init="xavier",
                            bias_init="zeros", lr=0.1, batch_size=16, order="shuffle")
    ours_net, generic_net = config.build_network(), config.build_network()
    kernel = choose_epoch_function(config)
    assert isinstance(kernel, MiniBatchSGD)
    contenders: dict[str, Callable[[np.ndarray], object]] = {
        "ours": lambda o: kernel(ours_net, x, y, labels, o, 16, Optimiser(0.1), RunControl()),
        "sgd_epoch": lambda o: sgd_epoch(generic_net, x, y, labels, o, 16, Optimiser(0.1), RunControl()),
    }
    try:
        torch_epoch, torch_version = _torch_epoch_function(x, labels, 0)
        contenders[f"PyTorch {torch_version}"] = torch_epoch
    except ImportError:
        notes.append("PyTorch is not installed: its mini-batch figure is skipped "
                     "(`pip install torch` in the venv to include it; it is not a dependency).")
    try:
        import sklearn
        from sklearn.neural_network import MLPClassifier
        for solver in ("sgd", "adam"):
            model = MLPClassifier(hidden_layer_sizes=(16, 16), activation="logistic", solver=solver,
                                  batch_size=16, learning_rate_init=0.1 if solver == "sgd" else 1e-3,
                                  random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.partial_fit(x, labels, classes=np.arange(10))   # set up outside the timing

            def fit(order: np.ndarray, model=model) -> None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.partial_fit(x, labels)
            contenders[f"scikit-learn {sklearn.__version__} MLPClassifier {solver}"] = fit
    except ImportError:
        notes.append("scikit-learn is not installed: its mini-batch figures are skipped "
                     "(`pip install scikit-learn` in the venv to include them; it is not a dependency).")
    # An epoch here takes 10-70 ms, so take three times the runs, and visit the contenders in a new
    # random order each round so that none always follows the slowest.
    times: dict[str, list[float]] = {name: [] for name in contenders}
    rng = np.random.default_rng(0)
    names = list(contenders)
    for _ in range(3 * repeat):
        order = rng.permutation(len(labels))
        for index in rng.permutation(len(names)):
            name = names[index]
            times[name].append(_timed(lambda: contenders[name](order)))
    ours = _median(times.pop("ours"))
    figures = []
    for name, values in times.items():
        ref = _median(values)
        target, ok = "", None
        if name.startswith("PyTorch"):
            target, ok = ">= 2x", ref / ours >= 2
        elif name.startswith("scikit"):
            target, ok = ">= 3x", ref / ours >= 3
        shown = f"`{name}`" if name == "sgd_epoch" else name
        figures.append(Figure("Mini-batch epoch (16, 1024-16-16-10, softmax + CE, float64)", _ms(ours),
                              f"{shown} {_ms(ref)}", f"{ref / ours:.2f}x", target, _verdict(ok)))
    return figures


# --------------------------------------------------------------------------------------------------
# 3. Time to 97% test accuracy, and the best preset
# --------------------------------------------------------------------------------------------------

def _time_to(dataset: Dataset, config: TrainingConfig, accuracy: float,
             epoch_function=None) -> tuple[float | None, float | None, int | None]:
    """(training seconds as the run reports them, wall seconds from Start, epochs) to ``accuracy``."""
    start = time.perf_counter()
    network = config.build_network()
    for event in train(network, dataset, config, epoch_function=epoch_function):
        if isinstance(event, EpochFinished) and event.test_accuracy is not None \
                and event.test_accuracy >= accuracy:
            return event.elapsed, time.perf_counter() - start, event.epoch
    return None, None, None


def bench_accuracy(dataset: Dataset, repeat: int, quick: bool, notes: list[str]) -> list[Figure]:
    figures = []
    fast = PRESETS.get("fast")
    if fast is None:
        notes.append("No `fast` preset: time to 97% skipped.")
    else:
        ours, walls, theirs = [], [], []
        epochs = None
        for _ in range(repeat):
            seconds, wall, epochs = _time_to(dataset, fast, 0.97)
            generic, _, _ = _time_to(dataset, fast, 0.97, epoch_function=sgd_epoch)
            if seconds is None or generic is None:
                break
            ours.append(seconds)
            walls.append(wall)
            theirs.append(generic)
        if not ours:
            figures.append(Figure("Time to 97% test accuracy (`fast` preset)", "not reached", "", "",
                                  "< 0.15 s", _verdict(False)))
        else:
            mine, ref = _median(ours), _median(theirs)
            figures.append(Figure(f"Time to 97% test accuracy (`fast` preset, {epochs} epochs)",
                                  f"{mine:.3f} s (wall from Start {_median(walls):.3f} s)",
                                  f"same recipe with `sgd_epoch` {ref:.3f} s", f"{ref / mine:.2f}x",
                                  "< 0.15 s", _verdict(mine < 0.15)))
    if quick:
        notes.append("`--quick`: the `best` preset's full run is skipped.")
        return figures
    best = PRESETS["best"]
    network = best.build_network()
    accuracies, elapsed, first_above = [], 0.0, None
    for event in train(network, dataset, best):
        if isinstance(event, EpochFinished):
            accuracies.append(event.test_accuracy or 0.0)
            elapsed = event.elapsed
            if first_above is None and accuracies[-1] > 0.99:
                first_above = (event.epoch, event.elapsed)
    final = accuracies[-1] if accuracies else 0.0
    above = (f"first above 99.0% at epoch {first_above[0]} ({first_above[1]:.1f} s)" if first_above
             else "never above 99.0%")
    figures.append(Figure(f"`best` preset, test accuracy after its {len(accuracies)} epochs",
                          f"{100 * final:.2f}% in {elapsed:.1f} s; best epoch {100 * max(accuracies):.2f}%; "
                          f"{above}", "FACTS: 99.05% in 11 s", "", "> 99.0% within 20 s",
                          _verdict(final > 0.99 and elapsed < 20)))
    return figures


# --------------------------------------------------------------------------------------------------
# 4. Loading
# --------------------------------------------------------------------------------------------------

def bench_loading(digits: Path, article_net: ModuleType | None, repeat: int,
                  notes: list[str]) -> list[Figure]:
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(_timed(lambda: load_dataset(digits)))
        if article_net is not None:
            theirs.append(_timed(lambda: (article_net.handwriting_data(str(digits / "trainingDigits")),
                                          article_net.handwriting_data(str(digits / "testDigits")))))
    mine = _median(ours)
    if not theirs:
        notes.append("The tutorial's loader was not found: loading time shown without a baseline.")
        return [Figure("Loading the data set (2,880 files)", _ms(mine), "", "", "", "")]
    ref = _median(theirs)
    return [Figure("Loading the data set (2,880 files, warm file cache)", _ms(mine),
                   f"tutorial loader {_ms(ref)}", f"{ref / mine:.2f}x", ">= 5x", _verdict(ref / mine >= 5))]


# --------------------------------------------------------------------------------------------------
# 5. Memory over a long run
# --------------------------------------------------------------------------------------------------

def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def bench_memory(dataset: Dataset, epochs: int, traced: int = 2_000) -> list[Figure]:
    """A 1024-4-10 per-sample run on 8 training and 8 test images for ``epochs`` epochs.

    Read at 1%, 10% and 100% of the run (after a garbage collection): Python's allocated blocks
    (``sys.getallocatedblocks``) and the resident size. ``tracemalloc`` slows such a run several
    times, so it traces only the last ``traced`` epochs and reports how much the memory it traced grew
    from the first 100 of them to the end. "Flat": from 10% on, fewer than 1,000 more blocks and
    under 4 MiB more RSS, and under 16 KiB of traced growth.
    """
    def head(split: Split, k: int) -> Split:
        return Split(split.images[:k], split.labels[:k], split.names[:k])
    tiny = Dataset("tiny", "bench", head(dataset.train, 8), head(dataset.test or dataset.train, 8))
    config = replace(PRESETS["article"], hidden=(4,), max_epochs=epochs)
    network = config.build_network()
    marks = sorted({max(1, epochs // 100), max(1, epochs // 10), epochs})
    trace_from = max(1, epochs - traced)
    trace_base = min(trace_from + 100, epochs)
    samples: dict[int, tuple[int, int]] = {}
    traced_base = traced_growth = 0
    start = time.perf_counter()
    for event in train(network, tiny, config):
        if not isinstance(event, EpochFinished):
            continue
        if event.epoch == trace_from:
            tracemalloc.start()
        if event.epoch == trace_base:
            gc.collect()
            traced_base = tracemalloc.get_traced_memory()[0]
        if event.epoch in marks:
            gc.collect()                        # count what is alive, not garbage awaiting collection
            if event.epoch == epochs and tracemalloc.is_tracing():
                traced_growth = tracemalloc.get_traced_memory()[0] - traced_base
                tracemalloc.stop()
            samples[event.epoch] = (sys.getallocatedblocks(), _rss_bytes())
    seconds = time.perf_counter() - start
    base, last = marks[-2] if len(marks) > 1 else marks[0], marks[-1]
    flat = (samples[last][0] - samples[base][0] < 1000 and samples[last][1] - samples[base][1] < 4 * 2**20
            and traced_growth < 16 * 1024)
    blocks = " -> ".join(f"{samples[m][0]:,}" for m in marks)
    rss = " -> ".join(f"{samples[m][1] / 2**20:.1f}" for m in marks)
    at = "/".join(f"{m:,}" for m in marks)
    return [Figure(f"Memory over a {epochs:,}-epoch run (1024-4-10, 8 samples, {seconds:.0f} s)",
                   f"allocated blocks {blocks}; RSS {rss} MiB (at epochs {at}); traced heap growth "
                   f"from epoch {trace_base:,} to {epochs:,}: {traced_growth / 1024:+.1f} KiB",
                   "", "", "flat from 10% on", _verdict(flat))]


# --------------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------------

def _environment() -> list[str]:
    lines = [f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
             f"- nproc: {os.cpu_count()}; Python {platform.python_version()}; NumPy {np.__version__}"]
    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info
        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        # NumPy's own BLAS first (PyTorch and SciPy bring their own).
        info.sort(key=lambda i: "numpy" not in str(i.get("filepath", "")))
        if info:
            blas = (f"{info[0].get('internal_api')} {info[0].get('version')}, kernel "
                    f"{info[0].get('architecture')}, {info[0].get('num_threads')} thread(s)")
    except ImportError:
        pass
    lines.append(f"- BLAS: {blas}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
                 f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studio.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--digits", type=Path, default=DEFAULT_SHARED / "datasets" / "digits",
                        help="data set folder with trainingDigits/ and testDigits/ (default: ../shared's)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure; the median is shown")
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs, a 10,000-epoch memory run, no `best` preset run")
    args = parser.parse_args(argv)
    if not args.digits.exists():
        print(f"data set not found: {args.digits} (give --digits PATH)", file=sys.stderr)
        return 2
    repeat = max(1, min(args.repeat, 3) if args.quick else args.repeat)
    shared = args.digits.resolve().parents[1]
    article_net = _load_article_net(shared) or _load_article_net(DEFAULT_SHARED)
    dataset = load_dataset(args.digits)
    notes: list[str] = []
    figures: list[Figure] = []
    environment = _environment()                 # before PyTorch or scikit-learn load their BLAS
    command = "python -m studio.bench" + (f" --repeat {args.repeat}" if args.repeat != 5 else "") \
        + (" --quick" if args.quick else "")
    steps = [("per-sample", lambda: bench_per_sample(dataset, article_net, repeat, notes)),
             ("mini-batch", lambda: bench_minibatch(dataset, repeat, notes)),
             ("accuracy", lambda: bench_accuracy(dataset, repeat, args.quick, notes)),
             ("loading", lambda: bench_loading(args.digits, article_net, repeat, notes)),
             ("memory", lambda: bench_memory(dataset, 10_000 if args.quick else 100_000))]
    for name, step in steps:
        print(f"... {name}", file=sys.stderr, flush=True)
        figures.extend(step())
    print(f"### Speed and memory (`{command}`)\n")
    print("\n".join(environment))
    print(f"- each figure: median of {repeat} interleaved runs ({3 * repeat} for the mini-batch epochs), "
          "wall-clock; ratio = baseline / ours\n")
    print("| figure | Backprop Studio | baseline | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    for f in figures:
        print(f"| {f.what} | {f.ours} | {f.baseline} | {f.ratio} | {f.target} | {f.met} |")
    if notes:
        print()
        for note in notes:
            print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
