"""The Lessons panel: the studio's chapters, with live values from the learner's run and action links.

The panel shows one chapter at a time (``studio.core.lessons`` reads, checks and renders it) in a
``QTextBrowser`` from its Markdown, with a chapter list, Previous / Next and "Restart chapter". A click
on an action link never leaves the studio: the panel parses it and emits
``action_requested(name, params)``, which the window maps to its commands (``action:chapter`` it
handles itself). An invalid link, in a chapter or clicked, is reported in the panel with its file,
line and the known actions. Live values are re-rendered when the run's history changes, at most
every ``REFRESH_MS`` (``refresh_live_values`` only schedules it).

Progress lives in the ``QSettings`` given to the constructor: the current chapter, the chapters seen,
and per chapter which action links were followed (ticked in the text); "Restart chapter" forgets them
and goes back to the chapter's top.

Left out: carrying out actions (the window), the lesson format (``studio.core.lessons``).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout,
                               QWidget)

from studio.core.history import RunHistory
from studio.core.lessons import (LESSONS_FOLDER, Chapter, LessonError, load_chapters, number_action_links,
                                 parse_action, render, split_link_number)

#: Live values are re-rendered at most this often while a run trains (a render re-lays out the text).
REFRESH_MS = 500

_ERROR_STYLE = "QLabel { color: #b00020; }"
_NOTE_STYLE = "QLabel { color: #1b5e20; }"


class LessonsPanel(QWidget):
    """Chapters from ``folder`` with progress in ``settings``; ``history`` returns the current run's
    numbers (or None) whenever the live values are rendered."""

    action_requested = Signal(str, object)   # action name, params: dict[str, str]

    def __init__(self, settings: QSettings, history: Callable[[], RunHistory | None] = lambda: None,
                 folder: str | Path = LESSONS_FOLDER, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._history = history
        self._chapters: list[Chapter] = []
        self._index = -1

        self.chapter_combo = QComboBox()
        self.chapter_combo.setToolTip("The chapters; a tick marks those you have read and moved on from")
        self.previous_button = QPushButton("< Previous")
        self.next_button = QPushButton("Next >")
        self.restart_button = QPushButton("Restart chapter")
        self.restart_button.setToolTip("Back to the top of this chapter, with its steps unticked")
        self.problems_label = QLabel()
        self.problems_label.setTextFormat(Qt.TextFormat.PlainText)   # file names and links are quoted
        self.problems_label.setWordWrap(True)
        self.problems_label.setStyleSheet(_ERROR_STYLE)
        self.problems_label.hide()
        self.message_label = QLabel()
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setWordWrap(True)
        self.message_label.hide()
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)          # every link comes to anchorClicked, nothing opens outside
        self.browser.setOpenExternalLinks(False)
        self.browser.document().setDocumentMargin(10)
        self.setMinimumWidth(320)                 # a chapter's lines stay readable beside the plots

        buttons = QHBoxLayout()
        buttons.addWidget(self.previous_button)
        buttons.addWidget(self.next_button)
        buttons.addStretch(1)
        buttons.addWidget(self.restart_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.chapter_combo)
        layout.addLayout(buttons)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.message_label)
        layout.addWidget(self.browser, 1)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self._on_refresh_timer_timeout)
        self.chapter_combo.currentIndexChanged.connect(self._on_chapter_combo_current_index_changed)
        self.previous_button.clicked.connect(self._on_previous_button_clicked)
        self.next_button.clicked.connect(self._on_next_button_clicked)
        self.restart_button.clicked.connect(self._on_restart_button_clicked)
        self.browser.anchorClicked.connect(self._on_browser_anchor_clicked)
        self.load(folder)

    # -- public ---------------------------------------------------------------------------------------

    def load(self, folder: str | Path) -> None:
        """Read the chapters of ``folder`` and open the remembered one (else the first)."""
        try:
            self._chapters = load_chapters(folder)
        except LessonError as error:
            self._chapters = []
            self._index = -1
            self.chapter_combo.clear()
            self.browser.setPlainText("")
            self._show_problems(f"The lessons cannot be read: {error}")
            self._update_buttons()
            return
        self.chapter_combo.blockSignals(True)
        self.chapter_combo.clear()
        for chapter in self._chapters:
            self.chapter_combo.addItem(chapter.title, chapter.name)
        self.chapter_combo.blockSignals(False)
        remembered = self._settings.value("lessons/chapter", "", type=str)
        names = [c.name for c in self._chapters]
        self.show_chapter(names.index(remembered) if remembered in names else 0)

    @property
    def chapters(self) -> list[Chapter]:
        return list(self._chapters)

    @property
    def chapter(self) -> Chapter | None:
        """The chapter shown."""
        return self._chapters[self._index] if 0 <= self._index < len(self._chapters) else None

    def show_chapter(self, index: int) -> None:
        """Show chapter ``index`` (0-based) and remember it; out of range is ignored."""
        if not 0 <= index < len(self._chapters):
            return
        # The chapter left behind gets its tick (a tick on the chapter just opened would read as "done").
        left = self.chapter
        if left is not None and index != self._index:
            self._settings.setValue("lessons/seen", sorted(self._seen() | {left.name}))
        self._index = index
        chapter = self._chapters[index]
        self._settings.setValue("lessons/chapter", chapter.name)
        self.chapter_combo.blockSignals(True)
        self.chapter_combo.setCurrentIndex(index)
        self.chapter_combo.blockSignals(False)
        self._update_chapter_list()
        self._show_problems("\n".join(str(p) for p in chapter.problems))
        self.message_label.hide()
        self._render(keep_scroll=False)
        self._update_buttons()

    def refresh_live_values(self) -> None:
        """The run's numbers changed: re-render the live values soon (at most every ``REFRESH_MS``)."""
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def rendered_markdown(self) -> str:
        """The chapter's Markdown as shown: live values filled in, action links numbered and ticked."""
        chapter = self.chapter
        if chapter is None:
            return ""
        return number_action_links(render(chapter, self._history()), self.done_links())

    def done_links(self) -> set[int]:
        """Indices of the shown chapter's action links the learner has followed."""
        chapter = self.chapter
        if chapter is None:
            return set()
        stored = self._settings.value(f"lessons/done/{chapter.name}", "", type=str)
        return {int(part) for part in stored.split(",") if part.isdigit()}

    def show_message(self, text: str, error: bool = False) -> None:
        """A line above the chapter: what an action did, or why it could not (``error``)."""
        self.message_label.setText(text)
        self.message_label.setStyleSheet(_ERROR_STYLE if error else _NOTE_STYLE)
        self.message_label.setVisible(bool(text))

    def restart_chapter(self) -> None:
        """Untick the chapter's steps and go back to its top."""
        chapter = self.chapter
        if chapter is None:
            return
        self._settings.remove(f"lessons/done/{chapter.name}")
        self.message_label.hide()
        self._render(keep_scroll=False)

    # -- internals ------------------------------------------------------------------------------------

    def _seen(self) -> set[str]:
        value = self._settings.value("lessons/seen", [])
        if isinstance(value, str):                # QSettings gives a one-item list back as a string
            value = [value]
        return {str(v) for v in value or []}

    def _update_chapter_list(self) -> None:
        seen = self._seen()
        for i, chapter in enumerate(self._chapters):
            self.chapter_combo.setItemText(i, f"{chapter.title}  ✓" if chapter.name in seen else chapter.title)

    def _update_buttons(self) -> None:
        self.previous_button.setEnabled(self._index > 0)
        self.next_button.setEnabled(0 <= self._index < len(self._chapters) - 1)
        self.restart_button.setEnabled(self.chapter is not None)

    def _show_problems(self, text: str) -> None:
        self.problems_label.setText(f"This chapter has mistakes: {text}" if text and self.chapter else text)
        self.problems_label.setVisible(bool(text))

    def _render(self, keep_scroll: bool = True) -> None:
        bar = self.browser.verticalScrollBar()
        position = bar.value()
        self.browser.setMarkdown(self.rendered_markdown())
        bar.setValue(position if keep_scroll else 0)

    def _mark_done(self, k: int) -> None:
        chapter = self.chapter
        if chapter is None:
            return
        done = self.done_links() | {k}
        self._settings.setValue(f"lessons/done/{chapter.name}", ",".join(str(i) for i in sorted(done)))

    # -- slots ------------------------------------------------------------------------------------------

    @Slot(QUrl)
    def _on_browser_anchor_clicked(self, url: QUrl) -> None:
        text, k = split_link_number(url.toString())
        if not text.startswith("action:"):
            self.show_message(f"Links outside the studio are not opened from the lessons: {text}", error=True)
            return
        try:
            action = parse_action(text)
        except ValueError as error:
            chapter = self.chapter
            where = chapter.file if chapter else "this chapter"
            line = next((link.line for link in chapter.links if link.url == text), None) if chapter else None
            place = f"{where}, line {line}" if line else where
            self.show_message(f"This link cannot be followed ({place}): {error}", error=True)
            return
        if k is not None:
            self._mark_done(k)
        self.message_label.hide()
        if action.name == "chapter":
            self.show_chapter(int(action.params["n"]) - 1)
            if not 0 <= int(action.params["n"]) - 1 < len(self._chapters):
                self.show_message(f"There is no chapter {action.params['n']}", error=True)
            return
        self._render()
        self.action_requested.emit(action.name, dict(action.params))

    @Slot(int)
    def _on_chapter_combo_current_index_changed(self, index: int) -> None:
        self.show_chapter(index)

    @Slot()
    def _on_previous_button_clicked(self) -> None:
        self.show_chapter(self._index - 1)

    @Slot()
    def _on_next_button_clicked(self) -> None:
        self.show_chapter(self._index + 1)

    @Slot()
    def _on_restart_button_clicked(self) -> None:
        self.restart_chapter()

    @Slot()
    def _on_refresh_timer_timeout(self) -> None:
        if self.chapter is not None:
            self._render()
