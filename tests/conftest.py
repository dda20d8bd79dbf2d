"""Test set-up shared by every layer: offscreen Qt, one BLAS thread, and the path to ../shared."""
from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before NumPy or Qt is imported by any test module: no screen is needed, and one BLAS thread keeps
# timings and thread interplay the same as in the app (which sets the same in main.py).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

#: ../shared beside the repository: CI clones the project next to it; a user's clone has none.
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DIGITS = SHARED / "datasets" / "digits"
DIGITS_ZIP = SHARED / "datasets" / "digits.zip"
MNIST = SHARED / "datasets" / "mnist-t10k"
ARTICLE_NET = SHARED / "baselines" / "article_net.py"


def require_shared(path: Path) -> Path:
    """Return ``path`` or skip the test, saying that the shared reference data is not present."""
    if not path.exists():
        pytest.skip(f"needs {path}: the shared reference data sets sit beside the repository only on "
                    "the project's own machines and CI, not in a user's clone")
    return path


@pytest.fixture
def digits_dir() -> Path:
    """The tutorial's real data set (trainingDigits/ and testDigits/), or skip."""
    return require_shared(DIGITS)


@pytest.fixture(scope="session", autouse=True)
def _garbage_collected_in_the_main_thread() -> Iterator[None]:
    """Python's cyclic collector runs in whichever thread allocates: collecting a Qt object (a window of
    an earlier test) in a worker thread runs its destructor there and can deadlock against the GUI
    thread (seen in a full run: a QMenu destroyed in the main thread waiting on a mutex that the data-set
    loader's thread held while it waited for the GIL). As the app does (``studio.gui.app``), collect
    only in the main thread: automatic collection off, a full collection after every Qt test."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """A full collection after every test that made Qt objects (it asked for ``qtbot``): ~0.1 s each
    with the whole studio loaded, too much to spend on the NumPy-only tests, whose garbage waits for
    the next Qt test's collection (reference counting frees the rest at once)."""
    yield
    if "qtbot" in request.fixturenames:
        gc.collect()
