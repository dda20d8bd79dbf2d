"""A read-only viewer for the code of a run (``studio.core.run_script``), with Copy and Save.

``PythonHighlighter`` colours Python keywords, strings, comments and numbers: enough to read a short
script, not a full lexer (a ``#`` inside a string is taken for a comment's start only when no string
begins before it on the line; triple-quoted strings are followed across lines).

Left out: writing the script (``run_script.script_for``), choosing the settings (the window).
"""
from __future__ import annotations

import keyword
import re
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
                               QVBoxLayout, QWidget)


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, builtins such as ``print``, numbers, strings (also triple-quoted) and comments."""

    KEYWORD = _format("#7b1fa2", bold=True)
    BUILTIN = _format("#1565c0")
    NUMBER = _format("#ad5f00")
    STRING = _format("#2e7d32")
    COMMENT = _format("#757575", italic=True)

    _RULES = (
        (re.compile(r"\b(?:" + "|".join(keyword.kwlist) + r")\b"), "KEYWORD"),
        (re.compile(r"\b(?:print|range|len|int|float|dict|list|set|zip|max|min|open|enumerate|any|"
                    r"sorted|tuple|str)\b"), "BUILTIN"),
        (re.compile(r"\b[0-9]+(?:\.[0-9]*)?(?:e[-+]?[0-9]+)?\b"), "NUMBER"),
    )
    _STRING = re.compile(r"""[rbfRBF]?(?:'[^'\n]*'|"[^"\n]*")""")
    _TRIPLE = re.compile(r'"""|\'\'\'')

    def highlightBlock(self, text: str) -> None:  # Qt's name
        for pattern, name in self._RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), getattr(self, name))
        for match in self._STRING.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), self.STRING)
        comment = text.find("#")
        while comment != -1 and any(s < comment < e for s, e in self._string_spans(text)):
            comment = text.find("#", comment + 1)
        if comment != -1:
            self.setFormat(comment, len(text) - comment, self.COMMENT)
        self._highlight_triple_quotes(text)

    def _string_spans(self, text: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in self._STRING.finditer(text)]

    def _highlight_triple_quotes(self, text: str) -> None:
        """State 1: this block starts inside a triple-quoted string (a docstring)."""
        self.setCurrentBlockState(0)
        start = 0
        inside = self.previousBlockState() == 1
        if not inside:
            match = self._TRIPLE.search(text)
            if match is None:
                return
            start = match.start()
            search_from = match.end()
        else:
            search_from = 0
        while True:
            end = self._TRIPLE.search(text, search_from)
            if end is None:
                self.setCurrentBlockState(1)
                self.setFormat(start, len(text) - start, self.STRING)
                return
            self.setFormat(start, end.end() - start, self.STRING)
            following = self._TRIPLE.search(text, end.end())
            if following is None:
                return
            start, search_from = following.start(), following.end()


class CodeViewer(QDialog):
    """Shows ``code`` read-only with highlighting; Copy puts it on the clipboard, Save writes it to a file."""

    def __init__(self, code: str, title: str = "The code of this run", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.highlighter = PythonHighlighter(self.editor.document())
        self.note_label = QLabel("A standalone script using only NumPy: run it with "
                                 "python run.py --data FOLDER --epochs N --save model.npz")
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.copy_button = QPushButton("Copy")
        self.save_button = QPushButton("Save...")
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note_label)
        layout.addWidget(self.editor, 1)
        layout.addLayout(buttons)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.close_button.clicked.connect(self.close)
        self.resize(900, 700)
        self.set_code(code)

    def set_code(self, code: str) -> None:
        self.editor.setPlainText(code)
        self.status_label.clear()

    def code(self) -> str:
        return self.editor.toPlainText()

    def save_to(self, path: str | Path) -> bool:
        """Write the script to ``path`` (UTF-8); False, with the reason shown, if that fails."""
        try:
            Path(path).write_text(self.code() + ("" if self.code().endswith("\n") else "\n"), encoding="utf-8")
        except OSError as error:
            self.status_label.setText(f"Cannot save {path}: {error.strerror or error}")
            return False
        self.status_label.setText(f"Saved {path}")
        return True

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.code())
        self.status_label.setText("Copied to the clipboard")

    @Slot()
    def _on_save_button_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the script", "run.py", "Python scripts (*.py)")
        if path:
            self.save_to(path)
