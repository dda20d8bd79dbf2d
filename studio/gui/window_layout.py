"""Where the window's parts sit: the settings and runs docks, the central tabs, the status bar.

Left: the settings panel with, under it, the strip of what training sees (``AugmentStrip``) in a
scrolling dock, and the Runs list of the session in a dock tabbed with it. The Lessons dock: right on
a screen at least ``WIDE_SCREEN`` wide, else a third tab beside Settings and Runs; open the first time
(in front, when it is a tab), then as the learner left it.
Centre: a stack of the empty page (no data set yet) and six tabs: "Training" (the curves above the
first layer's weights and the drawing pad with its fooling controls), "Saturation & gradients",
"Mistakes", "Compare runs", "One update", "Fragility". Each tab's page sits in a scroll area, so a
page's minimum size never forces the window's (it must fit a 1024x640 screen).
Status bar: a message area, the data set loading bar with its Cancel button, then the run's state,
epoch, speed, training time and progress towards Max epochs.

Left out: wiring (``main_window``), menus (``actions``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDockWidget, QFrame, QGroupBox, QLabel, QProgressBar, QPushButton, QScrollArea,
                               QSizePolicy, QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from studio.core.history import RunHistory
from studio.core.lr_schedule import scheduled_learning_rate
from studio.core.training import TrainingConfig
from studio.gui.actions import TABS
from studio.gui.qt_helpers import format_count, format_duration, format_rate

if TYPE_CHECKING:
    from studio.gui.main_window import MainWindow

#: Screens at least this wide (px) show the Lessons dock as a third column; narrower ones, under the settings.
WIDE_SCREEN = 1500
STATE_NAMES = {"idle": "Ready", "running": "Training", "paused": "Paused", "stopping": "Stopping"}


@dataclass
class StatusWidgets:
    """The status bar's permanent widgets, and how they show a run."""

    state: QLabel
    epoch: QLabel
    speed: QLabel
    elapsed: QLabel
    progress: QProgressBar
    loading: QProgressBar
    cancel_loading: QPushButton

    def show_history(self, history: RunHistory, live: TrainingConfig | None = None) -> None:
        """The run's last epoch, speed and training time (blank for a run without epochs). ``live`` is the
        settings a live run trains with: when its schedule changes the rate, the epoch's rate is shown too."""
        trained = len(history) > 0
        text = f"epoch {history.last_epoch:,}" if trained else ""
        if trained and live is not None and live.lr_schedule != "constant":
            rate = scheduled_learning_rate(float(history.column("lr")[-1]), live.lr_schedule,
                                           history.last_epoch, live.max_epochs)
            text += f", lr {rate:.3g}"
        self.epoch.setText(text)
        self.speed.setText(format_rate(history.samples_per_second()) if trained else "")
        self.elapsed.setText(format_duration(history.total_seconds) if trained else "")

    def show_progress(self, limit: int | None, epoch: int) -> None:
        """``epoch`` out of ``limit`` epochs; hidden when there is no limit."""
        if limit is None:
            self.progress.hide()
            return
        self.progress.setRange(0, limit)
        self.progress.setValue(min(epoch, limit))
        self.progress.setFormat(f"{format_count(self.progress.value(), limit)} epochs")
        self.progress.show()


def titled(title: str, widget: QWidget, tip: str) -> QGroupBox:
    box = QGroupBox(title)
    box.setToolTip(tip)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(widget)
    return box


def build_docks(w: MainWindow) -> None:
    """The settings dock and the runs dock (tabbed, left), as ``w.settings_dock`` and ``w.runs_dock``;
    the lessons dock (right on a wide screen, else a tab beside them), as ``w.lessons_dock``."""
    settings = QWidget()
    settings_layout = QVBoxLayout(settings)
    settings_layout.setContentsMargins(0, 0, 0, 0)
    settings_layout.addWidget(w.controls)
    settings_layout.addWidget(titled("What training sees", w.augment_strip,
                                     "Training digits over the copies an epoch trains on with the "
                                     "current shift and augmentation settings."))
    scroll = QScrollArea()
    scroll.setWidget(settings)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(w.controls.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)
    features = QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
    w.settings_dock = QDockWidget("Settings", w)
    w.settings_dock.setObjectName("settings_dock")
    w.settings_dock.setWidget(scroll)
    w.settings_dock.setFeatures(features)
    w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, w.settings_dock)
    w.runs_dock = QDockWidget("Runs", w)
    w.runs_dock.setObjectName("runs_dock")
    w.runs_dock.setWidget(w.runs_view)
    w.runs_dock.setFeatures(features)
    w.runs_dock.setToolTip("Every run of this session: nothing trained is lost when you Reset, load a "
                           "model or open a data set")
    # A tab beside the settings: the window keeps its width (it must fit a 1024-pixel screen).
    w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, w.runs_dock)
    w.tabifyDockWidget(w.settings_dock, w.runs_dock)
    w.lessons_dock = QDockWidget("Lessons", w)
    w.lessons_dock.setObjectName("lessons_dock")
    w.lessons_dock.setWidget(w.lessons)
    w.lessons_dock.setFeatures(features)
    wide = w.screen().availableGeometry().width() >= WIDE_SCREEN
    if wide:
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, w.lessons_dock)
        w.resizeDocks([w.lessons_dock], [370], Qt.Orientation.Horizontal)
    else:
        # A third column would squeeze the pad, and under the settings the two shared the column's
        # height (at 1024x640 the settings showed little more than Start): a third tab beside them.
        w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, w.lessons_dock)
        w.tabifyDockWidget(w.runs_dock, w.lessons_dock)
    # Open the first time (in front of the settings when it shares their place: it is what a newcomer
    # reads first, and its links set the settings); afterwards the saved window state shows or hides it
    # as the learner left it.
    first_launch = not w.store.flag("lessons/opened", False)
    w.lessons_dock.setVisible(first_launch)
    (w.lessons_dock if first_launch and not wide else w.settings_dock).raise_()
    w.store.set_value("lessons/opened", True)
    # View > Settings / Runs / Lessons: a dock opened from the menu comes to the front of its tabs (Qt
    # adds it behind the current tab, where the learner would not see it open).
    for dock in (w.settings_dock, w.runs_dock, w.lessons_dock):
        dock.toggleViewAction().triggered.connect(_front_when_opened(dock))
    w.lessons_dock.toggleViewAction().toggled.connect(_settings_when_lessons_closed(w))


def _front_when_opened(dock: QDockWidget) -> Callable[[bool], None]:
    def bring_to_front(shown: bool) -> None:
        if shown:
            dock.raise_()
    return bring_to_front


def _settings_when_lessons_closed(w: MainWindow) -> Callable[[bool], None]:
    """Lessons closed from its tab: show the settings rather than the next tab (the runs)."""
    def show_settings(shown: bool) -> None:
        # The dock also hides while a closing window is taken apart, after the window itself is gone.
        if not shown and shiboken6.isValid(w) and w.isVisible() and w.dockWidgetArea(w.lessons_dock) == w.dockWidgetArea(w.settings_dock):
            w.settings_dock.raise_()
    return show_settings


def scrolling(page: QWidget, sideways_only: bool = False) -> QScrollArea:
    """``page`` in a frameless scroll area that resizes it: scroll bars appear only below its minimum.
    ``sideways_only``: as tall as the page always (a row of controls narrower than its buttons)."""
    scroll = QScrollArea()
    scroll.setWidget(page)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    if sideways_only:
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setSizeAdjustPolicy(QScrollArea.SizeAdjustPolicy.AdjustToContents)
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return scroll


def build_central(w: MainWindow) -> None:
    """``w.main_splitter``, ``w.view_tabs`` and ``w.stack`` (empty page, then the tabs)."""
    weights_box = titled("Weights: what each unit has learned", w.weights,
                         "Each tile is one unit's weights as a picture: red pixels push the unit up, blue "
                         "pixels push it down, white means zero. Click a tile to enlarge it.")
    pad_box = titled("Draw a digit: what does the network think?", w.pad,
                     "Draw with the left mouse button, erase with the right. The bars show the network's "
                     "outputs for your drawing, updated live while it trains.")
    pad_box.layout().addWidget(scrolling(w.fool, sideways_only=True))
    bottom = QSplitter(Qt.Orientation.Horizontal)
    bottom.addWidget(weights_box)
    bottom.addWidget(pad_box)
    bottom.setStretchFactor(0, 5)
    bottom.setStretchFactor(1, 4)
    w.main_splitter = QSplitter(Qt.Orientation.Vertical)
    w.main_splitter.setObjectName("main_splitter")
    # Tall enough for readable axes: on a short window the page scrolls rather than crushing the curves.
    w.metrics.setMinimumHeight(max(w.metrics.minimumSizeHint().height(), 230))
    w.main_splitter.addWidget(w.metrics)
    w.main_splitter.addWidget(bottom)
    w.main_splitter.setStretchFactor(0, 1)
    w.main_splitter.setStretchFactor(1, 1)
    w.main_splitter.setChildrenCollapsible(False)
    w.view_tabs = QTabWidget()
    w.view_tabs.setObjectName("view_tabs")
    w.view_tabs.setDocumentMode(True)
    w.view_tabs.setUsesScrollButtons(True)        # six names need not set the window's width
    pages = (w.main_splitter, w.diagnostics, w.confusion, w.compare, w.one_update, w.fragility)
    for page, (name, _, tip) in zip(pages, TABS):
        index = w.view_tabs.addTab(scrolling(page), name)
        w.view_tabs.setTabToolTip(index, tip)
    w.stack = QStackedWidget()
    w.stack.addWidget(scrolling(w.empty_page))
    w.stack.addWidget(w.view_tabs)
    w.setCentralWidget(w.stack)


def build_status_bar(w: MainWindow) -> StatusWidgets:
    bar = w.statusBar()
    loading = QProgressBar()
    loading.setRange(0, 0)                        # busy until a reader reports a fraction
    loading.setMaximumWidth(140)
    loading.setToolTip("Opening a data set; what is loaded stays usable meanwhile")
    loading.hide()
    cancel = QPushButton("Cancel")
    cancel.setToolTip("Stop opening this data set (the one loaded stays)")
    cancel.hide()
    # Permanent: a temporary message ("Opening ...") would hide normal status bar widgets.
    bar.addPermanentWidget(loading)
    bar.addPermanentWidget(cancel)
    status = StatusWidgets(QLabel(STATE_NAMES["idle"]), QLabel(""), QLabel(""), QLabel(""), QProgressBar(),
                           loading, cancel)
    status.state.setToolTip("What the training is doing")
    status.epoch.setToolTip("Epochs trained in this run (one epoch = one pass over the training set)")
    status.speed.setToolTip("Training speed over the last few epochs")
    status.elapsed.setToolTip("Training time of this run, pauses excluded")
    status.progress.setMaximumWidth(180)
    status.progress.setToolTip("Epochs trained out of Max epochs")
    status.progress.hide()
    for label in (status.state, status.epoch, status.speed, status.elapsed):
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setMinimumWidth(label.fontMetrics().horizontalAdvance("0" * 9))
        bar.addPermanentWidget(label)
    bar.addPermanentWidget(status.progress)
    return status
