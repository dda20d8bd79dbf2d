"""The studio's command line: ``python -m studio train|compare|evaluate|predict|synth|export ...``.

Same core as the window, no Qt. Every mistake a user can make (a bad flag, a malformed file) ends
with exit status 2 and one line on stderr, never a traceback. Output paths (``--save``, ``--log``) are
checked before any data is loaded, so a typo costs no training; a log that fails while training (a full
disk) is given up with one warning and the model is still saved; SIGTERM stops a run like Ctrl-C and
saves.
"""
from __future__ import annotations

import argparse
import csv
import signal
import sys
from pathlib import Path
from typing import Sequence, TextIO

import numpy as np

from studio.cli_args import PROG, UsageError, build_parser, check_output_path, config_from_args, invoked_as
from studio.core.data import DataError
from studio.core.digit_text import read_digit_file
from studio.core.evaluation import confusion_matrix
from studio.core.lr_schedule import scheduled_learning_rate
from studio.core.model_file import ModelFileError
from studio.core.model_reader import check_digit_model, load_model
from studio.core.model_writer import save_model
from studio.core.sources import export_source, open_data_source
from studio.core.training import (BestEpoch, BestEpochChanged, EpochFinished, RunControl, RunDiverged, RunFinished,
                                  TrainingConfig, train, with_overrides)

#: What this module offers (``UsageError``, ``config_from_args`` and ``invoked_as`` live in ``cli_args``).
__all__ = ["COMMANDS", "UsageError", "config_from_args", "format_epoch", "invoked_as", "main"]


class _RunLog:
    """The ``--log`` CSV, written and flushed each epoch. A write that fails (a full disk) is reported
    once on stderr and ends the log, never the run: the model matters more than its log."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.file: TextIO | None = open(path, "w", newline="", encoding="utf-8")
        except OSError as error:
            raise UsageError(f"--log {path}: cannot be written ({error.strerror or error})") from None
        self.writer = csv.writer(self.file)
        self.row(["epoch", "loss", "train_acc", "test_acc", "seconds"])

    def row(self, values: list[object]) -> None:
        if self.file is None:
            return
        try:
            self.writer.writerow(values)
            self.file.flush()
        except OSError as error:
            print(f"{PROG}: warning: {self.path}: the log cannot be written ({error.strerror or error}); "
                  f"training goes on without it", file=sys.stderr, flush=True)
            self.close()

    def close(self) -> None:
        file, self.file = self.file, None
        if file is not None:
            try:
                file.close()
            except OSError:  # the data that failed to flush was already reported, or is a last line
                pass


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------

def format_epoch(event: EpochFinished, best: bool = False, rate: float | None = None) -> str:
    """One line per epoch; ``rate`` (given when a schedule changes it) adds the epoch's learning rate,
    ``best`` a trailing ``*`` (the run's new best epoch)."""
    test = f"{event.test_accuracy:.4f}" if event.test_accuracy is not None else "-"
    return (f"epoch {event.epoch:5d}  loss {event.train_loss:.6f}  train {event.train_accuracy:.4f}  "
            f"test {test}  {1000 * event.seconds:7.1f} ms" + (f"  lr {rate:.3g}" if rate is not None else "")
            + ("  *" if best else ""))


def run_train(args: argparse.Namespace, out: TextIO) -> int:
    config = config_from_args(args)
    if args.save:
        check_output_path(args.save, "--save")
    if args.log:
        check_output_path(args.log, "--log", devices=True)
    dataset = open_data_source(args.data)
    if config.batch_size > len(dataset.train):
        raise UsageError(f"--batch {config.batch_size} is larger than the {len(dataset.train)} training samples; "
                         f"use --batch {len(dataset.train)} for one batch of all of them")
    info: dict = {}
    if args.init_from:
        network, info = load_model(args.init_from)
        check_digit_model(network, args.init_from, inputs=dataset.train.images.shape[1])
        config = with_overrides(config, hidden=tuple(network.sizes[1:-1]), activation=network.activation,
                                loss=network.loss)
    else:
        network = config.build_network(dataset.train.images.shape[1])
    print(f"{dataset.name}: {len(dataset.train)} training samples, "
          f"{len(dataset.test) if dataset.test is not None else 0} test samples; {network!r}; "
          f"{config.label()}", file=out, flush=True)

    control = RunControl()
    # Ctrl-C or SIGTERM asks the run to stop at the next batch (the model stays whole and is still
    # saved); a second one interrupts at once. Python's own SIGTERM would end without saving.
    def on_stop(signum: int, frame: object) -> None:
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
        control.stop()
    previous = {signum: signal.signal(signum, on_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    log = _RunLog(args.log) if args.log else None
    status = 0
    last: EpochFinished | None = None
    # The same rule as train()'s, so the '*' can be printed with the epoch's own line (train() reports
    # the new best just after it); the weights to save come from train()'s BestEpochChanged.
    marker = BestEpoch()
    best: tuple[BestEpochChanged, EpochFinished] | None = None
    earlier_epochs = int(info.get("epochs", 0))
    try:
        for event in train(network, dataset, config, control):
            if isinstance(event, EpochFinished):
                last = event
                rate = None if config.lr_schedule == "constant" else scheduled_learning_rate(
                    event.learning_rate, config.lr_schedule, event.epoch, config.max_epochs)
                print(format_epoch(event, best=marker.update(event), rate=rate), file=out, flush=True)
                if log:
                    log.row([event.epoch, repr(event.train_loss), repr(event.train_accuracy),
                             "" if event.test_accuracy is None else repr(event.test_accuracy),
                             repr(event.seconds)])
            elif isinstance(event, BestEpochChanged) and last is not None:
                best = (event, last)
            elif isinstance(event, RunDiverged):
                print(event.message, file=sys.stderr, flush=True)
                status = 1
            elif isinstance(event, RunFinished) and event.reason == "stopped":
                print(f"stopped after {event.epochs} epochs", file=out, flush=True)
            elif isinstance(event, RunFinished) and event.reason == "early_stopping" and best is not None:
                print(f"stopped early after {event.epochs} epochs: no better {best[0].monitored} accuracy "
                      f"for {config.early_stopping} epochs (best: epoch {best[0].epoch}, "
                      f"{best[0].accuracy:.4f})", file=out, flush=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if log:
            log.close()
    if args.save:
        save_model(args.save, network, _model_info(config, dataset.name, last, earlier_epochs))
        print(f"saved {args.save}", file=out, flush=True)
    if args.save_best:
        if best is None:
            print(f"{PROG}: no epoch finished, so there is no best epoch to save in {args.save_best}",
                  file=sys.stderr, flush=True)
            return status or 1
        changed, epoch = best
        info = _model_info(config, dataset.name, epoch, earlier_epochs)
        info.update(best_epoch=changed.epoch + earlier_epochs, monitored=changed.monitored)
        save_model(args.save_best, changed.network, info)
        print(f"saved the best epoch ({changed.epoch}, {changed.monitored} accuracy {changed.accuracy:.4f}) "
              f"to {args.save_best}", file=out, flush=True)
    return status


def _model_info(config: TrainingConfig, data: str, epoch: EpochFinished | None, earlier_epochs: int) -> dict:
    """What a saved model records about its training: settings, data set, epochs in all, accuracies."""
    return {"config": config.to_dict(), "data": data, "epochs": (epoch.epoch if epoch else 0) + earlier_epochs,
            "train_accuracy": epoch.train_accuracy if epoch else None,
            "test_accuracy": epoch.test_accuracy if epoch else None}


def run_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    network, _ = load_model(args.model)
    check_digit_model(network, args.model)
    dataset = open_data_source(args.data)
    # A data set with one part has no "training" part to speak of: name it by what it is.
    splits = ([("train", dataset.train), ("test", dataset.test)] if dataset.test is not None
              else [("all samples", dataset.train)])
    for name, split in splits:
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
    """One line per file: the predicted digit, then the network's ten outputs, under a header that
    names them (``outputs`` for sigmoid units, ``probabilities`` for softmax)."""
    network, _ = load_model(args.model)
    check_digit_model(network, args.model)
    results = []
    for name in args.files:
        path = Path(name)
        image = read_digit_file(path)      # capped: a digit file is ~1 KB
        results.append((str(path), network.predict_proba(image[None].astype(np.float64))[0]))
    width = max([len("file")] + [len(path) + 1 for path, _ in results])
    kind = "probabilities" if network.loss == "ce" else "outputs"
    print(f"{'file':<{width}}  digit  {kind} of the digits " + " ".join(f"{k:>6d}" for k in
                                                                     range(network.sizes[-1])), file=out)
    pad = len(f"{kind} of the digits ")
    for path, outputs in results:
        print(f"{path + ':':<{width}}  {int(np.argmax(outputs)):>5d}  {'':{pad}}"
              + " ".join(f"{p:6.4f}" for p in outputs), file=out)
    return 0


def run_explain(args: argparse.Namespace, out: TextIO) -> int:
    """One SGD step on one file, every stage written out (``studio.core.explain``)."""
    import json
    from studio.core.explain import explain_update, format_text, model_learning_rate, read_digit_file
    network, info = load_model(args.model)
    image = read_digit_file(args.file)
    lr = model_learning_rate(info) if args.lr is None else args.lr
    walk = explain_update(network, image.astype(np.float64), args.label, lr)
    print(json.dumps(walk.to_json()) if args.json else format_text(walk), file=out)
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
    from studio.core.compare import Comparison, RunEnded
    from studio.core.run_summary import describe_summary, format_summary_table, summaries_to_csv
    from studio.core.variations import parse_vary_options, vary
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


def run_fool(args: argparse.Namespace, out: TextIO) -> int:
    """Per file: the prediction, the new one and the flips (the improved search); or, with --data, the
    fragility summary of a split."""
    from studio.core import fooling, fragility
    if bool(args.files) == bool(args.data):
        raise UsageError("give either digit files or --data PATH")
    if args.max_flips < 1 or (args.samples is not None and args.samples < 1):
        raise UsageError("--max-flips and --samples must be >= 1")
    network, _ = load_model(args.model)
    if args.target is not None and not 0 <= args.target < network.sizes[-1]:
        raise UsageError(f"--target must be a digit from 0 to {network.sizes[-1] - 1}, got {args.target}")
    if args.data:
        dataset = open_data_source(args.data)
        split = dataset.test if args.split == "test" else dataset.train
        if split is None or len(split) == 0:
            raise UsageError(f"{args.data} has no {args.split} samples")
        indices = fragility.choose_samples(len(split), args.samples)
        result = fragility.fragility(network, split.images, split.labels, indices, args.max_flips)
        print(result.summary(), file=out)
        if args.csv:
            result.to_csv(args.csv, split.names)
            print(f"wrote {args.csv}", file=out)
        return 0
    images = [fooling.as_drawing(fooling.read_digit_file(name), network.sizes[0]) for name in args.files]
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    for name, image in zip(args.files, images):
        digit = int(network.predict(image[None].astype(np.float64))[0])
        result = fooling.improved_search(network, image, fooling.say_goal(args.target, digit), args.max_flips)
        flips = f"{result.count} flips" if result.reached else f"not fooled within {args.max_flips} flips"
        written = ""
        if args.out and result.reached:
            target = Path(args.out) / fooling.flipped_file_name(name, result.digit_after)
            fooling.write_digit_file(target, result.image)
            written = f"  -> {target}"
        print(f"{name}: {digit} -> {result.digit_after}  {flips}{written}", file=out)
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
            "export": run_export, "compare": run_compare, "explain": run_explain, "fool": run_fool,
            "script": run_script}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; return the exit status (0 ok, 1 training diverged, 2 a user's mistake)."""
    out = out or sys.stdout
    if out is sys.stdout and hasattr(out, "reconfigure"):
        # A path that is not valid UTF-8 (a folder named in another encoding) is printed with escapes
        # rather than ending the run with UnicodeEncodeError on a strict UTF-8 terminal.
        out.reconfigure(errors="backslashreplace")
    prog = invoked_as()
    try:
        args = build_parser(prog).parse_args(argv)
        return COMMANDS[args.command](args, out)
    except (UsageError, DataError, ModelFileError, ValueError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"{prog}: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
