"""Lessons: chapters written as plain Markdown files, with action links and live values from a run.

A chapter is a Markdown file (``resources/lessons/01-the-tutorials-network.md``); its first ``# `` line
is its title. Two things in it are the studio's own (documented for teachers in
``resources/lessons/README.md``):

* **Action links**, ``[Apply the article preset](action:preset?name=article)``: a link whose target
  starts with ``action:`` names one of ``ACTIONS`` and its parameters as a URL query. The window maps
  each action to one of its commands. Every action link is checked against the registry when a chapter
  is read; a bad one is reported with the chapter's file, the line, the link and the known actions.
* **Live values**, ``{{run.best_test_accuracy}}`` or ``{{run.epoch_reaching_train_accuracy:0.987}}``:
  placeholders that ``render`` fills in from the learner's run (a ``RunHistory``), never canned. Some
  are whole sentences that compare the run with the tutorial (``run.train_accuracy_sentence``).

What is here: parsing, checking and rendering, with no Qt. Left out: showing a chapter and carrying
out an action (``studio.gui.lessons_panel`` and the window), remembering progress (QSettings).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from studio.core.variations import convert_value, knob_name, parse_vary
from studio.core.history import RunHistory
from studio.core.paths import RESOURCES
from studio.core.training import PRESETS, TrainingConfig

#: Where the shipped chapters live.
LESSONS_FOLDER: Path = RESOURCES / "lessons"

#: A chapter file is ``NN-words.md``; other files in the folder (``README.md``) are not chapters.
_CHAPTER_FILE = re.compile(r"[0-9]{2}-[a-z0-9-]+\.md")
MAX_CHAPTER_BYTES = 256 * 1024

_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]*)\)")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_PLACEHOLDER_BODY = re.compile(r"\s*([a-z_]+\.[a-z_]+)((?::[^:{}\s]+)*)\s*")
_TAB_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
#: Text before a live value that makes it the start of a sentence: nothing, a list marker, or ". ".
_SENTENCE_START = re.compile(r"(?:^|\n)[ \t]*(?:[-*+][ \t]+|[0-9]+\.[ \t]+)?$|[.!?][ \t]+$")


class LessonError(Exception):
    """A chapter cannot be read, or an action link is not valid. The message names the file and line."""


@dataclass(frozen=True)
class LessonProblem:
    """One thing wrong in a chapter file: ``line`` is 1-based (0 when it concerns the whole file)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


# --------------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    """A parsed action link: ``action:set?lr=0.1&loss=ce`` -> ``Action("set", {"lr": "0.1", "loss": "ce"})``.

    Parameter values stay text; ``settings_from_params`` and ``compare_choices`` give them their types.
    """

    name: str
    params: dict[str, str] = field(default_factory=dict)


def _no_params(params: dict[str, str]) -> None:
    if params:
        raise ValueError(f"takes no parameters, got {', '.join(params)}")


def _check_preset(params: dict[str, str]) -> None:
    if set(params) != {"name"} or params["name"] not in PRESETS:
        raise ValueError(f"needs name= one of {', '.join(PRESETS)}, got {_query(params) or 'nothing'}")


def _check_tab(params: dict[str, str]) -> None:
    if set(params) != {"name"} or not _TAB_NAME.fullmatch(params["name"]):
        raise ValueError(f"needs name= a tab such as {', '.join(KNOWN_TABS)}, got {_query(params) or 'nothing'}")


def _check_chapter(params: dict[str, str]) -> None:
    if set(params) != {"n"} or not params["n"].isdigit() or params["n"] != params["n"].strip():
        raise ValueError(f"needs n= a chapter number such as 2, got {_query(params) or 'nothing'}")


def settings_from_params(params: dict[str, str], base: TrainingConfig) -> TrainingConfig:
    """``base`` with each ``setting=value`` of ``params`` applied (names and values as in the command
    line's ``--vary``: ``lr``, ``batch``, ``hidden=16-16``, ...), validated; ``ValueError`` otherwise."""
    if not params:
        raise ValueError("needs at least one setting, e.g. lr=0.1")
    changes = {}
    for name, value in params.items():
        knob = knob_name(name)
        changes[knob] = convert_value(knob, value)
    config = replace(base, **changes)
    config.validate()
    return config


def compare_choices(params: dict[str, str]) -> dict[str, list[object]]:
    """``{"init": "randn,ones"}`` -> ``{"init": ["randn", "ones"]}`` with typed values; ``ValueError``
    for an unknown setting or a bad value (as ``python -m studio compare --vary``)."""
    if not params:
        raise ValueError("needs at least one setting and its values, e.g. init=randn,ones,xavier")
    return dict(parse_vary(f"{name}={values}") for name, values in params.items())


def _check_set(params: dict[str, str]) -> None:
    settings_from_params(params, PRESETS["article"])


def _check_compare(params: dict[str, str]) -> None:
    compare_choices(params)


@dataclass(frozen=True)
class ActionSpec:
    """An action a chapter may link to: its parameters (as a reader sees them) and what it does."""

    name: str
    params: str
    summary: str
    check: Callable[[dict[str, str]], None]


#: Tabs a chapter may name. The window reports a tab it does not have ("this studio has no tab named X").
KNOWN_TABS: tuple[str, ...] = ("training", "saturation", "mistakes", "compare", "one-update", "fragility")

ACTIONS: dict[str, ActionSpec] = {spec.name: spec for spec in (
    ActionSpec("preset", "name=article|best|fast", "apply a preset to the settings", _check_preset),
    ActionSpec("set", "SETTING=VALUE&...", "change settings (lr, loss, init, init_scale, hidden=16-16, ...)",
               _check_set),
    ActionSpec("start", "", "start (or resume) training with the current settings", _no_params),
    ActionSpec("stop", "", "stop the run (its weights are kept)", _no_params),
    ActionSpec("reset", "", "a new network from the current settings", _no_params),
    ActionSpec("tab", "name=TAB", "show a tab: " + ", ".join(KNOWN_TABS), _check_tab),
    ActionSpec("compare", "SETTING=A,B,...&...", "open the compare tab with these variations, ready to race",
               _check_compare),
    ActionSpec("open-builtin-data", "", "open the built-in synthetic digits", _no_params),
    ActionSpec("show-code", "", "show the code of the current settings", _no_params),
    ActionSpec("chapter", "n=NUMBER", "go to another chapter", _check_chapter),
)}


def _query(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


def parse_action(url: str) -> Action:
    """``"action:set?lr=0.1"`` -> ``Action``. Raises ``ValueError`` naming the link and the known actions."""
    parts = urlsplit(url)
    known = ", ".join(ACTIONS)
    if parts.scheme != "action":
        raise ValueError(f"{url!r} is not an action link (they start with 'action:')")
    name = parts.path.strip("/")
    if name not in ACTIONS:
        raise ValueError(f"unknown action {name!r} in {url!r}; the known actions are {known}")
    params: dict[str, str] = {}
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ValueError(f"{url!r}: the parameters must read NAME=VALUE&NAME=VALUE") from None
    for key, value in pairs:
        if key in params:
            raise ValueError(f"{url!r}: the parameter {key!r} is given twice")
        params[key] = value
    try:
        ACTIONS[name].check(params)
    except ValueError as error:
        raise ValueError(f"action {name!r} in {url!r}: {error} (usage: action:{name}"
                         f"{'?' + ACTIONS[name].params if ACTIONS[name].params else ''})") from None
    return Action(name, params)


# --------------------------------------------------------------------------------------------------
# Live values
# --------------------------------------------------------------------------------------------------

#: What a sentence says before any epoch is trained; a single value then reads ``NO_VALUE``.
NO_RUN = "no run yet: press Start"
NO_VALUE = "–"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def _epochs(n: float) -> str:
    return f"{int(n):,}"


def _threshold(args: list[str]) -> float:
    if len(args) < 1:
        raise ValueError("needs an accuracy such as :0.987")
    value = float(args[0])
    if not 0 < value <= 1:
        raise ValueError(f"the accuracy must be a fraction in (0, 1], got {args[0]}")
    return value


def _first_reaching(history: RunHistory, column: str, threshold: float) -> int | None:
    values = history.column(column)
    hits = np.flatnonzero(np.nan_to_num(values, nan=-1.0) >= threshold)
    return int(history.column("epoch")[hits[0]]) if hits.size else None


def _best_test(history: RunHistory) -> tuple[int, float] | None:
    test = history.column("test_acc")
    if not np.isfinite(test).any():
        return None
    i = int(np.nanargmax(test))  # the first epoch with the highest accuracy, as the best-epoch marker
    return int(history.column("epoch")[i]), float(test[i])


def _reaching(column: str) -> Callable[[RunHistory, list[str]], str]:
    def value(history: RunHistory, args: list[str]) -> str:
        epoch = _first_reaching(history, column, _threshold(args))
        return f"epoch {_epochs(epoch)}" if epoch is not None else "not yet"
    return value


def _train_accuracy_sentence(history: RunHistory, args: list[str]) -> str:
    """'your run passed 98.7% training accuracy at epoch 886 (the tutorial's took 1,743 epochs)'."""
    threshold = _threshold(args)
    tutorial = int(args[1]) if len(args) > 1 else None
    epoch = _first_reaching(history, "train_acc", threshold)
    if epoch is None:
        best = float(np.nanmax(history.column("train_acc")))
        return (f"your run has not reached {_percent(threshold)} training accuracy yet (after "
                f"{_epochs(history.last_epoch)} epochs it is at {_percent(history.column('train_acc')[-1])}, "
                f"best {_percent(best)})")
    sentence = f"your run passed {_percent(threshold)} training accuracy at epoch {_epochs(epoch)}"
    if tutorial is not None:
        if epoch == tutorial:
            sentence += ", the same epoch as the tutorial's"
        else:
            sentence += (f" (the tutorial's took {_epochs(tutorial)} epochs: your run was "
                         f"{'faster' if epoch < tutorial else 'slower'})")
    return sentence


def _loss_sentence(history: RunHistory, args: list[str]) -> str:
    """How the training loss moved, in words: 'fell from 4.512 to 0.231' or 'has hardly moved'."""
    loss = history.column("train_loss")
    first, last = float(loss[0]), float(loss[-1])
    where = f"from {first:.3f} at epoch 1 to {last:.3f} at epoch {_epochs(history.last_epoch)}"
    if len(loss) < 2:
        return f"your run's training loss is {first:.3f} after one epoch"
    if last >= 0.95 * first:
        return f"your run's training loss went {where}: it has hardly moved"
    return f"your run's training loss fell {where}, to {100 * last / first:.0f}% of where it started"


def _best_test_sentence(history: RunHistory, args: list[str]) -> str:
    best = _best_test(history)
    if best is None:
        return "your data set has no test split, so there is no test accuracy to report"
    return f"your run's best test accuracy is {_percent(best[1])}, at epoch {_epochs(best[0])}"


def _config_value(getter: Callable[[TrainingConfig], str]) -> Callable[[RunHistory, list[str]], str]:
    def value(history: RunHistory, args: list[str]) -> str:
        return getter(history.config) if history.config is not None else "(unknown settings)"
    return value


def _final(column: str, fmt: Callable[[float], str]) -> Callable[[RunHistory, list[str]], str]:
    def value(history: RunHistory, args: list[str]) -> str:
        v = float(history.column(column)[-1])
        return fmt(v) if math.isfinite(v) else "(no test split)"
    return value


def _best_value(index: int) -> Callable[[RunHistory, list[str]], str]:
    def value(history: RunHistory, args: list[str]) -> str:
        best = _best_test(history)
        if best is None:
            return "(no test split)"
        return _epochs(best[0]) if index == 0 else _percent(best[1])
    return value


@dataclass(frozen=True)
class PlaceholderSpec:
    """A live value: ``args`` documents what follows the name after colons."""

    name: str
    args: str
    summary: str
    value: Callable[[RunHistory, list[str]], str]


_LOSS_WORDS = {"sse": "squared error", "ce": "cross-entropy"}

PLACEHOLDERS: dict[str, PlaceholderSpec] = {spec.name: spec for spec in (
    PlaceholderSpec("run.settings", "", "the run's settings in short, e.g. 'randn, lr 0.01'",
                    _config_value(lambda c: c.label())),
    PlaceholderSpec("run.loss_name", "", "'squared error' or 'cross-entropy'",
                    _config_value(lambda c: _LOSS_WORDS[c.loss])),
    PlaceholderSpec("run.init", "", "the weight initialiser's name", _config_value(lambda c: c.init)),
    PlaceholderSpec("run.epochs", "", "epochs trained so far", lambda h, a: _epochs(h.last_epoch)),
    PlaceholderSpec("run.seconds", "", "training time so far", lambda h, a: f"{h.total_seconds:.1f} s"),
    PlaceholderSpec("run.first_loss", "", "the training loss of epoch 1",
                    lambda h, a: f"{float(h.column('train_loss')[0]):.3f}"),
    PlaceholderSpec("run.final_loss", "", "the latest training loss", _final("train_loss", lambda v: f"{v:.3f}")),
    PlaceholderSpec("run.final_train_accuracy", "", "the latest training accuracy", _final("train_acc", _percent)),
    PlaceholderSpec("run.final_test_accuracy", "", "the latest test accuracy", _final("test_acc", _percent)),
    PlaceholderSpec("run.best_test_accuracy", "", "the highest test accuracy so far", _best_value(1)),
    PlaceholderSpec("run.best_test_epoch", "", "the epoch of the highest test accuracy", _best_value(0)),
    PlaceholderSpec("run.epoch_reaching_train_accuracy", ":FRACTION",
                    "'epoch N' of the first epoch at or above that training accuracy, or 'not yet'",
                    _reaching("train_acc")),
    PlaceholderSpec("run.epoch_reaching_test_accuracy", ":FRACTION", "the same for test accuracy",
                    _reaching("test_acc")),
    PlaceholderSpec("run.train_accuracy_sentence", ":FRACTION[:TUTORIAL_EPOCH]",
                    "a sentence: when the run passed that training accuracy, against the tutorial's epoch",
                    _train_accuracy_sentence),
    PlaceholderSpec("run.loss_sentence", "", "a sentence: how far the training loss has fallen", _loss_sentence),
    PlaceholderSpec("run.best_test_sentence", "", "a sentence: the best test accuracy and its epoch",
                    _best_test_sentence),
)}


def _parse_placeholder(body: str) -> tuple[str, list[str]]:
    """``"run.epoch_reaching_train_accuracy:0.987"`` -> (name, ["0.987"]); ``ValueError`` if unknown."""
    match = _PLACEHOLDER_BODY.fullmatch(body)
    if match is None or match[1] not in PLACEHOLDERS:
        raise ValueError(f"unknown live value {{{{{body}}}}}; the known ones are {', '.join(PLACEHOLDERS)}")
    args = [a for a in match[2].split(":") if a]
    spec = PLACEHOLDERS[match[1]]
    if ":" in spec.args:
        _threshold(args)
        if len(args) > 1 and not args[1].isdigit():
            raise ValueError(f"{{{{{body}}}}}: the tutorial's epoch must be a whole number, got {args[1]!r}")
    elif args:
        raise ValueError(f"{{{{{body}}}}}: {match[1]} takes no ':' arguments")
    return match[1], args


# --------------------------------------------------------------------------------------------------
# Chapters
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ActionLink:
    """One ``[text](action:...)`` link: ``action`` is None when the link is invalid (see ``problem``)."""

    line: int
    text: str
    url: str
    action: Action | None
    problem: str | None


@dataclass(frozen=True)
class Chapter:
    """A parsed chapter: ``name`` is the file's stem (``01-the-tutorials-network``), ``number`` its NN."""

    name: str
    number: int
    file: str
    title: str
    text: str
    links: tuple[ActionLink, ...]
    problems: tuple[LessonProblem, ...]

    def check(self) -> None:
        """Raise ``LessonError`` listing every problem (file, line, what is wrong) if there is any."""
        if self.problems:
            raise LessonError("; ".join(str(p) for p in self.problems))


def parse_chapter(text: str, file: str) -> Chapter:
    """Parse a chapter's Markdown ``text``; ``file`` is what problems call it (its path).

    Every action link is checked against ``ACTIONS`` and every ``{{...}}`` against ``PLACEHOLDERS``;
    what is wrong is collected in ``problems`` (the chapter still renders, so a teacher sees it).
    """
    text = text.replace("\r\n", "\n")
    name = Path(file).stem
    number = int(name[:2]) if name[:2].isdigit() else 0
    title = ""
    links: list[ActionLink] = []
    problems: list[LessonProblem] = []
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not title and line.startswith("# "):
            title = line[2:].strip()
        for match in _LINK.finditer(line):
            url = match[2]
            if not url.startswith("action:"):
                continue
            try:
                action, problem = parse_action(url), None
            except ValueError as error:
                action, problem = None, str(error)
                problems.append(LessonProblem(file, line_number, f"bad action link [{match[1]}]({url}): {error}"))
            links.append(ActionLink(line_number, match[1], url, action, problem))
        for match in _PLACEHOLDER.finditer(line):
            try:
                _parse_placeholder(match[1])
            except ValueError as error:
                problems.append(LessonProblem(file, line_number, str(error)))
    if not title:
        problems.insert(0, LessonProblem(file, 1, "a chapter starts with its title on a line '# Title'"))
        title = name
    return Chapter(name, number, file, title, text, tuple(links), tuple(problems))


def read_chapter(path: str | Path) -> Chapter:
    """Read and parse one chapter file. ``LessonError`` if it cannot be read or is not UTF-8 text."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CHAPTER_BYTES + 1)
    except OSError as error:
        raise LessonError(f"{path}: cannot be read ({error.strerror or error})") from None
    if len(data) > MAX_CHAPTER_BYTES:
        raise LessonError(f"{path}: is larger than {MAX_CHAPTER_BYTES // 1024} KB; a chapter is a few screens of text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise LessonError(f"{path}, line {line}: is not UTF-8 text") from None
    return parse_chapter(text, str(path))


def load_chapters(folder: str | Path = LESSONS_FOLDER) -> list[Chapter]:
    """Every ``NN-words.md`` chapter in ``folder``, in file-name order. ``LessonError`` if the folder
    cannot be read or holds no chapter, or a file cannot be read (invalid links are in ``problems``)."""
    folder = Path(folder)
    try:
        names = sorted(p.name for p in folder.iterdir() if _CHAPTER_FILE.fullmatch(p.name) and p.is_file())
    except OSError as error:
        raise LessonError(f"{folder}: cannot be read ({error.strerror or error})") from None
    if not names:
        raise LessonError(f"{folder}: holds no chapters (files named NN-words.md, e.g. 01-first-steps.md)")
    return [read_chapter(folder / name) for name in names]


def render(chapter: Chapter, history: RunHistory | None) -> str:
    """The chapter's Markdown with every live value filled in from ``history`` (the learner's run).

    With no run (``history`` None or empty) a sentence reads ``NO_RUN`` and a single value ``NO_VALUE``;
    an invalid placeholder is left as written, marked, so the teacher sees it. A value that starts a
    sentence (at a line's start, after a list marker or after ". ") gets a capital first letter.
    """
    def fill(match: re.Match[str]) -> str:
        value = _value(match)
        before = chapter.text[max(match.start() - 80, 0):match.start()]
        if value and _SENTENCE_START.search(before):
            value = value[0].upper() + value[1:]
        return value

    def _value(match: re.Match[str]) -> str:
        try:
            name, args = _parse_placeholder(match[1])
        except ValueError:
            return f"**[{match[0]}: unknown live value]**"
        if history is None or len(history) == 0:
            return NO_RUN if name.endswith("_sentence") else NO_VALUE
        return PLACEHOLDERS[name].value(history, args)
    return _PLACEHOLDER.sub(fill, chapter.text)


def number_action_links(markdown: str, done: set[int] | frozenset[int] = frozenset()) -> str:
    """Give the k-th action link of ``markdown`` (0-based, in reading order, as ``Chapter.links``) the
    fragment ``#k`` so a click says which link it was, and a tick before its text if k is in ``done``."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if not match[2].startswith("action:"):
            return match[0]
        k, count = count, count + 1
        text = f"✓ {match[1]}" if k in done else match[1]
        return f"[{text}]({match[2]}#{k})"
    return _LINK.sub(number, markdown)


def split_link_number(url: str) -> tuple[str, int | None]:
    """``"action:start#3"`` -> ``("action:start", 3)``; a link without a number -> ``(url, None)``."""
    base, sep, fragment = url.partition("#")
    return (base, int(fragment)) if sep and fragment.isdigit() else (url, None)
