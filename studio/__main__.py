"""``python -m studio ...``: the command line (see ``studio.cli``).

One BLAS thread unless the user chose otherwise: on the project's 2-core machines OpenBLAS with two
threads made the per-sample epoch ~30% slower, and ``compare``'s workers each use one core. The
variables are read when NumPy is first imported, so they are set before anything imports it.
"""
from __future__ import annotations

import os
import sys

#: The same variables as ``studio.core.compare.BLAS_THREAD_VARIABLES`` (not imported: it imports NumPy).
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from studio.cli import main  # noqa: E402 - after the environment is set

sys.exit(main())
