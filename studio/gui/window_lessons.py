"""The Lessons dock's side of the window: the lessons' action links carried out by the window's own
commands, Run > Show the code..., and the live values the lessons quote kept fresh.

``WindowLessons`` is a mixin of ``MainWindow`` (like ``WindowCommands``): ``LessonsPanel`` (built by
the window, docked by ``window_layout``) emits ``action_requested(name, params)``; ``_do_lesson_action``
maps each name onto a window command and returns a note for the panel, or raises ``ValueError`` with
what the learner should do. The tab names a lesson may use are ``LESSON_TABS``.

Left out: the lessons' text and their checks (``studio.core.lessons``, ``lessons_panel``), the script
(``studio.core.run_script``), its viewer (``code_viewer``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot

from studio.core.variations import knob_name
from studio.core.lessons import compare_choices, settings_from_params
from studio.core.paths import DEFAULT_DATASET
from studio.core.run_script import script_for
from studio.core.session import CLASSES, INPUTS
from studio.core.training import PRESETS
from studio.gui.actions import (COMPARE_TAB, DIAGNOSTICS_TAB, FRAGILITY_TAB, MISTAKES_TAB, ONE_UPDATE_TAB,
                                TRAINING_TAB)
from studio.gui.code_viewer import CodeViewer
from studio.gui.compare_form import KNOB_ROWS as COMPARE_KNOB_ROWS

if TYPE_CHECKING:
    from studio.gui.main_window import MainWindow

    _Base = MainWindow
else:
    _Base = object

#: The tab names a lesson's ``tab`` action may use.
LESSON_TABS = {"training": TRAINING_TAB, "saturation": DIAGNOSTICS_TAB, "mistakes": MISTAKES_TAB,
               "compare": COMPARE_TAB, "one-update": ONE_UPDATE_TAB, "fragility": FRAGILITY_TAB}


class WindowLessons(_Base):
    """The lessons' commands (a mixin of ``MainWindow``)."""

    LESSON_TABS = LESSON_TABS
    _code_viewer: CodeViewer | None = None

    def _connect_lessons(self) -> None:
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
            if self.session.dataset is None:
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
            if params["name"] not in LESSON_TABS:
                raise ValueError(f"This studio has no tab named {params['name']!r} (its tabs: "
                                 f"{', '.join(LESSON_TABS)})")
            self.show_tab(LESSON_TABS[params["name"]])
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
