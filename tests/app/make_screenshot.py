"""Makes the README's pictures of the real window: a data set loaded, a few seconds of training, then
one view (``--view``): ``training`` (``resources/screenshot.png``), ``one-update`` (the first layer's
gradient pictures for one test sample), ``fooled`` (the pad after "Make it say 8" played its flips on a
test 3), ``lesson`` (the Lessons dock beside the live run).

    .venv/bin/python tests/app/make_screenshot.py [--view training] [--seconds 2.5] [--preset article] [--out PATH]

Runs offscreen unless a display is set (``xvfb-run -a`` works too). The data set is the tutorial's
digits from ../shared when present, else the built-in synthetic set. The pad holds a test sample so
the prediction bars show what the network makes of it. Settings go to a temporary INI file, never
the user's. Not a test: pytest does not collect it (no ``test_`` prefix).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from studio.gui import app as studio_app  # noqa: E402  (sets OPENBLAS_NUM_THREADS before NumPy)

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.core.paths import DEFAULT_DATASET, PROJECT_ROOT, RESOURCES  # noqa: E402
from studio.core.training import PRESETS  # noqa: E402
from studio.gui.actions import ONE_UPDATE_TAB  # noqa: E402
from studio.gui.main_window import MainWindow  # noqa: E402

SHARED_DIGITS = PROJECT_ROOT.parent / "shared" / "datasets" / "digits"


def run_event_loop(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="training time before the picture")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="best")
    parser.add_argument("--sample", type=int, default=300, help="test sample to put in the pad")
    parser.add_argument("--size", default="1440x900", help="window size, WIDTHxHEIGHT")
    parser.add_argument("--view", choices=("training", "one-update", "fooled", "lesson"), default="training")
    parser.add_argument("--out", type=Path, default=RESOURCES / "screenshot.png")
    args = parser.parse_args()
    sys.setswitchinterval(studio_app.SWITCH_INTERVAL)

    app = QApplication.instance() or QApplication([sys.argv[0]])  # noqa: F841 - keeps Qt alive
    data = SHARED_DIGITS if SHARED_DIGITS.exists() else DEFAULT_DATASET
    with tempfile.TemporaryDirectory() as folder:
        window = MainWindow(QSettings(str(Path(folder) / "screenshot.ini"), QSettings.Format.IniFormat))
        width, height = (int(v) for v in args.size.split("x"))
        window.resize(width, height)
        window.show()
        window.confirm_on_close = False      # a script: nothing to keep
        if not open_and_wait(window, data):
            print(f"could not open {data}", file=sys.stderr)
            return 1
        window.controls.set_config(PRESETS[args.preset])      # the picture is taken long before its end
        window.reset_network()
        window.pad.load_sample("test", min(args.sample, len(window.dataset.test or window.dataset.train) - 1))
        run_event_loop(0.3)
        window.lessons_dock.setVisible(args.view == "lesson")
        window.start_training()
        run_event_loop(args.seconds)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.view in ("training", "lesson"):
            picture = window.grab()           # while training: a consistent frame of the live window
            window.runner.shutdown()
        else:
            window.runner.stop()
            run_event_loop(1.0)
            picture = show_view(window, args.view, args.sample)
            window.runner.shutdown()
        if not picture.save(str(args.out)):
            print(f"could not write {args.out}", file=sys.stderr)
            return 1
        history = window.metrics.history
        print(f"{args.out}: {window.width()}x{window.height()}, {data.name}, {history.last_epoch} epochs "
              f"of {args.preset}")
        window.close()
    return 0


def show_view(window: MainWindow, view: str, sample: int) -> object:
    """Set up ``view`` on the stopped window and grab it."""
    if view == "one-update":
        window.show_tab(ONE_UPDATE_TAB)
        page = window.one_update
        page.set_source("dataset")
        page.set_sample("test", sample)
        run_event_loop(0.5)
        kinds = [(stage.kind, stage.layer) for stage in page.walkthrough.stages]
        page.set_stage(kinds.index(("gradient", 1)))
        run_event_loop(0.5)
        return window.grab()
    # fooled: a test 3 from the tutorial's set, made to say 8, every flip played
    test = window.dataset.test
    index = next(i for i in range(sample, len(test)) if test.labels[i] == 3)
    window.pad.load_sample("test", index)
    run_event_loop(0.3)
    window.fool.make_it_say(8)
    for _ in range(100):
        run_event_loop(0.2)
        if not window.fool.is_playing() and window.fool.last_result() is not None:
            break
    run_event_loop(0.5)
    return window.grab()


def open_and_wait(window: MainWindow, path: Path) -> bool:
    """Open a data set (the window does it in the background) and wait for the outcome."""
    loop, outcome = QEventLoop(), []
    window.dataset_load_finished.connect(lambda ok: (outcome.append(ok), loop.quit()))
    window.open_dataset(path)
    loop.exec()
    return bool(outcome and outcome[0])


if __name__ == "__main__":
    sys.exit(main())
