"""``python -m studio ...``: the command line (see ``studio.cli``)."""
from __future__ import annotations

import sys

from studio.cli import main

sys.exit(main())
