"""The dependency direction: ``studio.core`` and the command line never load Qt or pyqtgraph."""
from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import grimp  # installed with import-linter (the test extra)

import studio.core

ROOT = Path(__file__).resolve().parents[2]


def test_importing_every_core_module_and_the_cli_loads_no_qt() -> None:
    modules = [f"studio.core.{m.name}" for m in pkgutil.iter_modules(studio.core.__path__)]
    assert "studio.core.network" in modules and "studio.core.training" in modules
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules + ["studio.cli"]) +
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))\n"
            "print(','.join(bad))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"Qt loaded by the core: {result.stdout}"


def test_no_module_of_the_studio_takes_part_in_an_import_cycle() -> None:
    """Late imports inside functions count too: grimp reads every import statement."""
    graph = grimp.build_graph("studio")
    cycles = sorted({tuple(sorted((module, imported)))
                     for module in graph.modules
                     for imported in graph.find_modules_directly_imported_by(module)
                     if graph.find_shortest_chain(importer=imported, imported=module)})
    assert cycles == [], f"import cycles between: {cycles}"
