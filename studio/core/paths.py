"""Where the studio finds the files it ships with, computed from the package's own location.

Left out: the user's files and settings (the window remembers those with QSettings).
"""
from __future__ import annotations

from pathlib import Path

import studio

#: The repository (or source tree) that holds the ``studio`` package.
PROJECT_ROOT: Path = Path(studio.__file__).resolve().parent.parent

#: The built-in data set the window opens at start-up: synthetic 32x32 digits made by ``studio.core.synth``.
DEFAULT_DATASET: Path = PROJECT_ROOT / "data" / "synthetic"

#: Pictures and other resources for documentation (e.g. ``screenshot.png``).
RESOURCES: Path = PROJECT_ROOT / "resources"
