"""Where the studio finds the files it ships with, computed from the package's own location.

Left out: the user's files and settings (the window remembers those with QSettings).
"""
from __future__ import annotations

from pathlib import Path

import studio

#: The repository (or source tree) that holds the ``studio`` package.
PROJECT_ROOT: Path = Path(studio.__file__).resolve().parent.parent

#: Where an installed studio (a wheel) keeps the built-in data set: ``data/`` ships as the package
#: ``studio.builtin_data`` (see pyproject.toml).
INSTALLED_DATA: Path = Path(studio.__file__).resolve().parent / "builtin_data"


def _default_dataset() -> Path:
    checkout = PROJECT_ROOT / "data" / "synthetic"
    return checkout if checkout.is_dir() else INSTALLED_DATA / "synthetic"


#: The built-in data set the window opens at start-up: synthetic 32x32 digits made by ``studio.core.synth``
#: (``data/synthetic`` in a checkout, the same files inside the package once installed).
DEFAULT_DATASET: Path = _default_dataset()

#: The lessons and pictures for documentation (e.g. ``screenshot.png``): ``resources/`` in a checkout;
#: once installed, the lessons ship inside the package as ``studio.builtin_resources``.
RESOURCES: Path = (PROJECT_ROOT / "resources" if (PROJECT_ROOT / "resources" / "lessons").is_dir()
                   else Path(studio.__file__).resolve().parent / "builtin_resources")
