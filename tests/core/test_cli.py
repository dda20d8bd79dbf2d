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
from studio.core.lr_schedule import LR_SCHEDULE_DESCRIPTIONS
from studio.core.variations import parse_vary
from studio.core.network import ACTIVATION_DESCRIPTIONS, INIT_DESCRIPTIONS, LOSS_DESCRIPTIONS
from studio.core.training import ENGINE_DESCRIPTIONS, ORDER_DESCRIPTIONS, PRESET_DESCRIPTIONS
from studio.core.digit_folders import export_dataset
from studio.core.digit_text import format_digit_text
from studio.core.model_reader import load_model
from studio.core.model_writer import save_model
from studio.core.network import Network
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
    assert len(epoch_lines) == 6 and "test" in epoch_lines[0] and epoch_lines[0].endswith("ms  *")
    assert epoch_lines[-1].endswith("ms")        # test accuracy 1.0 since epoch 1: no new best
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
    header, line = out.strip().split("\n")
    assert header.split()[-10:] == [str(k) for k in range(10)] and "probabilities" in header
    name, rest = line.split(": ")
    assert rest.split()[0] == "7" and len(rest.split()) == 11


@pytest.mark.parametrize("args, message", [
    (["train", "--data", "NOPE"], "NOPE"),
    (["train", "--data", "{data}", "--lr", "-1"], "learning rate"),
    (["train", "--data", "{data}", "--init", "glorot"], "invalid choice"),
    (["train", "--data", "{data}", "--hidden", "16,x"], "not layer sizes"),
    (["train", "--data", "{data}", "--hidden", "5000"], "1 to 4096 units"),
    (["train", "--data", "{data}", "--early-stopping", "-2"], "--early-stopping"),
    (["train", "--data", "{data}", "--engine", "turbo"], "invalid choice"),
    (["train", "--data", "{data}", "--against-fooling", "65"], "--against-fooling must be 0 (off) to 64"),
    (["train", "--data", "{data}", "--against-fooling", "-1"], "--against-fooling must be 0 (off) to 64"),
    (["train", "--data", "{data}", "--lr-schedule", "step"], "invalid choice"),
    (["train", "--data", "{data}", "--lr-schedule", "cosine", "--epochs", "0"], "set max epochs"),
    (["train", "--data", "{data}", "--augment", "rotate,twist"], "unknown augmentation 'twist'"),
    (["train"], "--data"),
    (["predict", "{model}", "{bad}"], "line 2"),
    (["evaluate", "{bad}", "--data", "{data}"], "bad_1.txt"),
    (["frobnicate"], "invalid choice"),
    (["train", "--data", "{data}", "--batch", "1e12"], "--batch"),
    (["train", "--data", "{data}", "--batch", "1000000000000"], "--batch must be between 1 and 100000"),
    (["train", "--data", "{data}", "--batch", "101"], "--batch 101 is larger than the 100 training samples"),
    (["train", "--data", "{data}", "--hidden", "100000,100000"], "--hidden: each hidden layer needs 1 to 4096 units"),
    (["train", "--data", "{data}", "--hidden", "4096,4096,4096"], "--hidden 4096,4096,4096: a network of 5 layers"),
    (["train", "--data", "{data}", "--seed", "-1"], "--seed must be a whole number >= 0, got -1"),
    (["train", "--data", "{data}", "--init-from", "{outputs5}"], "outputs5.npz\": the model has 5 outputs"),
    (["evaluate", "{inputs784}", "--data", "{data}"], "inputs784.npz\": the model takes 784 inputs"),
    (["predict", "{outputs11}", "{digit}"], "outputs11.npz\": the model has 11 outputs"),
    (["predict", "{model}", "{big}"], "big.txt: is too large for a digit file"),
])
def test_mistakes_exit_2_with_one_line(args: list[str], message: str, data_dir: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "3_1.txt"
    bad.write_text("0" * 32 + "\n" + "0" * 31 + "2\n" + ("0" * 32 + "\n") * 30)
    (tmp_path / "bad_1.txt").write_text("not a model")
    model = tmp_path / "m.npz"
    run_cli("train", "--data", str(data_dir), "--hidden", "4", "--epochs", "1", "--save", str(model))
    files = {"model": model, "data": data_dir, "bad": bad if "predict" in args else tmp_path / "bad_1.txt",
             "digit": data_dir / "testDigits" / "0_0.txt", "big": tmp_path / "big.txt"}
    files["big"].write_bytes(b"0" * 2_000_000)
    for name, sizes in (("outputs5", (1024, 4, 5)), ("inputs784", (784, 10)), ("outputs11", (1024, 11))):
        files[name] = tmp_path / f"{name}.npz"
        save_model(files[name], Network.initialised(sizes, activation="sigmoid", loss="sse", seed=0))
    capsys.readouterr()
    filled = [a.format(**files) for a in args]
    status, _ = run_cli(*filled)
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_cleanly_and_still_saves(data_dir: Path, tmp_path: Path, signum: int) -> None:
    model = tmp_path / "m.npz"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "studio", "train", "--data", str(data_dir),
                                "--hidden", "8", "--epochs", "0", "--save", str(model)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(3)]   # the header and two epochs
        assert lines[-1].startswith("epoch")
        process.send_signal(signum)
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


# --------------------------------------------------------------------------------------------------
# Engines, best epoch, early stopping, help texts, one BLAS thread
# --------------------------------------------------------------------------------------------------

def _epoch_figures(out: str) -> list[tuple[str, ...]]:
    """Each epoch line without its milliseconds: (epoch, loss, train, test, best marker)."""
    rows = []
    for line in out.splitlines():
        if line.startswith("epoch"):
            parts = line.split()
            rows.append((parts[1], parts[3], parts[5], parts[7], "*" if parts[-1] == "*" else ""))
    return rows


def test_both_engines_print_the_same_run(data_dir: Path) -> None:
    # A learning rate in the stable range: at lr 0.2 this tanh net is chaotic (a 1e-15 change of one
    # weight grows to 4e-8 in one epoch of the readable code alone), and no two summation orders agree.
    common = ("train", "--data", str(data_dir), "--hidden", "6-5", "--activation", "tanh", "--loss", "ce",
              "--init", "xavier", "--lr", "0.02", "--epochs", "4")
    outputs = {engine: run_cli(*common, "--engine", engine) for engine in ("readable", "fast")}
    assert all(status == 0 for status, _ in outputs.values())
    assert "readable code" in outputs["readable"][1].splitlines()[0]
    assert _epoch_figures(outputs["readable"][1]) == _epoch_figures(outputs["fast"][1])
    assert len(_epoch_figures(outputs["fast"][1])) == 4


def test_a_schedule_prints_each_epochs_learning_rate(data_dir: Path) -> None:
    status, out = run_cli("train", "--data", str(data_dir), "--hidden", "8", "--loss", "ce", "--lr", "0.08",
                          "--epochs", "4", "--lr-schedule", "linear")
    assert status == 0 and "lr 0.08 linear" in out.splitlines()[0]
    rates = [line.split("lr ")[1].split()[0] for line in out.splitlines() if line.startswith("epoch")]
    assert rates == ["0.08", "0.06", "0.04", "0.02"]
    status, out = run_cli("train", "--data", str(data_dir), "--hidden", "8", "--epochs", "2")
    assert status == 0 and not any(" lr " in line for line in out.splitlines() if line.startswith("epoch"))


def test_early_stopping_and_save_best(data_dir: Path, tmp_path: Path) -> None:
    best_file, last_file = tmp_path / "best.npz", tmp_path / "last.npz"
    status, out = run_cli("train", "--data", str(data_dir), "--hidden", "8", "--loss", "ce", "--lr", "0.05",
                          "--epochs", "200", "--early-stopping", "3", "--save-best", str(best_file),
                          "--save", str(last_file))
    assert status == 0
    rows = _epoch_figures(out)
    marked = [int(r[0]) for r in rows if r[4] == "*"]
    tests = [float(r[3]) for r in rows]
    # A '*' on exactly the epochs that beat every earlier test accuracy; the run ends 3 epochs after the last.
    assert marked == [i + 1 for i, t in enumerate(tests) if t > max(tests[:i], default=-1)]
    assert len(rows) == marked[-1] + 3 < 200
    assert f"stopped early after {len(rows)} epochs" in out and f"best: epoch {marked[-1]}" in out
    best, info = load_model(best_file)
    assert info["best_epoch"] == info["epochs"] == marked[-1] and info["monitored"] == "test"
    assert info["test_accuracy"] == pytest.approx(max(tests), abs=1e-4)
    assert info["config"]["early_stopping"] == 3
    dataset = tiny_dataset()
    accuracy = float(np.mean(best.predict(dataset.test.images.astype(float)) == dataset.test.labels))
    assert accuracy == pytest.approx(max(tests), abs=1e-4)
    last, last_info = load_model(last_file)
    assert last_info["epochs"] == len(rows) and not np.array_equal(last.weights[0], best.weights[0])


def test_help_lists_the_teaching_texts_of_each_choice(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = capsys.readouterr().out
    assert "--early-stopping N" in help_text and "--save-best MODEL.npz" in help_text
    squeezed = "".join(help_text.split())        # argparse wraps lines (and after hyphens)
    for descriptions in (INIT_DESCRIPTIONS, ACTIVATION_DESCRIPTIONS, LOSS_DESCRIPTIONS, PRESET_DESCRIPTIONS,
                         ENGINE_DESCRIPTIONS, ORDER_DESCRIPTIONS, LR_SCHEDULE_DESCRIPTIONS):
        for name, description in descriptions.items():
            assert "".join(f"{name}: {description.rstrip('.')}".split()) in squeezed


def test_compare_varies_the_new_settings_and_reads_hidden_sizes_like_train() -> None:
    assert parse_vary("engine=readable,fast") == ("engine", ["readable", "fast"])
    assert parse_vary("hidden=16-16,32x8,64 64") == ("hidden", [(16, 16), (32, 8), (64, 64)])
    assert parse_vary("early-stopping=5,none") == ("early_stopping", [5, None])
    assert parse_vary("lr-schedule=constant,cosine") == ("lr_schedule", ["constant", "cosine"])
    with pytest.raises(ValueError, match="at most 8 hidden layers"):
        parse_vary("hidden=1-1-1-1-1-1-1-1-1")


@pytest.mark.parametrize("preset, expected", [(None, "1"), ("2", "2")])
def test_python_m_studio_uses_one_blas_thread_unless_told_otherwise(preset: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    if preset:
        env["OPENBLAS_NUM_THREADS"] = preset
    code = ("import os, runpy, sys\n"
            "sys.argv = ['studio', '--help']\n"
            "try:\n    runpy.run_module('studio', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "from studio.core.compare import blas_thread_count\n"
            "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'], blas_thread_count())\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    blas, omp, threads = result.stdout.split()[-3:]
    assert blas == expected and omp == "1"
    if threads != "None":           # OpenBLAS found: the library itself uses that many threads
        assert int(threads) == min(int(expected), os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------------
# Output paths, a failing log, names that are not UTF-8
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flag, target, message", [
    ("--save", "missing/m.npz", "missing/m.npz: the folder {tmp}/missing does not exist"),
    ("--save", "", "is a folder; give a file name"),
    ("--log", "missing/run.csv", "the folder {tmp}/missing does not exist"),
    ("--log", "", "is a folder; give a file name"),
])
def test_output_paths_are_checked_before_any_training(data_dir: Path, tmp_path: Path, flag: str, target: str,
                                                      message: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_cli("train", "--data", str(data_dir), "--epochs", "1", flag, str(tmp_path / target))
    err = capsys.readouterr().err
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1  # nothing was trained
    assert flag in err and message.format(tmp=tmp_path) in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a disk that is always full)")
def test_a_log_on_a_full_disk_warns_once_and_the_model_is_still_saved(data_dir: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.npz"
    status, out = run_cli("train", "--data", str(data_dir), "--hidden", "4", "--epochs", "3",
                          "--log", "/dev/full", "--save", str(model))
    err = capsys.readouterr().err
    assert status == 0 and out.count("\nepoch") == 3 and f"saved {model}" in out
    assert err.count("warning") == 1 and "/dev/full: the log cannot be written (No space left on device)" in err
    assert load_model(model)[1]["epochs"] == 3


def test_an_os_error_without_a_file_name_prints_no_empty_name(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import errno
    from studio import cli
    def full(args: object, out: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setitem(cli.COMMANDS, "synth", full)
    assert run_cli("synth", "--out", "x")[0] == 2
    err = capsys.readouterr().err
    assert err.endswith(": error: No space left on device\n") and ": :" not in err


def test_a_data_folder_named_in_another_encoding_trains_on_a_strict_utf8_terminal(data_dir: Path,
                                                                                   tmp_path: Path) -> None:
    folder = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.rename(data_dir, folder)
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict"}
    outputs = []
    for args, status in (([os.fsdecode(folder), "--epochs", "1"], 0),
                         ([os.fsdecode(os.path.join(folder, b"missing"))], 2)):
        done = subprocess.run([sys.executable, "-m", "studio", "train", "--data", *args], cwd=ROOT, env=env,
                              capture_output=True, timeout=120)
        assert done.returncode == status, done.stderr
        assert b"Traceback" not in done.stderr
        outputs.append(done.stdout + done.stderr)
    assert b"caf\\udce9: 100 training samples" in outputs[0]
    assert b"caf\\udce9/missing: does not exist" in outputs[1]
