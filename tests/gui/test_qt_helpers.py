"""The one rule for durations and counts, and the label that reserves its tallest text's height."""
from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from studio.gui.qt_helpers import ReservedHeightLabel, format_count, format_duration


@pytest.mark.parametrize(("seconds", "text"), [(0.04, "0.0 s"), (8.62, "8.6 s"), (9.96, "10 s"), (15.2, "15 s"),
                                               (59.4, "59 s"), (60, "1:00"), (65, "1:05"), (3725.2, "1:02:05"),
                                               (float("nan"), "–")])
def test_durations_are_seconds_under_a_minute_and_clock_time_above(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_counts_have_thousands_separators() -> None:
    assert format_count(1413, 1743) == "1,413 / 1,743"
    assert format_count(60000) == "60,000"


def test_a_reserved_height_label_is_as_high_as_its_tallest_text(qtbot: QtBot) -> None:
    texts = ["short", "a much longer text " * 8]
    label = ReservedHeightLabel(texts)
    qtbot.addWidget(label)
    label.setText(texts[0])
    assert label.heightForWidth(200) >= 3 * label.fontMetrics().height()
    assert label.heightForWidth(200) > label.heightForWidth(2000)
