"""The page the window shows while no data set is loaded: what a data set is and how to open one.

Left out: opening anything (the page asks through ``open_requested`` and ``tutorial_requested``).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

#: Written here, not quoted from any file: the one place the page uses rich text.
EMPTY_TEXT = (
    "<h2>No data set loaded</h2>"
    "<p>Open one with <b>File &gt; Open data set...</b> (Ctrl+O), the <b>Open...</b> button on the "
    "left, or drop a folder or a file onto this window. No data at hand? <b>Get the tutorial's data "
    "set</b> downloads it (740&nbsp;kB).</p>"
    "<p>The tutorial's data set is a folder holding <tt>trainingDigits/</tt> and <tt>testDigits/</tt>, "
    "a single folder of digit files, or a .zip of either. Each digit file is named like "
    "<tt>3_17.txt</tt> (digit 3, sample 17) and holds 32 lines of 32 zeros and ones.</p>"
    "<p>MNIST files (<tt>train-images-idx3-ubyte.gz</tt> and its labels) and pictures sorted into "
    "folders <tt>0/</tt> to <tt>9/</tt> open too: they are turned into 32x32 black-and-white digits.</p>")

_WIDTH = 540


class EmptyPage(QWidget):
    """Explains how to open a data set. Signals: ``open_requested()``, ``tutorial_requested()``."""

    open_requested = Signal()
    tutorial_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(EMPTY_TEXT)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setFixedWidth(_WIDTH)
        # Aligned in its layout, a word-wrapped label gets its one-line height: give it the whole text's.
        self.label.setMinimumHeight(self.label.heightForWidth(_WIDTH))
        self.open_button = QPushButton("Open data set...")
        self.open_button.clicked.connect(self.open_requested)
        self.tutorial_button = QPushButton("Get the tutorial's data set...")
        self.tutorial_button.clicked.connect(self.tutorial_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.tutorial_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addStretch(2)
