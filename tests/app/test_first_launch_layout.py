"""The first launch on a small screen: the window fits the screen, the Lessons dock opens as a tab in front
of the settings (not under them, where each got half a column), and the settings, one click away, get
the whole column."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QDockWidget, QTabBar
from pytestqt.qtbot import QtBot

from studio.gui.main_window import MainWindow
from studio.gui.settings_store import first_window_size
from studio.gui.window_layout import WIDE_SCREEN

#: At least this share of the central area's height for a dock that has the left column to itself.
WHOLE_COLUMN = 0.85


def settle(qtbot: QtBot) -> None:
    for _ in range(3):
        qtbot.wait(30)


def in_front(window: MainWindow) -> list[str]:
    """The titles of the left docks the user can see (a tab behind another is not seen)."""
    return [dock.windowTitle() for dock in (window.settings_dock, window.runs_dock, window.lessons_dock)
            if dock.isVisible() and not dock.visibleRegion().isEmpty()]


def click_tab(qtbot: QtBot, window: MainWindow, title: str) -> None:
    """Click the tab ``title`` under the left docks, as the user does."""
    bars = [bar for bar in window.findChildren(QTabBar)
            if bar.isVisible() and title in [bar.tabText(i) for i in range(bar.count())]]
    assert len(bars) == 1, f"no single visible tab bar with {title!r}"
    bar = bars[0]
    index = [bar.tabText(i) for i in range(bar.count())].index(title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    settle(qtbot)


def close_button(dock: QDockWidget) -> QAbstractButton:
    return dock.findChild(QAbstractButton, "qt_dockwidget_closebutton")


@pytest.mark.parametrize("size", [(1024, 640), (1280, 720)])
def test_the_first_launch_shows_the_lessons_in_front_and_the_settings_a_click_away_each_whole(
        qtbot: QtBot, make_window: Callable[..., MainWindow], size: tuple[int, int]) -> None:
    window = make_window(size=size)
    assert window.screen().availableGeometry().width() < WIDE_SCREEN      # the test screen is a small one
    settle(qtbot)
    assert in_front(window) == ["Lessons"]
    assert window.lessons_dock in window.tabifiedDockWidgets(window.settings_dock)
    column = window.centralWidget().height()
    assert window.lessons_dock.height() >= WHOLE_COLUMN * column
    assert window.lessons_dock.width() >= window.lessons.minimumSizeHint().width()

    click_tab(qtbot, window, "Settings")
    assert in_front(window) == ["Settings"]
    scroll = window.settings_dock.widget()
    assert scroll.viewport().width() >= window.controls.minimumSizeHint().width()
    assert window.settings_dock.height() >= WHOLE_COLUMN * column


def test_closing_the_lessons_tab_shows_the_settings_and_the_view_menu_brings_it_back_in_front(
        qtbot: QtBot, make_window: Callable[..., MainWindow]) -> None:
    window = make_window(size=(1024, 640))
    settle(qtbot)
    qtbot.mouseClick(close_button(window.lessons_dock), Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert in_front(window) == ["Settings"]                   # not the Runs tab beside it
    action = window.lessons_dock.toggleViewAction()
    assert not action.isChecked()
    action.trigger()                                          # View > Lessons
    settle(qtbot)
    assert in_front(window) == ["Lessons"] and action.isChecked()
    runs = window.runs_dock.toggleViewAction()
    runs.trigger()                                            # View > Runs: closes it...
    settle(qtbot)
    assert not runs.isChecked()
    runs.trigger()                                            # ...and opens it, in front
    settle(qtbot)
    assert in_front(window) == ["Runs"] and runs.isChecked()


@pytest.mark.parametrize("title", ["Settings", "Runs", "Lessons"])
def test_the_next_launch_shows_the_tab_the_learner_left_in_front(
        qtbot: QtBot, make_window: Callable[..., MainWindow], title: str) -> None:
    first = make_window(size=(1024, 640))
    settle(qtbot)
    click_tab(qtbot, first, title)
    first.close()
    second = make_window(size=(1024, 640))
    settle(qtbot)
    assert in_front(second) == [title]
    assert second.lessons_dock.toggleViewAction().isChecked()         # still open, in front or behind


@pytest.mark.parametrize("screen, size", [
    ((1024, 640), (1024, 640)),          # a small screen: all of it (90% would be under 1024x640)
    ((1024, 600), (1024, 600)),          # never taller than the screen
    ((1280, 720), (1152, 648)),
    ((1366, 768), (1229, 691)),
    ((1920, 1080), (1440, 900)),
    ((3840, 2160), (1440, 900)),
])
def test_the_first_window_size_fits_the_screen(screen: tuple[int, int], size: tuple[int, int]) -> None:
    assert first_window_size(*screen) == size
