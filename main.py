"""Starts Backprop Studio's window: ``python main.py [--data PATH]`` (see ``studio.gui.app``)."""
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # before NumPy is imported: see studio.gui.app

from studio.gui.app import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
