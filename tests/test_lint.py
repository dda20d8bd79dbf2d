"""The project's own checks, run by the test suite so that the README's test command runs them too:
``ruff check`` (the rules in pyproject.toml) and ``lint-imports`` (the import-layer contracts there:
the core never imports the window, the command line or Qt; the kernels never import the run)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent          # the venv's scripts, beside its python


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    executable = BIN / tool
    if not executable.exists():
        pytest.fail(f"{executable} is missing: install the test tools with .ci/setup (pip install -e '.[test]')")
    return subprocess.run([str(executable), *args], cwd=ROOT, capture_output=True, text=True, timeout=240)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", "studio", "tests", "main.py")
    assert result.returncode == 0, f"ruff check failed:\n{result.stdout}\n{result.stderr}"


def test_import_contracts_are_kept() -> None:
    result = _run("lint-imports", "--no-cache")
    assert result.returncode == 0, f"lint-imports failed:\n{result.stdout}\n{result.stderr}"
    assert "broken" in result.stdout and " 0 broken" in result.stdout
