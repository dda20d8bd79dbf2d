"""Training against fooling: the added copies really fool the network, without copies it is sgd_epoch, and
a run turns it on with its ``against_fooling`` setting."""
from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from studio.core.network import Network, one_hot
from studio.cli import main
from studio.core.digit_folders import export_dataset
from studio.core.model_reader import load_model
from studio.core.run_script import script_for, script_settings
from studio.core.train_against import AGAINST_FOOLING_DESCRIPTION, MAX_FLIPS, AgainstFoolingEpoch
from studio.core.training import (PRESETS, EpochFinished, Optimiser, RunControl, RunFinished, TrainingConfig,
                                  choose_epoch_function, sgd_epoch, train)
from studio.core.variations import parse_vary
from tests.helpers import quick_network, tiny_dataset


def test_fooling_copies_fool_the_network_and_keep_their_labels() -> None:
    network = Network.initialised((1024, 8, 10), activation="tanh", loss="ce", init="xavier", seed=2)
    split = tiny_dataset(2, 0).train
    epoch = AgainstFoolingEpoch(copies=20, max_flips=30, seed=1)
    x = split.images.astype(np.float64)
    copies, labels = epoch.fooling_copies(network, x, split.labels)
    assert len(copies) > 0
    for copy, label in zip(copies, labels):
        nearest = np.min(np.count_nonzero(split.images[split.labels == label] != copy, axis=1))
        assert 1 <= nearest <= 30
        assert network.predict(copy[None])[0] != label            # read as another digit


def test_without_copies_an_epoch_is_sgd_epoch() -> None:
    # One flip never fools this confident network, so no copy is added: the same updates as sgd_epoch.
    dataset = tiny_dataset(4, 0)
    network = quick_network(epochs=4)
    x = dataset.train.images.astype(np.float64)
    labels = dataset.train.labels
    y = one_hot(labels)
    order = np.random.default_rng(0).permutation(len(labels))
    plain, against = network.copy(), network.copy()
    epoch = AgainstFoolingEpoch(copies=3, max_flips=1)
    a = sgd_epoch(plain, x, y, labels, order, 5, Optimiser(lr=0.05), RunControl())
    b = epoch(against, x, y, labels, order, 5, Optimiser(lr=0.05), RunControl())
    assert epoch.added == 0
    for p, q in zip(plain.parameters(), against.parameters()):
        np.testing.assert_allclose(p, q, atol=1e-12)
    assert (a.hits, a.samples) == (b.hits, b.samples) and a.loss_sum == pytest.approx(b.loss_sum)


def test_a_run_trains_against_fooling_copies() -> None:
    dataset = tiny_dataset(5, 2)
    config = replace(PRESETS["fast"], hidden=(8,), max_epochs=3)
    network = config.build_network(1024)
    epoch = AgainstFoolingEpoch(copies=2, max_flips=40)
    events = list(train(network, dataset, config, RunControl(), epoch_function=epoch))
    epochs = [e for e in events if isinstance(e, EpochFinished)]
    assert len(epochs) == 3 and all(e.samples == len(dataset.train) for e in epochs)
    assert epoch.added > 0
    with pytest.raises(ValueError):
        AgainstFoolingEpoch(copies=0)


# --------------------------------------------------------------------------------------------------
# The run setting: TrainingConfig.against_fooling
# --------------------------------------------------------------------------------------------------

def test_the_setting_round_trips_and_is_refused_out_of_range() -> None:
    config = replace(PRESETS["fast"], against_fooling=5)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    older = PRESETS["fast"].to_dict()
    del older["against_fooling"]                    # settings saved before the setting existed
    assert TrainingConfig.from_dict(older).against_fooling == 0
    assert "against fooling x5" in config.label() and "fooling" not in PRESETS["fast"].label()
    for bad in (-1, 65, 2.5, True):
        with pytest.raises(ValueError, match=r"against fooling must be 0 \(off\) to 64 copies a batch"):
            replace(config, against_fooling=bad).validate()
    replace(config, against_fooling=64).validate()


def test_the_setting_chooses_the_against_fooling_epoch_whatever_the_engine() -> None:
    for engine in ("fast", "readable"):
        chosen = choose_epoch_function(replace(PRESETS["fast"], engine=engine, against_fooling=3, seed=7))
        assert isinstance(chosen, AgainstFoolingEpoch)
        assert (chosen.copies, chosen.max_flips) == (3, MAX_FLIPS)
        same_seed = AgainstFoolingEpoch(3, MAX_FLIPS, seed=7)
        assert chosen.rng.integers(1 << 30) == same_seed.rng.integers(1 << 30)
    assert not isinstance(choose_epoch_function(PRESETS["fast"]), AgainstFoolingEpoch)


def test_a_run_with_the_setting_on_adds_copies_and_trains_another_network() -> None:
    dataset = tiny_dataset(5, 2)
    config = replace(PRESETS["fast"], hidden=(8,), max_epochs=3, against_fooling=4)

    def trained(config: TrainingConfig, epoch_function=None) -> Network:
        network = config.build_network(1024)
        events = list(train(network, dataset, config, RunControl(), epoch_function=epoch_function))
        assert isinstance(events[-1], RunFinished) and events[-1].epochs == 3
        return network

    on = trained(config)
    chosen = choose_epoch_function(config)
    assert all(np.array_equal(p, q) for p, q in zip(trained(config, chosen).parameters(), on.parameters()))
    assert chosen.added > 0                         # copies that fool the network were found and trained on
    off = trained(replace(config, against_fooling=0))
    assert max(float(np.max(np.abs(p - q))) for p, q in zip(on.parameters(), off.parameters())) > 1e-3


def test_the_setting_is_a_knob_and_the_script_leaves_it_out() -> None:
    assert parse_vary("against-fooling=0,4") == ("against_fooling", [0, 4])
    config = replace(PRESETS["fast"], against_fooling=4)
    text = script_for(config)
    assert "# Left out: training against fooling (4 flipped copies a batch" in text
    assert script_settings(config)["against_fooling"] == 0
    assert "against fooling" not in script_for(PRESETS["fast"])
    compile(text, "run.py", "exec")


def test_the_train_command_takes_the_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, model = tmp_path / "tiny", tmp_path / "m.npz"
    export_dataset(tiny_dataset(5, 2), folder)
    out = io.StringIO()
    status = main(["train", "--data", str(folder), "--preset", "fast", "--hidden", "8", "--epochs", "2",
                   "--against-fooling", "3", "--save", str(model)], out=out)
    assert status == 0 and "against fooling x3" in out.getvalue().splitlines()[0]
    assert load_model(model)[1]["config"]["against_fooling"] == 3
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    squeezed = "".join(capsys.readouterr().out.split())      # argparse wraps lines (and after hyphens)
    assert "--against-foolingN" in squeezed and "".join(AGAINST_FOOLING_DESCRIPTION.split()) in squeezed
