"""Formulas written with numbers: the notation of the one-update walk-through, and written-out sums.

``sup``/``sub`` write indices as Unicode super/subscripts (``z²₇``), ``num`` writes a number as people
read it (3 significant digits, a real minus sign), ``times`` a product, and ``to_html`` turns a Unicode
formula into rich text. ``sum_work`` writes out one unit's sum with its actual terms, e.g.
``z²₇ = Σᵢ w²₇,ᵢ a¹ᵢ + b²₇ = 1.83 − 0.52 + … = −0.42``: the ``LISTED_TERMS`` largest products
``(n,)``, the others added up, then the bias added and f'(z) multiplied where the formula has them.

Left out: computing anything (``explain.py`` runs the engine and hands the products it summed here).
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

import numpy as np

#: How many terms a written-out sum lists before it adds the rest up.
LISTED_TERMS = 4

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sup(n: int | str) -> str:
    """``n`` in superscript digits: sup(2) == '²'."""
    return str(n).translate(_SUP)


def sub(n: int | str) -> str:
    """``n`` in subscript digits: sub(12) == '₁₂'."""
    return str(n).translate(_SUB)


def num(value: float) -> str:
    """A number as people read it: 3 significant digits, a real minus sign, 2.1e−5 for tiny ones."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        text = f"{value:.2g}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")
    elif abs(value) >= 100:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
        # 0.9997 is not 1: a saturated sigmoid must not read as exactly 1 (nor 0.9999999 as 1.0).
        decimals = 3
        while abs(float(text)) == 1.0 and abs(value) != 1.0 and decimals < 9:
            decimals += 1
            text = f"{value:.{decimals}f}"
    return text.replace("-", "−")


def times(*factors: float) -> str:
    """'0.839 × (−0.0447)': a product written out, negative factors after the first in brackets."""
    parts = [num(f) for f in factors]
    return " × ".join([parts[0]] + [f"({p})" if p.startswith("−") else p for p in parts[1:]])


_SUP_CHARS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀᴸˡ"
_SUB_CHARS = "₀₁₂₃₄₅₆₇₈₉ᵢⱼₖ"
_PLAIN = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀᴸˡ₀₁₂₃₄₅₆₇₈₉ᵢⱼₖ", "0123456789-TLl0123456789ijk")


def to_html(text: str) -> str:
    """Rich text for a Unicode formula: runs of super/subscript characters become <sup>/<sub>, which
    Qt's rich text renders larger and clearer than the small Unicode glyphs; letters in italics."""
    out = html.escape(text)
    out = re.sub(f"[{_SUP_CHARS}]+", lambda m: f"<sup>{m.group().translate(_PLAIN)}</sup>", out)
    out = re.sub(f"([{_SUB_CHARS}]|,(?=[{_SUB_CHARS}]))+",
                 lambda m: f"<sub>{m.group().translate(_PLAIN)}</sub>", out)
    return out

@dataclass(frozen=True)
class Term:
    """One term of a written-out sum: its ``label`` ('w²₇,₃ a¹₃'), ``factors`` and their product ``value``."""

    label: str
    factors: tuple[float, ...]
    value: float


@dataclass(frozen=True)
class UnitWork:
    """One unit's own computation. For a sum: ``value == (Σ terms + rest + offset) * factor``, where
    ``terms`` are the largest ``|term|`` (biggest first) and ``rest`` adds up the ``rest_count`` others;
    ``offset`` is the bias and ``factor`` f'(z) where the formula has them. ``equation`` writes it out
    with the actual numbers; ``details`` says where the listed terms come from."""

    symbol: str
    value: float
    equation: str
    details: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()
    rest: float = 0.0
    rest_count: int = 0
    offset: float = 0.0
    factor: float = 1.0

def sum_work(symbol: str, products: np.ndarray, labels: list[str], factors: list[tuple[float, ...]],
             value: float, formula: str, offset: float | None = None, offset_label: str = "",
             factor: float | None = None, factor_label: str = "") -> UnitWork:
    """A sum written out: the ``LISTED_TERMS`` largest products, the others added up, then ``offset``
    added and ``factor`` multiplied (when given). ``value`` is the engine's own result for the unit."""
    order = np.argsort(-np.abs(products), kind="stable")
    listed = order[:LISTED_TERMS]
    others = order[LISTED_TERMS:]
    terms = tuple(Term(labels[i], factors[i], float(products[i])) for i in listed)
    rest = float(products[others].sum()) if others.size else 0.0
    parts = [num(t.value) for t in terms]
    if others.size:
        zeros = int(np.count_nonzero(products[others] == 0))
        nonzero = others.size - zeros
        parts.append(f"[{nonzero} more: {num(rest)}" + (f"; {zeros} are 0]" if zeros else "]")
                     if nonzero else f"[{zeros} more, all 0]")
    text = _signed_join(parts)
    if offset is not None:
        text = _signed_join([text, num(offset)])
    if factor is not None:
        text = f"({text}) × {num(factor)}"
    details = tuple(f"{t.label} = {times(*t.factors)} = {num(t.value)}" if t.factors else
                    f"{t.label} = {num(t.value)}" for t in terms)
    if offset is not None:
        details += (f"{offset_label} = {num(offset)}",)
    if factor is not None:
        details += (f"{factor_label} = {num(factor)}",)
    return UnitWork(symbol, float(value), f"{symbol} = {formula} = {text} = {num(value)}", details, terms,
                    rest, int(others.size), 0.0 if offset is None else float(offset),
                    1.0 if factor is None else float(factor))


def _signed_join(parts: list[str]) -> str:
    """'1.2', '−0.5', '[3 more: 0.1]' -> '1.2 − 0.5 + [3 more: 0.1]'."""
    text = parts[0] if parts else "0"
    for part in parts[1:]:
        text += f" − {part[1:]}" if part.startswith("−") else f" + {part}"
    return text
