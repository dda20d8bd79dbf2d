"""The studio's main window: it creates the session and the views and wires them together, nothing else.

The state lives in a Qt-free ``Session`` (``studio.core.session``): the data set, the network and its
settings, the latest snapshot, and every run of this session; the rules about them (when a network is
rebuilt, what a saved model records, how a loaded model's settings fit the form) live there too. Views
are given what they show. Commands: ``window_commands``; the lessons' actions and the code of a run:
``window_lessons``. Where the parts sit: ``window_layout``; menus and file dialogs: ``actions``;
remembered settings: ``settings_store``; data sets open in the background: ``dataset_loader``; the
training runs in a child process behind ``TrainingRunner``; message boxes: ``messages``.

Nothing trained is lost silently: Reset, Load model, a new data set or a new network keep the old run
in the Runs list (``RunsView``) with its final and best weights, and Quit asks before discarding a run
that was not saved or a comparison under way.

Left out: maths (``studio.core``), threads (``training_runner``, ``compare_runner``,
``dataset_loader``), drawing (the views).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from studio.core.data import Dataset
from studio.core.my_digits import MyDigits
from studio.core.network import Network
from studio.core.session import CLASSES, INPUTS, Session, check_network_size
from studio.core.training import PRESETS, EpochFinished, RunDiverged, RunFinished, TrainingConfig
from studio.gui.actions import COMPARE_TAB, TABS, TRAINING_TAB, WindowActions
from studio.gui.augment_strip import AugmentStrip
from studio.gui.best_epoch import BestEpochTracker
from studio.gui.compare_view import CompareView
from studio.gui.confusion_view import ConfusionView
from studio.gui.controls_panel import ControlsPanel
from studio.gui.dataset_loader import DatasetLoader
from studio.gui.diagnostics_view import DiagnosticsView
from studio.gui.download_dialog import DownloadDialog
from studio.gui.empty_page import EmptyPage
from studio.gui.fool_panel import FoolPanel
from studio.gui.fragility_view import FragilityView
from studio.gui.lessons_panel import LessonsPanel
from studio.gui.messages import show_error_box
from studio.gui.metrics_plot import MetricsPlot
from studio.gui.my_digits_dialog import MyDigitsDialog
from studio.gui.one_update_view import OneUpdateView
from studio.gui.pad_panel import PadPanel
from studio.gui.runs_view import RunsView
from studio.gui.settings_store import SettingsStore, restore_window, save_window
from studio.gui.shortcuts import install_space_shortcut
from studio.gui.training_runner import TrainingRunner
from studio.gui.weights_view import WeightsView
from studio.gui.window_commands import WindowCommands, dropped_path
from studio.gui.window_layout import STATE_NAMES, build_central, build_docks, build_status_bar
from studio.gui.window_lessons import WindowLessons

ORGANISATION = "Backprop Studio"
APPLICATION = "Backprop Studio"
__all__ = ["APPLICATION", "CLASSES", "INPUTS", "ORGANISATION", "TABS", "MainWindow"]


class MainWindow(WindowCommands, WindowLessons, QMainWindow):
    """The studio's window. ``settings`` defaults to the user's QSettings for Backprop Studio.

    Signal: ``dataset_load_finished(bool)``, after each ``open_dataset`` (True: opened).
    """

    dataset_load_finished = Signal(bool)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = SettingsStore(settings if settings is not None else QSettings(ORGANISATION, APPLICATION))
        self.session = Session()
        self._my_digits = MyDigits()
        self._my_digits_dialog: MyDigitsDialog | None = None
        self._download_dialog: DownloadDialog | None = None
        self._last_error: QMessageBox | None = None
        self._fallbacks: list[Path] = []
        self._close_confirmed = False
        self.confirm_on_close = True             # scripts (screenshot, benchmark) turn the question off
        self.setWindowTitle(APPLICATION)
        self.setAcceptDrops(True)
        self.runner = TrainingRunner(self)
        self.loader = DatasetLoader(self)
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
        self.empty_page = EmptyPage()
        self.runs_view = RunsView(self.session)
        self.lessons = LessonsPanel(self.store.qsettings, lambda: self.session.history)
        self.best = BestEpochTracker(parent=self)
        build_docks(self)
        build_central(self)
        self.status = build_status_bar(self)
        self.actions = WindowActions(self)
        self._connect()
        self._connect_lessons()
        install_space_shortcut(self, self.controls.start_pause_action)
        restore_window(self)
        self._update_my_digits_counts()

    def _connect(self) -> None:
        controls, runner, actions = self.controls, self.runner, self.actions
        controls.open_dataset_requested.connect(self._on_controls_open_dataset_requested)
        controls.my_digits_requested.connect(self.show_my_digits)
        controls.train_with_my_digits_changed.connect(self._on_controls_train_with_my_digits_changed)
        controls.start_requested.connect(self.start_training)
        controls.pause_requested.connect(runner.pause)
        controls.resume_requested.connect(runner.resume)
        controls.step_requested.connect(self._on_controls_step_requested)
        controls.stop_requested.connect(runner.stop)
        controls.reset_requested.connect(self.reset_network)
        controls.config_changed.connect(self._on_controls_config_changed)
        controls.config_changed.connect(self.augment_strip.set_config)
        controls.learning_rate_changed.connect(runner.set_learning_rate)
        controls.early_stopping_changed.connect(self._on_controls_early_stopping_changed)
        self.pad.add_to_my_digits_requested.connect(self.add_drawing_to_my_digits)
        runner.epochs_arrived.connect(self._on_runner_epochs_arrived)
        runner.snapshot_ready.connect(self._on_runner_snapshot_ready)
        runner.best_candidate_ready.connect(self._on_runner_best_candidate_ready)
        runner.run_finished.connect(self._on_runner_run_finished)
        runner.run_failed.connect(self._on_runner_run_failed)
        runner.state_changed.connect(self._on_runner_state_changed)
        self.loader.opened.connect(self._on_loader_opened)
        self.loader.failed.connect(self._on_loader_failed)
        self.loader.busy_changed.connect(self._on_loader_busy_changed)
        self.loader.progressed.connect(self._on_loader_progressed)
        self.status.cancel_loading.clicked.connect(self.loader.cancel)
        self.best.best_epoch_changed.connect(self.metrics.set_best_epoch)
        self.best.best_epoch_changed.connect(self._on_best_best_epoch_changed)
        self.confusion.sample_chosen.connect(self._on_confusion_sample_chosen)
        self.fragility.image_chosen.connect(self._on_fragility_image_chosen)
        self.one_update.weights_changed.connect(self._on_one_update_weights_changed)
        self.pad.pad.drawing_changed.connect(self.one_update.set_pad_drawing)
        self.view_tabs.currentChanged.connect(self._on_view_tabs_current_changed)
        actions.tab_group.triggered.connect(self._on_tab_group_triggered)
        self.empty_page.open_requested.connect(actions.ask_open_folder)
        self.empty_page.tutorial_requested.connect(self.get_tutorial_dataset)
        self.runs_view.bring_back_requested.connect(self.bring_back_run)
        self.runs_view.save_model_requested.connect(actions.ask_save_run)
        self.runs_view.save_best_requested.connect(actions.ask_save_run_best)
        self.runs_view.export_csv_requested.connect(actions.ask_export_run_csv)

    # -- what the views show -----------------------------------------------------------------------

    @property
    def dataset(self) -> Dataset | None:
        return self.session.dataset

    @property
    def network(self) -> Network | None:
        """The latest snapshot of the network (what the views show); None before there is one."""
        return self.session.snapshot

    @property
    def my_digits(self) -> MyDigits:
        """The user's own drawings (files in the user's data folder)."""
        return self._my_digits

    def _show_network(self, snapshot: Network, epoch: int | None = None) -> None:
        """Show ``snapshot`` (a copy nobody trains) as of ``epoch`` (default: the run's last) everywhere."""
        self.session.snapshot = snapshot
        self.weights.set_network(snapshot)
        self.pad.set_network(snapshot, trained=not self.session.network_fresh)
        self.fragility.set_network(snapshot)
        self.diagnostics.record(self.session.history.last_epoch if epoch is None else epoch, snapshot)
        self.confusion.update_network(snapshot)
        self.one_update.set_network(snapshot)

    def _update_run_labels(self) -> None:
        try:        # the form is locked while a run is live: it holds the run's schedule and length
            live = self.controls.config() if self.runner.is_live else None
        except ValueError:
            live = None
        self.status.show_history(self.session.history, live)
        self._update_progress()

    def _update_progress(self) -> None:
        try:
            limit = self.session.max_epochs if self.runner.is_live else self.controls.config().max_epochs
        except ValueError:
            limit = None
        self.status.show_progress(None if self.session.dataset is None else limit, self.session.history.last_epoch)

    def _update_restore_action(self) -> None:
        self.actions.restore_best_action.setEnabled(not self.runner.is_live and self.best.best_epoch is not None)

    def show_tab(self, index: int) -> None:
        """Bring the central tab ``index`` (``TRAINING_TAB``, ``DIAGNOSTICS_TAB``, ...) to the front."""
        self.view_tabs.setCurrentIndex(index)

    def show_error(self, title: str, text: str) -> None:
        """Tell the user what went wrong, without blocking (tests replace this method)."""
        self._last_error = show_error_box(self, title, text)

    def last_dataset_path(self) -> str | None:
        """The data set opened last time, if it still exists."""
        return self.store.last_dataset()

    # -- slots: the settings panel ------------------------------------------------------------------

    @Slot(str)
    def _on_controls_open_dataset_requested(self, kind: str) -> None:
        {"file": self.actions.ask_open_file, "tutorial": self.get_tutorial_dataset}.get(
            kind, self.actions.ask_open_folder)()

    @Slot(bool)
    def _on_controls_train_with_my_digits_changed(self, on: bool) -> None:
        self.store.set_value("data/train_with_my_digits", on)

    @Slot()
    def _on_controls_step_requested(self) -> None:
        if not self.runner.is_live:
            self.start_training()
        self.runner.step_one_epoch()

    @Slot(object)
    def _on_controls_config_changed(self, config: TrainingConfig) -> None:
        self.compare.set_base_config(config)
        self.one_update.set_learning_rate(config.lr)
        try:
            check_network_size(config)
        except ValueError as error:              # never remembered: it could not be applied
            self.statusBar().showMessage(str(error), 15000)
            return
        if not self.runner.is_live:
            session = self.session
            if session.network_config is not None and session.needs_rebuild(config):
                if session.network_fresh or session.network is None:
                    self._new_network(config)    # nothing trained yet: preview the new start
                    return
                self.controls.set_new_network_pending(True)   # a hint under Start: it builds a new one
            else:
                self.controls.set_new_network_pending(False)  # changed back: Start carries on
        self.store.save_config(config)
        self._update_progress()

    @Slot(object)
    def _on_controls_early_stopping_changed(self, patience: int | None) -> None:
        self.runner.set_early_stopping(patience)  # the live run's own rule (ignored while idle)
        self.store.set_value("training/early_stopping", patience or 0)

    # -- slots: the runner and the best epoch --------------------------------------------------------

    @Slot(object)
    def _on_runner_epochs_arrived(self, events: list[EpochFinished]) -> None:
        self.session.add_epochs(events)
        self.metrics.refresh()                    # it reads the session's history
        self._update_run_labels()
        self.best.offer(events)

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
        elif event.reason == "early_stopping":
            self._show_early_stop_message()
        elif event.reason == "max_epochs":
            self.statusBar().showMessage(f"Finished: {self.session.history.last_epoch:,} epochs.", 8000)

    @Slot(str)
    def _on_runner_run_failed(self, message: str) -> None:
        self.show_error("Training failed", message)

    @Slot(str)
    def _on_runner_state_changed(self, state: str) -> None:
        self.controls.set_run_state(state)
        self.status.state.setText(STATE_NAMES.get(state, state))
        self.runs_view.set_locked(self.runner.is_live)
        self.one_update.set_run_live(self.runner.is_live)
        self.runs_view.refresh()
        self._update_progress()
        self._update_restore_action()

    @Slot(object)
    def _on_best_best_epoch_changed(self, _epoch: int | None) -> None:
        self._update_restore_action()

    def _show_early_stop_message(self) -> None:
        best = self.best
        kept = "" if best.best_epoch is None or best.best_accuracy is None else \
            f"; best was epoch {best.best_epoch} ({100 * best.best_accuracy:.1f}%)"
        self.statusBar().showMessage(f"Stopped early: no better {best.monitored} for "
                                     f"{self.controls.early_stopping_patience()} epochs{kept}", 15000)

    # -- slots: the data set loader -------------------------------------------------------------------

    @Slot(str, object)
    def _on_loader_opened(self, path: str, dataset: Dataset) -> None:
        self._fallbacks = []
        self._apply_dataset(path, dataset)
        self.dataset_load_finished.emit(True)

    @Slot(str, str)
    def _on_loader_failed(self, _path: str, message: str) -> None:
        self.show_error("Cannot open the data set", message)
        if self._fallbacks:
            self.loader.open(self._fallbacks.pop(0))
            return
        self.dataset_load_finished.emit(False)

    @Slot(bool)
    def _on_loader_busy_changed(self, busy: bool) -> None:
        self.status.loading.setRange(0, 0)
        self.status.loading.setVisible(busy)
        self.status.cancel_loading.setVisible(busy)
        if busy:
            self.statusBar().showMessage(f"Opening {Path(self.loader.path or '').name}…")
        else:
            self.statusBar().clearMessage()

    @Slot(float)
    def _on_loader_progressed(self, fraction: float) -> None:
        self.status.loading.setRange(0, 1000)
        self.status.loading.setValue(int(1000 * min(max(fraction, 0.0), 1.0)))

    # -- slots: the views ---------------------------------------------------------------------------

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

    @Slot(int)
    def _on_view_tabs_current_changed(self, index: int) -> None:
        if 0 <= index < len(self.actions.tab_actions):
            self.actions.tab_actions[index].setChecked(True)
        if index == COMPARE_TAB:
            try:
                self.compare.set_base_config(self.controls.config())
            except ValueError:
                pass                               # an invalid field: keep the last valid base

    @Slot(QAction)
    def _on_tab_group_triggered(self, action: QAction) -> None:
        self.show_tab(int(action.data()))

    # -- Qt events ----------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt's name
        if dropped_path(event.mimeData().urls()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt's name
        path = dropped_path(event.mimeData().urls())
        if path is None:
            return
        event.acceptProposedAction()
        if path.suffix.lower() == ".npz":
            self.load_model_from(path)
        else:
            self.open_dataset(path)

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name
        if self.confirm_on_close and not self._close_confirmed and not self.confirm_quit():
            event.ignore()
            return
        self._close_confirmed = True             # closing again (e.g. at exit) does not ask twice
        if self._download_dialog is not None:
            self._download_dialog.reject()       # cancels the download and joins its thread
        self.confusion.close_gallery()
        self.compare.shutdown()                  # cancels a comparison, joins its thread and processes
        self.fool.shutdown()                     # stops a search, joins its threads
        self.fragility.shutdown()
        self.runner.shutdown()
        self.loader.shutdown()
        save_window(self)
        super().closeEvent(event)

