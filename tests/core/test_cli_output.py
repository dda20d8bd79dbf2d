"""What the command line prints: usage hints named after how it was started, a header over
``predict``'s numbers, and a one-part data set called what it is."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from studio.cli import invoked_as, main
from studio.core.data import Dataset
from studio.core.digit_folders import export_dataset
from studio.core.digit_text import format_digit_text
from tests.helpers import tiny_dataset

ROOT = Path(__file__).resolve().parents[2]


def test_a_mistake_under_python_m_studio_points_to_python_m_studio() -> None:
    result = subprocess.run([sys.executable, "-m", "studio", "train", "--nope"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "python -m studio train --help" in result.stderr
    assert "backprop-studio" not in result.stderr


def test_invoked_as_names_the_script_or_the_module() -> None:
    assert invoked_as("/x/studio/__main__.py") == "python -m studio"
    assert invoked_as("/usr/bin/backprop-studio") == "backprop-studio"
    assert invoked_as("-c") == "backprop-studio"          # python -c "...": no script name to show


def test_predict_aligns_its_numbers_under_a_header_of_digits(tmp_path: Path) -> None:
    data = tmp_path / "tiny"
    export_dataset(tiny_dataset(), data)
    model = tmp_path / "m.npz"
    assert main(["train", "--data", str(data), "--hidden", "8", "--epochs", "2", "--save", str(model)],
                out=io.StringIO()) == 0
    files = []
    for name, index in (("3_0.txt", 15), ("a-much-longer-name_1.txt", 40)):
        path = tmp_path / name
        path.write_text(format_digit_text(tiny_dataset().test.images[index]), newline="")
        files.append(str(path))
    out = io.StringIO()
    assert main(["predict", str(model), *files], out=out) == 0
    header, *lines = out.getvalue().rstrip("\n").split("\n")
    assert "outputs" in header and header.split()[-10:] == [str(k) for k in range(10)]
    assert len(lines) == 2
    for line in lines:
        # Each number ends where its digit's column ends.
        assert len(line) == len(header)
        assert line.split(": ")[0] in files


def test_evaluate_names_a_single_part_by_what_it_is(tmp_path: Path) -> None:
    full = tiny_dataset()
    folder = tmp_path / "one-part"
    export_dataset(Dataset("one", str(folder), full.train, None), folder)
    model = tmp_path / "m.npz"
    assert main(["train", "--data", str(folder), "--hidden", "8", "--epochs", "1", "--save", str(model)],
                out=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["evaluate", str(model), "--data", str(folder)], out=out) == 0
    text = out.getvalue()
    assert text.startswith("all samples: accuracy")
    assert "train:" not in text
