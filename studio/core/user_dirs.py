"""Where the studio keeps the user's own files: downloaded data sets and "my digits".

``user_data_dir()`` is, in order of precedence:

* ``$BACKPROP_STUDIO_DATA_DIR`` if set and not empty (tests and portable installs use it);
* Windows: ``%APPDATA%\\Backprop Studio`` (``~\\AppData\\Roaming`` if APPDATA is unset);
* macOS: ``~/Library/Application Support/Backprop Studio``;
* elsewhere: ``$XDG_DATA_HOME/backprop-studio`` if XDG_DATA_HOME is an absolute path (the XDG spec
  says to ignore a relative one), else ``~/.local/share/backprop-studio``.

Nothing here creates folders: the code that writes creates what it needs.

Left out: settings (the window keeps those with QSettings) and the files the studio ships with
(``paths.py``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_VAR = "BACKPROP_STUDIO_DATA_DIR"
MY_DIGITS_FOLDER = "my-digits"


def user_data_dir() -> Path:
    """The folder for the user's data (see the module docstring); not created."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        return Path(appdata if appdata else Path.home() / "AppData" / "Roaming") / "Backprop Studio"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Backprop Studio"
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "backprop-studio"


def my_digits_dir() -> Path:
    """The folder of the user's own drawings ("my digits"): ``user_data_dir() / "my-digits"``."""
    return user_data_dir() / MY_DIGITS_FOLDER
