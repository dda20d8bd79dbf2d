""""Normalise like the data" is remembered between launches: the user's own choice, checked when read."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QCheckBox
from pytestqt.qtbot import QtBot

from studio.gui import fool_panel
from studio.gui.main_window import MainWindow
from tests.app.test_main_window import write_dataset

KEY = "view/normalise_drawing"


def a_small_digit() -> np.ndarray:
    """(1024,) uint8: a short stroke in a corner, which normalising would move and enlarge."""
    image = np.zeros((32, 32), dtype=np.uint8)
    image[2:9, 3] = 1
    return image.reshape(1024)


def click(qtbot: QtBot, check: QCheckBox) -> None:
    """Click the check box's box, as the user does (it must be on screen)."""
    assert check.isVisible()
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))


def test_unticked_normalising_is_remembered_by_the_next_window(
        qtbot: QtBot, make_window: Callable[..., MainWindow], settings: QSettings, tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "tiny")
    first = make_window()
    assert first.open_and_wait(data)                            # the pad shows with a data set
    check = first.pad.input_preview.normalise_check
    assert check.isChecked()                                    # on by default, at the first launch
    click(qtbot, check)
    assert not check.isChecked()
    first.close()
    assert settings.value(KEY) in (False, "false")

    second = make_window(config=None)
    preview = second.pad.input_preview
    assert not preview.normalise_check.isChecked()
    np.testing.assert_array_equal(preview.network_input(a_small_digit()), a_small_digit())   # read as drawn
    assert second.open_and_wait(data)
    click(qtbot, preview.normalise_check)
    second.close()

    third = make_window(config=None)
    assert third.pad.input_preview.normalise_check.isChecked()
    assert not np.array_equal(third.pad.input_preview.network_input(a_small_digit()), a_small_digit())


def test_normalising_turned_off_by_a_fooling_search_is_not_remembered(
        qtbot: QtBot, make_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fool_panel, "FOOLING_MAX_STEPS", 20)       # a short climb keeps the test quick
    monkeypatch.setattr(fool_panel, "FOOLING_RESTARTS", 0)
    first = make_window()
    first.fool.set_target(4)
    qtbot.mouseClick(first.fool.fooling_image_button, Qt.MouseButton.LeftButton)
    assert not first.pad.input_preview.normalise_check.isChecked()  # off for the image it builds...
    qtbot.waitUntil(lambda: not first.fool.is_playing(), timeout=30_000)
    first.close()
    second = make_window(config=None)
    assert second.pad.input_preview.normalise_check.isChecked()     # ...but the user never chose that


def test_an_unreadable_remembered_value_gives_the_default_and_says_so(
        make_window: Callable[..., MainWindow], settings: QSettings) -> None:
    settings.setValue(KEY, "perhaps")
    settings.sync()
    window = make_window(config=None)
    assert window.pad.input_preview.normalise_check.isChecked()
    message = window.statusBar().currentMessage()
    assert "could not be used" in message and KEY in message and "'perhaps'" in message
    window.close()
    assert settings.value(KEY) in (True, "true")                    # what was applied replaces it
