"""``python -m studio fool``: per-file fooling with written copies, the fragility summary, and mistakes."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pytest

from studio.cli import main
from studio.core.digit_folders import export_dataset
from studio.core.digit_text import format_digit_text, parse_digit_text
from studio.core.model_reader import load_model
from tests.helpers import tiny_dataset


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(args), out=out)
    return status, out.getvalue()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny data set on disk and a model trained two epochs on it."""
    root = tmp_path_factory.mktemp("fool")
    data = root / "tiny"
    export_dataset(tiny_dataset(), data)
    model = root / "m.npz"
    status, _ = run_cli("train", "--data", str(data), "--preset", "fast", "--epochs", "2", "--save", str(model))
    assert status == 0
    return data, model


def test_fool_files_prints_and_writes_flipped_copies(setup: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = setup
    network, _ = load_model(model)
    sources = [data / "testDigits" / "3_0.txt", data / "testDigits" / "5_1.txt"]
    status, out = run_cli("fool", str(model), *map(str, sources), "--target", "8", "--out",
                          str(tmp_path / "out"), "--max-flips", "200")
    assert status == 0
    lines = out.strip().split("\n")
    assert len(lines) == 2
    for source, line in zip(sources, lines):
        image = parse_digit_text(source.read_bytes(), str(source))
        before = int(network.predict(image[None].astype(float))[0])
        written = tmp_path / "out" / f"{source.stem}_as_8.txt"
        flipped = parse_digit_text(written.read_bytes(), str(written))
        assert written.read_bytes() == format_digit_text(flipped).encode("ascii")
        flips = int(np.count_nonzero(flipped != image))
        assert int(network.predict(flipped[None].astype(float))[0]) == 8     # read as claimed
        assert line == f"{source}: {before} -> 8  {flips} flips  -> {written}"


def test_fool_data_prints_the_fragility_summary_and_csv(setup: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = setup
    table = tmp_path / "f.csv"
    status, out = run_cli("fool", str(model), "--data", str(data), "--split", "train", "--samples", "6",
                          "--max-flips", "5", "--csv", str(table))
    assert status == 0
    assert out.startswith("6 samples (improved search, cap 5 flips): median ")
    assert "answer changed" in out and f"wrote {table}" in out
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 and all(r["label"] == r["name"].split("_")[0] for r in rows)


@pytest.mark.parametrize("args, message", [
    (["fool", "{model}"], "either digit files or --data"),
    (["fool", "{model}", "{file}", "--data", "{data}"], "either digit files or --data"),
    (["fool", "{model}", "{file}", "--target", "10"], "--target must be a digit"),
    (["fool", "{model}", "{file}", "--max-flips", "0"], "--max-flips"),
    (["fool", "{model}", "{bad}"], "line 1"),
    (["fool", "{model}", "{fifo}"], "not a regular file"),
    (["fool", "{model}", "--data", "NOPE"], "NOPE"),
    (["fool", "{bad}", "{file}"], "bad.txt"),
])
def test_fool_mistakes_exit_2_with_one_line(args: list[str], message: str, setup: tuple[Path, Path],
                                            tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, model = setup
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    filled = [a.format(model=model, data=data, file=data / "testDigits" / "3_0.txt", bad=bad, fifo=fifo)
              for a in args]
    status, _ = run_cli(*filled)
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err
