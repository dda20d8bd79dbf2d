"""The window as a newcomer uses it: keys that work from any field, a layout that fits small screens
and holds still, and views that never show a previous network's leftovers."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from studio.gui.main_window import MainWindow
from tests.app.test_main_window import write_dataset
from tests.gui.pad_drag import drag


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path) -> MainWindow:
    window = make_window()
    assert window.open_and_wait(write_dataset(tmp_path / "tiny"))
    return window


def _stop(qtbot: QtBot, window: MainWindow) -> None:
    window.runner.stop()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=10_000)


def test_space_in_the_learning_rate_field_starts_and_pauses_and_never_edits_it(
        qtbot: QtBot, window: MainWindow) -> None:
    field = window.controls.lr_spin
    field.setFocus()
    field.lineEdit().selectAll()
    qtbot.waitUntil(field.hasFocus)
    text = field.text()
    qtbot.keyClick(field.lineEdit(), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.runner.state == "running", timeout=10_000)
    assert field.text() == text
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)    # where the focus is now
    qtbot.waitUntil(lambda: window.runner.state == "paused", timeout=10_000)
    assert field.text() == text
    _stop(qtbot, window)


def test_space_in_the_hidden_layers_field_and_on_a_combo_box_starts(qtbot: QtBot, window: MainWindow) -> None:
    for widget in (window.controls.hidden_edit, window.controls.init_combo):
        widget.setFocus()
        qtbot.waitUntil(widget.hasFocus)
        before = window.controls.hidden_edit.text()
        qtbot.keyClick(widget, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: window.runner.state == "running", timeout=10_000)
        assert window.controls.hidden_edit.text() == before
        _stop(qtbot, window)


def test_starting_does_not_leave_the_focus_in_a_number_field(qtbot: QtBot, window: MainWindow) -> None:
    """Start locks the focused initialiser box; the focus must not fall into Learning rate."""
    combo = window.controls.init_combo
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    qtbot.keyClick(combo, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.runner.state == "running", timeout=10_000)
    assert QApplication.focusWidget() is not window.controls.lr_spin.lineEdit()
    assert QApplication.focusWidget() is not window.controls.lr_spin
    _stop(qtbot, window)


def test_drawing_focuses_the_pad_and_delete_clears_it_but_not_in_a_field(qtbot: QtBot, window: MainWindow) -> None:
    pad = window.pad.pad
    field = window.controls.hidden_edit
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    drag(qtbot, pad, [(10, 10), (16, 16), (20, 14)])
    assert pad.hasFocus()
    assert pad.image().any()
    qtbot.keyClick(pad, Qt.Key.Key_Delete)
    assert not pad.image().any()
    drag(qtbot, pad, [(10, 10), (16, 16), (20, 14)])
    qtbot.keyClick(pad, Qt.Key.Key_Backspace)
    assert not pad.image().any()
    # In a text field Delete edits the text and leaves the drawing alone.
    drag(qtbot, pad, [(10, 10), (16, 16), (20, 14)])
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    field.setText("16,16")
    field.setCursorPosition(0)
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    assert field.text() == "6,16"
    assert pad.image().any()


def test_a_fresh_network_is_shown_untrained_on_the_pad_until_it_trains(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.max_epochs_spin.setValue(1743)
    drag(qtbot, window.pad.pad, [(10, 10), (16, 16), (20, 14)])
    view = window.pad.prediction_view
    assert view.digit_text() == "?" and "untrained" in view.hint_text().lower()
    window.controls.step_action.trigger()
    qtbot.waitUntil(lambda: window.runner.state == "paused", timeout=10_000)
    qtbot.waitUntil(lambda: view.digit_text() != "?", timeout=10_000)
    assert view.digit_text() == str(view.predicted_digit())
    qtbot.waitUntil(lambda: window.status.epoch.text() == "epoch 1", timeout=10_000)
    assert window.status.progress.text() == "1 / 1,743 epochs"
    _stop(qtbot, window)
    window.controls.reset_action.trigger()
    assert view.digit_text() == "?"
    assert window.status.epoch.text() == "" and window.status.elapsed.text() == ""


def test_the_new_network_hint_goes_once_start_builds_it(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.step_action.trigger()
    qtbot.waitUntil(lambda: window.runner.state == "paused", timeout=10_000)
    _stop(qtbot, window)
    window.controls.hidden_edit.setText("6")
    window.controls.hidden_edit.editingFinished.emit()
    assert window.controls.new_network_pending()
    window.start_training()
    qtbot.waitUntil(lambda: window.runner.state == "running", timeout=10_000)
    assert not window.controls.new_network_pending()
    assert window.network.sizes[1] == 6
    _stop(qtbot, window)


def _settle(qtbot: QtBot, window: MainWindow) -> None:
    for _ in range(3):
        qtbot.wait(30)


@pytest.mark.parametrize("size", [(1024, 640), (1280, 720), (1920, 1080)])
def test_the_window_fits_the_screen_with_a_usable_pad(qtbot: QtBot, window: MainWindow,
                                                      size: tuple[int, int]) -> None:
    window.resize(*size)
    _settle(qtbot, window)
    assert (window.width(), window.height()) == size
    hint = window.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1]
    central = window.centralWidget()
    assert central.minimumSizeHint().width() <= central.width()
    assert central.minimumSizeHint().height() <= central.height()
    assert window.settings_dock.isVisible()                      # with the settings shown
    assert window.pad.pad.grid_rect().width() >= 150
    window.grab().save(f"/tmp/polish11-test-{size[0]}x{size[1]}.png")


def test_the_pad_stays_put_when_the_weights_header_changes(qtbot: QtBot, window: MainWindow) -> None:
    window.resize(1280, 720)
    window.controls.hidden_edit.setText("256")
    window.controls.hidden_edit.editingFinished.emit()           # many units: page buttons appear
    _settle(qtbot, window)
    before = window.pad.pad.geometry(), window.pad.pad.mapTo(window, QPoint(0, 0))
    window.weights.set_page(2)
    _settle(qtbot, window)
    assert (window.pad.pad.geometry(), window.pad.pad.mapTo(window, QPoint(0, 0))) == before
    window.weights.zoom_to(40)                                   # "Back" instead of the pages
    _settle(qtbot, window)
    assert (window.pad.pad.geometry(), window.pad.pad.mapTo(window, QPoint(0, 0))) == before


def test_a_decaying_schedule_shows_each_epochs_rate_while_it_runs(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.lr_spin.setValue(0.5)
    window.controls.max_epochs_spin.setValue(10)
    window.controls.schedule_combo.setCurrentIndex(window.controls.schedule_combo.findData("linear"))
    window.controls.step_action.trigger()                     # one epoch, then paused: the run is live
    qtbot.waitUntil(lambda: window.status.epoch.text() == "epoch 1, lr 0.5", timeout=10_000)
    window.controls.step_action.trigger()
    qtbot.waitUntil(lambda: window.status.epoch.text() == "epoch 2, lr 0.45", timeout=10_000)
    _stop(qtbot, window)
    assert window.status.epoch.text() == "epoch 2, lr 0.45"   # still what the last epoch used
    window.controls.reset_action.trigger()
    assert window.status.epoch.text() == ""
