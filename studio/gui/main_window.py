"""The studio's main window: it builds the panels and wires them together, and nothing else.

Left: the settings panel (``ControlsPanel``) in a dock. Centre: five tabs (View menu, Ctrl+1 to Ctrl+5).
"Training", the default, shows the live curves (``MetricsPlot``) above the weights of the first layer
(``WeightsView``) and the drawing pad (``PadPanel``); "Saturation & gradients" looks inside the network
(``DiagnosticsView``); "Mistakes" is the confusion matrix, whose cells open a gallery of samples that
load into the pad (``ConfusionView``); "Compare runs" trains variations of the current settings side by
side (``CompareView``, in worker processes); "Fragility" measures how few pixel flips change the
network's answers (``FragilityView``). Under the pad, ``FoolPanel`` shows what the network looks at and
fools it. An empty-state page explains how to open a data set when none is loaded. The training
itself runs in the ``TrainingRunner``'s thread: the window hands it the network and then only shows
snapshots, to every view alike.

The best epoch: a ``BestEpochTracker`` keeps the weights of the best epoch by test accuracy, marked on
the curves; Run > Restore best weights puts them back, and the Early stopping setting stops a run that
has not improved for that many epochs.

The network's life: it is built from the settings (and rebuilt at once when a network setting is
edited before any training, so the weights view previews each initialiser); Start trains it, Stop keeps
it, Start again carries on in the same run; Reset, a changed network setting followed by Start, or
loading a model replaces it and leaves the old run's curves faded on the plots.

Data comes in through ``sources.open_data_source`` (the tutorial's folders and zips, MNIST files,
picture folders), the tutorial's own archive through a download, and the learner's drawings through
"Add to my digits as..." under the pad; with "Train with my digits too" checked, a run trains on the
data set plus those drawings (``my_digits.with_my_digits``), and so does the exported data set.

Errors a user can cause (a malformed data set, a bad model file, an impossible setting) go through
``show_error`` (a non-blocking message box) and never replace what is loaded. Settings, window layout
and last folders are remembered in the ``QSettings`` given to the constructor (tests pass an INI file).

Left out: maths of any kind (``studio.core``), thread handling (``training_runner``,
``compare_runner``), drawing.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QUrl, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QGroupBox, QHBoxLayout, QLabel,
                               QMainWindow, QMenu, QMessageBox, QProgressBar, QPushButton, QScrollArea,
                               QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from studio.core.data import DataError, Dataset
from studio.core.download import digits_archive_path, has_digits_archive
from studio.core.model_file import ModelFileError, load_model, save_model
from studio.core.my_digits import MyDigits, with_my_digits
from studio.core.network import Network
from studio.core.sources import export_source, open_data_source
from studio.core.training import PRESETS, EpochFinished, RunDiverged, RunFinished, TrainingConfig
from studio.gui.add_to_my_digits import ask_and_add
from studio.gui.best_epoch import BestEpochTracker
from studio.gui.compare_view import CompareView
from studio.gui.confusion_view import ConfusionView
from studio.gui.controls_panel import NETWORK_FIELDS, ControlsPanel, needs_new_network
from studio.gui.diagnostics_view import DiagnosticsView
from studio.gui.download_dialog import DownloadDialog
from studio.gui.fool_panel import FoolPanel
from studio.gui.fragility_view import FragilityView
from studio.gui.metrics_plot import MetricsPlot
from studio.gui.my_digits_dialog import MyDigitsDialog
from studio.gui.one_update_view import OneUpdateView
from studio.gui.pad_panel import PadPanel
from studio.gui.augment_strip import AugmentStrip
from studio.gui.qt_helpers import format_count, format_duration, format_rate, make_action
from studio.gui.shortcuts import install_space_shortcut
from studio.gui.training_runner import TrainingRunner
from studio.gui.weights_view import WeightsView
# Lessons and the code of a run (see the block of that name in MainWindow).
from studio.core.compare import knob_name
from studio.core.lessons import compare_choices, settings_from_params
from studio.core.paths import DEFAULT_DATASET
from studio.core.run_script import script_for
from studio.gui.code_viewer import CodeViewer
from studio.gui.compare_view import KNOB_ROWS as COMPARE_KNOB_ROWS
from studio.gui.lessons_panel import LessonsPanel

ORGANISATION = "Backprop Studio"
APPLICATION = "Backprop Studio"
INPUTS, CLASSES = 1024, 10

_EMPTY_TEXT = (
    "<h2>No data set loaded</h2>"
    "<p>Open one with <b>File &gt; Open data set...</b> (Ctrl+O), the <b>Open...</b> button on the "
    "left, or drop a folder or a file onto this window. No data at hand? <b>Get the tutorial's data "
    "set</b> downloads it (740&nbsp;kB).</p>"
    "<p>The tutorial's data set is a folder holding <tt>trainingDigits/</tt> and <tt>testDigits/</tt>, "
    "a single folder of digit files, or a .zip of either. Each digit file is named like "
    "<tt>3_17.txt</tt> (digit 3, sample 17) and holds 32 lines of 32 zeros and ones.</p>"
    "<p>MNIST files (<tt>train-images-idx3-ubyte.gz</tt> and its labels) and pictures sorted into "
    "folders <tt>0/</tt> to <tt>9/</tt> open too: they are turned into 32x32 black-and-white digits.</p>")
_OPEN_FILE_FILTERS = ("Data set files (*.zip *-ubyte *-ubyte.gz);;Zip archives (*.zip);;"
                      "MNIST files (*-ubyte *-ubyte.gz);;All files (*)")
_STATE_NAMES = {"idle": "Ready", "running": "Training", "paused": "Paused", "stopping": "Stopping"}

#: The central tabs, in order: (name, View menu text, tooltip).
TABS: tuple[tuple[str, str, str], ...] = (
    ("Training", "&Training: curves, weights and pad",
     "The learning curves, the first layer's weights and the drawing pad, live while it trains"),
    ("Saturation && gradients", "&Saturation and gradients",
     "Inside the network: how many units are saturated, how much gradient reaches each layer and how "
     "far its weights move, and why squared error learns slowly"),
    ("Mistakes", "&Mistakes: confusion matrix",
     "Which digits the network reads as which; click a cell to see those samples, click a sample to "
     "load it into the pad"),
    ("Compare runs", "&Compare runs",
     "Train variations of the current settings side by side (initialisers, learning rates, ...) and "
     "compare how fast they learn"),
    ("One update", "&One update: backprop step by step",
     "One per-sample update of this network, formula by formula with its own numbers; apply it or undo it"),
    ("Fragility", "&Fragility: how few flips fool it",
     "How many pixel flips change the network's answers on a split, compared with another model; the "
     "easiest samples load into the pad"),
)
TRAINING_TAB, DIAGNOSTICS_TAB, MISTAKES_TAB, COMPARE_TAB, ONE_UPDATE_TAB, FRAGILITY_TAB = range(len(TABS))


class MainWindow(QMainWindow):
    """The studio's window. ``settings`` defaults to the user's QSettings for Backprop Studio."""

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings if settings is not None else QSettings(ORGANISATION, APPLICATION)
        self._dataset: Dataset | None = None
        self._network: Network | None = None       # trained in place by the runner while a run is live
        self._network_config: TrainingConfig | None = None   # what the network was built with
        self._network_fresh = False                # built from the settings and never trained
        self._snapshot: Network | None = None      # the latest copy: what the views show
        self._run_max_epochs: int | None = None
        self._last_error: QMessageBox | None = None
        self._my_digits = MyDigits()
        self._my_digits_dialog: MyDigitsDialog | None = None
        self._download_dialog: DownloadDialog | None = None
        self._weights_epoch: int | None = None     # set when the network holds an earlier epoch's weights
        self._early_stop_pending = False

        self.setWindowTitle(APPLICATION)
        self.setAcceptDrops(True)
        self.runner = TrainingRunner(self)
        self.controls = ControlsPanel()
        self.metrics = MetricsPlot()
        self.weights = WeightsView()
        self.pad = PadPanel()
        self.augment_strip = AugmentStrip()
        self.fool = FoolPanel(self.pad)
        self.fragility = FragilityView()
        self.diagnostics = DiagnosticsView()
        self.confusion = ConfusionView()
        self.compare = CompareView(PRESETS["article"])
        self.one_update = OneUpdateView()
        self.best = BestEpochTracker(parent=self)
        self._build_layout()
        self._build_status_bar()
        self._build_menus()
        self._connect()
        self._build_lessons()                     # before _restore_settings: its dock's state is saved
        install_space_shortcut(self, self.controls.start_pause_action)
        self._restore_settings()
        self._update_my_digits_counts()

    # -- building -------------------------------------------------------------------------------------

    def _build_layout(self) -> None:
        # The settings, and under them the strip that shows what the augmentation settings do.
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(self.controls)
        settings_layout.addWidget(_titled("What training sees", self.augment_strip,
                                          "Training digits over the copies an epoch trains on with the "
                                          "current shift and augmentation settings."))
        scroll = QScrollArea()
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.controls.minimumSizeHint().width()
                               + scroll.verticalScrollBar().sizeHint().width() + 4)
        self.settings_dock = QDockWidget("Settings", self)
        self.settings_dock.setObjectName("settings_dock")
        self.settings_dock.setWidget(scroll)
        self.settings_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.settings_dock)

        weights_box = _titled("Weights: what each unit has learned", self.weights,
                              "Each tile is one unit's weights as a picture: red pixels push the unit "
                              "up, blue pixels push it down, white means zero. Click a tile to enlarge it.")
        pad_box = _titled("Draw a digit: what does the network think?", self.pad,
                          "Draw with the left mouse button, erase with the right. The bars show the "
                          "network's outputs for your drawing, updated live while it trains.")
        pad_box.layout().addWidget(self.fool)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(weights_box)
        bottom.addWidget(pad_box)
        bottom.setStretchFactor(0, 5)
        bottom.setStretchFactor(1, 4)
        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.setObjectName("main_splitter")
        self.main_splitter.addWidget(self.metrics)
        self.main_splitter.addWidget(bottom)
        self.main_splitter.setStretchFactor(0, 1)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setChildrenCollapsible(False)

        self.empty_label = QLabel(_EMPTY_TEXT)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setTextFormat(Qt.TextFormat.RichText)
        self.empty_label.setFixedWidth(540)
        # Aligned in its layout, a word-wrapped label gets its one-line height: give it the whole text's.
        self.empty_label.setMinimumHeight(self.empty_label.heightForWidth(540))
        open_button = QPushButton("Open data set...")
        open_button.clicked.connect(self._on_open_folder_triggered)
        tutorial_button = QPushButton("Get the tutorial's data set...")
        tutorial_button.clicked.connect(self._on_get_tutorial_triggered)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(open_button)
        buttons.addWidget(tutorial_button)
        buttons.addStretch(1)
        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_label, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addSpacing(12)
        empty_layout.addLayout(buttons)
        empty_layout.addStretch(2)
        self.view_tabs = QTabWidget()
        self.view_tabs.setObjectName("view_tabs")
        self.view_tabs.setDocumentMode(True)
        for page, (name, _, tip) in zip((self.main_splitter, self.diagnostics, self.confusion, self.compare,
                                         self.one_update, self.fragility), TABS):
            index = self.view_tabs.addTab(page, name)
            self.view_tabs.setTabToolTip(index, tip)
        self.stack = QStackedWidget()
        self.stack.addWidget(empty)
        self.stack.addWidget(self.view_tabs)
        self.setCentralWidget(self.stack)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.state_label = QLabel(_STATE_NAMES["idle"])
        self.epoch_label = QLabel("")
        self.speed_label = QLabel("")
        self.elapsed_label = QLabel("")
        self.state_label.setToolTip("What the training is doing")
        self.epoch_label.setToolTip("Epochs trained in this run (one epoch = one pass over the training set)")
        self.speed_label.setToolTip("Training speed over the last few epochs")
        self.elapsed_label.setToolTip("Training time of this run, pauses excluded")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setToolTip("Epochs trained out of Max epochs")
        self.progress.hide()
        for widget in (self.state_label, self.epoch_label, self.speed_label, self.elapsed_label):
            widget.setMinimumWidth(widget.fontMetrics().horizontalAdvance("0" * 9))
            bar.addPermanentWidget(widget)
        bar.addPermanentWidget(self.progress)

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self.open_folder_action = make_action(self, "&Open data set...", self._on_open_folder_triggered,
                                              QKeySequence.StandardKey.Open,
                                              "Open a data set folder: trainingDigits/ and testDigits/ "
                                              "inside, one folder of digit files, MNIST files, or "
                                              "pictures in folders 0/ to 9/")
        self.open_file_action = make_action(self, "Open data set &file (.zip, MNIST)...",
                                            self._on_open_file_triggered, "Ctrl+Shift+O",
                                            "Open a data set packed in a .zip, or an MNIST images or "
                                            "labels file (its partner must be beside it)")
        self.get_tutorial_action = make_action(self, "&Get the tutorial's data set...",
                                               self._on_get_tutorial_triggered, None,
                                               "Open the tutorial's 1,934 training and 946 test digits, "
                                               "downloading them first (740 kB) if they are not here yet")
        self.export_dataset_action = make_action(self, "E&xport data set...", self._on_export_dataset_triggered,
                                                 None, "Write the data set in the tutorial's format "
                                                 "(trainingDigits/ and testDigits/ of 32x32 text files) "
                                                 "into a folder; with \"Train with my digits too\" on, "
                                                 "your digits join trainingDigits/")
        self.export_dataset_action.setEnabled(False)
        self.my_digits_action = make_action(self, "&My digits...", self.show_my_digits, None,
                                            "See and delete your own drawings")
        self.pad.add_to_my_digits_action.setShortcut(QKeySequence("Ctrl+D"))
        self.pad.add_to_my_digits_action.setToolTip(self.pad.add_to_my_digits_action.toolTip() + " (Ctrl+D)")
        self.save_model_action = make_action(self, "&Save model...", self._on_save_model_triggered,
                                             QKeySequence.StandardKey.Save,
                                             "Save the network's weights and its settings to a .npz file")
        self.load_model_action = make_action(self, "&Load model...", self._on_load_model_triggered,
                                             "Ctrl+L", "Load a saved network; its settings are restored")
        self.export_png_action = make_action(self, "Export curves as &PNG...", self._on_export_png_triggered,
                                             None, "Save the learning curves as a picture")
        self.export_csv_action = make_action(self, "Export numbers as &CSV...", self._on_export_csv_triggered,
                                             None, "Save every epoch's numbers as CSV (earlier runs beside it)")
        self.quit_action = make_action(self, "&Quit", self.close, QKeySequence("Ctrl+Q"))
        _fill_menu(menu, [self.open_folder_action, self.open_file_action, self.get_tutorial_action,
                          self.export_dataset_action, None, self.my_digits_action,
                          self.pad.add_to_my_digits_action, None, self.save_model_action,
                          self.load_model_action, None, self.export_png_action, self.export_csv_action,
                          None, self.quit_action])

        self.restore_best_action = make_action(self, "Restore &best weights", self.restore_best_weights,
                                               "Ctrl+B", "Put back the weights of the best epoch so far "
                                               "(the green line on the curves): the highest test accuracy")
        self.restore_best_action.setEnabled(False)
        _fill_menu(self.menuBar().addMenu("&Run"),
                   [self.controls.start_pause_action, self.controls.step_action, self.controls.stop_action,
                    None, self.restore_best_action, None, self.controls.reset_action])

        view = self.menuBar().addMenu("&View")
        self.tab_actions: list[QAction] = []
        group = QActionGroup(self)
        for index, (_, text, tip) in enumerate(TABS):
            action = make_action(self, text, None, f"Ctrl+{index + 1}", tip)
            action.setCheckable(True)
            action.setData(index)
            action.setEnabled(False)             # until a data set is open
            group.addAction(action)
            view.addAction(action)
            self.tab_actions.append(action)
        self.tab_actions[TRAINING_TAB].setChecked(True)
        group.triggered.connect(self._on_tab_actions_triggered)
        view.addSeparator()
        view.addAction(self.settings_dock.toggleViewAction())
        self.log_loss_action = make_action(self, "&Log-scale loss", None, None,
                                           "Show the loss on a logarithmic axis")
        self.log_loss_action.setCheckable(True)
        self.log_loss_action.toggled.connect(self.metrics.set_log_loss)
        self.metrics.log_check.toggled.connect(self.log_loss_action.setChecked)
        self.clear_runs_action = make_action(self, "&Clear previous runs", self.metrics.clear_previous_runs,
                                             None, "Remove the faded curves of earlier runs")
        self.clear_runs_action.setEnabled(False)
        self.metrics.previous_runs_changed.connect(self._on_metrics_previous_runs_changed)
        view.addAction(self.log_loss_action)
        view.addAction(self.clear_runs_action)
        view.addSeparator()
        view.addAction(self.pad.clear_action)
        view.addAction(self.fool.looks_action)

    def _connect(self) -> None:
        self.controls.open_dataset_requested.connect(self._on_controls_open_dataset_requested)
        self.controls.my_digits_requested.connect(self.show_my_digits)
        self.controls.train_with_my_digits_changed.connect(self._on_controls_train_with_my_digits_changed)
        self.pad.add_to_my_digits_requested.connect(self._on_pad_add_to_my_digits_requested)
        self.controls.start_requested.connect(self._on_controls_start_requested)
        self.controls.pause_requested.connect(self.runner.pause)
        self.controls.resume_requested.connect(self.runner.resume)
        self.controls.step_requested.connect(self._on_controls_step_requested)
        self.controls.stop_requested.connect(self.runner.stop)
        self.controls.reset_requested.connect(self._on_controls_reset_requested)
        self.controls.config_changed.connect(self._on_controls_config_changed)
        self.controls.config_changed.connect(self.augment_strip.set_config)
        self.controls.learning_rate_changed.connect(self._on_controls_learning_rate_changed)
        self.controls.early_stopping_changed.connect(self._on_controls_early_stopping_changed)
        self.runner.epochs_arrived.connect(self._on_runner_epochs_arrived)
        self.runner.snapshot_ready.connect(self._on_runner_snapshot_ready)
        self.runner.best_candidate_ready.connect(self._on_runner_best_candidate_ready)
        self.runner.run_finished.connect(self._on_runner_run_finished)
        self.runner.run_failed.connect(self._on_runner_run_failed)
        self.runner.state_changed.connect(self._on_runner_state_changed)
        self.best.best_epoch_changed.connect(self.metrics.set_best_epoch)
        self.best.best_epoch_changed.connect(self._on_best_best_epoch_changed)
        self.best.early_stop_requested.connect(self._on_best_early_stop_requested)
        self.confusion.sample_chosen.connect(self._on_confusion_sample_chosen)
        self.fragility.image_chosen.connect(self._on_fragility_image_chosen)
        self.view_tabs.currentChanged.connect(self._on_view_tabs_current_changed)
        self.one_update.weights_changed.connect(self._on_one_update_weights_changed)
        self.pad.pad.drawing_changed.connect(self.one_update.set_pad_drawing)

    # -- public: what the menus, the tests and the command line call ---------------------------------

    @property
    def dataset(self) -> Dataset | None:
        return self._dataset

    @property
    def network(self) -> Network | None:
        """The latest snapshot of the network (what the views show); None before there is one."""
        return self._snapshot

    @property
    def my_digits(self) -> MyDigits:
        """The user's own drawings (files in the user's data folder)."""
        return self._my_digits

    def open_dataset(self, path: str | Path) -> bool:
        """Load the data set at ``path`` (any source ``open_data_source`` knows); on failure show why
        and keep the one already loaded."""
        try:
            with self._busy(f"Opening {Path(path).name}…"):
                dataset = open_data_source(path)
        except DataError as error:
            self.show_error("Cannot open the data set", str(error))
            return False
        except OSError as error:
            self.show_error("Cannot open the data set", f"{path}: {error.strerror or error}")
            return False
        self.runner.shutdown()                      # a run on the old data ends here
        self._dataset = dataset
        self.controls.set_dataset(dataset)
        self.pad.set_dataset(dataset)
        self.augment_strip.set_dataset(dataset)
        self.fool.set_dataset(dataset)
        self.fragility.set_dataset(dataset)
        # The views see the loaded data set, also when a run adds my digits to its training part.
        self.diagnostics.set_dataset(dataset)     # forgets what it measured on the old data
        self.confusion.set_dataset(dataset)
        self.compare.set_dataset(dataset)
        self.one_update.set_dataset(dataset)
        self.stack.setCurrentIndex(1)
        self.export_dataset_action.setEnabled(True)
        for action in self.tab_actions:
            action.setEnabled(True)
        self._update_progress()
        self.setWindowTitle(f"{dataset.name} - {APPLICATION}")
        if self._network is None:
            self._new_network_from_settings()
        else:
            if len(self.metrics.history):
                # The trained network stays; its numbers on the new data start a new run.
                self.metrics.start_run(self._current_config())
                self.best.reset()
                self._weights_epoch = None
            if self._snapshot is not None:
                self.diagnostics.record(self.metrics.history.last_epoch, self._snapshot)
        self._settings.setValue("data/last", str(Path(path).resolve()))
        self._settings.setValue("folders/data", str(Path(path).resolve().parent))
        self.statusBar().showMessage(f"Opened {dataset.name}: {len(dataset.train)} training and "
                                     f"{len(dataset.test) if dataset.test else 0} test samples", 5000)
        return True

    def start_training(self) -> None:
        """Start (or carry on) training with the current settings; a changed network setting first
        builds a new network."""
        if self._dataset is None or self.runner.is_live:
            return
        try:
            config = self.controls.config()
        except ValueError as error:
            self.show_error("Cannot start training", str(error))
            return
        dataset = self._training_dataset()
        if dataset is None:
            return
        if self._network is None or needs_new_network(config, self._network_config):
            if not self._new_network(config):
                return
        history = self.metrics.history
        if len(history) == 0:
            self.metrics.start_run(config)
        if history.remaining_epochs(config.max_epochs) == 0:
            self.statusBar().showMessage(f"This run has reached its {config.max_epochs} epochs: raise Max "
                                         "epochs to train on, or Reset to start again.", 8000)
            return
        self._run_max_epochs = config.max_epochs
        self._network_fresh = False
        self._weights_epoch = None
        self._early_stop_pending = False
        self.best.begin_segment()                 # early stopping counts afresh; the best weights stay
        if dataset is not self._dataset:
            added = len(dataset.train) - len(self._dataset.train)
            self.statusBar().showMessage(f"Training on {self._dataset.name} and {added} of my digits: "
                                         f"{len(dataset.train):,} training samples", 5000)
        self.runner.start(self._network, dataset, config, first_epoch=history.last_epoch)

    def reset_network(self) -> None:
        """End any run and build a fresh network from the current settings (a new run)."""
        self.runner.shutdown()
        self._new_network_from_settings()

    def save_model_to(self, path: str | Path) -> bool:
        """Save the network (the latest snapshot while training) and its settings to ``path``."""
        network = self._snapshot if self.runner.is_live else self._network
        if network is None:
            self.show_error("Cannot save the model", "There is no network yet: open a data set first.")
            return False
        history = self.metrics.history
        # After Restore best weights the network holds an earlier epoch's weights: describe that one.
        epoch = self._weights_epoch if self._weights_epoch is not None and not self.runner.is_live \
            else history.last_epoch
        info: dict[str, object] = {"config": self._current_config().to_dict(), "epochs": epoch}
        row = history.row(epoch) if len(history) else None
        if row is not None:
            info["train_accuracy"] = row["train_acc"]
            if history.has_test:
                info["test_accuracy"] = row["test_acc"]
        if self._dataset is not None:
            info["dataset"] = self._dataset.name
        try:
            save_model(path, network, info)
        except ModelFileError as error:
            self.show_error("Cannot save the model", str(error))
            return False
        self._settings.setValue("folders/model", str(Path(path).resolve().parent))
        self.statusBar().showMessage(f"Saved the model to {path}", 5000)
        return True

    def load_model_from(self, path: str | Path) -> bool:
        """Load a model file: its network replaces the current one and its settings fill the panel."""
        try:
            network, info = load_model(path)
        except ModelFileError as error:
            self.show_error("Cannot load the model", str(error))
            return False
        if network.sizes[0] != INPUTS or network.sizes[-1] != CLASSES:
            self.show_error("Cannot load the model",
                            f"{path}: the network has {network.sizes[0]} inputs and {network.sizes[-1]} "
                            f"outputs; the studio's 32x32 digits need {INPUTS} inputs and {CLASSES} outputs.")
            return False
        config = self._config_for_loaded(network, info)
        self.runner.shutdown()
        self._network, self._network_config, self._network_fresh = network, config, False
        self.controls.set_new_network_pending(False)
        self._weights_epoch = None
        self.metrics.start_run(config, label=f"{config.label()} (from {Path(path).name})")
        self.best.reset()
        self.diagnostics.reset()
        self.controls.set_config(config)
        self._show_network(network.copy())
        self._settings.setValue("folders/model", str(Path(path).resolve().parent))
        epochs = info.get("epochs")
        self.statusBar().showMessage(f"Loaded {Path(path).name}"
                                     + (f", trained for {epochs} epochs" if isinstance(epochs, int) else ""), 8000)
        return True

    def restore_best_weights(self) -> bool:
        """Put the best epoch's weights back into the network (only while no run trains it) and show
        them in every view; False if there are none to restore."""
        epoch, accuracy = self.best.best_epoch, self.best.best_accuracy
        if self.runner.is_live or self._network is None or epoch is None or accuracy is None:
            return False
        try:
            self.best.restore_into(self._network)
        except ValueError as error:
            self.show_error("Cannot restore the best weights", str(error))
            return False
        self._weights_epoch = epoch
        self.diagnostics.reset()                  # its timeline was of the weights that went on training
        self._show_network(self._network.copy(), epoch)
        self.statusBar().showMessage(f"Restored the weights of epoch {epoch} ({self.best.monitored} "
                                     f"{100 * accuracy:.1f}%). Start trains on from them.", 10000)
        return True

    def show_tab(self, index: int) -> None:
        """Bring the central tab ``index`` (``TRAINING_TAB``, ``DIAGNOSTICS_TAB``, ...) to the front."""
        self.view_tabs.setCurrentIndex(index)

    def export_curves_png(self, path: str | Path) -> bool:
        try:
            self.metrics.export_png(path)
        except OSError as error:
            self.show_error("Cannot export the curves", f"{path}: {error}")
            return False
        self._settings.setValue("folders/export", str(Path(path).resolve().parent))
        self.statusBar().showMessage(f"Saved the curves to {path}", 5000)
        return True

    def export_numbers_csv(self, path: str | Path) -> bool:
        try:
            written = self.metrics.export_csv(path)
        except OSError as error:
            self.show_error("Cannot export the numbers", f"{path}: {error.strerror or error}")
            return False
        self._settings.setValue("folders/export", str(Path(path).resolve().parent))
        extra = f" (and {len(written) - 1} earlier runs beside it)" if len(written) > 1 else ""
        self.statusBar().showMessage(f"Saved the numbers to {path}{extra}", 5000)
        return True

    def get_tutorial_dataset(self) -> None:
        """Open the tutorial's archive from the user's data folder, downloading it first (in a dialog
        with progress and Cancel) if it is not there."""
        if has_digits_archive():
            self.open_dataset(digits_archive_path())
            return
        if self._download_dialog is not None:
            self._download_dialog.raise_()
            return
        dialog = DownloadDialog(self)
        dialog.finished_with.connect(self._on_download_dialog_finished_with)
        dialog.finished.connect(self._on_download_dialog_finished)
        self._download_dialog = dialog
        dialog.start()
        dialog.open()

    def export_dataset_to(self, folder: str | Path) -> bool:
        """Write the data set (with my digits in the training part if the panel says to train with
        them) into ``folder`` as trainingDigits/ and testDigits/."""
        if self._dataset is None:
            self.show_error("Cannot export the data set", "There is no data set: open one first.")
            return False
        dataset = self._training_dataset()
        if dataset is None:
            return False
        try:
            with self._busy(f"Exporting {dataset.name}…"):
                export_source(dataset, folder)
        except (DataError, ValueError) as error:
            self.show_error("Cannot export the data set", f"{folder}: {error}")
            return False
        except OSError as error:
            self.show_error("Cannot export the data set", _os_error_text(error, folder))
            return False
        self._settings.setValue("folders/export", str(Path(folder).resolve().parent))
        parts = f"{len(dataset.train):,} training" + (f" and {len(dataset.test):,} test" if dataset.test else "")
        self.statusBar().showMessage(f"Exported {dataset.name} to {folder}: {parts} digit files", 8000)
        return True

    def show_my_digits(self) -> None:
        """Show the My digits dialog (one, not modal: the learner can draw and add while it is open)."""
        if self._my_digits_dialog is None:
            self._my_digits_dialog = MyDigitsDialog(self._my_digits, self)
            self._my_digits_dialog.my_digits_changed.connect(self._on_my_digits_dialog_my_digits_changed)
        else:
            self._my_digits_dialog.refresh()
        self._my_digits_dialog.show()
        self._my_digits_dialog.raise_()
        self._my_digits_dialog.activateWindow()

    def add_drawing_to_my_digits(self) -> str | None:
        """Ask which digit the pad drawing is and save it in my digits; the new file's name, or None."""
        name = ask_and_add(self, self.pad.image(), self._my_digits,
                           predicted=self.pad.prediction_view.predicted_digit())
        if name is not None:
            self._update_my_digits_counts()
            if self._my_digits_dialog is not None and self._my_digits_dialog.isVisible():
                self._my_digits_dialog.refresh()
            self.statusBar().showMessage(f"Saved the drawing as {name} in my digits "
                                         f"({self._my_digits.folder})", 5000)
        return name

    def show_error(self, title: str, text: str) -> None:
        """Tell the user what went wrong, without blocking (tests replace this method)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self._last_error = box

    def last_dataset_path(self) -> str | None:
        """The data set opened last time, if it still exists."""
        value = self._settings.value("data/last", None)
        return value if isinstance(value, str) and Path(value).exists() else None

    # -- data -----------------------------------------------------------------------------------------

    @contextmanager
    def _busy(self, message: str) -> Iterator[None]:
        """A wait cursor and ``message`` in the status bar while the GUI thread does a slow job (an
        MNIST set takes seconds to convert)."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        self.statusBar().showMessage(message)
        self.statusBar().repaint()           # painted now: the event loop is blocked until the job ends
        try:
            yield
        finally:
            QApplication.restoreOverrideCursor()
            self.statusBar().clearMessage()

    def _training_dataset(self) -> Dataset | None:
        """The loaded data set, plus my digits in its training part if the panel says to train with
        them; None (after showing why) if the drawings cannot be read."""
        dataset = self._dataset
        if dataset is None or not self.controls.train_with_my_digits():
            return dataset
        try:
            return with_my_digits(dataset, self._my_digits.split())
        except DataError as error:
            self.show_error("Cannot use my digits", str(error))
        except OSError as error:
            self.show_error("Cannot use my digits", _os_error_text(error, self._my_digits.folder))
        return None

    def _update_my_digits_counts(self) -> None:
        try:
            counts = self._my_digits.count_per_class()
        except DataError as error:
            self.statusBar().showMessage(str(error), 8000)
            return
        self.controls.set_my_digits_counts(counts.tolist())

    # -- the network ----------------------------------------------------------------------------------

    def _new_network_from_settings(self) -> None:
        try:
            config = self.controls.config()
        except ValueError as error:
            self.show_error("Cannot build the network", str(error))
            return
        self._new_network(config)

    def _new_network(self, config: TrainingConfig) -> bool:
        try:
            network = config.build_network(INPUTS, CLASSES)
        except ValueError as error:
            self.show_error("Cannot build the network", str(error))
            return False
        self._network, self._network_config, self._network_fresh = network, config, True
        self.controls.set_new_network_pending(False)
        self._weights_epoch = None
        self.metrics.start_run(config)
        for label in (self.epoch_label, self.speed_label, self.elapsed_label):
            label.setText("")                 # the old run's figures are not this network's
        self.best.reset()
        self.diagnostics.reset()
        self._show_network(network.copy())
        self._update_progress()
        return True

    def _show_network(self, snapshot: Network, epoch: int | None = None) -> None:
        """Show ``snapshot`` (a copy nobody trains; the views share it) as of ``epoch`` (default: the
        run's last) in every view."""
        self._snapshot = snapshot
        self.weights.set_network(snapshot)
        self.pad.set_network(snapshot, trained=not self._network_fresh)
        self.fragility.set_network(snapshot)
        self.diagnostics.record(self.metrics.history.last_epoch if epoch is None else epoch, snapshot)
        self.confusion.update_network(snapshot)
        self.one_update.set_network(snapshot)

    def _current_config(self) -> TrainingConfig:
        """The panel's settings with the network's own network settings (for saving and labels)."""
        base = self._network_config or PRESETS["article"]
        try:
            config = self.controls.config()
        except ValueError:
            return base
        return replace(config, **{name: getattr(base, name) for name in NETWORK_FIELDS})

    def _config_for_loaded(self, network: Network, info: dict) -> TrainingConfig:
        saved = info.get("config")
        if isinstance(saved, dict):
            try:
                config = TrainingConfig.from_dict(saved)
                if config.sizes(INPUTS, CLASSES) == network.sizes and config.activation == network.activation \
                        and config.loss == network.loss:
                    return config
            except (ValueError, TypeError):
                pass
        try:
            base = self.controls.config()
        except ValueError:
            base = PRESETS["article"]
        return replace(base, hidden=tuple(network.sizes[1:-1]), activation=network.activation,
                       loss=network.loss)

    # -- slots: the settings panel ----------------------------------------------------------------------

    @Slot(str)
    def _on_controls_open_dataset_requested(self, kind: str) -> None:
        if kind == "file":
            self._on_open_file_triggered()
        elif kind == "tutorial":
            self._on_get_tutorial_triggered()
        else:
            self._on_open_folder_triggered()

    @Slot(bool)
    def _on_controls_train_with_my_digits_changed(self, on: bool) -> None:
        self._settings.setValue("data/train_with_my_digits", on)

    @Slot()
    def _on_controls_start_requested(self) -> None:
        self.start_training()

    @Slot()
    def _on_controls_step_requested(self) -> None:
        if not self.runner.is_live:
            self.start_training()
        self.runner.step_one_epoch()

    @Slot()
    def _on_controls_reset_requested(self) -> None:
        self.reset_network()

    @Slot(object)
    def _on_controls_config_changed(self, config: TrainingConfig) -> None:
        self._settings.setValue("config", json.dumps(config.to_dict()))
        self.compare.set_base_config(config)
        self.one_update.set_learning_rate(config.lr)
        if self.runner.is_live:
            return
        if self._network_config is not None and needs_new_network(config, self._network_config):
            if self._network_fresh or self._network is None:
                self._new_network(config)          # nothing trained yet: preview the new start
            else:
                self.controls.set_new_network_pending(True)
        else:
            self.controls.set_new_network_pending(False)      # changed back: Start carries on
        self._update_progress()

    @Slot(float)
    def _on_controls_learning_rate_changed(self, lr: float) -> None:
        self.runner.set_learning_rate(lr)

    @Slot(object)
    def _on_controls_early_stopping_changed(self, patience: int | None) -> None:
        self.best.early_stopping_patience = patience
        self._settings.setValue("training/early_stopping", patience or 0)

    # -- slots: the runner ------------------------------------------------------------------------------

    @Slot(object)
    def _on_runner_epochs_arrived(self, events: list[EpochFinished]) -> None:
        self.metrics.add_epochs(events)
        history = self.metrics.history
        self.epoch_label.setText(f"epoch {history.last_epoch:,}")
        self.speed_label.setText(format_rate(history.samples_per_second()))
        self.elapsed_label.setText(format_duration(history.total_seconds))
        self._update_progress()
        self.best.offer(events)                   # may ask for an early stop

    @Slot(object)
    def _on_runner_snapshot_ready(self, snapshot: Network) -> None:
        self.best.offer([], snapshot)
        self._show_network(snapshot)

    @Slot(object)
    def _on_runner_best_candidate_ready(self, candidate: tuple[int, Network]) -> None:
        self.best.offer_candidate(*candidate)

    @Slot(object)
    def _on_runner_run_finished(self, event: RunFinished | RunDiverged) -> None:
        if isinstance(event, RunDiverged):
            self.show_error("Training diverged", event.message)
        elif self._early_stop_pending:
            self._show_early_stop_message()       # again: the run's last snapshot may have moved the best
        elif event.reason == "max_epochs":
            self.statusBar().showMessage(f"Finished: {self.metrics.history.last_epoch:,} epochs.", 8000)
        self._early_stop_pending = False

    @Slot(str)
    def _on_runner_run_failed(self, message: str) -> None:
        self.show_error("Training failed", message)

    @Slot(str)
    def _on_runner_state_changed(self, state: str) -> None:
        self.controls.set_run_state(state)
        self.state_label.setText(_STATE_NAMES.get(state, state))
        self.one_update.set_run_live(self.runner.is_live)
        self._update_progress()
        self._update_restore_action()

    # -- slots: the best epoch and the views ------------------------------------------------------------

    @Slot(object)
    def _on_best_best_epoch_changed(self, _epoch: int | None) -> None:
        self._update_restore_action()

    @Slot()
    def _on_best_early_stop_requested(self) -> None:
        self.runner.stop()
        self._early_stop_pending = True
        self._show_early_stop_message()

    def _show_early_stop_message(self) -> None:
        best = self.best
        kept = "" if best.best_epoch is None or best.best_accuracy is None else \
            f"; best was epoch {best.best_epoch} ({100 * best.best_accuracy:.1f}%)"
        self.statusBar().showMessage(f"Stopped early: no better {best.monitored} for "
                                     f"{best.early_stopping_patience} epochs{kept}", 15000)

    def _update_restore_action(self) -> None:
        self.restore_best_action.setEnabled(not self.runner.is_live and self.best.best_epoch is not None)

    @Slot(str, int)
    def _on_confusion_sample_chosen(self, split: str, index: int) -> None:
        try:
            self.pad.load_sample("test" if split == "test" else "train", index)
        except ValueError as error:
            self.statusBar().showMessage(str(error), 8000)
            return
        self.one_update.set_mistake(split, index)
        self.show_tab(TRAINING_TAB)
        self.statusBar().showMessage(f"In the pad: {self.pad.sample_text()}", 5000)

    @Slot(object)
    def _on_one_update_weights_changed(self, network: Network) -> None:
        """The One update tab applied (or undid) one step: copy its weights into the network in place
        (others may hold it) and show the new snapshot everywhere. Never while a run trains it."""
        if self.runner.is_live or self._network is None or network.sizes != self._network.sizes:
            return
        for mine, new in zip(self._network.parameters(), network.parameters()):
            mine[...] = new
        self._network_fresh = False
        self._show_network(self._network.copy())

    @Slot(object, str)
    def _on_fragility_image_chosen(self, image: object, text: str) -> None:
        self.pad.pad.set_image(image)
        self.show_tab(TRAINING_TAB)
        self.statusBar().showMessage(f"In the pad: {text}", 5000)

    @Slot(int)
    def _on_view_tabs_current_changed(self, index: int) -> None:
        if 0 <= index < len(self.tab_actions):
            self.tab_actions[index].setChecked(True)
        if index == COMPARE_TAB:
            try:
                self.compare.set_base_config(self.controls.config())
            except ValueError:
                pass                               # an invalid field: keep the last valid base

    @Slot(QAction)
    def _on_tab_actions_triggered(self, action: QAction) -> None:
        self.show_tab(int(action.data()))

    # -- slots: my digits, the pad, the download ---------------------------------------------------------

    @Slot()
    def _on_my_digits_dialog_my_digits_changed(self) -> None:
        self._update_my_digits_counts()

    @Slot()
    def _on_pad_add_to_my_digits_requested(self) -> None:
        self.add_drawing_to_my_digits()

    @Slot(str)
    def _on_download_dialog_finished_with(self, path: str) -> None:
        self.open_dataset(path)

    @Slot(int)
    def _on_download_dialog_finished(self, _result: int) -> None:
        dialog, self._download_dialog = self._download_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    @Slot()
    def _on_metrics_previous_runs_changed(self) -> None:
        self.clear_runs_action.setEnabled(bool(self.metrics.previous_runs))

    def _update_progress(self) -> None:
        try:
            limit = self._run_max_epochs if self.runner.is_live else self.controls.config().max_epochs
        except ValueError:
            limit = None
        if limit is None or self._dataset is None:
            self.progress.hide()
            return
        self.progress.setRange(0, limit)
        self.progress.setValue(min(self.metrics.history.last_epoch, limit))
        self.progress.setFormat(f"{format_count(self.progress.value(), limit)} epochs")
        self.progress.show()

    # -- slots: menus -------------------------------------------------------------------------------------

    @Slot()
    def _on_open_folder_triggered(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a data set folder", self._folder("data"))
        if path:
            self.open_dataset(path)

    @Slot()
    def _on_open_file_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a data set file", self._folder("data"),
                                              _OPEN_FILE_FILTERS)
        if path:
            self.open_dataset(path)

    @Slot()
    def _on_get_tutorial_triggered(self) -> None:
        self.get_tutorial_dataset()

    @Slot()
    def _on_export_dataset_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the data set into a folder", self._folder("export"))
        if folder:
            self.export_dataset_to(folder)

    @Slot()
    def _on_save_model_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the model", str(Path(self._folder("model"))
                                                                            / "model.npz"),
                                              "Model files (*.npz)")
        if path:
            self.save_model_to(path)

    @Slot()
    def _on_load_model_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a model", self._folder("model"),
                                              "Model files (*.npz);;All files (*)")
        if path:
            self.load_model_from(path)

    @Slot()
    def _on_export_png_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the curves", str(Path(self._folder("export"))
                                                                              / "curves.png"),
                                              "PNG images (*.png)")
        if path:
            self.export_curves_png(path)

    @Slot()
    def _on_export_csv_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the numbers", str(Path(self._folder("export"))
                                                                               / "run.csv"),
                                              "CSV files (*.csv)")
        if path:
            self.export_numbers_csv(path)

    def _folder(self, kind: str) -> str:
        value = self._settings.value(f"folders/{kind}", "")
        return value if isinstance(value, str) and Path(value).is_dir() else str(Path.home())

    # -- Qt events ----------------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt's name
        if _dropped_path(event.mimeData().urls()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt's name
        path = _dropped_path(event.mimeData().urls())
        if path is None:
            return
        event.acceptProposedAction()
        if path.suffix.lower() == ".npz":
            self.load_model_from(path)
        else:
            self.open_dataset(path)

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name
        if self._download_dialog is not None:
            self._download_dialog.reject()       # cancels the download and joins its thread
        self.confusion.close_gallery()
        self.compare.shutdown()                  # cancels a comparison, joins its thread and processes
        self.fool.shutdown()                     # stops a search, joins its threads
        self.fragility.shutdown()
        self.runner.shutdown()
        self._save_settings()
        super().closeEvent(event)

    # -- settings -----------------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self._settings
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            screen = self.screen().availableGeometry()
            self.resize(min(1440, int(screen.width() * 0.9)) if screen.width() > 900 else 1360,
                        min(900, int(screen.height() * 0.9)) if screen.height() > 700 else 860)
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        config = PRESETS["article"]
        saved = s.value("config")
        if isinstance(saved, str):
            try:
                config = TrainingConfig.from_dict(json.loads(saved))
            except (ValueError, TypeError):
                pass
        self.controls.set_config(config)
        if self._network is None:
            self._new_network(config)
        self.controls.set_train_with_my_digits(s.value("data/train_with_my_digits", False, type=bool))
        self.controls.set_early_stopping_patience(s.value("training/early_stopping", 0, type=int))
        self.best.early_stopping_patience = self.controls.early_stopping_patience()
        self.metrics.set_log_loss(s.value("view/log_loss", False, type=bool))
        self.metrics.set_smoothing(s.value("view/smoothing", 1, type=int))
        splitter = s.value("window/splitter")
        if splitter is not None:
            self.main_splitter.restoreState(splitter)
        tab = s.value("view/tab", TRAINING_TAB, type=int)
        self.show_tab(tab if 0 <= tab < len(TABS) else TRAINING_TAB)

    def _save_settings(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.main_splitter.saveState())
        s.setValue("data/train_with_my_digits", self.controls.train_with_my_digits())
        s.setValue("training/early_stopping", self.controls.early_stopping_patience() or 0)
        s.setValue("view/tab", self.view_tabs.currentIndex())
        s.setValue("view/log_loss", self.metrics.log_loss)
        s.setValue("view/smoothing", self.metrics.smoothing)
        try:
            s.setValue("config", json.dumps(self.controls.config().to_dict()))
        except ValueError:
            pass
        s.sync()

    # -- lessons and the code of a run --------------------------------------------------------------------
    # The Lessons dock (``LessonsPanel``), Run > Show the code..., and the mapping of the lessons' action
    # links onto the window's own commands. Tab names a lesson may use are mapped in ``LESSON_TABS``.

    LESSON_TABS = {"training": TRAINING_TAB, "saturation": DIAGNOSTICS_TAB, "mistakes": MISTAKES_TAB,
                   "compare": COMPARE_TAB, "one-update": ONE_UPDATE_TAB, "fragility": FRAGILITY_TAB}

    def _build_lessons(self) -> None:
        self.lessons = LessonsPanel(self._settings, lambda: self.metrics.history)
        self.lessons_dock = QDockWidget("Lessons", self)
        self.lessons_dock.setObjectName("lessons_dock")
        self.lessons_dock.setWidget(self.lessons)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.lessons_dock)
        self.resizeDocks([self.lessons_dock], [370], Qt.Orientation.Horizontal)
        # Open the first time; afterwards the saved window state shows or hides it as the learner left it.
        self.lessons_dock.setVisible(not self._settings.value("lessons/opened", False, type=bool))
        self._settings.setValue("lessons/opened", True)
        self.show_code_action = make_action(self, "Show the &code...", self.show_code, None,
                                            "A standalone NumPy script that trains exactly the current "
                                            "settings: read it, copy it or save it")
        for action in self.menuBar().actions():
            if action.menu() is not None and action.text() == "&Run":
                action.menu().addSeparator()
                action.menu().addAction(self.show_code_action)
            if action.menu() is not None and action.text() == "&View":
                action.menu().addAction(self.lessons_dock.toggleViewAction())
        self._code_viewer: CodeViewer | None = None
        self.lessons.action_requested.connect(self._on_lessons_action_requested)
        for signal in (self.runner.epochs_arrived, self.runner.state_changed, self.controls.config_changed):
            signal.connect(self._on_run_numbers_changed)

    def show_code(self) -> CodeViewer | None:
        """Open (or update) the viewer with the script of the current settings."""
        try:
            code = script_for(self.controls.config(), INPUTS, CLASSES)
        except ValueError as error:
            self.show_error("Cannot write the code", str(error))
            return None
        if self._code_viewer is None:
            self._code_viewer = CodeViewer(code, parent=self)
        else:
            self._code_viewer.set_code(code)
        self._code_viewer.show()
        self._code_viewer.raise_()
        return self._code_viewer

    @Slot()
    def _on_run_numbers_changed(self, *_args: object) -> None:
        self.lessons.refresh_live_values()

    @Slot(str, object)
    def _on_lessons_action_requested(self, name: str, params: dict) -> None:
        try:
            message = self._do_lesson_action(name, params)
        except ValueError as error:
            self.lessons.show_message(str(error), error=True)
            return
        self.lessons.show_message(message or "", error=False)
        self.lessons.refresh_live_values()

    def _do_lesson_action(self, name: str, params: dict) -> str | None:
        """Carry out one lesson action; return a note for the panel, raise ``ValueError`` if it cannot."""
        if name == "preset":
            self.controls.set_config(PRESETS[params["name"]])
            return f"Applied the {params['name']} preset"
        if name == "set":
            self.controls.set_config(settings_from_params(params, self.controls.config()))
            return "Settings changed: " + ", ".join(f"{k} = {v}" for k, v in params.items())
        if name == "start":
            if self._dataset is None:
                raise ValueError("Open a data set first (File > Open data set..., or the built-in digits)")
            if self.runner.is_live:
                self.runner.resume()
            else:
                self.start_training()
            return None
        if name == "stop":
            self.runner.stop()
            return None
        if name == "reset":
            self.reset_network()
            return "A new network from the current settings"
        if name == "tab":
            if params["name"] not in self.LESSON_TABS:
                raise ValueError(f"This studio has no tab named {params['name']!r} (its tabs: "
                                 f"{', '.join(self.LESSON_TABS)})")
            self.show_tab(self.LESSON_TABS[params["name"]])
            return None
        if name == "compare":
            choices = compare_choices(params)
            for knob, *_ in COMPARE_KNOB_ROWS:
                self.compare.set_knob(knob, None)
            for knob in choices:
                self.compare.set_knob(knob, params[next(p for p in params if knob_name(p) == knob)])
            self.show_tab(COMPARE_TAB)
            return "The compare tab is set up: press its Run to start the race"
        if name == "open-builtin-data":
            self.open_dataset(DEFAULT_DATASET)
            return None
        if name == "show-code":
            self.show_code()
            return None
        raise ValueError(f"This studio cannot do the action {name!r} yet")


def _fill_menu(menu: QMenu, actions: list[QAction | None]) -> None:
    """Add ``actions`` to ``menu``; None adds a separator."""
    for action in actions:
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)


def _titled(title: str, widget: QWidget, tip: str) -> QGroupBox:
    box = QGroupBox(title)
    box.setToolTip(tip)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(widget)
    return box


def _os_error_text(error: OSError, fallback: str | Path) -> str:
    """``PATH: reason`` for an ``OSError``, naming the file it was about (else ``fallback``)."""
    if error.strerror:
        return f"{error.filename or fallback}: {error.strerror}"
    return str(error) if str(fallback) in str(error) else f"{fallback}: {error}"


def _dropped_path(urls: list[QUrl]) -> Path | None:
    """The first dropped local folder, .zip, .npz or MNIST file (``*-ubyte``, ``*.gz``), else None."""
    for url in urls:
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            name = path.name.lower()
            if path.is_dir() or path.suffix.lower() in (".zip", ".npz", ".gz") or name.endswith("-ubyte"):
                return path
    return None
