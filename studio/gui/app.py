"""Starts the studio's window: ``backprop-studio [--data PATH] [--settings FILE.ini]``.

Process-wide tuning happens here, before NumPy is imported: one BLAS thread (the network's matrices
are small; more threads only fight the GUI thread for the two cores of a school laptop) and a 1 ms
interpreter switch interval, so the GUI thread gets the GIL back quickly while the training thread
runs Python code. Both keep the window responsive while training flat out.

Start-up opens a data set in the background while the window shows: ``--data PATH`` if given, else the
built-in synthetic digits (``studio.core.paths.DEFAULT_DATASET``), else the data set opened last time,
else the window's empty state, which says how to open one.

Left out: the window itself (``main_window``) and the command line's headless commands (``studio.cli``).
"""
from __future__ import annotations

import os
import sys

# Before anything imports NumPy (``python main.py`` sets this too, for the same reason).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

#: Interpreter thread switch interval, seconds (Python's default is 0.005).
SWITCH_INTERVAL = 0.001


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backprop-studio",
                                     description="Backprop Studio: watch a from-scratch network learn "
                                                 "to read handwritten digits.")
    parser.add_argument("--data", metavar="PATH",
                        help="data set to open: a folder with trainingDigits/ and testDigits/, a folder "
                             "of digit files, or a .zip of either; MNIST IDX files (a folder holding them, "
                             "or one images or labels file, .gz or not, with its partner beside it); or a "
                             "folder of pictures sorted into class folders 0/ to 9/ (or train/ and test/ "
                             "of them)")
    parser.add_argument("--settings", metavar="FILE.ini",
                        help="keep the window's settings in this INI file instead of the user's settings")
    return parser


def startup_datasets(explicit: str | None, last: str | None) -> list[Path]:
    """Data sets to try at start-up, in order: ``explicit``, the built-in default, the last one opened."""
    from studio.core.paths import DEFAULT_DATASET

    candidates = [Path(explicit)] if explicit else []
    if DEFAULT_DATASET.exists():
        candidates.append(DEFAULT_DATASET)
    if last:
        candidates.append(Path(last))
    return candidates


def missing_display() -> str | None:
    """Why Qt could not open a window here (Linux without X11 or Wayland), or None if it can."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("backprop-studio: no screen to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is "
            "set). On a machine without a desktop, run it on a virtual screen: "
            "xvfb-run -a .venv/bin/python main.py")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the studio until its window closes; returns the exit status."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    problem = missing_display()
    if problem:
        # Qt would abort with a long plugin message; say what is wrong and what to do instead.
        print(problem, file=sys.stderr)
        return 1
    sys.setswitchinterval(SWITCH_INTERVAL)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from pyqtgraph.util.garbage_collector import GarbageCollector

    from studio.gui.main_window import APPLICATION, ORGANISATION, MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    # Python's cyclic garbage collector runs in whichever thread happens to allocate. Collecting a Qt
    # object in a worker thread (the data-set loader, a search) runs its C++ destructor there, which can
    # deadlock against the GUI thread (seen: a QMenu's destructor waiting on a mutex the worker held while
    # the worker waited for the GIL). So collect only in the GUI thread, from a timer.
    collector = GarbageCollector(interval=1.0)  # noqa: F841  (kept alive while the app runs)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    settings = (QSettings(args.settings, QSettings.Format.IniFormat) if args.settings
                else QSettings(ORGANISATION, APPLICATION))
    window = MainWindow(settings)
    candidates = startup_datasets(args.data, window.last_dataset_path())
    if candidates:
        # In the background: the window shows at once. One that fails shows its error; the next is tried.
        window.open_dataset(candidates[0], fallbacks=candidates[1:])
    window.show()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
