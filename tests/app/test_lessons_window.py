"""Lessons in the window: every action link of the shipped chapters does what it says when clicked,
a chapter's computed sentence matches a real run, and Run > Show the code... shows the settings' script."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from studio.core.digit_folders import write_digit_folder
from studio.core.lessons import compare_choices, load_chapters, settings_from_params
from studio.core.run_script import script_for
from studio.core.training import PRESETS, TrainingConfig
from studio.gui.actions import COMPARE_TAB, DIAGNOSTICS_TAB, FRAGILITY_TAB, MISTAKES_TAB, ONE_UPDATE_TAB, TRAINING_TAB
from studio.gui.main_window import MainWindow
from tests.helpers import tiny_dataset

SMALL = TrainingConfig(hidden=(8,), max_epochs=None)


def tiny_folder(root: Path) -> Path:
    """A learnable tiny data set on disk."""
    dataset = tiny_dataset(per_class=6, test_per_class=2, seed=3)
    write_digit_folder(dataset.train, root / "trainingDigits")
    write_digit_folder(dataset.test, root / "testDigits")
    return root


def click(window: MainWindow, url: str) -> None:
    window.lessons.browser.anchorClicked.emit(QUrl(url))


def stop_and_wait(qtbot: QtBot, window: MainWindow) -> None:
    window.runner.stop()
    qtbot.waitUntil(lambda: window.runner.state == "idle", timeout=15_000)


def test_the_lessons_dock_opens_the_first_time_and_then_as_it_was_left(
        make_window: Callable[..., MainWindow]) -> None:
    first = make_window()
    assert first.lessons_dock.isVisible()
    first.lessons_dock.close()
    first.close()
    second = make_window()
    assert not second.lessons_dock.isVisible()


def test_every_action_link_of_every_chapter_works_when_clicked(
        qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    window = make_window(SMALL)
    assert window.open_and_wait(tiny_folder(tmp_path / "tiny"))
    tabs = {"training": TRAINING_TAB, "saturation": DIAGNOSTICS_TAB, "mistakes": MISTAKES_TAB,
            "compare": COMPARE_TAB, "one-update": ONE_UPDATE_TAB, "fragility": FRAGILITY_TAB}
    seen = set()
    for chapter in load_chapters():
        for k, link in enumerate(chapter.links):
            action = link.action
            if (action.name, tuple(sorted(action.params.items()))) in seen:
                continue
            seen.add((action.name, tuple(sorted(action.params.items()))))
            window.lessons.show_chapter(chapter.number - 1)
            before = window.controls.config()
            click(window, f"{link.url}#{k}")
            message = window.lessons.message_label.text() if window.lessons.message_label.isVisible() else ""
            where = f"{chapter.name}: {link.url} -> {message!r}"
            if action.name == "preset":
                assert window.controls.config() == PRESETS[action.params["name"]], where
                # Small and long (every run here is stopped); a decaying schedule needs an end.
                window.controls.set_config(replace(window.controls.config(), hidden=(8,), max_epochs=10_000))
            elif action.name == "set":
                assert window.controls.config() == settings_from_params(action.params, before), where
            elif action.name == "start":
                qtbot.waitUntil(lambda: window.metrics.history.last_epoch >= 1, timeout=20_000)
                stop_and_wait(qtbot, window)
            elif action.name == "stop":
                assert window.runner.state in ("idle", "stopping"), where
            elif action.name == "reset":
                assert len(window.metrics.history) == 0, where
            elif action.name == "tab":
                name = action.params["name"]
                assert name in tabs and window.view_tabs.currentIndex() == tabs[name], where
            elif action.name == "compare":
                assert window.view_tabs.currentIndex() == COMPARE_TAB, where
                assert window.compare.choices() == compare_choices(action.params), where
            elif action.name == "open-builtin-data":
                qtbot.waitUntil(lambda: not window.loader.busy, timeout=20_000)   # it opens in the background
                assert window.dataset.name == "synthetic", where
                assert window.open_and_wait(tmp_path / "tiny")
            elif action.name == "show-code":
                viewer = window._code_viewer
                assert viewer is not None and viewer.isVisible(), where
                assert viewer.code() == script_for(window.controls.config())
                viewer.close()
            elif action.name == "chapter":
                assert window.lessons.chapter.number == int(action.params["n"]), where
            else:
                raise AssertionError(f"untested action {action.name}")
            assert window.errors == [], where
            if action.name != "tab":
                assert not message or "no tab" not in message
    assert {name for name, _ in seen} == {"preset", "set", "start", "stop", "reset", "tab", "compare",
                                          "open-builtin-data", "show-code", "chapter"}


def test_the_chapters_sentence_matches_a_real_run(qtbot: QtBot, make_window: Callable[..., MainWindow],
                                                  tmp_path: Path) -> None:
    window = make_window(replace(SMALL, loss="ce", init="xavier", bias_init="zeros", lr=0.1, max_epochs=12))
    assert window.open_and_wait(tiny_folder(tmp_path / "tiny"))
    window.lessons.show_chapter(0)
    click(window, "action:start#0")
    qtbot.waitUntil(lambda: window.runner.state == "idle" and window.metrics.history.last_epoch == 12,
                    timeout=30_000)
    history = window.metrics.history
    train_acc = history.column("train_acc")
    reached = np.flatnonzero(train_acc >= 0.987)
    if reached.size:
        epoch = int(history.column("epoch")[reached[0]])
        expected = (f"Your run passed 98.7% training accuracy at epoch {epoch} (the tutorial's took 1,743 "
                    f"epochs: your run was faster)")
    else:
        expected = (f"Your run has not reached 98.7% training accuracy yet (after 12 epochs it is at "
                    f"{100 * train_acc[-1]:.1f}%, best {100 * train_acc.max():.1f}%)")
    test_acc = history.column("test_acc")
    best = int(np.argmax(test_acc))
    best_sentence = (f"Your run's best test accuracy is {100 * test_acc[best]:.1f}%, at epoch "
                     f"{int(history.column('epoch')[best])}")
    qtbot.waitUntil(lambda: expected in window.lessons.browser.toPlainText(), timeout=5000)
    text = window.lessons.browser.toPlainText()
    assert best_sentence in text
    assert f"Training accuracy now: {100 * train_acc[-1]:.1f}%" in text
    assert "12 epochs so far" in text


def test_run_show_the_code_opens_the_script_of_the_current_settings(
        make_window: Callable[..., MainWindow]) -> None:
    window = make_window(replace(PRESETS["fast"], lr=0.07))
    window.actions.show_code_action.trigger()
    viewer = window._code_viewer
    assert viewer.isVisible()
    assert viewer.code() == script_for(replace(PRESETS["fast"], lr=0.07))
    assert "LEARNING_RATE = 0.07" in viewer.code()
    window.controls.set_config(PRESETS["article"])
    window.actions.show_code_action.trigger()
    assert window._code_viewer is viewer and viewer.code() == script_for(PRESETS["article"])


def test_a_setting_a_lesson_cannot_apply_is_reported_in_the_panel(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    click(window, "action:compare?epochs=3,4")      # the compare form has no line for max epochs
    assert window.lessons.message_label.isVisible()
    assert "no line for the setting 'max_epochs'" in window.lessons.message_label.text()
    assert window.errors == []
