"""The Lessons panel on its own: chapters, links clicked, progress remembered, live values, bad links;
and the code viewer's Copy and Save."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from studio.core.history import RunHistory
from studio.core.lessons import NO_RUN, load_chapters
from studio.core.run_script import script_for
from studio.core.training import PRESETS, EpochFinished
from studio.gui.code_viewer import CodeViewer
from studio.gui.lessons_panel import LessonsPanel


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def make_panel(qtbot: QtBot, settings: QSettings, history=lambda: None, folder=None) -> LessonsPanel:
    panel = LessonsPanel(settings, history) if folder is None else LessonsPanel(settings, history, folder)
    qtbot.addWidget(panel)
    panel.resize(420, 700)
    panel.show()
    return panel


def click_link(panel: LessonsPanel, text: str) -> None:
    """Click the shown chapter's link whose text is ``text``, as the browser reports it (URL + number)."""
    for k, link in enumerate(panel.chapter.links):
        if link.text == text:
            panel.browser.anchorClicked.emit(QUrl(f"{link.url}#{k}"))
            return
    raise AssertionError(f"no link {text!r} in {panel.chapter.name}")


def test_the_first_chapter_shows_with_its_links_and_no_mistakes(qtbot: QtBot, settings: QSettings) -> None:
    panel = make_panel(qtbot, settings)
    assert panel.chapter.name == "01-the-tutorials-network"
    assert panel.chapter_combo.count() == 7
    assert not panel.problems_label.isVisible()
    text = panel.browser.toPlainText()
    assert "The tutorial's network" in text and NO_RUN.lower() in text.lower() and "{{" not in text
    assert not panel.previous_button.isEnabled() and panel.next_button.isEnabled()


def test_a_clicked_action_link_is_emitted_ticked_and_remembered(qtbot: QtBot, settings: QSettings) -> None:
    panel = make_panel(qtbot, settings)
    assert not panel.chapter_combo.itemText(0).endswith("✓")    # open, not read yet
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.chapter_combo.itemText(0).endswith("✓") and not panel.chapter_combo.itemText(1).endswith("✓")
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.chapter.number == 3
    with qtbot.waitSignal(panel.action_requested) as blocker:
        click_link(panel, "set every weight to 1")
    assert blocker.args == ["set", {"init": "ones"}]
    assert "✓ set every weight to 1" in panel.browser.toPlainText()

    again = make_panel(qtbot, settings)           # a new panel with the same settings
    assert again.chapter.number == 3
    assert "✓ set every weight to 1" in again.browser.toPlainText()
    assert again.chapter_combo.itemText(0).endswith("✓")    # read and left
    assert not again.chapter_combo.itemText(6).endswith("✓")
    qtbot.mouseClick(again.restart_button, Qt.MouseButton.LeftButton)
    assert "✓" not in again.browser.toPlainText()
    assert again.browser.verticalScrollBar().value() == 0
    assert make_panel(qtbot, settings).done_links() == set()


def test_a_chapter_link_moves_to_that_chapter_without_asking_the_window(qtbot: QtBot, settings: QSettings) -> None:
    panel = make_panel(qtbot, settings)
    with qtbot.assertNotEmitted(panel.action_requested):
        click_link(panel, "What the first layer learns")
    assert panel.chapter.number == 2
    qtbot.mouseClick(panel.previous_button, Qt.MouseButton.LeftButton)
    assert panel.chapter.number == 1


def test_an_invalid_action_shows_a_clear_message(qtbot: QtBot, settings: QSettings, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "01-mine.md").write_text("# Mine\n\n[Fly](action:fly?to=moon)\n[Web](https://example.org)\n",
                                       encoding="utf-8")
    panel = make_panel(qtbot, settings, folder=folder)
    assert panel.problems_label.isVisible()
    assert f"{folder / '01-mine.md'}, line 3: bad action link [Fly](action:fly?to=moon)" in panel.problems_label.text()
    with qtbot.assertNotEmitted(panel.action_requested):
        panel.browser.anchorClicked.emit(QUrl("action:fly?to=moon#0"))
    message = panel.message_label.text()
    assert panel.message_label.isVisible()
    assert "01-mine.md, line 3" in message and "unknown action 'fly'" in message and "preset, set, start" in message
    with qtbot.assertNotEmitted(panel.action_requested):
        panel.browser.anchorClicked.emit(QUrl("https://example.org"))
    assert "not opened" in panel.message_label.text()


def test_a_folder_without_chapters_says_so(qtbot: QtBot, settings: QSettings, tmp_path: Path) -> None:
    panel = make_panel(qtbot, settings, folder=tmp_path)
    assert panel.chapter is None
    assert "holds no chapters" in panel.problems_label.text()
    assert not panel.next_button.isEnabled() and not panel.restart_button.isEnabled()


def test_live_values_follow_the_history_throttled(qtbot: QtBot, settings: QSettings) -> None:
    history = RunHistory(PRESETS["article"])
    panel = make_panel(qtbot, settings, history=lambda: history)
    for epoch, accuracy in enumerate((0.5, 0.95, 0.99), start=1):
        history.append(EpochFinished(epoch, 1.0 / epoch, accuracy, 0.5, accuracy - 0.1, 0.1, 0.1 * epoch, 0.01, 10))
        panel.refresh_live_values()
    assert NO_RUN.lower() in panel.browser.toPlainText().lower()   # not yet: rendering waits for the timer
    qtbot.waitUntil(lambda: "passed 98.7% training accuracy at epoch 3" in panel.browser.toPlainText(),
                    timeout=3000)
    assert "the tutorial's took 1,743 epochs: your run was faster" in panel.browser.toPlainText()


def test_every_shipped_chapter_renders_without_placeholders_left(qtbot: QtBot, settings: QSettings) -> None:
    panel = make_panel(qtbot, settings)
    for i, chapter in enumerate(load_chapters()):
        panel.show_chapter(i)
        text = panel.browser.toPlainText()
        assert chapter.title in text and "{{" not in text and "](action:" not in text


def test_the_code_viewer_copies_and_saves_the_script(qtbot: QtBot, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code = script_for(PRESETS["fast"])
    viewer = CodeViewer(code)
    qtbot.addWidget(viewer)
    viewer.show()
    assert viewer.editor.isReadOnly() and viewer.code() == code
    qtbot.mouseClick(viewer.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == code
    target = tmp_path / "run.py"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(viewer.save_button, Qt.MouseButton.LeftButton)
    assert target.read_text(encoding="utf-8") == code
    assert viewer.status_label.text() == f"Saved {target}"
    assert not viewer.save_to(tmp_path / "missing" / "run.py")
    assert "Cannot save" in viewer.status_label.text()


def test_the_highlighter_colours_keywords_strings_comments_and_numbers(qtbot: QtBot) -> None:
    viewer = CodeViewer('def f(x):  # a comment\n    return "text" + 42\n"""doc\nstring"""\n')
    qtbot.addWidget(viewer)
    document = viewer.editor.document()

    def colour_at(line: int, column: int) -> str:
        block = document.findBlockByNumber(line)
        for fmt in block.layout().formats():
            if fmt.start <= column < fmt.start + fmt.length:
                return fmt.format.foreground().color().name()
        return "none"

    h = viewer.highlighter
    assert colour_at(0, 0) == h.KEYWORD.foreground().color().name()          # def
    assert colour_at(0, 13) == h.COMMENT.foreground().color().name()         # the comment
    assert colour_at(1, 12) == h.STRING.foreground().color().name()          # "text"
    assert colour_at(1, 20) == h.NUMBER.foreground().color().name()          # 42
    assert colour_at(3, 2) == h.STRING.foreground().color().name()           # inside the docstring
