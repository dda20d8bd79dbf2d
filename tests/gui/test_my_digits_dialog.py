"""The My digits dialog lists, filters and deletes drawings; ask_and_add saves a labelled drawing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from studio.core.my_digits import MyDigits
from studio.gui.add_to_my_digits import DigitLabelDialog, ask_and_add
from studio.gui.my_digits_dialog import MyDigitsDialog, digit_pixmap


def drawing(seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random(1024) < 0.3).astype(np.uint8)


@pytest.fixture
def mine(tmp_path: Path) -> MyDigits:
    my_digits = MyDigits(tmp_path / "mine")
    for seed, label in enumerate([3, 3, 7, 0]):
        my_digits.add(drawing(seed), label)
    return my_digits


def test_lists_counts_and_filters(qtbot, mine: MyDigits) -> None:
    dialog = MyDigitsDialog(mine)
    qtbot.addWidget(dialog)
    assert dialog.names() == ["0_0.txt", "3_0.txt", "3_1.txt", "7_0.txt"]
    assert dialog.counts_label.text().startswith("4 drawings")
    assert "3: 2" in dialog.counts_label.text() and "7: 1" in dialog.counts_label.text()
    assert not dialog.list_widget.item(0).icon().isNull()
    dialog.filter_combo.setCurrentIndex(dialog.filter_combo.findData(3))
    assert dialog.names() == ["3_0.txt", "3_1.txt"]
    dialog.filter_combo.setCurrentIndex(dialog.filter_combo.findData(5))
    assert dialog.names() == [] and not dialog.empty_label.isHidden()


def test_deletes_the_selection_and_says_so(qtbot, mine: MyDigits) -> None:
    dialog = MyDigitsDialog(mine)
    qtbot.addWidget(dialog)
    dialog.confirm_deletes = False
    assert not dialog.delete_button.isEnabled()
    dialog.select_names(["3_0.txt", "7_0.txt"])
    assert dialog.delete_button.isEnabled()
    with qtbot.waitSignal(dialog.my_digits_changed, timeout=1000):
        dialog.delete_button.click()
    assert mine.names() == ["0_0.txt", "3_1.txt"]
    assert dialog.names() == ["0_0.txt", "3_1.txt"] and dialog.counts_label.text().startswith("2 drawings")


def test_a_drawing_deleted_elsewhere_is_reported_not_fatal(qtbot, mine: MyDigits) -> None:
    dialog = MyDigitsDialog(mine)
    qtbot.addWidget(dialog)
    dialog.select_names(["0_0.txt"])
    mine.delete("0_0.txt")                       # e.g. by another window
    with qtbot.assertNotEmitted(dialog.my_digits_changed):
        assert dialog.delete_selected() == []
    assert not dialog.error_label.isHidden() and "0_0.txt" in dialog.error_label.text()
    assert dialog.names() == ["3_0.txt", "3_1.txt", "7_0.txt"]


def test_empty_and_damaged_folders(qtbot, tmp_path: Path) -> None:
    empty = MyDigitsDialog(MyDigits(tmp_path / "none"))
    qtbot.addWidget(empty)
    assert empty.names() == [] and not empty.empty_label.isHidden()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "1_0.txt").write_text("not a digit")
    damaged = MyDigitsDialog(MyDigits(tmp_path / "bad"))
    qtbot.addWidget(damaged)
    assert not damaged.error_label.isHidden() and "1_0.txt" in damaged.error_label.text()


def test_thumbnail_shows_ink_dark() -> None:
    image = np.zeros(1024, np.uint8)
    image[:32] = 1                               # the top row is ink
    picture = digit_pixmap(image, 64).toImage()
    assert picture.width() == 64
    assert picture.pixelColor(5, 0).lightness() == 0 and picture.pixelColor(5, 40).lightness() == 255


def test_label_dialog_defaults_to_the_prediction_and_takes_keys(qtbot) -> None:
    dialog = DigitLabelDialog(drawing(0), predicted=4)
    qtbot.addWidget(dialog)
    assert dialog.digit() == 4 and dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_7)
    assert dialog.digit() == 7
    plain = DigitLabelDialog(drawing(0))
    qtbot.addWidget(plain)
    assert plain.digit() is None and not plain.ok_button.isEnabled()
    plain.group.button(2).click()
    assert plain.digit() == 2 and plain.ok_button.isEnabled()


def answer_label_dialog(qtbot, digit: int | None) -> None:
    """Once the modal label dialog is up: pick ``digit`` and press OK (or Cancel when ``None``)."""
    def act() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, DigitLabelDialog)
        if digit is None:
            dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
        else:
            dialog.group.button(digit).click()
            dialog.ok_button.click()
    QTimer.singleShot(0, act)


def test_ask_and_add_saves_with_the_chosen_label(qtbot, tmp_path: Path) -> None:
    mine = MyDigits(tmp_path / "mine")
    answer_label_dialog(qtbot, 6)
    assert ask_and_add(None, drawing(1), mine, predicted=5) == "6_0.txt"
    np.testing.assert_array_equal(mine.split().images[0], drawing(1))
    answer_label_dialog(qtbot, None)
    assert ask_and_add(None, drawing(2), mine, predicted=5) is None
    assert ask_and_add(None, np.zeros(1024, np.uint8), mine) is None       # empty pad: not even asked
    assert mine.names() == ["6_0.txt"]
