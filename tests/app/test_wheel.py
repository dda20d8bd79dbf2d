"""An installed studio (a wheel, not the checkout) opens on its built-in data set.

Builds the wheel from this source tree without downloading anything (``--no-deps
--no-build-isolation``), installs it with that environment's own pip into a fresh virtual environment, and runs its
Python from a folder outside the repository, with this environment's NumPy on its path but not the
checkout: what it imports must be the installed copy. About ten seconds.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

import studio

ROOT = Path(studio.__file__).resolve().parent.parent

_CHECK = """
import sys
import studio
from studio.core.paths import DEFAULT_DATASET
from studio.core.sources import open_data_source
from studio.gui.app import startup_datasets
assert '{root}' not in studio.__file__, studio.__file__
first = startup_datasets(None, None)[0]
dataset = open_data_source(first)
from studio.core.lessons import load_chapters
print(first == DEFAULT_DATASET, len(dataset.train), len(dataset.test), len(load_chapters()))
"""


def test_the_package_list_names_every_package() -> None:
    """pyproject.toml lists the packages by hand (for the data mapping): a new one must be added."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "studio").rglob("__init__.py")}
    assert found <= listed


@pytest.mark.skipif(importlib.util.find_spec("wheel") is None and int(
    __import__("setuptools").__version__.split(".")[0]) < 70,
    reason="building a wheel with this setuptools needs the 'wheel' package (pip install -e '.[test]')")
def test_an_installed_wheel_opens_its_built_in_data_set_and_lessons(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-w", str(wheels), str(ROOT)],
                   check=True, cwd=tmp_path, capture_output=True, timeout=300)
    [wheel] = wheels.glob("backprop_studio-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # The new environment's own pip, which sees only that environment: this one's pip would also
    # remove the checkout's editable install ("--prefix" uninstalls what it finds on sys.path).
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--disable-pip-version-check", str(wheel)],
                   check=True, cwd=tmp_path, env=clean, capture_output=True, timeout=300)
    # NumPy and friends from this environment; the studio only from the new one (the checkout's
    # editable hook lives in a .pth file, which PYTHONPATH does not run).
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"], PYTHONNOUSERSITE="1")
    env.pop("PYTHONSAFEPATH", None)
    result = subprocess.run([str(python), "-c", _CHECK.format(root=str(ROOT))], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "1934", "946", "7"]        # the data set and the 7 lessons
