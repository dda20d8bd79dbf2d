"""The studio's session: what a learner has open and has trained, and the rules about it, without Qt.

A ``Session`` holds the data set, the network and the settings it was built with (and whether it is
still *fresh*: built and never trained), the latest snapshot the views show, and the *runs* of this
session. A run is one network's training from its start (or from a loaded model) until it is replaced:
its settings, its ``RunHistory``, its final weights, its best epoch with that epoch's weights, a label,
and whether it was saved since its last epoch. The run being trained is ``current``; ``earlier`` keeps
every run replaced by Reset, Load model, a new data set or a new network, so nothing trained is lost
without a word: an earlier run can be brought back (its weights become the network again, its
numbers the current run) and exported, and ``unsaved_runs`` says what Quit would discard.

The window (``studio.gui.main_window``) owns one session and hands each view the part it shows
(napari style); the views never own run state. The rules that used to live in the window live here:

- ``needs_new_network``: which settings define a network (``NETWORK_FIELDS``); the others (learning
  rate, batch, momentum, ...) carry on with the same network.
- ``check_network_size``: a network too large to hold is refused with a message before it is built.
- ``fit_to_form``: values that fit no field of the settings form (a seed above 2^31-1 from the command
  line, ``max_epochs`` of 10^12) are clamped, and each clamp is named, so a loaded model or a settings
  file always fills the form completely.
- ``model_info``: what a saved model records (settings, epochs, accuracy) and the truth when the weights
  were taken mid-epoch (a paused run).
- ``config_for_loaded``: a loaded model's settings reconciled with its weights; after loading, the
  network *is* the loaded weights and its settings match the form, so the next Start trains them.

Left out: threads, widgets and files (the window saves and loads through ``model_writer`` and ``model_reader``),
and the best-epoch rule itself (``studio.core.evaluation``; the window's tracker reports to the run).
"""
from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from studio.core.augment import normalise_augment
from studio.core.data import Dataset
from studio.core.history import CSV_HEADER, RunHistory
from studio.core.network import Network
# The rule of which settings define a network lives beside the settings (training.py); the session uses it.
from studio.core.training import NETWORK_FIELDS, PRESETS, EpochFinished, TrainingConfig, needs_new_network

#: The studio's digits: 32x32 pictures in, ten classes out.
INPUTS, CLASSES = 1024, 10

#: Largest network the window builds, in weights and biases (40 MB a copy in float64; the window keeps
#: a few copies: the training network, the latest snapshot, the best epoch's, earlier runs').
MAX_PARAMETERS = 5_000_000
#: Most hidden layers the window builds.
MAX_HIDDEN_LAYERS = 8

#: The ranges the settings form can show (Qt's spin boxes hold 32-bit ints); ``fit_to_form`` clamps
#: into them. ``max_epochs`` 0 in the form means unlimited (None here).
FORM_LIMITS: dict[str, tuple[float, float]] = {
    "init_scale": (0.001, 100.0),
    "lr": (1e-6, 1e6),
    "batch_size": (1, 65_536),
    "momentum": (0.0, 0.99),
    "weight_decay": (0.0, 1.0),
    "shift": (0, 8),
    "max_epochs": (1, 10_000_000),
    "seed": (0, 2_147_483_647),
}


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a fully connected network with layer ``sizes`` (input first)."""
    return sum(int(n_in) * int(n_out) + int(n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def check_network_size(config: TrainingConfig, inputs: int = INPUTS, classes: int = CLASSES) -> None:
    """Raise ``ValueError`` (saying what to do) if ``config``'s network is too large to build."""
    if len(config.hidden) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"{len(config.hidden)} hidden layers is more than the studio builds "
                         f"({MAX_HIDDEN_LAYERS}); use fewer layers")
    sizes = config.sizes(inputs, classes)
    count = parameter_count(sizes)
    if count > MAX_PARAMETERS:
        shown = "-".join(str(s) for s in sizes)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        raise ValueError(f"a {shown} network has {count:,} weights and biases, more than the studio "
                         f"holds ({MAX_PARAMETERS:,}, about {MAX_PARAMETERS * 8 // 10**6} MB a copy); "
                         "use smaller hidden layers")


def fit_to_form(config: TrainingConfig) -> tuple[TrainingConfig, list[str]]:
    """``config`` with every value clamped into ``FORM_LIMITS``, and one note per value changed.

    Only the form's ranges are applied: a valid config that fits stays equal (``notes`` empty).
    """
    changes: dict[str, Any] = {}
    notes: list[str] = []
    for name, (low, high) in FORM_LIMITS.items():
        value = getattr(config, name)
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            continue                          # not a number to clamp: ``validate`` refuses it
        fitted: Any = min(max(value, low), high)
        if isinstance(value, int):
            fitted = int(fitted)
        if fitted != value:
            changes[name] = fitted
            notes.append(f"{name.replace('_', ' ')} {_short(value)} does not fit the settings form: "
                         f"{_short(fitted)} is shown")
    return (replace(config, **changes) if changes else config), notes


def _short(value: Any, limit: int = 40) -> str:
    text = f"{value:,}" if isinstance(value, int) else f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def config_for_loaded(network: Network, info: dict[str, Any], form: TrainingConfig | None
                      ) -> tuple[TrainingConfig, list[str]]:
    """The settings to show for a loaded ``network`` and its file's ``info``, and notes on what was
    changed to fit the form.

    The network-defining settings always come from the network itself (its sizes, activation, loss);
    the others from the file's ``info["config"]`` when it holds a valid one, else from ``form`` (the
    settings already shown; the article preset when None). Values that fit no field are clamped
    (``fit_to_form``); unusable ones take ``form``'s (``config_from_saved``). The result always validates.
    """
    base = form if form is not None else PRESETS["article"]
    saved = info.get("config")
    notes: list[str] = []
    if saved is not None:
        base, notes = config_from_saved(saved, base)
    config = replace(base, hidden=tuple(network.sizes[1:-1]), activation=network.activation,
                     loss=network.loss)
    config, fit_notes = fit_to_form(config)
    config.validate()
    return config, notes + fit_notes


@dataclass
class Run:
    """One network's training in this session.

    ``history`` holds its epochs; ``final_network`` its weights when it was replaced (None while it is
    the current run: the session's ``network`` holds them); ``best_*`` its best epoch (by test accuracy,
    training accuracy without a test split) and a copy of that epoch's weights; ``saved_epoch`` the
    epoch it was last saved at (None: never saved).
    """

    config: TrainingConfig
    history: RunHistory
    label: str
    final_network: Network | None = None
    best_epoch: int | None = None
    best_accuracy: float | None = None
    best_network: Network | None = None
    saved_epoch: int | None = None

    @property
    def trained(self) -> bool:
        """True once it has at least one epoch."""
        return len(self.history) > 0

    @property
    def saved(self) -> bool:
        """True if it was saved after its last epoch."""
        return self.saved_epoch is not None and self.saved_epoch >= self.history.last_epoch

    def __repr__(self) -> str:
        return f"Run({self.label!r}, epochs={len(self.history)}, best={self.best_epoch}, saved={self.saved})"


@dataclass
class Session:
    """Everything open in one window, without Qt. See the module docstring."""

    dataset: Dataset | None = None
    network: Network | None = None              # trained in place by a run while one is live
    network_config: TrainingConfig | None = None  # what ``network`` was built with (or loaded as)
    network_fresh: bool = False                 # built from the settings and never trained
    snapshot: Network | None = None             # the latest copy: what the views show
    max_epochs: int | None = None               # the live run's limit
    weights_epoch: int | None = None            # set when the network holds an earlier epoch's weights
    current: Run = field(default_factory=lambda: Run(PRESETS["article"], RunHistory(PRESETS["article"]), "run"))
    earlier: list[Run] = field(default_factory=list)

    # -- the network --------------------------------------------------------------------------------

    def build_network(self, config: TrainingConfig) -> Network:
        """A fresh network for ``config`` (not yet adopted). Raises ``ValueError`` naming what is wrong
        (an invalid setting, a network too large)."""
        config.validate()
        check_network_size(config)
        return config.build_network(INPUTS, CLASSES)

    def adopt_network(self, network: Network, config: TrainingConfig, *, fresh: bool,
                      label: str | None = None) -> None:
        """Make ``network`` (built with, or loaded as, ``config``) the session's network and start a new
        current run for it; the old current run, if trained, is kept in ``earlier`` (call ``keep_run``
        first to give it its final and best weights)."""
        self.network, self.network_config, self.network_fresh = network, config, fresh
        self.weights_epoch = None
        self.start_run(config, label)

    def needs_rebuild(self, config: TrainingConfig) -> bool:
        """True if Start with ``config`` must first build a new network."""
        return self.network is None or self.network_config is None or needs_new_network(config, self.network_config)

    def current_config(self, form: TrainingConfig | None) -> TrainingConfig:
        """The form's settings with the network's own network-defining settings (for saving, labels)."""
        base = self.network_config or PRESETS["article"]
        if form is None:
            return base
        return replace(form, **{name: getattr(base, name) for name in NETWORK_FIELDS})

    # -- runs ---------------------------------------------------------------------------------------

    @property
    def history(self) -> RunHistory:
        """The current run's numbers."""
        return self.current.history

    @property
    def runs(self) -> list[Run]:
        """Every run of the session with epochs, oldest first, the current one last if trained."""
        return [*self.earlier, self.current] if self.current.trained else list(self.earlier)

    def start_run(self, config: TrainingConfig, label: str | None = None) -> Run:
        """Begin a new current run; the old one is kept in ``earlier`` if it has any epochs."""
        if self.current.trained:
            self.earlier.append(self.current)
        self.current = Run(config, RunHistory(config, label), label or config.label())
        return self.current

    def keep_run(self, final: Network | None, best_epoch: int | None = None,
                 best_accuracy: float | None = None, best_network: Network | None = None) -> None:
        """Record the current run's final weights (a copy is taken) and best epoch, before it is
        replaced or while it rests."""
        run = self.current
        run.final_network = None if final is None else final.copy()
        run.best_epoch, run.best_accuracy, run.best_network = best_epoch, best_accuracy, best_network

    def add_epochs(self, events: Iterable[EpochFinished]) -> None:
        """Append a delivery of epochs to the current run."""
        self.current.history.extend(events)
        self.network_fresh = False

    def bring_back(self, index: int) -> Run:
        """Make ``earlier[index]`` the current run again: its final weights (a copy) become the network,
        its settings the network's. The current run, if trained, takes its place in ``earlier``.
        Raises ``IndexError`` or ``ValueError`` (a run without final weights)."""
        run = self.earlier[index]
        if run.final_network is None:
            raise ValueError(f"the run {run.label!r} kept no weights")
        del self.earlier[index]
        if self.current.trained:
            self.earlier.append(self.current)
        self.current = run
        self.network, self.network_config, self.network_fresh = run.final_network.copy(), run.config, False
        self.weights_epoch = None
        return run

    def clear_earlier(self) -> None:
        """Forget the earlier runs (the user asked to)."""
        self.earlier.clear()

    def unsaved_runs(self) -> list[Run]:
        """Trained runs not saved since their last epoch: what closing the window would discard."""
        return [run for run in self.runs if not run.saved]

    def mark_saved(self, epoch: int) -> None:
        """The current run was saved holding ``epoch``'s weights (or a later part of the run)."""
        self.current.saved_epoch = max(int(epoch), self.current.history.last_epoch)

    # -- saving ---------------------------------------------------------------------------------------

    def model_info(self, config: TrainingConfig, *, mid_epoch: bool = False) -> dict[str, Any]:
        """What a saved model records: ``config`` (its settings), ``epochs`` (the epoch its weights are
        from), that epoch's accuracies, the data set's name, and, when ``mid_epoch`` (saved while a run is
        paused: a run pauses between batches, so the weights may be taken inside an epoch),
        ``partial_epoch``: the number of the epoch in progress, whose updates the weights may hold in part,
        and a ``note`` saying so."""
        history = self.history
        epoch = self.weights_epoch if self.weights_epoch is not None else history.last_epoch
        info: dict[str, Any] = {"config": config.to_dict(), "epochs": epoch}
        row = history.row(epoch) if len(history) else None
        if row is not None:
            info["train_accuracy"] = row["train_acc"]
            if history.has_test:
                info["test_accuracy"] = row["test_acc"]
        if mid_epoch and self.weights_epoch is None:
            info["partial_epoch"] = epoch + 1
            info["note"] = (f"saved while paused: the weights hold epoch {epoch} and possibly part of epoch "
                            f"{epoch + 1} (a run pauses between batches); the accuracies are those of "
                            f"epoch {epoch}")
        if self.dataset is not None:
            info["dataset"] = self.dataset.name
        return info

    def run_info(self, run: Run, best: bool = False) -> dict[str, Any]:
        """What a model saved from an earlier ``run``'s final weights (or, ``best``, its best epoch's)
        records (as ``model_info``)."""
        history = run.history
        epoch = run.best_epoch if best and run.best_epoch is not None else history.last_epoch
        info: dict[str, Any] = {"config": run.config.to_dict(), "epochs": epoch}
        row = history.row(epoch) if len(history) else None
        if row is not None:
            info["train_accuracy"] = row["train_acc"]
            if history.has_test:
                info["test_accuracy"] = row["test_acc"]
        return info

    def write_runs_csv(self, path_or_file: str | os.PathLike[str] | IO[str]) -> int:
        """Write every run's epochs as one CSV (a ``run`` column first: the run's number in this session
        and its label) and return how many runs it holds."""
        if isinstance(path_or_file, (str, os.PathLike)):
            with open(Path(path_or_file), "w", encoding="utf-8", newline="") as file:
                return self.write_runs_csv(file)
        runs = self.runs or [self.current]
        writer = csv.writer(path_or_file, lineterminator="\n")
        writer.writerow(("run", "label", *CSV_HEADER))
        for number, run in enumerate(runs, start=1):
            rows = run.history.to_csv_text().split("\n")[1:]
            for line in rows:
                if line:
                    writer.writerow((number, run.label, *next(csv.reader([line]))))
        return len(runs)


#: What each setting must be when read back from a file (bools are not numbers here).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "activation": (str,), "loss": (str,), "init": (str,), "bias_init": (str,), "order": (str,),
    "init_scale": (int, float), "lr": (int, float), "momentum": (int, float), "weight_decay": (int, float),
    "batch_size": (int,), "shift": (int,), "seed": (int,), "max_epochs": (int, type(None)),
    "lr_schedule": (str,), "engine": (str,), "early_stopping": (int, type(None)),
    "against_fooling": (int,),
}


def config_from_saved(saved: object, default: TrainingConfig = PRESETS["article"]
                      ) -> tuple[TrainingConfig, list[str]]:
    """Settings read back from a file (the window's settings, a model's meta): every usable value of the
    dict ``saved``, ``default``'s for the others, clamped into the form's ranges; never raises.

    Returns the config (always valid, always buildable) and one note per value refused or clamped.
    """
    if not isinstance(saved, dict):
        return default, [f"the saved settings are a {type(saved).__name__}, not a table of settings: "
                         "the defaults are used"]
    notes: list[str] = []
    values: dict[str, Any] = {}
    for name, kinds in _FIELD_TYPES.items():
        if name not in saved:
            continue
        value = saved[name]
        if isinstance(value, str) and int in kinds and str not in kinds and value.strip().isascii() \
                and value.strip().isdigit() and len(value.strip()) < 40:
            value = int(value.strip())           # a number stored as text
        if isinstance(value, bool) or not isinstance(value, kinds):
            notes.append(f"{name.replace('_', ' ')} {_short(repr(value))} is not usable: "
                         f"{_short(getattr(default, name))} is used")
            continue
        values[name] = float(value) if float in kinds and isinstance(value, int) else value
    if "augment" in saved:
        augment = saved["augment"]
        try:
            if not isinstance(augment, list) or not all(isinstance(a, str) for a in augment):
                raise ValueError("not a list of names")
            values["augment"] = normalise_augment(augment)
        except ValueError:
            notes.append(f"augmentations {_short(repr(augment))} are not usable: "
                         f"{_short(list(default.augment))} are used")
    if "hidden" in saved:
        hidden = saved["hidden"]
        if isinstance(hidden, list) and all(isinstance(h, int) and not isinstance(h, bool) for h in hidden):
            values["hidden"] = tuple(hidden)
        else:
            notes.append(f"hidden layers {_short(repr(hidden))} are not a list of sizes: "
                         f"{_short(list(default.hidden))} are used")
    config = default
    # One at a time, so one bad value costs only itself. A value refused because of another one not
    # yet applied (a decaying schedule before its max epochs) gets a second try after all the others.
    pending = dict(values)
    refused: dict[str, str] = {}
    for _ in range(2):
        refused = {}
        for name, value in pending.items():
            candidate = replace(config, **{name: value})
            try:
                candidate.validate()             # an invalid value is refused, a valid one clamped
                if name == "hidden":
                    check_network_size(candidate)
            except (ValueError, TypeError, OverflowError) as error:
                refused[name] = f"{_short(str(error), 200)}: {name.replace('_', ' ')} " \
                                f"{_short(getattr(default, name))} is used"
                continue
            config, fit_notes = fit_to_form(candidate)
            notes.extend(fit_notes)
        pending = {name: values[name] for name in refused}
    return config, notes + list(refused.values())
