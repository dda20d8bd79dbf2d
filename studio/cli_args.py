"""The command line's flags: the parser of every command, the flags that define a run (shared by ``train``,
``compare`` and ``script``), their checks before any data is loaded, and ``UsageError``.

Every limit names its flag, and the texts of the choices come from ``studio/core`` (one text per choice,
shown by ``--help`` and by the window alike). ``config_from_args`` turns the flags into a validated
``TrainingConfig``: the preset's settings with every given flag on top.

Left out: what the commands do (``studio.cli``).
"""
from __future__ import annotations

import argparse
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path

from studio.core.augment import AUGMENTS, parse_augment
from studio.core.lr_schedule import LR_SCHEDULE_DESCRIPTIONS, LR_SCHEDULES
from studio.core.model_file import MAX_LAYERS, MAX_PARAMETERS
from studio.core.network import (ACTIVATION_DESCRIPTIONS, ACTIVATIONS, BIAS_INIT_DESCRIPTIONS, BIAS_INITS,
                                 INIT_DESCRIPTIONS, INITS, LOSS_DESCRIPTIONS, LOSSES)
from studio.core.train_against import AGAINST_FOOLING_DESCRIPTION, MAX_COPIES
from studio.core.training import (EARLY_STOPPING_DESCRIPTION, ENGINE_DESCRIPTIONS, ENGINES, ORDER_DESCRIPTIONS,
                                  ORDERS, PRESET_DESCRIPTIONS, PRESETS, TrainingConfig, parse_hidden_sizes,
                                  with_overrides)

PROG = "backprop-studio"
DATA_HELP = ("data set: a folder with trainingDigits/ and testDigits/, a single folder of digit files, or a "
             ".zip of either; a folder of MNIST files (train-/t10k-images-idx3-ubyte[.gz] and their labels) "
             "or one MNIST images file with its labels beside it; or a folder of pictures in class "
             "folders 0/ to 9/")


class UsageError(Exception):
    """A command-line mistake; printed as one line."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a mistake as one line (no usage block) so scripts can read it."""

    def error(self, message: str) -> None:  # argparse's name
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------

def _hidden_sizes(text: str) -> tuple[int, ...]:
    try:
        return parse_hidden_sizes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _patience(text: str) -> int | None:
    """``--early-stopping N``: N >= 1 epochs; 0 means off."""
    if not (text.strip().isascii() and text.strip().isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number of epochs (0 = off), got {text!r}")
    return int(text) or None


def _choices_help(lead: str, descriptions: dict[str, str], default: str | None = None) -> str:
    """Help text listing each choice with its teaching text (the same texts the window shows)."""
    listed = "; ".join(f"{name}: {text.rstrip('.')}" for name, text in descriptions.items())
    text = f"{lead} (default: {default}). {listed}" if default else f"{lead}. {listed}"
    return text.replace("%", "%%")     # argparse formats help with %


def _augment_names(text: str) -> tuple[str, ...]:
    try:
        return parse_augment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error))


def add_training_arguments(t: argparse.ArgumentParser, data: bool = True) -> None:
    """The flags that define a run (data, preset and overrides), shared by ``train``, ``compare`` and
    (without ``--data``) ``script``; ``config_from_args`` reads them back."""
    if data:
        t.add_argument("--data", required=True, help=DATA_HELP)
    t.add_argument("--preset", choices=sorted(PRESETS), default="article",
                   help=_choices_help("starting settings; explicit flags override them", PRESET_DESCRIPTIONS,
                                      "article"))
    t.add_argument("--hidden", type=_hidden_sizes, help="hidden layer sizes, e.g. 16,16 or 16-16 (up to 8 "
                                                         "layers of 1 to 4096 units; '' for none)")
    t.add_argument("--activation", choices=ACTIVATIONS,
                   help=_choices_help("hidden layers' activation", ACTIVATION_DESCRIPTIONS))
    t.add_argument("--loss", choices=LOSSES, help=_choices_help("output layer and loss", LOSS_DESCRIPTIONS))
    t.add_argument("--init", choices=INITS, help=_choices_help("weight initialiser", INIT_DESCRIPTIONS))
    t.add_argument("--init-scale", type=float, help="multiply the initial weights by X")
    t.add_argument("--bias-init", choices=BIAS_INITS,
                   help=_choices_help("bias initialiser", BIAS_INIT_DESCRIPTIONS))
    t.add_argument("--lr", type=float, help="learning rate")
    t.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                   help=_choices_help("how the learning rate changes over the run's epochs",
                                      LR_SCHEDULE_DESCRIPTIONS, "constant"))
    t.add_argument("--batch", type=int, help="batch size (1 = one update per sample)")
    t.add_argument("--momentum", type=float)
    t.add_argument("--weight-decay", type=float, help="L2 coefficient")
    t.add_argument("--shift", type=int, help="random shifts of up to N pixels each epoch")
    t.add_argument("--augment", type=_augment_names, metavar="NAMES",
                   help=f"random distortions each epoch, comma-separated: {','.join(AUGMENTS)}, or none")
    t.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=None,
                   help="new sample order every epoch (--no-shuffle: the data set's fixed order)")
    t.add_argument("--order", choices=ORDERS,
                   help=_choices_help("sample order (overrides --shuffle)", ORDER_DESCRIPTIONS))
    t.add_argument("--epochs", type=int, help="number of epochs; 0 = until Ctrl-C")
    t.add_argument("--seed", type=int)
    t.add_argument("--early-stopping", type=_patience, metavar="N",
                   help=f"{EARLY_STOPPING_DESCRIPTION} 0 = off (the default)")
    t.add_argument("--engine", choices=ENGINES,
                   help=_choices_help("the code that trains each epoch; both make the same updates",
                                      ENGINE_DESCRIPTIONS, "fast"))
    t.add_argument("--against-fooling", type=int, metavar="N",
                   help=f"{AGAINST_FOOLING_DESCRIPTION} At most {MAX_COPIES} (default 0)")


def invoked_as(argv0: str | None = None) -> str:
    """How the user started the command line, for usage hints: ``python -m studio`` when run as a
    module, else the script's name (``backprop-studio``)."""
    name = Path(sys.argv[0] if argv0 is None else argv0).name
    if name == "__main__.py":
        return "python -m studio"
    return PROG if name in ("", "-c", "-m") else name


def build_parser(prog: str = PROG) -> ArgumentParser:
    parser = ArgumentParser(prog=prog, description="Train and inspect a from-scratch NumPy network on "
                                                   "32x32 handwritten digits.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    t = commands.add_parser("train", help="train a network and print one line per epoch")
    add_training_arguments(t)
    t.add_argument("--init-from", metavar="MODEL.npz", help="start from a saved model's weights")
    t.add_argument("--save", metavar="MODEL.npz", help="save the trained model here")
    t.add_argument("--save-best", metavar="MODEL.npz",
                   help="save the weights of the best epoch here (its info names the epoch); lines of "
                        "new best epochs end with '*'")
    t.add_argument("--log", metavar="RUN.csv", help="also write the per-epoch figures as CSV")

    e = commands.add_parser("evaluate", help="accuracy, per-class accuracy and confusion matrix")
    e.add_argument("model", metavar="MODEL.npz")
    e.add_argument("--data", required=True, help=DATA_HELP)

    p = commands.add_parser("predict", help="predicted digit and the ten outputs per file")
    p.add_argument("model", metavar="MODEL.npz")
    p.add_argument("files", metavar="FILE.txt", nargs="+")

    s = commands.add_parser("synth", help="generate the built-in synthetic handwriting data set")
    s.add_argument("--out", required=True, help="folder to write trainingDigits/ and testDigits/ into")
    s.add_argument("--seed", type=int, default=None, help="generator seed (default: the shipped set's)")

    x = commands.add_parser("export", help="write any data set in the tutorial's format (trainingDigits/ "
                                           "and testDigits/ of LABEL_SEQ.txt files)")
    x.add_argument("--data", required=True, help=DATA_HELP)
    x.add_argument("--out", required=True, help="a new or empty folder to write trainingDigits/ and "
                                                "testDigits/ into")

    w = commands.add_parser("explain", help="walk through one per-sample update on one digit file, with "
                                            "the network's own numbers")
    w.add_argument("model", metavar="MODEL.npz")
    w.add_argument("file", metavar="FILE.txt")
    w.add_argument("--label", type=int, required=True, help="the digit the file shows (the target)")
    w.add_argument("--lr", type=float, help="step size (default: the model's own, else 0.01)")
    w.add_argument("--json", action="store_true", help="print one JSON object instead of the text")

    c = commands.add_parser("compare", help="train several variants side by side in worker processes and "
                                            "print a summary table")
    add_training_arguments(c)
    c.add_argument("--vary", action="append", required=True, metavar="SETTING=A,B,...",
                   help="a setting and its values, e.g. init=randn,xavier, lr=0.01,0.1 or "
                        "engine=readable,fast (hidden sizes as 16-16); repeat for more settings: every "
                        "combination runs")
    c.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    c.add_argument("--csv", metavar="OUT.csv", help="also write the summary table as CSV")

    f = commands.add_parser("fool", help="the fewest pixel flips that change the network's answer: per file, "
                                         "or the fragility summary of a data split")
    f.add_argument("model", metavar="MODEL.npz")
    f.add_argument("files", metavar="FILE.txt", nargs="*", help="digit files to fool")
    f.add_argument("--target", type=int, help="the digit to make it say (default: anything else)")
    f.add_argument("--out", metavar="FOLDER", help="write each flipped digit as FOLDER/<stem>_as_<digit>.txt")
    f.add_argument("--data", help="measure fragility on this data set instead (" + DATA_HELP + ")")
    f.add_argument("--split", choices=("test", "train"), default="test")
    f.add_argument("--samples", type=int, help="measure this many samples, chosen at random (seed 0)")
    f.add_argument("--max-flips", type=int, default=60, help="give up after this many flips (default 60)")
    f.add_argument("--csv", metavar="OUT.csv", help="also write the flips per sample as CSV")

    w = commands.add_parser("script", help="write a standalone NumPy script that trains exactly these settings")
    add_training_arguments(w, data=False)
    w.add_argument("--out", metavar="run.py", help="write the script here (default: print it)")
    return parser


def config_from_args(args: argparse.Namespace) -> TrainingConfig:
    """The preset's settings with every given flag applied on top."""
    order = args.order
    if order is None and args.shuffle is not None:
        order = "shuffle" if args.shuffle else "dataset"
    if args.against_fooling is not None and not 0 <= args.against_fooling <= MAX_COPIES:
        raise UsageError(f"--against-fooling must be 0 (off) to {MAX_COPIES} copies a batch, "
                         f"got {args.against_fooling}")
    config = with_overrides(
        PRESETS[args.preset], hidden=args.hidden, activation=args.activation, loss=args.loss,
        init=args.init, init_scale=args.init_scale, bias_init=args.bias_init, lr=args.lr,
        lr_schedule=args.lr_schedule,
        batch_size=args.batch, momentum=args.momentum, weight_decay=args.weight_decay,
        shift=args.shift, augment=args.augment, order=order, seed=args.seed, engine=args.engine,
        early_stopping=args.early_stopping, against_fooling=args.against_fooling)
    if args.epochs is not None:
        if args.epochs < 0:
            raise UsageError("--epochs must be >= 0 (0 = until Ctrl-C)")
        config = replace(config, max_epochs=args.epochs or None)
        config.validate()
    _check_limits(args, config)
    return config


#: Largest --batch, before the data is loaded (then it must also fit the training set): the engines
#: hold a whole batch's activations, 8 KB per sample and more.
MAX_BATCH = 100_000


def _check_limits(args: argparse.Namespace, config: TrainingConfig) -> None:
    """Refuse values that pass the settings' own checks but would fail later in NumPy's words (or
    allocate gigabytes), naming the flag."""
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed must be a whole number >= 0, got {args.seed}")
    if args.batch is not None and not 1 <= args.batch <= MAX_BATCH:
        raise UsageError(f"--batch must be between 1 and {MAX_BATCH}, got {args.batch}")
    sizes = config.sizes()
    parameters = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if len(sizes) > MAX_LAYERS or parameters > MAX_PARAMETERS:
        raise UsageError(f"--hidden {','.join(map(str, config.hidden))[:80]}: a network of {len(sizes)} "
                         f"layers and {parameters:,} parameters is too large (at most {MAX_LAYERS} layers "
                         f"and {MAX_PARAMETERS:,} parameters, which a model file can hold)")


def check_output_path(path: str, flag: str, *, devices: bool = False) -> None:
    """Refuse an output path that cannot be written, before any data is loaded or trained on: its
    folder must exist and be writable, and it must not be a folder (or, unless ``devices``, anything
    but a regular file: a FIFO would block the write)."""
    target = Path(path)
    folder = target.parent
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot be used ({error.strerror or error})") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{flag} {path}: is a folder; give a file name")
    if info is not None and not stat.S_ISREG(info.st_mode) and not (devices and stat.S_ISCHR(info.st_mode)):
        raise UsageError(f"{flag} {path}: is not a regular file")
    if not folder.is_dir():
        raise UsageError(f"{flag} {path}: the folder {folder} does not exist")
    if info is None or stat.S_ISREG(info.st_mode):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UsageError(f"{flag} {path}: the folder {folder} is not writable")
    if info is not None and not os.access(target, os.W_OK) and flag == "--log":
        raise UsageError(f"{flag} {path}: the file is not writable")
