"""The studio's command line: ``python -m studio train|compare|evaluate|predict|synth|export ...``.

Same core as the window, no Qt. Every mistake a user can make (a bad flag, a malformed file) ends
with exit status 2 and one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import csv
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Sequence, TextIO

import numpy as np

from studio.core.data import DataError, parse_digit_text
from studio.core.evaluation import confusion_matrix
from studio.core.model_file import ModelFileError, load_model, save_model
from studio.core.network import ACTIVATIONS, BIAS_INITS, INITS, LOSSES
from studio.core.sources import export_source, open_data_source
from studio.core.training import (ORDERS, PRESETS, EpochFinished, RunControl, RunDiverged,
                                  RunFinished, TrainingConfig, train, with_overrides)

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
        sizes = tuple(int(part) for part in text.split(",") if part.strip() != "")
    except ValueError:
        raise argparse.ArgumentTypeError(f"hidden sizes must be whole numbers separated by commas, got {text!r}")
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be >= 1, got {text!r}")
    return sizes


def add_training_arguments(t: argparse.ArgumentParser, data: bool = True) -> None:
    """The flags that define a run (data, preset and overrides), shared by ``train``, ``compare`` and
    (without ``--data``) ``script``; ``config_from_args`` reads them back."""
    if data:
        t.add_argument("--data", required=True, help=DATA_HELP)
    t.add_argument("--preset", choices=sorted(PRESETS), default="article",
                   help="starting settings; explicit flags override them (default: article)")
    t.add_argument("--hidden", type=_hidden_sizes, help="hidden layer sizes, e.g. 16,16")
    t.add_argument("--activation", choices=ACTIVATIONS)
    t.add_argument("--loss", choices=LOSSES, help="sse (sigmoid outputs) or ce (softmax outputs)")
    t.add_argument("--init", choices=INITS, help="weight initialiser")
    t.add_argument("--init-scale", type=float, help="multiply the initial weights by X")
    t.add_argument("--bias-init", choices=BIAS_INITS)
    t.add_argument("--lr", type=float, help="learning rate")
    t.add_argument("--batch", type=int, help="batch size (1 = one update per sample)")
    t.add_argument("--momentum", type=float)
    t.add_argument("--weight-decay", type=float, help="L2 coefficient")
    t.add_argument("--shift", type=int, help="random shifts of up to N pixels each epoch")
    t.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=None,
                   help="new sample order every epoch (--no-shuffle: the data set's fixed order)")
    t.add_argument("--order", choices=ORDERS, help="sample order (overrides --shuffle)")
    t.add_argument("--epochs", type=int, help="number of epochs; 0 = until Ctrl-C")
    t.add_argument("--seed", type=int)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description="Train and inspect a from-scratch NumPy network on "
                                                   "32x32 handwritten digits.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    t = commands.add_parser("train", help="train a network and print one line per epoch")
    add_training_arguments(t)
    t.add_argument("--init-from", metavar="MODEL.npz", help="start from a saved model's weights")
    t.add_argument("--save", metavar="MODEL.npz", help="save the trained model here")
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

    c = commands.add_parser("compare", help="train several variants side by side in worker processes and "
                                            "print a summary table")
    add_training_arguments(c)
    c.add_argument("--vary", action="append", required=True, metavar="SETTING=A,B,...",
                   help="a setting and its values, e.g. init=randn,xavier or lr=0.01,0.1 (hidden sizes as "
                        "16-16); repeat for more settings: every combination runs")
    c.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    c.add_argument("--csv", metavar="OUT.csv", help="also write the summary table as CSV")
    w = commands.add_parser("script", help="write a standalone NumPy script that trains exactly these settings")
    add_training_arguments(w, data=False)
    w.add_argument("--out", metavar="run.py", help="write the script here (default: print it)")
    return parser


def config_from_args(args: argparse.Namespace) -> TrainingConfig:
    """The preset's settings with every given flag applied on top."""
    order = args.order
    if order is None and args.shuffle is not None:
        order = "shuffle" if args.shuffle else "dataset"
    config = with_overrides(
        PRESETS[args.preset], hidden=args.hidden, activation=args.activation, loss=args.loss,
        init=args.init, init_scale=args.init_scale, bias_init=args.bias_init, lr=args.lr,
        batch_size=args.batch, momentum=args.momentum, weight_decay=args.weight_decay,
        shift=args.shift, order=order, seed=args.seed)
    if args.epochs is not None:
        if args.epochs < 0:
            raise UsageError("--epochs must be >= 0 (0 = until Ctrl-C)")
        config = replace(config, max_epochs=args.epochs or None)
    return config


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------

def format_epoch(event: EpochFinished) -> str:
    test = f"{event.test_accuracy:.4f}" if event.test_accuracy is not None else "-"
    return (f"epoch {event.epoch:5d}  loss {event.train_loss:.6f}  train {event.train_accuracy:.4f}  "
            f"test {test}  {1000 * event.seconds:7.1f} ms")


def run_train(args: argparse.Namespace, out: TextIO) -> int:
    config = config_from_args(args)
    dataset = open_data_source(args.data)
    info: dict = {}
    if args.init_from:
        network, info = load_model(args.init_from)
        config = with_overrides(config, hidden=tuple(network.sizes[1:-1]), activation=network.activation,
                                loss=network.loss)
        if network.sizes[0] != dataset.train.images.shape[1]:
            raise UsageError(f"{args.init_from} takes {network.sizes[0]} inputs but {args.data} has "
                             f"images of {dataset.train.images.shape[1]} pixels")
    else:
        network = config.build_network(dataset.train.images.shape[1])
    print(f"{dataset.name}: {len(dataset.train)} training samples, "
          f"{len(dataset.test) if dataset.test is not None else 0} test samples; {network!r}; "
          f"{config.label()}", file=out, flush=True)

    control = RunControl()
    # Ctrl-C asks the run to stop at the next batch (the model stays whole and is still saved);
    # a second Ctrl-C interrupts at once.
    def on_interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        control.stop()
    previous = signal.signal(signal.SIGINT, on_interrupt)
    log_file = open(args.log, "w", newline="", encoding="utf-8") if args.log else None
    status = 0
    last: EpochFinished | None = None
    try:
        writer = csv.writer(log_file) if log_file else None
        if writer:
            writer.writerow(["epoch", "loss", "train_acc", "test_acc", "seconds"])
        for event in train(network, dataset, config, control):
            if isinstance(event, EpochFinished):
                last = event
                print(format_epoch(event), file=out, flush=True)
                if writer:
                    writer.writerow([event.epoch, repr(event.train_loss), repr(event.train_accuracy),
                                     "" if event.test_accuracy is None else repr(event.test_accuracy),
                                     repr(event.seconds)])
            elif isinstance(event, RunDiverged):
                print(event.message, file=sys.stderr, flush=True)
                status = 1
            elif isinstance(event, RunFinished) and event.reason == "stopped":
                print(f"stopped after {event.epochs} epochs", file=out, flush=True)
    finally:
        signal.signal(signal.SIGINT, previous)
        if log_file:
            log_file.close()
    if args.save:
        info = {"config": config.to_dict(), "data": dataset.name,
                "epochs": (last.epoch if last else 0) + int(info.get("epochs", 0)),
                "train_accuracy": last.train_accuracy if last else None,
                "test_accuracy": last.test_accuracy if last else None}
        save_model(args.save, network, info)
        print(f"saved {args.save}", file=out, flush=True)
    return status


def run_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    network, _ = load_model(args.model)
    dataset = open_data_source(args.data)
    splits = [("train", dataset.train)] + ([("test", dataset.test)] if dataset.test is not None else [])
    for name, split in splits:
        if split.images.shape[1] != network.sizes[0]:
            raise UsageError(f"{args.model} takes {network.sizes[0]} inputs but {args.data} has images "
                             f"of {split.images.shape[1]} pixels")
        predicted = network.predict(split.images.astype(np.float64))
        matrix = confusion_matrix(split.labels, predicted, network.sizes[-1])
        accuracy = float(np.trace(matrix) / max(matrix.sum(), 1))
        print(f"{name}: accuracy {accuracy:.4f} ({int(np.trace(matrix))}/{int(matrix.sum())})", file=out)
        per_class = np.diag(matrix) / np.maximum(matrix.sum(axis=1), 1)
        print("  per class: " + "  ".join(f"{k}:{a:.3f}" for k, a in enumerate(per_class)), file=out)
        print("  confusion matrix (rows: true digit, columns: predicted)", file=out)
        print("       " + " ".join(f"{k:5d}" for k in range(matrix.shape[1])), file=out)
        for k, row in enumerate(matrix):
            print(f"  {k:3d}  " + " ".join(f"{v:5d}" for v in row), file=out)
    return 0


def run_predict(args: argparse.Namespace, out: TextIO) -> int:
    network, _ = load_model(args.model)
    for name in args.files:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None
        image = parse_digit_text(data, str(path))
        outputs = network.predict_proba(image[None].astype(np.float64))[0]
        print(f"{path}: {int(np.argmax(outputs))}  " + " ".join(f"{p:.4f}" for p in outputs), file=out)
    return 0


def run_synth(args: argparse.Namespace, out: TextIO) -> int:
    from studio.core import synth
    seed = synth.DEFAULT_SEED if args.seed is None else args.seed
    dataset = synth.synth_command(args.out, seed)
    print(f"wrote {len(dataset.train)} training and {len(dataset.test)} test digits to {args.out} "
          f"(seed {seed})", file=out)
    return 0


def run_export(args: argparse.Namespace, out: TextIO) -> int:
    dataset = open_data_source(args.data)
    try:
        export_source(dataset, args.out)
    except FileExistsError as error:  # its message already names the folder and says what to do
        raise UsageError(str(error)) from None
    test = len(dataset.test) if dataset.test is not None else 0
    print(f"wrote {len(dataset.train)} training and {test} test digits from {dataset.name} to {args.out}",
          file=out)
    return 0


def run_compare(args: argparse.Namespace, out: TextIO) -> int:
    """Every combination of the ``--vary`` values on top of the preset and flags, same seed and sample
    order, in parallel; one line per run as it ends, then the summary table. Ctrl-C cancels (the
    table still shows how far each run got); a second Ctrl-C interrupts at once."""
    from studio.core.compare import (Comparison, RunEnded, describe_summary, format_summary_table,
                                     parse_vary_options, summaries_to_csv, vary)
    base = config_from_args(args)
    try:
        configs = vary(base, **parse_vary_options(args.vary))
    except ValueError as error:
        raise UsageError(f"--vary: {error}") from None
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    dataset = open_data_source(args.data)
    interrupted = []

    def on_interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        interrupted.append(True)
        comparison.cancel()

    comparison = Comparison()
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with comparison:
            comparison.start(dataset, configs, args.workers)
            print(f"{dataset.name}: {len(dataset.train)} training samples, "
                  f"{len(dataset.test) if dataset.test is not None else 0} test samples; {len(configs)} runs "
                  f"on {comparison.workers} worker processes", file=out, flush=True)
            ended = 0
            while not comparison.finished:
                for event in comparison.poll(0.1):
                    if isinstance(event, RunEnded):
                        ended += 1
                        print(f"[{ended}/{len(configs)}] {describe_summary(event.summary)}", file=out, flush=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    summaries = [s for s in comparison.summaries if s is not None]
    if interrupted:
        print("cancelled", file=out, flush=True)
    print(file=out)
    print(format_summary_table(summaries), file=out, flush=True)
    if args.csv:
        summaries_to_csv(summaries, args.csv)
        print(f"wrote {args.csv}", file=out, flush=True)
    return 0


def run_script(args: argparse.Namespace, out: TextIO) -> int:
    from studio.core.run_script import script_for
    text = script_for(config_from_args(args))
    if not args.out:
        out.write(text)
        return 0
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: python {args.out} --data PATH --epochs N --save OUT.npz", file=out)
    return 0


COMMANDS = {"train": run_train, "evaluate": run_evaluate, "predict": run_predict, "synth": run_synth,
            "export": run_export, "compare": run_compare, "script": run_script}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; return the exit status (0 ok, 1 training diverged, 2 a user's mistake)."""
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args, out)
    except (UsageError, DataError, ModelFileError, ValueError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{PROG}: error: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return 2
