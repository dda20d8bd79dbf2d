"""The command line, run the way a user runs it: real folders, real model files, real processes."""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from studio.cli import main
from studio.core.data import export_dataset, format_digit_text
from studio.core.model_file import load_model
from tests.conftest import require_shared, DIGITS
from tests.helpers import tiny_dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    export_dataset(tiny_dataset(), folder)
    return folder


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(args), out=out)
    return status, out.getvalue()


def test_train_prints_one_line_per_epoch_logs_csv_and_saves(data_dir: Path, tmp_path: Path) -> None:
    model, log = tmp_path / "m.npz", tmp_path / "run.csv"
    status, out = run_cli("train", "--data", str(data_dir), "--hidden", "8", "--loss", "ce", "--init", "xavier",
                          "--lr", "0.5", "--batch", "4", "--epochs", "6", "--seed", "1",
                          "--save", str(model), "--log", str(log))
    assert status == 0
    epoch_lines = [line for line in out.splitlines() if line.startswith("epoch")]
    assert len(epoch_lines) == 6 and "test" in epoch_lines[0] and epoch_lines[0].endswith("ms")
    with open(log, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "train_acc", "test_acc", "seconds"]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 7))
    assert float(rows[-1][3]) == 1.0
    network, info = load_model(model)
    assert network.sizes == (1024, 8, 10) and network.loss == "ce"
    assert info["epochs"] == 6 and info["config"]["lr"] == 0.5


def test_flags_override_the_preset(data_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.npz"
    status, out = run_cli("train", "--data", str(data_dir), "--preset", "article", "--hidden", "5,4",
                          "--activation", "tanh", "--epochs", "1", "--save", str(model))
    assert status == 0
    network, info = load_model(model)
    assert network.sizes == (1024, 5, 4, 10) and network.activation == "tanh" and network.loss == "sse"
    assert info["config"]["lr"] == 0.01 and info["config"]["batch_size"] == 1


def test_augment_flag_sets_the_runs_distortions(data_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.npz"
    status, _ = run_cli("train", "--data", str(data_dir), "--preset", "fast", "--augment", "elastic,rotate",
                        "--epochs", "1", "--save", str(model))
    assert status == 0
    assert load_model(model)[1]["config"]["augment"] == ["rotate", "elastic"]
    status, _ = run_cli("train", "--data", str(data_dir), "--preset", "fast", "--augment", "none",
                        "--epochs", "1", "--save", str(model))
    assert status == 0 and load_model(model)[1]["config"]["augment"] == []


def test_init_from_continues_from_saved_weights(data_dir: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    common = ("--data", str(data_dir), "--loss", "ce", "--init", "xavier", "--lr", "0.5", "--batch", "10")
    assert run_cli("train", *common, "--hidden", "6", "--epochs", "2", "--save", str(first))[0] == 0
    status, out = run_cli("train", *common, "--epochs", "1", "--lr", "0", "--init-from", str(first))
    assert status == 2          # lr 0 is refused before anything runs
    status, out = run_cli("train", *common, "--epochs", "1", "--lr", "1e-300", "--init-from", str(first),
                          "--save", str(second))
    assert status == 0
    a, _ = load_model(first)
    b, info = load_model(second)
    assert b.sizes == (1024, 6, 10)
    np.testing.assert_allclose(a.weights[0], b.weights[0], atol=1e-250)
    assert info["epochs"] == 3


def test_evaluate_and_predict(data_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.npz"
    run_cli("train", "--data", str(data_dir), "--hidden", "8", "--loss", "ce", "--init", "xavier", "--lr", "0.5",
            "--batch", "4", "--epochs", "8", "--save", str(model))
    status, out = run_cli("evaluate", str(model), "--data", str(data_dir))
    assert status == 0
    assert "train: accuracy 1.0000 (100/100)" in out and "test: accuracy 1.0000 (50/50)" in out
    assert "confusion matrix" in out
    digit = tmp_path / "7_0.txt"
    digit.write_text(format_digit_text(tiny_dataset().test.images[35]), newline="")
    status, out = run_cli("predict", str(model), str(digit))
    assert status == 0
    name, rest = out.strip().split(": ")
    assert rest.split()[0] == "7" and len(rest.split()) == 11


@pytest.mark.parametrize("args, message", [
    (["train", "--data", "NOPE"], "NOPE"),
    (["train", "--data", "{data}", "--lr", "-1"], "learning rate"),
    (["train", "--data", "{data}", "--init", "glorot"], "invalid choice"),
    (["train", "--data", "{data}", "--hidden", "16,x"], "hidden sizes"),
    (["train", "--data", "{data}", "--augment", "rotate,twist"], "unknown augmentation 'twist'"),
    (["train"], "--data"),
    (["predict", "{model}", "{bad}"], "line 2"),
    (["evaluate", "{bad}", "--data", "{data}"], "bad_1.txt"),
    (["frobnicate"], "invalid choice"),
])
def test_mistakes_exit_2_with_one_line(args: list[str], message: str, data_dir: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "3_1.txt"
    bad.write_text("0" * 32 + "\n" + "0" * 31 + "2\n" + ("0" * 32 + "\n") * 30)
    (tmp_path / "bad_1.txt").write_text("not a model")
    model = tmp_path / "m.npz"
    run_cli("train", "--data", str(data_dir), "--hidden", "4", "--epochs", "1", "--save", str(model))
    capsys.readouterr()
    filled = [a.format(data=data_dir, model=model, bad=bad if "predict" in args else tmp_path / "bad_1.txt")
              for a in args]
    status, _ = run_cli(*filled)
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err


def test_ctrl_c_stops_cleanly_and_still_saves(data_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.npz"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "studio", "train", "--data", str(data_dir),
                                "--hidden", "8", "--epochs", "0", "--save", str(model)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(3)]   # the header and two epochs
        assert lines[-1].startswith("epoch")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopped after" in out and "saved" in out and "Traceback" not in err
    network, info = load_model(model)
    assert info["epochs"] >= 2 and network.is_finite()


def test_article_preset_on_the_tutorial_data_runs_as_documented(tmp_path: Path) -> None:
    digits = require_shared(DIGITS)
    process = subprocess.run([sys.executable, "-m", "studio", "train", "--data", str(digits),
                              "--preset", "article", "--epochs", "2"], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert "1934 training samples, 946 test samples" in lines[0]
    assert [line.split()[1] for line in lines[1:]] == ["1", "2"]
