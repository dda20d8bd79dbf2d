"""The status bar's run figures: epoch, the rate a schedule used, speed, time."""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

from studio.core.history import RunHistory
from studio.core.training import PRESETS, EpochFinished
from studio.gui.window_layout import StatusWidgets


def status_widgets(qtbot) -> StatusWidgets:
    widgets = StatusWidgets(QLabel(), QLabel(), QLabel(), QLabel(), QProgressBar(), QProgressBar(), QPushButton())
    for widget in (widgets.state, widgets.epoch, widgets.speed, widgets.elapsed, widgets.progress):
        qtbot.addWidget(widget)
    return widgets


def epoch(n: int, lr: float) -> EpochFinished:
    return EpochFinished(n, 0.5, 0.8, None, None, 0.1, 0.1 * n, lr, 100)


def test_the_status_shows_the_rate_a_schedule_used(qtbot) -> None:
    status = status_widgets(qtbot)
    config = replace(PRESETS["fast"], lr=0.08, lr_schedule="linear", max_epochs=4)
    history = RunHistory(config)
    history.extend([epoch(1, 0.08), epoch(2, 0.08), epoch(3, 0.08)])
    status.show_history(history, config)
    assert status.epoch.text() == "epoch 3, lr 0.04"          # 0.08 (1 - 2/4)
    status.show_history(history)                              # no live run: the settings may have changed
    assert status.epoch.text() == "epoch 3"
    constant = RunHistory(PRESETS["fast"])
    constant.extend([epoch(1, 0.03)])
    status.show_history(constant, PRESETS["fast"])
    assert status.epoch.text() == "epoch 1"
    status.show_history(RunHistory(PRESETS["best"]))
    assert status.epoch.text() == "" and status.speed.text() == ""
