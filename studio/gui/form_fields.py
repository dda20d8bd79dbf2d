"""The small field widgets the settings boxes share: a spin box without trailing zeros, a combo box
of named choices with a tooltip each, and selecting a choice by its value.

Left out: the boxes themselves (``network_boxes``, ``optimiser_box``) and what the choices mean (core's
description tables).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox


class CompactSpinBox(QDoubleSpinBox):
    """A double spin box that shows ``0.01`` rather than ``0.01000000``: small values need many
    decimals, and trailing zeros only hide them."""

    def textFromValue(self, value: float) -> str:  # Qt's name
        return f"{value:.8g}"


def choice_combo(values: Iterable[str], tips: Mapping[str, str], names: Mapping[str, str] | None = None,
                 tip: str = "") -> QComboBox:
    """A combo box holding ``values`` as item data, shown by ``names`` (default: the value itself),
    each item with its tooltip from ``tips``; ``tip`` is the box's own tooltip."""
    combo = QComboBox()
    for i, value in enumerate(values):
        combo.addItem((names or {}).get(value, value), value)
        combo.setItemData(i, tips.get(value, ""), Qt.ItemDataRole.ToolTipRole)
    combo.setToolTip(tip)
    return combo


def select_data(combo: QComboBox, value: str) -> None:
    """Choose the item whose data is ``value``; ``ValueError`` naming the choices if there is none."""
    index = combo.findData(value)
    if index < 0:
        choices = [combo.itemData(i) for i in range(combo.count())]
        raise ValueError(f"{value!r} is not one of the choices ({', '.join(map(str, choices))})")
    combo.setCurrentIndex(index)
