"""The window's remembered settings (``QSettings``), read so that no file can stop the window starting.

A settings file is user data like any other: edited by hand, written by an older or newer studio, or
damaged. Every value is checked as it is read: its type (INI files hand back text; a value with a comma
comes back as a list), its range (Qt's spin boxes hold 32-bit ints), and for the training settings
every field on its own (``studio.core.session.config_from_saved``). What cannot be used is replaced by
the default and named in ``problems``, which the window shows in its status bar. The window saves the
training settings only once they have been applied (the network built), so a setting that cannot be
applied is never written back.

Left out: applying the values to widgets (the window), and what a valid training setting is (core).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

from studio.core.session import check_network_size, config_from_saved
from studio.core.training import PRESETS, TrainingConfig

if TYPE_CHECKING:
    from studio.gui.main_window import MainWindow

#: Longest saved text read back (the settings JSON is ~300 characters).
MAX_TEXT = 20_000
#: The curves' smoothing range, in epochs (``MetricsPlot``'s spin box).
SMOOTHING_RANGE = (1, 1000)
#: Early stopping patience range, epochs (0: off; the settings form's spin box).
EARLY_STOPPING_RANGE = (0, 1_000_000)


class SettingsStore:
    """Typed, checked access to the window's ``QSettings``. ``problems`` lists what could not be used."""

    def __init__(self, settings: QSettings) -> None:
        self.qsettings = settings
        self.problems: list[str] = []

    # -- reading --------------------------------------------------------------------------------------

    def config(self) -> TrainingConfig:
        """The training settings saved last (the article preset when there are none)."""
        raw = self.qsettings.value("config")
        if raw is None:
            return PRESETS["article"]
        if not isinstance(raw, str) or len(raw) > MAX_TEXT:
            self._problem("the training settings are not readable: the article preset is used")
            return PRESETS["article"]
        try:
            saved = json.loads(raw)
        except (ValueError, RecursionError):
            self._problem("the training settings are not valid JSON: the article preset is used")
            return PRESETS["article"]
        config, notes = config_from_saved(saved)
        for note in notes:
            self._problem(note)
        return config

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        """The whole number at ``key`` clamped into [low, high]; ``default`` if missing or not a number."""
        raw = self.qsettings.value(key)
        if raw is None:
            return default
        value: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and len(raw) < 40:
            text = raw.strip()
            digits = text[1:] if text.startswith("-") else text
            if digits.isascii() and digits.isdigit():
                value = int(text)
        if value is None:
            self._problem(f"{key} {_quote(raw)} is not a whole number: {default} is used")
            return default
        if not low <= value <= high:
            clamped = min(max(value, low), high)
            self._problem(f"{key} {value:,} is out of range ({low:,} to {high:,}): {clamped:,} is used")
            return clamped
        return value

    def flag(self, key: str, default: bool) -> bool:
        """The yes/no at ``key``; ``default`` if missing or unreadable."""
        raw = self.qsettings.value(key)
        if raw is None:
            return default
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false", "1", "0"):
            return raw.strip().lower() in ("true", "1")
        if isinstance(raw, int):
            return bool(raw)
        self._problem(f"{key} {_quote(raw)} is not true or false: {str(default).lower()} is used")
        return default

    def blob(self, key: str) -> QByteArray | None:
        """The saved window layout at ``key`` (geometry, dock state, splitter), or None."""
        raw = self.qsettings.value(key)
        return raw if isinstance(raw, QByteArray) and raw.size() < 1_000_000 else None

    def text(self, key: str) -> str | None:
        """The text at ``key`` if it is one (and not absurdly long), else None."""
        raw = self.qsettings.value(key)
        return raw if isinstance(raw, str) and 0 < len(raw) <= MAX_TEXT else None

    def early_stopping(self) -> int | None:
        """Early stopping patience in epochs, None when off."""
        return self.integer("training/early_stopping", 0, *EARLY_STOPPING_RANGE) or None

    def smoothing(self) -> int:
        return self.integer("view/smoothing", 1, *SMOOTHING_RANGE)

    def folder(self, kind: str) -> str:
        """The folder last used for ``kind`` (``data``, ``model``, ``export``) if it still exists, else home."""
        value = self.text(f"folders/{kind}")
        try:
            return value if value is not None and Path(value).is_dir() else str(Path.home())
        except (OSError, ValueError):             # a name the file system refuses (NUL, too long)
            return str(Path.home())

    def last_dataset(self) -> str | None:
        """The data set opened last time, if it still exists."""
        value = self.text("data/last")
        try:
            return value if value is not None and Path(value).exists() else None
        except (OSError, ValueError):
            return None

    def settings_note(self) -> str:
        """One sentence on what could not be used ("" if everything could)."""
        if not self.problems:
            return ""
        return ("Some remembered settings could not be used: " + "; ".join(self.problems))[:900]

    def _problem(self, text: str) -> None:
        self.problems.append(text if len(text) <= 300 else text[:297] + "...")

    # -- writing --------------------------------------------------------------------------------------

    def save_config(self, config: TrainingConfig) -> None:
        """Remember ``config``: call it only with settings that were applied (the network built)."""
        self.qsettings.setValue("config", json.dumps(config.to_dict()))

    def set_value(self, key: str, value: object) -> None:
        self.qsettings.setValue(key, value)

    def remember_folder(self, kind: str, path: str | Path) -> None:
        """Remember the folder holding ``path`` (or ``path`` itself for ``data/last``) for ``kind``."""
        self.qsettings.setValue(f"folders/{kind}", str(Path(path).resolve().parent))

    def sync(self) -> None:
        self.qsettings.sync()


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def first_window_size(screen_width: int, screen_height: int) -> tuple[int, int]:
    """The window's size at its first launch on a screen whose free area is ``screen_width`` x
    ``screen_height``: 90% of it up to 1440x900, but never under 1024x640 when the screen has that
    much (it would lose what it was laid out for), nor taller than the screen. A screen narrower than
    1024 (no real one here: the offscreen test screen) gets 1360 pixels of width."""
    width = min(1440, max(int(screen_width * 0.9), 1024)) if screen_width >= 1024 else 1360
    height = min(900, max(int(screen_height * 0.9), min(screen_height, 640)))
    return width, height


def restore_window(window: MainWindow) -> None:
    """Apply the remembered settings to ``window`` (layout, training settings, view options, tab), and
    say in its status bar what could not be used."""
    store = window.store
    geometry = store.blob("window/geometry")
    if geometry is None or not window.restoreGeometry(geometry):
        screen = window.screen().availableGeometry()
        window.resize(*first_window_size(screen.width(), screen.height()))
    state = store.blob("window/state")
    if state is not None:
        window.restoreState(state)
    window.controls.set_config(store.config())
    if window.session.network is None:
        window._new_network_from_settings()
    window.controls.set_train_with_my_digits(store.flag("data/train_with_my_digits", False))
    window.controls.set_early_stopping_patience(store.early_stopping() or 0)
    window.best.early_stopping_patience = window.controls.early_stopping_patience()
    window.metrics.set_log_loss(store.flag("view/log_loss", False))
    window.metrics.set_smoothing(store.smoothing())
    window.pad.input_preview.choose_normalising(store.flag("view/normalise_drawing", True))
    splitter = store.blob("window/splitter")
    if splitter is not None:
        window.main_splitter.restoreState(splitter)
    window.show_tab(store.integer("view/tab", 0, 0, window.view_tabs.count() - 1))
    if store.problems:
        window.statusBar().showMessage(store.settings_note(), 60000)


def save_window(window: MainWindow) -> None:
    """Remember ``window``'s layout and options; the training settings only if they can be applied."""
    store = window.store
    store.set_value("window/geometry", window.saveGeometry())
    store.set_value("window/state", window.saveState())
    store.set_value("window/splitter", window.main_splitter.saveState())
    store.set_value("data/train_with_my_digits", window.controls.train_with_my_digits())
    store.set_value("training/early_stopping", window.controls.early_stopping_patience() or 0)
    store.set_value("view/tab", window.view_tabs.currentIndex())
    store.set_value("view/log_loss", window.metrics.log_loss)
    store.set_value("view/smoothing", window.metrics.smoothing)
    # The user's choice: normalising turned off by the fooling panel for a search is not remembered.
    store.set_value("view/normalise_drawing", window.pad.input_preview.chosen_normalising())
    try:
        config = window.controls.config()
        check_network_size(config)
    except ValueError:
        pass                              # the last applied settings stay remembered
    else:
        store.save_config(config)
    store.sync()
