"""What the window's menus, buttons and tests ask it to do: open, train, reset, save, load, export.

``WindowCommands`` is the part of ``MainWindow`` that carries out commands; ``main_window`` keeps the
building and the wiring. Each command reads and changes the Qt-free ``Session`` (which holds the rules:
when a network is rebuilt, what a saved model records, how a loaded model's settings fit the form) and
then tells the views. Before anything replaces the network (Reset, Load model, a new data set, a new
network from changed settings), ``_keep_current_run`` hands the run's final and best weights to the
session, which keeps the run in its Runs list.

Errors a user can cause go to ``show_error`` (plain text, capped) and never replace what is loaded.

Left out: building widgets and connecting signals (``main_window``), threads, maths.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl, Slot

from studio.core.data import DataError, Dataset
from studio.core.download import digits_archive_path, has_digits_archive
from studio.core.model_file import ModelFileError
from studio.core.model_reader import load_model
from studio.core.model_writer import save_model
from studio.core.my_digits import with_my_digits
from studio.core.network import Network
from studio.core.session import CLASSES, INPUTS, config_for_loaded
from studio.core.sources import export_source
from studio.core.training import TrainingConfig
from studio.gui.actions import TRAINING_TAB
from studio.gui.add_to_my_digits import ask_and_add
from studio.gui.download_dialog import DownloadDialog
from studio.gui.messages import ask_to_discard
from studio.gui.my_digits_dialog import MyDigitsDialog

if TYPE_CHECKING:
    from studio.gui.main_window import MainWindow

    _Base = MainWindow
else:
    _Base = object


def os_error_text(error: OSError, fallback: str | Path) -> str:
    """``PATH: reason`` for an ``OSError``, naming the file it was about (else ``fallback``)."""
    if error.strerror:
        return f"{error.filename or fallback}: {error.strerror}"
    return str(error) if str(fallback) in str(error) else f"{fallback}: {error}"


class WindowCommands(_Base):
    """The window's commands (a mixin of ``MainWindow``: it uses the window's views and session)."""

    # -- data ---------------------------------------------------------------------------------------

    def open_dataset(self, path: str | Path, fallbacks: list[str | Path] | tuple = ()) -> None:
        """Start opening the data set at ``path`` in the background; what is loaded stays usable until
        it has opened. On failure the error is shown and ``fallbacks`` are tried in turn.
        ``dataset_load_finished(bool)`` tells the outcome."""
        self._fallbacks = [Path(p) for p in fallbacks]
        self.loader.open(path)

    def _apply_dataset(self, path: str, dataset: Dataset) -> None:
        session = self.session
        self.runner.shutdown()                      # a run on the old data ends here; it is kept
        session.dataset = dataset
        for view in (self.controls, self.pad, self.augment_strip, self.fool, self.fragility, self.diagnostics,
                     self.confusion, self.compare, self.one_update):
            view.set_dataset(dataset)               # the diagnostics forget what they measured
        self.stack.setCurrentIndex(1)
        self.actions.export_dataset_action.setEnabled(True)
        for action in self.actions.tab_actions:
            action.setEnabled(True)
        self.setWindowTitle(f"{dataset.name} - Backprop Studio")
        if session.network is None:
            self._new_network_from_settings()
        else:
            if session.current.trained:
                # The trained network stays; its numbers on the new data start a new run.
                self._keep_current_run()
                session.start_run(self._current_config())
                self.best.reset()
                session.weights_epoch = None
                self._show_runs()
            if session.snapshot is not None:
                self.diagnostics.record(session.history.last_epoch, session.snapshot)
        self._update_progress()
        self.store.set_value("data/last", str(Path(path).resolve()))
        self.store.remember_folder("data", path)
        opened = (f"Opened {dataset.name}: {len(dataset.train):,} training and "
                  f"{len(dataset.test) if dataset.test else 0:,} test samples")
        note = self.store.settings_note()             # said again once: opening hid it at start-up
        self.statusBar().showMessage(f"{opened}. {note}" if note else opened, 60000 if note else 5000)
        self.store.problems.clear()

    def _training_dataset(self) -> Dataset | None:
        """The data set, plus my digits in its training part if the panel says to train with them;
        None (after showing why) if the drawings cannot be read."""
        dataset = self.session.dataset
        if dataset is None or not self.controls.train_with_my_digits():
            return dataset
        try:
            return with_my_digits(dataset, self._my_digits.split())
        except DataError as error:
            self.show_error("Cannot use my digits", str(error))
        except OSError as error:
            self.show_error("Cannot use my digits", os_error_text(error, self._my_digits.folder))
        return None

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
        """Write the data set (with my digits if training with them) into ``folder`` in the tutorial's
        format. A few thousand small files: quick enough for the GUI thread."""
        if self.session.dataset is None:
            self.show_error("Cannot export the data set", "There is no data set: open one first.")
            return False
        dataset = self._training_dataset()
        if dataset is None:
            return False
        try:
            export_source(dataset, folder)
        except (DataError, ValueError) as error:
            self.show_error("Cannot export the data set", f"{folder}: {error}")
            return False
        except OSError as error:
            self.show_error("Cannot export the data set", os_error_text(error, folder))
            return False
        self.store.remember_folder("export", folder)
        parts = f"{len(dataset.train):,} training" + (f" and {len(dataset.test):,} test" if dataset.test else "")
        self.statusBar().showMessage(f"Exported {dataset.name} to {folder}: {parts} digit files", 8000)
        return True

    # -- the network and its runs ----------------------------------------------------------------

    def start_training(self) -> None:
        """Start (or carry on) training with the current settings; a changed network setting first
        builds a new network (the trained run is kept)."""
        session = self.session
        if session.dataset is None or self.runner.is_live:
            return
        try:
            config = self.controls.config()
        except ValueError as error:
            self.show_error("Cannot start training", str(error))
            return
        dataset = self._training_dataset()
        if dataset is None:
            return
        if session.needs_rebuild(config) and not self._new_network(config):
            return
        current = session.current
        if not current.trained and current.config != config:
            # Nothing trained yet: this run is what Start trains now, so it takes these settings and
            # their name, not those in force when its network was built (a given name, such as a
            # loaded model's, stays).
            session.start_run(config, None if current.label == current.config.label() else current.label)
            self._show_runs()
        history = session.history
        if history.remaining_epochs(config.max_epochs) == 0:
            self.statusBar().showMessage(f"This run has reached its {config.max_epochs:,} epochs: raise Max "
                                         "epochs to train on, or Reset to start again.", 8000)
            return
        session.max_epochs, session.network_fresh, session.weights_epoch = config.max_epochs, False, None
        # Early stopping is the run's own rule (training.BestEpoch), counting afresh in each segment.
        config = replace(config, early_stopping=self.controls.early_stopping_patience())
        if dataset is not session.dataset:
            added = len(dataset.train) - len(session.dataset.train)
            self.statusBar().showMessage(f"Training on {session.dataset.name} and {added} of my digits: "
                                         f"{len(dataset.train):,} training samples", 5000)
        self.runner.start(session.network, dataset, config, first_epoch=history.last_epoch)

    def reset_network(self) -> None:
        """End any run and build a fresh network from the current settings; the old run is kept."""
        self.runner.shutdown()
        self._new_network_from_settings()

    def _new_network_from_settings(self) -> None:
        try:
            config = self.controls.config()
        except ValueError as error:
            self.show_error("Cannot build the network", str(error))
            return
        self._new_network(config)

    def _new_network(self, config: TrainingConfig) -> bool:
        try:
            network = self.session.build_network(config)
        except ValueError as error:               # the settings are not remembered either
            self.show_error("Cannot build the network", str(error))
            return False
        self._keep_current_run()
        self.session.adopt_network(network, config, fresh=True)
        self.controls.set_new_network_pending(False)
        self.store.save_config(config)
        self.best.reset()
        self.diagnostics.reset()
        self._show_runs()
        self._show_network(network.copy())
        return True

    def _keep_current_run(self) -> None:
        """Give the session the current run's final and best weights (no run may be live)."""
        session, best = self.session, self.best
        if session.current.trained and session.network is not None:
            session.keep_run(session.network, best.best_epoch, best.best_accuracy, best.best_network())
            self.statusBar().showMessage(f"The run {session.current.label} is kept in the Runs list "
                                         "(beside Settings).", 8000)

    def _current_config(self) -> TrainingConfig:
        try:
            form = self.controls.config()
        except ValueError:
            form = None
        return self.session.current_config(form)

    def restore_best_weights(self) -> bool:
        """Put the best epoch's weights back into the network (only while no run trains it)."""
        epoch, accuracy, network = self.best.best_epoch, self.best.best_accuracy, self.session.network
        if self.runner.is_live or network is None or epoch is None or accuracy is None:
            return False
        try:
            self.best.restore_into(network)
        except ValueError as error:
            self.show_error("Cannot restore the best weights", str(error))
            return False
        self.session.weights_epoch = epoch
        self.diagnostics.reset()                  # its timeline was of the weights that went on training
        self._show_network(network.copy(), epoch)
        self.statusBar().showMessage(f"Restored the weights of epoch {epoch:,} ({self.best.monitored} "
                                     f"{100 * accuracy:.1f}%). Start trains on from them.", 10000)
        return True

    def bring_back_run(self, index: int) -> bool:
        """Make run ``index`` of ``session.runs`` (an earlier one) the network and the current run again."""
        session = self.session
        if self.runner.is_live or not 0 <= index < len(session.earlier):
            return False
        self._keep_current_run()
        try:
            run = session.bring_back(index)
        except ValueError as error:
            self.show_error("Cannot bring the run back", str(error))
            return False
        self.best.reset()
        self.diagnostics.reset()
        self.controls.set_config(run.config)
        self.controls.set_new_network_pending(False)
        self._show_runs()
        self._show_network(session.network.copy())
        self.statusBar().showMessage(f"Brought back {run.label}: Start trains on from its "
                                     f"{run.history.last_epoch:,} epochs.", 8000)
        return True

    def _show_runs(self) -> None:
        """Give the plot and the Runs list the session's runs (the one place the plot learns them): the
        plot reads the session's histories; epochs appended to them later need only its ``refresh()``."""
        plot, session = self.metrics, self.session
        plot.set_runs(session.history, [run.history for run in session.earlier])
        plot.set_best_epoch(self.best.best_epoch)
        self.runs_view.refresh()
        self.actions.clear_runs_action.setEnabled(bool(session.earlier))
        self._update_run_labels()

    def clear_earlier_runs(self) -> None:
        self.session.clear_earlier()
        self._show_runs()

    # -- files --------------------------------------------------------------------------------------

    def save_model_to(self, path: str | Path) -> bool:
        """Save the network (the latest snapshot while training) and what it holds to ``path``."""
        session, live = self.session, self.runner.is_live
        network = session.snapshot if live else session.network
        if network is None:
            self.show_error("Cannot save the model", "There is no network yet: open a data set first.")
            return False
        info = session.model_info(self._current_config(), mid_epoch=live and self.runner.state == "paused")
        if not self._write_model(path, network, info):
            return False
        session.mark_saved(int(info["epochs"]))
        self.runs_view.refresh()
        return True

    def save_run_model(self, index: int, path: str | Path, best: bool = False) -> bool:
        """Save run ``index`` of ``session.runs``: the current run as ``save_model_to``, an earlier one
        with its final weights, or (``best``) an earlier one's best epoch's weights."""
        runs = self.session.runs
        if not 0 <= index < len(runs):
            return False
        run = runs[index]
        if run is self.session.current:
            return self.save_model_to(path)
        network = run.best_network if best else run.final_network
        info = self.session.run_info(run, best=best)
        if network is None or not self._write_model(path, network, info):
            return False
        if not best:
            run.saved_epoch = run.history.last_epoch
        self.runs_view.refresh()
        return True

    def _write_model(self, path: str | Path, network: Network, info: dict) -> bool:
        if self.session.dataset is not None:
            info.setdefault("dataset", self.session.dataset.name)
        try:
            save_model(path, network, info)
        except ModelFileError as error:
            self.show_error("Cannot save the model", str(error))
            return False
        self.store.remember_folder("model", path)
        self.statusBar().showMessage(f"Saved the model to {path}", 5000)
        return True

    def load_model_from(self, path: str | Path) -> bool:
        """Load a model file: its weights become the network (the current run is kept in the Runs list),
        its settings fill the form (clamped where a field cannot hold them), and Start trains it."""
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
        try:
            form = self.controls.config()
        except ValueError:
            form = None
        try:
            config, notes = config_for_loaded(network, info, form)
        except ValueError as error:               # e.g. a layer count the form cannot build
            self.show_error("Cannot load the model", f"{path}: {error}")
            return False
        self.runner.shutdown()
        self._keep_current_run()
        self.session.adopt_network(network, config, fresh=False, label=f"{config.label()} (from {Path(path).name})")
        self.controls.set_new_network_pending(False)
        self.best.reset()
        self.diagnostics.reset()
        self.controls.set_config(config)
        self._show_runs()
        self._show_network(network.copy())
        self.store.remember_folder("model", path)
        epochs = info.get("epochs")
        trained = f", trained for {epochs:,} epochs" if isinstance(epochs, int) and not isinstance(epochs, bool) else ""
        self.statusBar().showMessage(f"Loaded {Path(path).name}{trained}. " + "; ".join(notes), 15000)
        return True

    def export_curves_png(self, path: str | Path) -> bool:
        try:
            self.metrics.export_png(path)
        except OSError as error:
            self.show_error("Cannot export the curves", os_error_text(error, path))
            return False
        self.store.remember_folder("export", path)
        self.statusBar().showMessage(f"Saved the curves to {path}", 5000)
        return True

    def export_numbers_csv(self, path: str | Path) -> bool:
        """Write every run of the session to one CSV (a ``run`` column tells them apart)."""
        try:
            count = self.session.write_runs_csv(path)
        except OSError as error:
            self.show_error("Cannot export the numbers", os_error_text(error, path))
            return False
        self.store.remember_folder("export", path)
        self.statusBar().showMessage(f"Saved the numbers of {count} run{'s' if count != 1 else ''} to {path}", 5000)
        return True

    def export_run_csv(self, index: int, path: str | Path) -> bool:
        """Write run ``index`` of ``session.runs`` alone as CSV."""
        runs = self.session.runs
        if not 0 <= index < len(runs):
            return False
        try:
            runs[index].history.to_csv(path)
        except OSError as error:
            self.show_error("Cannot export the numbers", os_error_text(error, path))
            return False
        self.store.remember_folder("export", path)
        self.statusBar().showMessage(f"Saved the numbers of {runs[index].label} to {path}", 5000)
        return True

    def confirm_quit(self) -> bool:
        """True if nothing would be lost by quitting, or the user agreed to lose it."""
        unsaved = self.session.unsaved_runs()
        comparing = self.compare.runner.thread is not None
        if not unsaved and not comparing:
            return True
        what = []
        if unsaved:
            names = ", ".join(run.label for run in unsaved[:3]) + (", ..." if len(unsaved) > 3 else "")
            what.append(f"{len(unsaved)} trained run{'s' if len(unsaved) != 1 else ''} not saved ({names})")
        if comparing:
            what.append("a comparison under way")
        return ask_to_discard(self, "Quit Backprop Studio?",
                              f"Quitting discards {' and '.join(what)}. Save a run from the Runs list (or "
                              "File > Save model) first to keep it.")

    # -- the views' own commands -------------------------------------------------------------------

    @Slot(object)
    def _on_one_update_weights_changed(self, network: Network) -> None:
        """The One update tab applied (or undid) one step: copy its weights into the network in place
        (the session and the runs hold it) and show the new snapshot. Never while a run trains it."""
        mine = self.session.network
        if self.runner.is_live or mine is None or network.sizes != mine.sizes:
            return
        for old, new in zip(mine.parameters(), network.parameters()):
            old[...] = new
        self.session.network_fresh = False
        self.session.weights_epoch = None
        self._show_network(mine.copy())

    @Slot(object, str)
    def _on_fragility_image_chosen(self, image: object, text: str) -> None:
        self.pad.pad.set_image(image)
        self.show_tab(TRAINING_TAB)
        self.statusBar().showMessage(f"In the pad: {text}", 5000)

    # -- my digits ---------------------------------------------------------------------------------

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

    @Slot()
    def _on_my_digits_dialog_my_digits_changed(self) -> None:
        self._update_my_digits_counts()

    @Slot(str)
    def _on_download_dialog_finished_with(self, path: str) -> None:
        self.open_dataset(path)

    @Slot(int)
    def _on_download_dialog_finished(self, _result: int) -> None:
        dialog, self._download_dialog = self._download_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _update_my_digits_counts(self) -> None:
        try:
            counts = self._my_digits.count_per_class()
        except DataError as error:
            self.statusBar().showMessage(str(error), 8000)
            return
        self.controls.set_my_digits_counts(counts.tolist())


def dropped_path(urls: list[QUrl]) -> Path | None:
    """The first dropped local folder, .zip, .npz or MNIST file (``*-ubyte``, ``*.gz``), else None."""
    for url in urls:
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            name = path.name.lower()
            if path.is_dir() or path.suffix.lower() in (".zip", ".npz", ".gz") or name.endswith("-ubyte"):
                return path
    return None
