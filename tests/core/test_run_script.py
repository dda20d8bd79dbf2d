"""The code of a run: the generated script, run in a subprocess, trains the studio's own weights."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from studio.core.digit_folders import load_dataset, write_digit_folder
from studio.core.model_reader import load_model
from studio.core.run_script import script_for
from studio.core.training import PRESETS, EpochFinished, TrainingConfig, train
from tests.conftest import DIGITS, require_shared
from tests.helpers import tiny_dataset


def tiny_digit_folder(root: Path) -> Path:
    """A data set folder (trainingDigits/, testDigits/) of tiny seeded digits, with names whose
    text order differs from their numeric order (``1_10.txt`` before ``1_9.txt``)."""
    dataset = tiny_dataset(per_class=12, test_per_class=3, seed=5)
    write_digit_folder(dataset.train, root / "trainingDigits")
    write_digit_folder(dataset.test, root / "testDigits")
    return root


def run_script(config: TrainingConfig, data: Path, tmp_path: Path, epochs: int) -> tuple[str, Path]:
    script = tmp_path / "run.py"
    script.write_text(script_for(config), encoding="utf-8")
    out = tmp_path / "out.npz"
    result = subprocess.run([sys.executable, str(script), "--data", str(data), "--epochs", str(epochs),
                             "--save", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout, out


def studio_train(config: TrainingConfig, data: Path, epochs: int):
    dataset = load_dataset(data)
    network = config.build_network(dataset.train.images.shape[1])
    events = list(train(network, dataset, replace(config, max_epochs=epochs)))
    return network, [e for e in events if isinstance(e, EpochFinished)]


def assert_same_run(config: TrainingConfig, data: Path, tmp_path: Path, epochs: int) -> None:
    stdout, out = run_script(config, data, tmp_path, epochs)
    expected, epochs_seen = studio_train(config, data, epochs)
    network, info = load_model(out)  # the studio's own loader accepts the script's file
    assert network.sizes == expected.sizes
    assert (network.activation, network.loss) == (expected.activation, expected.loss)
    for got, want in zip(network.parameters(), expected.parameters()):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    # One printed line per epoch, with the studio's own figures.
    lines = [line for line in stdout.splitlines() if line.startswith("epoch")]
    assert len(lines) == epochs
    for line, event in zip(lines, epochs_seen):
        fields = line.split()
        assert int(fields[1]) == event.epoch
        assert float(fields[3]) == pytest.approx(event.train_loss, abs=2e-6)
        assert float(fields[5]) == pytest.approx(event.train_accuracy, abs=1e-4)
        assert float(fields[7]) == pytest.approx(event.test_accuracy, abs=1e-4)
    assert info["epochs"] == epochs
    assert TrainingConfig.from_dict(info["config"]).seed == config.seed


def test_the_script_uses_only_numpy_and_the_standard_library() -> None:
    for config in (PRESETS["article"], PRESETS["best"], PRESETS["fast"]):
        tree = ast.parse(script_for(config))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert imported <= {"numpy"} | set(sys.stdlib_module_names), imported


def test_the_script_holds_only_the_branches_of_its_settings() -> None:
    article = script_for(PRESETS["article"])
    assert "np.tanh" not in article and "velocity" not in article and "softmax" not in article
    assert "rng.standard_normal((n_out, n_in)) * INIT_SCALE" in article
    assert "fixed_order = np.random.default_rng(SEED).permutation(n)" in article
    best = script_for(PRESETS["best"])
    assert "np.maximum(z, 0.0)" in best and "WEIGHT_DECAY * weights[l]" in best
    assert "random shifts of up to 2 pixels" in best  # left out, and it says so
    assert "np.random.default_rng([SEED, 1, epoch])" in best


@pytest.mark.parametrize("order", ["permuted", "shuffle", "dataset"])
def test_article_settings_give_the_studios_weights(order: str, tmp_path: Path) -> None:
    data = tiny_digit_folder(tmp_path / "digits")
    config = replace(PRESETS["article"], hidden=(8, 6), order=order, seed=3, lr=0.1)
    assert_same_run(config, data, tmp_path, epochs=3)


@pytest.mark.parametrize("changes", [
    dict(),  # the fast preset: tanh, cross-entropy, xavier, batches of 32 with momentum
    dict(activation="relu", init="he", momentum=0.5, weight_decay=1e-3, batch_size=7, order="permuted"),
    dict(activation="sigmoid", loss="sse", init="uniform", init_scale=0.5, bias_init="randn",
         weight_decay=1e-2, momentum=0.0, order="dataset"),
    dict(init="rand", init_scale=0.01, hidden=(5,), batch_size=4, lr=0.05),
    dict(lr_schedule="linear", weight_decay=1e-3),
    dict(lr_schedule="cosine", lr=0.1),
])
def test_mini_batch_momentum_and_decay_settings_give_the_studios_weights(changes: dict, tmp_path: Path) -> None:
    data = tiny_digit_folder(tmp_path / "digits")
    config = replace(PRESETS["fast"], seed=11, **changes)
    assert_same_run(config, data, tmp_path, epochs=4)


def test_on_the_tutorials_digits_the_script_matches_the_studio(tmp_path: Path) -> None:
    """A subset of the real files (every 8th of each folder) keeps their real names and order."""
    source = require_shared(DIGITS)
    data = tmp_path / "digits"
    for folder in ("trainingDigits", "testDigits"):
        (data / folder).mkdir(parents=True)
        for path in sorted((source / folder).iterdir())[::8]:
            shutil.copy(path, data / folder / path.name)
    for preset, epochs in (("article", 2), ("fast", 3)):
        (tmp_path / preset).mkdir()
        assert_same_run(PRESETS[preset], data, tmp_path / preset, epochs)


def test_the_script_command_writes_the_script_of_its_flags(tmp_path: Path, capsys) -> None:
    from studio.cli import main
    out = tmp_path / "run.py"
    flags = ["--preset", "article", "--hidden", "7", "--batch", "5", "--momentum", "0.5", "--lr", "0.2",
             "--order", "shuffle", "--seed", "4", "--epochs", "3"]
    assert main(["script", *flags, "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    config = replace(PRESETS["article"], hidden=(7,), batch_size=5, momentum=0.5, lr=0.2, order="shuffle",
                     seed=4, max_epochs=3)
    assert out.read_text(encoding="utf-8") == script_for(config)
    assert "default=3" in out.read_text(encoding="utf-8")  # --epochs is the script's default
    assert main(["script", "--lr", "-1", "--out", str(tmp_path / "bad.py")]) == 2
    assert "learning rate must be a number > 0" in capsys.readouterr().err
    assert not (tmp_path / "bad.py").exists()
