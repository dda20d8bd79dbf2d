"""ControlsPanel: the form reads and writes a TrainingConfig, locks while a run is live, and says so."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from studio.core.data import Dataset, Split
from studio.core.network import INIT_DESCRIPTIONS, INITS
from studio.core.training import ORDER_DESCRIPTIONS, PRESETS, TrainingConfig
from studio.gui.controls_panel import LOCKED_TIP, ControlsPanel
from studio.gui.network_boxes import parse_hidden


@pytest.fixture
def panel(qtbot: QtBot) -> ControlsPanel:
    widget = ControlsPanel()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def small_dataset(with_test: bool = True) -> Dataset:
    labels = np.array([0, 1, 1, 2, 9], dtype=np.int64)
    images = np.zeros((5, 1024), dtype=np.uint8)
    split = Split(images, labels, tuple(f"{l}_{i}.txt" for i, l in enumerate(labels)))
    return Dataset("small", "/somewhere/small", split, split if with_test else None)


@pytest.mark.parametrize("name", ["article", "best"])
def test_set_config_then_config_round_trips(panel: ControlsPanel, name: str) -> None:
    panel.set_config(PRESETS[name])
    assert panel.config() == PRESETS[name]


def test_every_field_round_trips(panel: ControlsPanel) -> None:
    config = TrainingConfig(hidden=(32, 8, 4), activation="tanh", loss="ce", init="xavier", init_scale=0.5,
                            bias_init="zeros", lr=0.00125, batch_size=32, momentum=0.85,
                            weight_decay=0.00025, shift=3, order="dataset", max_epochs=77, seed=42)
    panel.set_config(config)
    assert panel.config() == config
    assert panel.lr_spin.text() == "0.00125"            # shown compactly, not 0.001250


def test_unlimited_epochs_and_no_hidden_layer(panel: ControlsPanel) -> None:
    panel.set_config(TrainingConfig(hidden=(), max_epochs=None))
    assert panel.max_epochs_spin.text() == "unlimited"
    assert panel.hidden_edit.text() == ""
    config = panel.config()
    assert config.max_epochs is None and config.hidden == ()


def test_presets_fill_the_form_and_announce_it(qtbot: QtBot, panel: ControlsPanel) -> None:
    with qtbot.waitSignal(panel.config_changed) as signal:
        panel.best_button.click()
    assert signal.args[0] == PRESETS["best"]
    assert panel.config() == PRESETS["best"]
    panel.article_button.click()
    assert panel.config() == PRESETS["article"]
    with qtbot.waitSignal(panel.config_changed) as signal:
        panel.fast_button.click()
    assert signal.args[0] == PRESETS["fast"] and panel.config() == PRESETS["fast"]
    assert "97%" in panel.fast_button.toolTip()


def test_early_stopping_is_off_at_zero_and_stays_editable_during_a_run(qtbot: QtBot, panel: ControlsPanel) -> None:
    assert panel.early_stopping_patience() is None and panel.early_stopping_spin.text() == "off"
    with qtbot.waitSignal(panel.early_stopping_changed) as signal:
        panel.early_stopping_spin.setValue(5)
    assert signal.args == [5] and panel.early_stopping_patience() == 5
    assert panel.early_stopping_spin.text() == "after 5 epochs"
    panel.set_dataset(small_dataset())
    panel.set_run_state("running")
    assert panel.early_stopping_spin.isEnabled() and not panel.fast_button.isEnabled()
    with qtbot.waitSignal(panel.early_stopping_changed) as signal:
        panel.set_early_stopping_patience(None)
    assert signal.args == [None] and panel.early_stopping_patience() is None


def test_edits_emit_config_changed_with_the_new_settings(qtbot: QtBot, panel: ControlsPanel) -> None:
    with qtbot.waitSignal(panel.config_changed) as signal:
        panel.activation_combo.setCurrentIndex(panel.activation_combo.findData("relu"))
    assert signal.args[0].activation == "relu"
    panel.hidden_edit.clear()
    with qtbot.assertNotEmitted(panel.config_changed):
        qtbot.keyClicks(panel.hidden_edit, "8,4")        # not while typing
    with qtbot.waitSignal(panel.config_changed) as signal:
        qtbot.keyClick(panel.hidden_edit, Qt.Key.Key_Return)
    assert signal.args[0].hidden == (8, 4)


def test_hidden_sizes_reject_what_is_not_a_list_of_sizes(qtbot: QtBot, panel: ControlsPanel) -> None:
    panel.hidden_edit.clear()
    qtbot.keyClicks(panel.hidden_edit, "a0-7")        # the validator lets none of it in except the 7
    assert panel.hidden_edit.text() == "7"
    panel.hidden_edit.setText("16,0")                 # setText bypasses the validator
    with pytest.raises(ValueError, match="hidden layer needs 1 to 4096 units"):
        panel.config()
    assert parse_hidden(" 16, 8 ") == (16, 8)
    assert parse_hidden("") == ()
    for bad in ("16,,8", "x", "-1", "١٦"):
        with pytest.raises(ValueError):
            parse_hidden(bad)


def test_every_initialiser_is_offered_with_its_description_as_tooltip(panel: ControlsPanel) -> None:
    combo = panel.init_combo
    assert [combo.itemData(i) for i in range(combo.count())] == list(INITS)
    for i, name in enumerate(INITS):
        assert combo.itemData(i, Qt.ItemDataRole.ToolTipRole) == INIT_DESCRIPTIONS[name]
    combo.setCurrentIndex(combo.findData("zeros"))
    assert panel.init_note.text() == INIT_DESCRIPTIONS["zeros"]
    order = panel.order_combo
    for i in range(order.count()):
        assert order.itemData(i, Qt.ItemDataRole.ToolTipRole) == ORDER_DESCRIPTIONS[order.itemData(i)]


def test_every_knob_has_a_tooltip(panel: ControlsPanel) -> None:
    knobs = panel.findChildren(QAbstractSpinBox) + panel.findChildren(QComboBox) \
        + panel.findChildren(QLineEdit) + panel.findChildren(QPushButton)
    knobs = [k for k in knobs if not isinstance(k.parent(), QAbstractSpinBox)]   # spin boxes' own editors
    assert len(knobs) >= 15
    missing = [k.objectName() or type(k).__name__ for k in knobs if len(k.toolTip()) < 20]
    assert missing == []
    for action in (panel.step_action, panel.stop_action, panel.reset_action):
        assert len(action.toolTip()) > 20


def test_a_live_run_locks_settings_but_not_the_learning_rate(qtbot: QtBot, panel: ControlsPanel) -> None:
    panel.set_dataset(small_dataset())
    panel.set_run_state("running")
    for widget in (panel.hidden_edit, panel.activation_combo, panel.loss_combo, panel.init_combo,
                   panel.scale_spin, panel.bias_combo, panel.seed_spin, panel.batch_spin,
                   panel.momentum_spin, panel.decay_spin, panel.shift_spin, panel.order_combo,
                   panel.max_epochs_spin, panel.article_button, panel.best_button):
        assert not widget.isEnabled()
        assert widget.toolTip().startswith(LOCKED_TIP)
    assert panel.lr_spin.isEnabled()
    with qtbot.waitSignal(panel.learning_rate_changed) as signal:
        panel.lr_spin.setValue(0.5)
    assert signal.args == [0.5]
    panel.set_run_state("idle")
    assert panel.init_combo.isEnabled()
    assert not panel.init_combo.toolTip().startswith(LOCKED_TIP)
    assert len(panel.init_combo.toolTip()) > 20


def test_start_pause_resume_follow_the_run_state(qtbot: QtBot, panel: ControlsPanel) -> None:
    assert not panel.start_pause_action.isEnabled()         # no data yet
    panel.set_dataset(small_dataset())
    assert panel.start_pause_action.isEnabled() and panel.start_pause_action.text() == "Start"
    assert panel.start_pause_action.shortcut().toString() == "Space"
    with qtbot.waitSignal(panel.start_requested):
        panel.start_button.click()
    panel.set_run_state("running")
    assert panel.start_pause_action.text() == "Pause" and panel.stop_action.isEnabled()
    with qtbot.waitSignal(panel.pause_requested):
        panel.start_pause_action.trigger()
    panel.set_run_state("paused")
    assert panel.start_pause_action.text() == "Resume"
    with qtbot.waitSignal(panel.resume_requested):
        panel.start_pause_action.trigger()
    with qtbot.waitSignal(panel.step_requested):
        panel.step_button.click()
    with qtbot.waitSignal(panel.stop_requested):
        panel.stop_button.click()
    panel.set_run_state("stopping")
    assert not panel.start_pause_action.isEnabled() and not panel.reset_action.isEnabled()
    panel.set_run_state("idle")
    assert not panel.stop_action.isEnabled()
    with qtbot.waitSignal(panel.reset_requested):
        panel.reset_button.click()


def test_space_starts(qtbot: QtBot, panel: ControlsPanel) -> None:
    panel.set_dataset(small_dataset())
    panel.activateWindow()
    # A label does nothing with Space itself: only the shortcut can start the run.
    with qtbot.waitSignal(panel.start_requested, timeout=2000):
        qtbot.keyClick(panel.data_name_label, Qt.Key.Key_Space)
    panel.set_run_state("running")
    with qtbot.waitSignal(panel.pause_requested, timeout=2000):
        qtbot.keyClick(panel.data_name_label, Qt.Key.Key_Space)


def test_the_data_set_box_shows_counts_per_digit(qtbot: QtBot, panel: ControlsPanel) -> None:
    panel.set_dataset(small_dataset(with_test=False))
    assert "small" in panel.data_name_label.text()
    assert panel.data_name_label.toolTip() == "/somewhere/small"
    text = panel.data_counts_label.text()
    assert "<td align='right' style='padding: 0 0 0 2px'>2</td>" in text   # two 1s
    assert "none" in text                                                   # no test split
    with qtbot.waitSignal(panel.open_dataset_requested) as signal:
        panel.open_button.click()
    assert signal.args == ["folder"]
    panel.set_dataset(None)
    assert "No data set" in panel.data_name_label.text()
    assert not panel.start_pause_action.isEnabled()


def test_init_descriptions_of_any_length_never_move_the_fields_below(qtbot, panel: ControlsPanel) -> None:
    panel.resize(320, max(900, panel.minimumSizeHint().height()))    # in the window it scrolls, never squeezes
    qtbot.wait(20)
    before = None
    for index in range(panel.init_combo.count()):
        panel.init_combo.setCurrentIndex(index)
        qtbot.wait(20)
        where = (panel.scale_spin.mapTo(panel, QPoint(0, 0)), panel.lr_spin.mapTo(panel, QPoint(0, 0)))
        assert before is None or where == before, panel.init_combo.currentText()
        before = where
        assert panel.init_note.height() >= panel.init_note.heightForWidth(panel.init_note.width()) - 1


def test_my_first_digit_does_not_push_the_panel_down(qtbot, panel: ControlsPanel) -> None:
    panel.resize(340, 1000)
    panel.set_dataset(small_dataset())
    qtbot.wait(20)
    before = panel.start_button.mapTo(panel, QPoint(0, 0)), panel.hidden_edit.mapTo(panel, QPoint(0, 0))
    panel.set_my_digits_counts([1] + [0] * 9)
    qtbot.wait(20)
    assert (panel.start_button.mapTo(panel, QPoint(0, 0)), panel.hidden_edit.mapTo(panel, QPoint(0, 0))) == before


def test_the_new_network_hint_comes_and_goes_without_moving_anything(qtbot, panel: ControlsPanel) -> None:
    qtbot.wait(20)
    before = panel.hidden_edit.mapTo(panel, QPoint(0, 0))
    panel.set_new_network_pending(True)
    qtbot.wait(20)
    assert panel.new_network_pending() and "new network" in panel.network_hint_label.text()
    assert panel.hidden_edit.mapTo(panel, QPoint(0, 0)) == before
    panel.set_new_network_pending(False)
    assert not panel.new_network_pending()


def test_max_epochs_says_1743_is_the_tutorials_run_length(panel: ControlsPanel) -> None:
    assert PRESETS["article"].max_epochs == 1743
    assert "1,743 is the tutorial's own run length" in panel.max_epochs_spin.toolTip()


def test_augment_menu_reads_writes_and_locks(qtbot: QtBot, panel: ControlsPanel) -> None:
    config = replace(PRESETS["fast"], augment=("rotate", "elastic"))
    panel.set_config(config)
    assert panel.config() == config
    assert panel.augment_button.text() == "rotate, elastic"
    with qtbot.waitSignal(panel.config_changed) as signal:
        panel.augment_actions["thickness"].trigger()             # a click on the menu's check box
    assert signal.args[0].augment == ("rotate", "thickness", "elastic")
    assert panel.augment_button.text() == "rotate, thickness, elastic"
    panel.set_config(replace(config, augment=()))
    assert panel.augment_button.text() == "none" and panel.config().augment == ()
    assert all(len(action.toolTip()) > 20 for action in panel.augment_actions.values())
    panel.set_dataset(small_dataset())
    panel.set_run_state("running")
    assert not panel.augment_button.isEnabled()


def test_run_the_readable_code_is_a_setting_of_the_run(qtbot: QtBot, panel: ControlsPanel) -> None:
    assert panel.config().engine == "fast"
    with qtbot.waitSignal(panel.config_changed) as signal:
        qtbot.mouseClick(panel.readable_check, Qt.MouseButton.LeftButton)
    assert signal.args[0].engine == "readable" and panel.config().engine == "readable"
    assert "network.py" in panel.readable_check.toolTip() or "Network.backward" in panel.readable_check.toolTip()
    panel.set_config(replace(PRESETS["article"], engine="fast"))
    assert not panel.readable_check.isChecked()
    panel.set_dataset(small_dataset())
    panel.set_run_state("running")
    assert not panel.readable_check.isEnabled()


def test_training_against_fooling_is_a_setting_of_the_run(qtbot: QtBot, panel: ControlsPanel) -> None:
    from studio.core.train_against import AGAINST_FOOLING_DESCRIPTION
    assert panel.config().against_fooling == 0 and panel.against_spin.text() == "off"
    assert panel.against_spin.toolTip() == AGAINST_FOOLING_DESCRIPTION
    panel.against_spin.setFocus()
    panel.against_spin.selectAll()
    with qtbot.waitSignal(panel.config_changed) as signal:
        qtbot.keyClicks(panel.against_spin, "6")
        qtbot.keyClick(panel.against_spin, Qt.Key.Key_Return)
    assert signal.args[0].against_fooling == 6 and panel.config().against_fooling == 6
    assert panel.against_spin.text() == "6 copies a batch" and "against fooling x6" in panel.config().label()
    panel.set_config(replace(PRESETS["fast"], against_fooling=2))
    assert panel.against_spin.value() == 2 and panel.config() == replace(PRESETS["fast"], against_fooling=2)
    panel.set_dataset(small_dataset())
    panel.set_run_state("running")
    assert not panel.against_spin.isEnabled() and LOCKED_TIP in panel.against_spin.toolTip()
    panel.set_run_state("idle")
    assert panel.against_spin.isEnabled() and panel.against_spin.toolTip() == AGAINST_FOOLING_DESCRIPTION


def test_the_settings_panel_speaks_with_the_core_texts_and_parser() -> None:
    from studio.core.network import ACTIVATION_DESCRIPTIONS, LOSS_DESCRIPTIONS
    from studio.core.training import PRESET_DESCRIPTIONS
    from studio.gui import controls_panel, network_boxes
    assert network_boxes.ACTIVATION_TIPS is ACTIVATION_DESCRIPTIONS
    assert network_boxes.LOSS_TIPS is LOSS_DESCRIPTIONS and controls_panel.PRESET_TIPS is PRESET_DESCRIPTIONS
    assert parse_hidden("16-16") == parse_hidden("16, 16") == (16, 16)
    with pytest.raises(ValueError, match="4096"):
        parse_hidden("5000")


def test_hidden_layers_typed_with_dashes_like_the_command_line(qtbot: QtBot, panel: ControlsPanel) -> None:
    panel.hidden_edit.clear()
    qtbot.keyClicks(panel.hidden_edit, "32-16")
    assert panel.hidden_edit.text() == "32-16" and panel.config().hidden == (32, 16)


def test_every_augmentation_on_does_not_widen_the_settings(qtbot: QtBot, panel: ControlsPanel) -> None:
    panel.set_config(replace(PRESETS["fast"], augment=()))
    width = panel.minimumSizeHint().width()
    panel.set_config(PRESETS["best"])                            # all five
    assert panel.augment_button.text() == "all five"
    assert panel.minimumSizeHint().width() <= width
    panel.set_config(replace(PRESETS["best"], augment=("rotate", "scale", "shear", "thickness")))
    assert panel.augment_button.text() == "4 of 5: rotate, ..."


def test_the_learning_rate_schedule_is_chosen_shown_and_locked(qtbot: QtBot, panel: ControlsPanel) -> None:
    panel.set_config(replace(PRESETS["fast"], lr_schedule="cosine", max_epochs=30))
    assert panel.config().lr_schedule == "cosine" and panel.schedule_combo.currentText() == "cosine decay"
    # Chosen the way a user does: open the list and pick "linear decay" with the keyboard.
    panel.schedule_combo.setFocus()
    with qtbot.waitSignal(panel.config_changed) as signal:
        qtbot.keyClick(panel.schedule_combo, Qt.Key.Key_Up)
    assert signal.args[0].lr_schedule == "linear"
    for index in range(panel.schedule_combo.count()):
        assert "learning rate" in panel.schedule_combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    # A decaying schedule needs a number of epochs: unlimited is framed in red, says why, and Start's
    # config() refuses it with the reason.
    panel.max_epochs_spin.setValue(0)
    assert "#d62728" in panel.max_epochs_spin.styleSheet()
    assert "set a number of epochs" in panel.max_epochs_spin.toolTip()
    with pytest.raises(ValueError, match="set max epochs"):
        panel.config()
    panel.max_epochs_spin.setValue(40)
    assert panel.max_epochs_spin.styleSheet() == "" and panel.config().max_epochs == 40
    panel.set_dataset(small_dataset())
    panel.set_run_state("running")
    assert not panel.schedule_combo.isEnabled()
