"""The window's menus (File, Run, View) and their actions, with the file dialogs they open.

``WindowActions(window)`` builds every action, fills the menu bar and connects each action to the
window's public methods (``open_dataset``, ``save_model_to``, ``export_numbers_csv``, ...); the file
dialogs start in the folder last used for that kind of file (``SettingsStore.folder``). Actions whose
use depends on the window's state (Export data set, Restore best weights, the tabs) start disabled:
the window enables them.

Run > Show the code... opens the script of the current settings (``WindowLessons.show_code``); View
toggles the Lessons dock.

Left out: what the actions do (the window's methods), and the settings panel's own actions (Start,
Step, Stop, Reset: ``ControlsPanel``), which the Run menu only lists.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from studio.gui.qt_helpers import make_action

if TYPE_CHECKING:
    from studio.gui.main_window import MainWindow

OPEN_FILE_FILTERS = ("Data set files (*.zip *-ubyte *-ubyte.gz);;Zip archives (*.zip);;"
                     "MNIST files (*-ubyte *-ubyte.gz);;All files (*)")

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


def fill_menu(menu: QMenu, actions: list[QAction | None]) -> None:
    """Add ``actions`` to ``menu``; None adds a separator."""
    for action in actions:
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)


class WindowActions:
    """Every menu action of ``window``, built and connected; the menus are filled in the constructor."""

    def __init__(self, window: MainWindow) -> None:
        self._window = w = window
        self.open_folder_action = make_action(w, "&Open data set...", self.ask_open_folder,
                                              QKeySequence.StandardKey.Open,
                                              "Open a data set folder: trainingDigits/ and testDigits/ "
                                              "inside, one folder of digit files, MNIST files, or "
                                              "pictures in folders 0/ to 9/")
        self.open_file_action = make_action(w, "Open data set &file (.zip, MNIST)...", self.ask_open_file,
                                            "Ctrl+Shift+O", "Open a data set packed in a .zip, or an MNIST "
                                            "images or labels file (its partner must be beside it)")
        self.get_tutorial_action = make_action(w, "&Get the tutorial's data set...", w.get_tutorial_dataset,
                                               None, "Open the tutorial's 1,934 training and 946 test "
                                               "digits, downloading them first (740 kB) if they are not "
                                               "here yet")
        self.export_dataset_action = make_action(w, "E&xport data set...", self.ask_export_dataset, None,
                                                 "Write the data set in the tutorial's format "
                                                 "(trainingDigits/ and testDigits/ of 32x32 text files) "
                                                 "into a folder; with \"Train with my digits too\" on, "
                                                 "your digits join trainingDigits/")
        self.export_dataset_action.setEnabled(False)
        self.my_digits_action = make_action(w, "&My digits...", w.show_my_digits, None,
                                            "See and delete your own drawings")
        add_action = w.pad.add_to_my_digits_action
        add_action.setShortcut(QKeySequence("Ctrl+D"))
        add_action.setToolTip(add_action.toolTip() + " (Ctrl+D)")
        self.save_model_action = make_action(w, "&Save model...", self.ask_save_model,
                                             QKeySequence.StandardKey.Save,
                                             "Save the network's weights and its settings to a .npz file")
        self.load_model_action = make_action(w, "&Load model...", self.ask_load_model, "Ctrl+L",
                                             "Load a saved network; its settings are restored (the "
                                             "current run is kept in the Runs list)")
        self.export_png_action = make_action(w, "Export curves as &PNG...", self.ask_export_png, None,
                                             "Save the learning curves as a picture")
        self.export_csv_action = make_action(w, "Export numbers as &CSV...", self.ask_export_csv, None,
                                             "Save every epoch's numbers of every run of this session as "
                                             "one CSV file (a run column tells them apart)")
        self.quit_action = make_action(w, "&Quit", w.close, QKeySequence("Ctrl+Q"))
        fill_menu(w.menuBar().addMenu("&File"),
                  [self.open_folder_action, self.open_file_action, self.get_tutorial_action,
                   self.export_dataset_action, None, self.my_digits_action, add_action, None,
                   self.save_model_action, self.load_model_action, None, self.export_png_action,
                   self.export_csv_action, None, self.quit_action])

        self.restore_best_action = make_action(w, "Restore &best weights", w.restore_best_weights, "Ctrl+B",
                                               "Put back the weights of the best epoch so far (the "
                                               "green line on the curves): the highest test accuracy")
        self.restore_best_action.setEnabled(False)
        self.show_code_action = make_action(w, "Show the &code...", w.show_code, None,
                                            "A standalone NumPy script that trains exactly the current "
                                            "settings: read it, copy it or save it")
        controls = w.controls
        fill_menu(w.menuBar().addMenu("&Run"),
                  [controls.start_pause_action, controls.step_action, controls.stop_action, None,
                   self.restore_best_action, None, controls.reset_action, None, self.show_code_action])

        view = w.menuBar().addMenu("&View")
        self.tab_actions: list[QAction] = []
        self.tab_group = QActionGroup(w)
        for index, (_, text, tip) in enumerate(TABS):
            action = make_action(w, text, None, f"Ctrl+{index + 1}", tip)
            action.setCheckable(True)
            action.setData(index)
            action.setEnabled(False)             # until a data set is open
            self.tab_group.addAction(action)
            view.addAction(action)
            self.tab_actions.append(action)
        self.tab_actions[TRAINING_TAB].setChecked(True)
        view.addSeparator()
        view.addAction(w.settings_dock.toggleViewAction())
        view.addAction(w.runs_dock.toggleViewAction())
        self.log_loss_action = make_action(w, "&Log-scale loss", None, None, "Show the loss on a logarithmic axis")
        self.log_loss_action.setCheckable(True)
        self.log_loss_action.toggled.connect(w.metrics.set_log_loss)
        w.metrics.log_check.toggled.connect(self.log_loss_action.setChecked)
        self.clear_runs_action = make_action(w, "&Clear earlier runs", w.clear_earlier_runs, None,
                                             "Forget the earlier runs of this session (their curves "
                                             "and weights)")
        self.clear_runs_action.setEnabled(False)
        fill_menu(view, [self.log_loss_action, self.clear_runs_action, None, w.pad.clear_action,
                         w.fool.looks_action, None, w.lessons_dock.toggleViewAction()])

    # -- the file dialogs ---------------------------------------------------------------------------

    def _folder(self, kind: str) -> str:
        return self._window.store.folder(kind)

    def ask_open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self._window, "Open a data set folder", self._folder("data"))
        if path:
            self._window.open_dataset(path)

    def ask_open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._window, "Open a data set file", self._folder("data"),
                                              OPEN_FILE_FILTERS)
        if path:
            self._window.open_dataset(path)

    def ask_export_dataset(self) -> None:
        folder = QFileDialog.getExistingDirectory(self._window, "Export the data set into a folder",
                                                  self._folder("export"))
        if folder:
            self._window.export_dataset_to(folder)

    def ask_model_path(self, name: str = "model.npz") -> str:
        """The path to save a model to, or "" if the user cancelled."""
        path, _ = QFileDialog.getSaveFileName(self._window, "Save the model",
                                              str(Path(self._folder("model")) / name), "Model files (*.npz)")
        return path

    def ask_csv_path(self, name: str = "runs.csv") -> str:
        """The path to write numbers to, or "" if the user cancelled."""
        path, _ = QFileDialog.getSaveFileName(self._window, "Export the numbers",
                                              str(Path(self._folder("export")) / name), "CSV files (*.csv)")
        return path

    def ask_save_model(self) -> None:
        path = self.ask_model_path()
        if path:
            self._window.save_model_to(path)

    def ask_load_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._window, "Load a model", self._folder("model"),
                                              "Model files (*.npz);;All files (*)")
        if path:
            self._window.load_model_from(path)

    def ask_export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self._window, "Export the curves",
                                              str(Path(self._folder("export")) / "curves.png"),
                                              "PNG images (*.png)")
        if path:
            self._window.export_curves_png(path)

    def ask_export_csv(self) -> None:
        path = self.ask_csv_path()
        if path:
            self._window.export_numbers_csv(path)

    def ask_save_run(self, index: int) -> None:
        path = self.ask_model_path()
        if path:
            self._window.save_run_model(index, path)

    def ask_save_run_best(self, index: int) -> None:
        path = self.ask_model_path("best.npz")
        if path:
            self._window.save_run_model(index, path, best=True)

    def ask_export_run_csv(self, index: int) -> None:
        path = self.ask_csv_path(f"run-{index + 1}.csv")
        if path:
            self._window.export_run_csv(index, path)
