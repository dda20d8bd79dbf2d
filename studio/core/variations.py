"""Which settings to vary in a comparison, from Python values or from command-line text.

``vary`` makes one ``TrainingConfig`` per combination of the chosen settings (everything else, seed and
sample order included, stays the base's); ``parse_vary`` reads ``init=randn,xavier`` or
``hidden=16-16,32`` as the command line and the lessons write them; ``distinct_labels`` names the runs
apart. Left out: running them (``compare.py``).
"""
from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import fields, replace
from typing import Iterable, Sequence

from studio.core.lr_schedule import LR_SCHEDULES
from studio.core.network import ACTIVATIONS, BIAS_INITS, INITS, LOSSES
from studio.core.training import ENGINES, ORDERS, TrainingConfig, check_hidden_sizes, parse_hidden_sizes


#: Short names accepted besides the ``TrainingConfig`` field names (hyphens also work for underscores).
KNOB_ALIASES: dict[str, str] = {"batch": "batch_size", "epochs": "max_epochs", "decay": "weight_decay",
                                "scale": "init_scale"}

_CHOICES: dict[str, tuple[str, ...]] = {"activation": ACTIVATIONS, "loss": LOSSES, "init": INITS,
                                        "bias_init": BIAS_INITS, "order": ORDERS, "engine": ENGINES,
                                        "lr_schedule": LR_SCHEDULES}
_FLOATS = ("init_scale", "lr", "momentum", "weight_decay")
_INTS = ("batch_size", "shift", "seed", "max_epochs", "early_stopping", "against_fooling")
_WHOLE = re.compile(r"[+-]?[0-9]+")          # ASCII only: int() would also take other scripts' digits
KNOBS: tuple[str, ...] = tuple(f.name for f in fields(TrainingConfig))


def knob_name(name: str) -> str:
    """The ``TrainingConfig`` field that ``name`` means (``lr``, ``batch`` -> ``batch_size``, ``init-scale``).

    Raises ``ValueError`` naming the closest known setting.
    """
    key = name.strip().replace("-", "_")
    key = KNOB_ALIASES.get(key, key)
    if key not in KNOBS:
        known = sorted(set(KNOBS) | set(KNOB_ALIASES))
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown setting {name.strip()!r}{hint} (settings: {', '.join(KNOBS)})")
    return key


def convert_value(knob: str, value: object) -> object:
    """``value`` (a Python value or its text) as the type of field ``knob``; ``ValueError`` if it isn't one.

    ``hidden`` text is read by ``training.parse_hidden_sizes``; in ``--vary`` the sizes are joined by
    ``-`` (``16-16``), since commas separate the values; ``max_epochs`` accepts ``none`` for no limit. Ranges (lr > 0, ...) are checked by
    ``TrainingConfig.validate`` when the configs are made.
    """
    if knob == "hidden":
        if isinstance(value, str):
            try:
                return parse_hidden_sizes(value)
            except ValueError as error:
                raise ValueError(f"hidden: {error}") from None
        sizes = (value,) if isinstance(value, int) else tuple(value)  # type: ignore[arg-type]
        if not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
            raise ValueError(f"hidden: {value!r} is not a sequence of whole numbers")
        try:
            check_hidden_sizes(sizes)
        except ValueError as error:
            raise ValueError(f"hidden: {error}") from None
        return sizes
    if knob in _CHOICES:
        text = str(value).strip()
        if text not in _CHOICES[knob]:
            raise ValueError(f"{knob}: {value!r} is not one of {', '.join(_CHOICES[knob])}")
        return text
    if knob in _FLOATS:
        if isinstance(value, bool):
            raise ValueError(f"{knob}: {value!r} is not a number")
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"{knob}: {value!r} is not a number") from None
    if knob in _INTS:
        if knob in ("max_epochs", "early_stopping") and (value is None or str(value).strip().lower() == "none"):
            return None
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"{knob}: {value!r} is not a whole number")
        if isinstance(value, (int, float)):
            return int(value)
        if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
            return int(value.strip())
        raise ValueError(f"{knob}: {value!r} is not a whole number")
    raise ValueError(f"unknown setting {knob!r}")


def parse_vary(text: str) -> tuple[str, list[object]]:
    """``"init=randn,rand"`` -> ``("init", ["randn", "rand"])``; ``"lr=0.01,0.1"`` -> ``("lr", [0.01, 0.1])``.

    Values are converted to the field's type (see ``convert_value``). Raises ``ValueError`` with a
    message a person can act on: no ``=``, an unknown setting, no values, a bad or repeated value.
    """
    name, sep, values = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"expected SETTING=VALUE[,VALUE...] such as init=randn,xavier, got {text!r}")
    knob = knob_name(name)
    parts = [part.strip() for part in values.split(",")]
    if not any(parts):
        raise ValueError(f"{knob}: no values given (e.g. {knob}=A,B)")
    if "" in parts:
        raise ValueError(f"{knob}: an empty value in {values!r}")
    converted = [convert_value(knob, part) for part in parts]
    _check_no_repeats(knob, converted)
    return knob, converted


def parse_vary_options(texts: Iterable[str]) -> dict[str, list[object]]:
    """Several ``--vary`` texts -> ``{field: values}`` in the order given; a setting twice is an error."""
    choices: dict[str, list[object]] = {}
    for text in texts:
        knob, values = parse_vary(text)
        if knob in choices:
            raise ValueError(f"{knob} is varied twice; put all its values in one SETTING=A,B,C")
        choices[knob] = values
    return choices


def _check_no_repeats(knob: str, values: Sequence[object]) -> None:
    seen: list[object] = []
    for value in values:
        if value in seen:
            raise ValueError(f"{knob}: the value {value!r} is given twice")
        seen.append(value)


def vary(base: TrainingConfig, **choices: object) -> list[TrainingConfig]:
    """One config per combination of the given values, everything else as in ``base``.

    ``vary(base, init=["randn", "xavier"], lr=[0.01, 0.1])`` gives randn/0.01, randn/0.1,
    xavier/0.01, xavier/0.1: the cartesian product, first setting outermost. A single value (not a
    list) counts as a list of one. Names may be aliases (``batch``, ``epochs``); values may be text.
    Every config is validated; raises ``ValueError`` for any bad name or value.
    """
    knobs: list[str] = []
    value_lists: list[list[object]] = []
    for name, values in choices.items():
        knob = knob_name(name)
        if knob in knobs:
            raise ValueError(f"{knob} is varied twice")
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            values = [values]
        converted = [convert_value(knob, v) for v in values]  # type: ignore[union-attr]
        if not converted:
            raise ValueError(f"{knob}: no values given")
        _check_no_repeats(knob, converted)
        knobs.append(knob)
        value_lists.append(converted)
    configs = []
    for combination in itertools.product(*value_lists):
        config = replace(base, **dict(zip(knobs, combination)))
        config.validate()
        configs.append(config)
    return configs


def distinct_labels(configs: Sequence[TrainingConfig]) -> list[str]:
    """``config.label()`` for each, with the settings that tell apart runs of the same label appended
    (``label()`` leaves out seed, order and epochs, so ``randn, lr 0.01, seed 1``)."""
    labels = [config.label() for config in configs]
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    for label, members in groups.items():
        if len(members) < 2:
            continue
        differing = [f.name for f in fields(TrainingConfig)
                     if len({repr(getattr(configs[i], f.name)) for i in members}) > 1]
        for i in members:
            extra = ", ".join(f"{name.replace('_', ' ')} {getattr(configs[i], name)}" for name in differing)
            labels[i] = f"{label}, {extra}" if extra else f"{label} (#{i + 1})"
    return labels
