"""Training runs: the settings of a run, its presets, and the run itself as a generator of events.

A *run* trains one network on one data set, epoch after epoch, with mini-batch SGD (batch size 1 is
the tutorial's per-sample update). The run is a plain generator: each ``next()`` trains one epoch and
yields an immutable event carrying copies of the numbers, so a GUI worker thread, the command line and
the tests all drive it the same way. The outside world steers it through a ``RunControl`` (stop,
pause, step one epoch, change the learning rate) whose methods are safe to call from another thread.

Left out: Qt (``studio.gui.training_runner`` runs this generator in a thread), data loading
(``data.py``) and files (``model_file.py``).
"""
from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Iterator, Literal, Union, get_args

import numpy as np

from studio.core.augment import AUGMENTS, epoch_images, normalise_augment
from studio.core.data import Dataset
from studio.core.network import (ACTIVATIONS, BIAS_INITS, INITS, LOSS_FUNCTIONS, LOSSES, Network,
                                 one_hot)

OrderName = Literal["shuffle", "permuted", "dataset"]
ORDERS: tuple[str, ...] = get_args(OrderName)

ORDER_DESCRIPTIONS: dict[str, str] = {
    "shuffle": "a new random order every epoch",
    "permuted": "one random order, drawn once from the seed and kept for every epoch (the tutorial's: "
                "its files came in the fixed order os.listdir gave)",
    "dataset": "the data set's own order (label, then sequence number) every epoch",
}


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that defines a run. The network is ``(inputs, *hidden, classes)``.

    ``max_epochs`` None means no limit (the run goes on until stopped). ``shift`` > 0 moves every
    training image by a random whole number of pixels in [-shift, shift] in x and y each epoch;
    ``augment`` names further random distortions drawn each epoch (``augment.AUGMENTS``: rotate, scale,
    shear, thickness, elastic), applied before the shift.
    ``weight_decay`` is the L2 coefficient lambda: the update uses dC/dW + lambda W (biases are not
    decayed). With ``momentum`` mu the update is v <- mu v - lr (g + lambda W); W <- W + v.
    """

    hidden: tuple[int, ...] = (16, 16)
    activation: str = "sigmoid"
    loss: str = "sse"
    init: str = "randn"
    init_scale: float = 1.0
    bias_init: str = "randn"
    lr: float = 0.01
    batch_size: int = 1
    momentum: float = 0.0
    weight_decay: float = 0.0
    shift: int = 0
    augment: tuple[str, ...] = ()
    order: str = "permuted"
    max_epochs: int | None = 100
    seed: int = 0

    def validate(self) -> None:
        """Raise ``ValueError`` with a message a person can act on if any setting is out of range."""
        problems = []
        if any(int(h) < 1 for h in self.hidden):
            problems.append(f"hidden layer sizes must be whole numbers >= 1, got {list(self.hidden)}")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if self.loss not in LOSSES:
            problems.append(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.init not in INITS:
            problems.append(f"initialiser must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.bias_init not in BIAS_INITS:
            problems.append(f"bias initialiser must be one of {', '.join(BIAS_INITS)}, got {self.bias_init!r}")
        if self.order not in ORDERS:
            problems.append(f"sample order must be one of {', '.join(ORDERS)}, got {self.order!r}")
        if not (np.isfinite(self.init_scale)):
            problems.append(f"initialiser scale must be a finite number, got {self.init_scale}")
        if not (np.isfinite(self.lr) and self.lr > 0):
            problems.append(f"learning rate must be a number > 0, got {self.lr}")
        if self.batch_size < 1:
            problems.append(f"batch size must be >= 1, got {self.batch_size}")
        if not (0 <= self.momentum < 1):
            problems.append(f"momentum must be in [0, 1), got {self.momentum}")
        if not (np.isfinite(self.weight_decay) and self.weight_decay >= 0):
            problems.append(f"weight decay must be >= 0, got {self.weight_decay}")
        if not (0 <= self.shift <= 8):
            problems.append(f"shift must be between 0 and 8 pixels, got {self.shift}")
        unknown = [a for a in self.augment if a not in AUGMENTS]
        if unknown or len(set(self.augment)) != len(self.augment):
            problems.append(f"augmentations must be distinct names from {', '.join(AUGMENTS)}, "
                            f"got {list(self.augment)}")
        if self.max_epochs is not None and self.max_epochs < 1:
            problems.append(f"max epochs must be >= 1 (or unlimited), got {self.max_epochs}")
        if problems:
            raise ValueError("; ".join(problems))

    def sizes(self, inputs: int = 1024, classes: int = 10) -> tuple[int, ...]:
        return (inputs, *(int(h) for h in self.hidden), classes)

    def build_network(self, inputs: int = 1024, classes: int = 10) -> Network:
        """A freshly initialised network for these settings (draws W1, b1, W2, b2, ... from ``seed``)."""
        self.validate()
        return Network.initialised(self.sizes(inputs, classes), activation=self.activation,
                                   loss=self.loss, init=self.init, init_scale=self.init_scale,
                                   bias_init=self.bias_init, seed=self.seed)

    def label(self) -> str:
        """A short name for legends, e.g. ``randn, lr 0.01``; names only what differs from the article."""
        parts = [self.init if self.init_scale == 1 else f"{self.init} x{self.init_scale:g}",
                 f"lr {self.lr:g}"]
        if self.hidden != (16, 16):
            parts.append("-".join(str(h) for h in self.hidden))
        if self.activation != "sigmoid":
            parts.append(self.activation)
        if self.loss != "sse":
            parts.append(self.loss)
        if self.batch_size != 1:
            parts.append(f"batch {self.batch_size}")
        if self.momentum:
            parts.append(f"momentum {self.momentum:g}")
        if self.weight_decay:
            parts.append(f"decay {self.weight_decay:g}")
        if self.shift:
            parts.append(f"shift {self.shift}")
        if self.augment:
            parts.append("+".join(self.augment))
        return ", ".join(parts)

    def to_dict(self) -> dict:
        """JSON-able settings (for model files and the window's saved settings)."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["augment"] = list(self.augment)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainingConfig:
        """Settings from ``to_dict`` output; unknown keys are ignored, missing ones take defaults."""
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in d.items() if k in known}
        if "hidden" in kwargs:
            kwargs["hidden"] = tuple(int(h) for h in kwargs["hidden"])
        if "augment" in kwargs:
            if not isinstance(kwargs["augment"], (list, tuple)):
                raise ValueError(f"augment must be a list of names, got {kwargs['augment']!r}")
            kwargs["augment"] = normalise_augment(kwargs["augment"])
        config = cls(**kwargs)
        config.validate()
        return config


#: ``article`` is the tutorial exactly: 1024-16-16-10, sigmoid, squared error, randn weights and biases,
#: lr 0.01, one update per sample, one fixed (seeded) sample order for all epochs.
#: ``best`` is the recipe that reads other people's handwriting best while staying near the top on the
#: tutorial's own test split: two ReLU layers (256, 128), softmax + cross-entropy, He init, batches
#: of 64, lr 0.02, momentum 0.9, weight decay 1e-4, +-2 px random shifts and all five augmentations
#: (rotate, scale, shear, thickness, elastic; 30% of the images kept as they are each epoch), 80
#: epochs. Trained on trainingDigits alone, seeds 0/1/2 read 99.47/99.37/99.37% of testDigits (mean
#: 99.40%) and 90.45/89.68/88.06% of MNIST t10k converted by the studio's import (mean 89.40%;
#: without augmentation seed 0 read 99.26% and 78.6%); trained on data/synthetic alone, 95.0/94.1/
#: 94.1% of the real testDigits (mean 94.4%). A run took 14-17 CPU seconds (15-31 s wall) on the
#: 2-core machine while others used it (tests/benchmarks/bench_robustness.py, 2026-12-02).
#: ``fast`` is the quickest to 97% test accuracy on the tutorial's digits: a small tanh layer, Xavier
#: weights, cross-entropy, batches of 32 with momentum (3 epochs, about 0.05 s, with seed 0; 2 to 5
#: epochs with other seeds).
PRESETS: dict[str, TrainingConfig] = {
    "article": TrainingConfig(hidden=(16, 16), activation="sigmoid", loss="sse", init="randn",
                              bias_init="randn", lr=0.01, batch_size=1, momentum=0.0, weight_decay=0.0,
                              shift=0, order="permuted", max_epochs=1743, seed=0),
    "best": TrainingConfig(hidden=(256, 128), activation="relu", loss="ce", init="he", bias_init="zeros",
                           lr=0.02, batch_size=64, momentum=0.9, weight_decay=1e-4, shift=2,
                           augment=("rotate", "scale", "shear", "thickness", "elastic"),
                           order="shuffle", max_epochs=80, seed=0),
    "fast": TrainingConfig(hidden=(32,), activation="tanh", loss="ce", init="xavier", bias_init="zeros",
                           lr=0.03, batch_size=32, momentum=0.9, weight_decay=0.0, shift=0,
                           order="shuffle", max_epochs=20, seed=0),
}


# --------------------------------------------------------------------------------------------------
# Events: small, immutable, holding only copies (plain floats), safe to hand to another thread.
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EpochFinished:
    """One epoch is done. ``epoch`` counts from 1.

    ``train_loss`` and ``train_accuracy`` are measured during the epoch, on each batch just before its
    update, as the tutorial measured them. ``test_*`` are measured after the epoch on the whole test
    split (None when the data set has none). ``seconds`` is this epoch's training time, ``elapsed``
    the run's total training time (pauses excluded).
    """

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float | None
    test_accuracy: float | None
    seconds: float
    elapsed: float
    learning_rate: float
    samples: int


@dataclass(frozen=True)
class RunFinished:
    """The run ended normally: ``reason`` is ``max_epochs`` or ``stopped`` (asked to stop)."""

    epochs: int
    reason: Literal["max_epochs", "stopped"]


@dataclass(frozen=True)
class RunDiverged:
    """The loss or a weight became NaN or infinite in ``epoch``; the network was put back to its
    weights at the end of the previous epoch (or its initial weights). ``layer`` is 1-based."""

    epoch: int
    layer: int | None
    message: str


RunEvent = Union[EpochFinished, RunFinished, RunDiverged]


# --------------------------------------------------------------------------------------------------
# Steering a run from another thread
# --------------------------------------------------------------------------------------------------

class RunControl:
    """Stop, pause, step and learning-rate requests for a run, safe to call from any thread.

    These must be plain method calls, not queued Qt signals: a busy worker only receives signals after
    its loop returns. The run calls ``checkpoint()`` before every batch; it blocks there while paused,
    so pausing never loses or repeats a sample.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._step_to_epoch_end = False
        self._pending_lr: float | None = None

    # -- called by the controller (e.g. the GUI thread) ---------------------------------------------

    def stop(self) -> None:
        """Ask the run to end at the next batch; wakes a paused run so it can see the request."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        with self._lock:
            self._step_to_epoch_end = False
            self._running.clear()

    def resume(self) -> None:
        with self._lock:
            self._step_to_epoch_end = False
            self._running.set()

    def step_one_epoch(self) -> None:
        """Run until the end of the current epoch (one whole epoch when paused between epochs), then pause."""
        with self._lock:
            self._step_to_epoch_end = True
            self._running.set()

    def set_learning_rate(self, lr: float) -> None:
        """Use ``lr`` from the next epoch on."""
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a number > 0, got {lr}")
        with self._lock:
            self._pending_lr = float(lr)

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # -- called by the run -----------------------------------------------------------------------

    def checkpoint(self) -> bool:
        """Block while paused; return True if the run must stop."""
        if not self._running.is_set():
            self._running.wait()
        return self._stop.is_set()

    def epoch_ended(self) -> None:
        """A stepped epoch is over: pause again."""
        with self._lock:
            if self._step_to_epoch_end:
                self._step_to_epoch_end = False
                self._running.clear()

    def take_learning_rate(self) -> float | None:
        with self._lock:
            lr, self._pending_lr = self._pending_lr, None
        return lr


# --------------------------------------------------------------------------------------------------
# One epoch of SGD
# --------------------------------------------------------------------------------------------------

@dataclass
class EpochTally:
    """What an epoch function reports: summed per-sample loss, correct predictions, samples seen."""

    loss_sum: float = 0.0
    hits: int = 0
    samples: int = 0
    stopped: bool = False


@dataclass
class Optimiser:
    """SGD with optional momentum and L2 weight decay; ``velocities`` mirror W1, b1, W2, b2, ..."""

    lr: float
    momentum: float = 0.0
    weight_decay: float = 0.0
    velocities: list[np.ndarray] = field(default_factory=list)

    def step(self, network: Network, grad_w: list[np.ndarray], grad_b: list[np.ndarray]) -> None:
        """Apply one update in place. Plain SGD (no momentum, no decay) is the tutorial's W -= lr * dW."""
        if self.momentum == 0.0 and self.weight_decay == 0.0:
            for w, b, gw, gb in zip(network.weights, network.biases, grad_w, grad_b):
                w -= self.lr * gw
                b -= self.lr * gb
            return
        if not self.velocities:
            self.velocities = [np.zeros_like(p) for p in network.parameters()]
        grads = []
        for w, gw, gb in zip(network.weights, grad_w, grad_b):
            grads.append(gw + self.weight_decay * w if self.weight_decay else gw)
            grads.append(gb)
        for p, v, g in zip(network.parameters(), self.velocities, grads):
            v *= self.momentum
            v -= self.lr * g
            p += v


def sgd_epoch(network: Network, x: np.ndarray, y: np.ndarray, labels: np.ndarray, order: np.ndarray,
              batch_size: int, optimiser: Optimiser, control: RunControl) -> EpochTally:
    """Train one epoch in place: batches of ``batch_size`` rows of x (n, inputs) taken in ``order``.

    ``y`` are one-hot targets (n, classes) and ``labels`` the classes (n,). The loss and hits are
    taken from each batch's forward pass, before that batch's update.
    """
    tally = EpochTally()
    for start in range(0, len(order), batch_size):
        if control.checkpoint():
            tally.stopped = True
            break
        rows = order[start:start + batch_size]
        grads = network.backward(x[rows], y[rows])
        optimiser.step(network, grads.weights, grads.biases)
        tally.loss_sum += grads.loss * len(rows)
        tally.hits += int(np.count_nonzero(np.argmax(grads.output, axis=1) == labels[rows]))
        tally.samples += len(rows)
    return tally


def evaluate(network: Network, x: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Mean loss and accuracy of ``network`` on x (n, inputs) with classes ``labels`` (n,)."""
    fp = network.forward(x)
    y = one_hot(labels, network.sizes[-1])
    loss = float(np.mean(LOSS_FUNCTIONS[network.loss].fn(fp.zs[-1], fp.output, y)))
    accuracy = float(np.mean(np.argmax(fp.output, axis=1) == labels))
    return loss, accuracy


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------

def epoch_order(config: TrainingConfig, n: int, epoch: int) -> np.ndarray:
    """The sample order of epoch ``epoch`` (counting from 1): a permutation of range(n).

    ``permuted`` is ``np.random.default_rng(seed).permutation(n)`` for every epoch, the same order
    the tutorial's baseline uses for a given seed. ``shuffle`` draws each epoch's order from its own
    stream ``(seed, 1, epoch)``, so a run carried on from epoch k after a stop gets the orders it
    would have had without the stop.
    """
    if config.order == "dataset":
        return np.arange(n)
    if config.order == "permuted":
        return np.random.default_rng(config.seed).permutation(n)
    return np.random.default_rng([config.seed, 1, epoch]).permutation(n)


def train(network: Network, dataset: Dataset, config: TrainingConfig,
          control: RunControl | None = None, epoch_function=None,
          first_epoch: int = 0) -> Iterator[RunEvent]:
    """Train ``network`` in place on ``dataset.train``; yield an ``EpochFinished`` per epoch and end
    with one ``RunFinished`` or ``RunDiverged``.

    Epochs are numbered from ``first_epoch + 1``, and ``config.max_epochs`` counts them all: to carry
    on a run that was stopped after epoch k, pass the same network with ``first_epoch=k`` and the
    epochs get the numbers, sample orders and shifts they would have had without the stop (momentum
    starts again from zero).

    ``network`` must have ``dataset``'s input size and 10 outputs; its shape and functions are its own
    (the config's optimiser settings, order, shift and epochs are what this function uses).
    ``epoch_function`` replaces ``sgd_epoch`` (same signature), for faster exact kernels.
    """
    config.validate()
    control = control or RunControl()
    epoch_function = epoch_function or choose_epoch_function(config)
    train_x = dataset.train.images.astype(np.float64)
    labels = np.asarray(dataset.train.labels, dtype=np.int64)
    if train_x.shape[1] != network.sizes[0]:
        raise ValueError(f"the network takes {network.sizes[0]} inputs but the data set's images have "
                         f"{train_x.shape[1]} pixels")
    y = one_hot(labels, network.sizes[-1])
    test_x = test_labels = None
    if dataset.test is not None and len(dataset.test) > 0:
        test_x = dataset.test.images.astype(np.float64)
        test_labels = np.asarray(dataset.test.labels, dtype=np.int64)
    optimiser = Optimiser(lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    last_good = network.copy()
    elapsed = 0.0
    epoch = first_epoch
    while config.max_epochs is None or epoch < config.max_epochs:
        # Wait here while paused between epochs, so a learning rate set during the pause applies to
        # the very next epoch.
        if control.checkpoint():
            yield RunFinished(epoch, "stopped")
            return
        new_lr = control.take_learning_rate()
        if new_lr is not None:
            optimiser.lr = new_lr
        order = epoch_order(config, len(labels), epoch + 1)
        started = time.perf_counter()
        # np.errstate is per thread and, as a context variable, must not span a yield: enter it here.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            x = epoch_images(dataset.train.images, config.augment, config.shift, config.seed,
                             epoch + 1).astype(np.float64) if config.shift or config.augment else train_x
            tally = epoch_function(network, x, y, labels, order, config.batch_size, optimiser, control)
            finite = np.isfinite(tally.loss_sum) and network.is_finite()
            test_loss = test_acc = None
            if finite and test_x is not None and not tally.stopped:
                test_loss, test_acc = evaluate(network, test_x, test_labels)
        seconds = time.perf_counter() - started
        elapsed += seconds
        if not finite:
            layer = network.first_non_finite_layer()
            where = f"in layer {layer}'s weights" if layer else "in the loss"
            _restore(network, last_good)
            optimiser.velocities = []
            kept = f"the weights from the end of epoch {epoch}" if epoch > first_epoch else \
                "the weights it started this run with"
            yield RunDiverged(epoch + 1, layer,
                              f"Training diverged in epoch {epoch + 1}: NaN or infinity {where} "
                              f"(learning rate {optimiser.lr:g}). The network keeps {kept}; "
                              f"try a smaller learning rate.")
            return
        if tally.stopped:
            yield RunFinished(epoch, "stopped")
            return
        epoch += 1
        last_good = network.copy()
        yield EpochFinished(epoch=epoch, train_loss=tally.loss_sum / max(tally.samples, 1),
                            train_accuracy=tally.hits / max(tally.samples, 1), test_loss=test_loss,
                            test_accuracy=test_acc, seconds=seconds, elapsed=elapsed,
                            learning_rate=optimiser.lr, samples=tally.samples)
        control.epoch_ended()
    yield RunFinished(epoch, "max_epochs")


def choose_epoch_function(config: TrainingConfig):
    """A fresh epoch function for one run of ``config``; same signature and results as ``sgd_epoch``.

    Batch size 1 with plain SGD (no momentum, no weight decay; the tutorial's mode) gets
    ``fast_sgd.PerSampleSGD``, every other setting ``fast_sgd.MiniBatchSGD``. Both do the same
    updates as ``sgd_epoch`` (the tests hold them to it) with far fewer NumPy calls, and keep buffers
    (the per-sample one also a cache) from one epoch to the next, so make one per run.
    ``sgd_epoch`` stays the version to read.
    """
    from studio.core.fast_sgd import MiniBatchSGD, PerSampleSGD, per_sample_applies  # uses EpochTally
    if per_sample_applies(config.batch_size, config.momentum, config.weight_decay):
        return PerSampleSGD()
    return MiniBatchSGD()


def _restore(network: Network, good: Network) -> None:
    """Copy ``good``'s parameters back into ``network`` in place (others may hold references to it)."""
    for p, q in zip(network.parameters(), good.parameters()):
        p[...] = q


def with_overrides(config: TrainingConfig, **changes: object) -> TrainingConfig:
    """``config`` with the given fields changed (None values are ignored), validated."""
    changed = replace(config, **{k: v for k, v in changes.items() if v is not None})
    changed.validate()
    return changed
