"""The session model without Qt: runs kept and brought back, network rules, saved-model info, loaded
settings reconciled with their weights, the every-run CSV."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from studio import cli
from studio.core.digit_folders import export_dataset
from studio.core.model_reader import load_model
from studio.core.session import (FORM_LIMITS, MAX_PARAMETERS, NETWORK_FIELDS, Session, check_network_size,
                                 config_from_saved,
                                 config_for_loaded, fit_to_form, needs_new_network, parameter_count)
from studio.core.training import PRESETS, EpochFinished, TrainingConfig
from tests.helpers import tiny_dataset

SMALL = TrainingConfig(hidden=(4,), max_epochs=None)


def event(epoch: int, acc: float = 0.5) -> EpochFinished:
    return EpochFinished(epoch, 1.0 / epoch, acc, 0.9, acc - 0.1, 0.01, 0.01 * epoch, 0.01, 20)


def session_with_network(config: TrainingConfig = SMALL) -> Session:
    session = Session(dataset=tiny_dataset(2, 1))
    session.adopt_network(session.build_network(config), config, fresh=True)
    return session


def test_network_fields_decide_when_a_network_is_rebuilt() -> None:
    base = PRESETS["article"]
    assert not needs_new_network(base, replace(base, lr=0.5, batch_size=8, momentum=0.5, max_epochs=None))
    for name, value in (("hidden", (8,)), ("activation", "relu"), ("loss", "ce"), ("init", "he"),
                        ("init_scale", 0.5), ("bias_init", "zeros"), ("seed", 3)):
        assert name in NETWORK_FIELDS
        assert needs_new_network(base, replace(base, **{name: value}))
    session = session_with_network()
    assert not session.needs_rebuild(replace(SMALL, lr=0.3))
    assert session.needs_rebuild(replace(SMALL, seed=9))


def test_a_huge_network_is_refused_before_it_is_built() -> None:
    assert parameter_count((1024, 16, 16, 10)) == 1024 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10
    huge = replace(SMALL, hidden=(9999,) * 8)
    with pytest.raises(ValueError, match="hidden layers|weights and biases"):
        check_network_size(huge)
    with pytest.raises(ValueError, match="more than the studio holds"):
        Session().build_network(replace(SMALL, hidden=(4096, 4096, 4096)))   # each layer within its limit
    check_network_size(PRESETS["best"])          # the biggest preset fits
    assert parameter_count(PRESETS["best"].sizes()) < MAX_PARAMETERS


def test_fit_to_form_clamps_what_no_field_holds_and_names_it() -> None:
    config = replace(SMALL, seed=3_000_000_000, max_epochs=10**12)
    fitted, notes = fit_to_form(config)
    assert fitted.seed == FORM_LIMITS["seed"][1] and fitted.max_epochs == FORM_LIMITS["max_epochs"][1]
    assert len(notes) == 2 and any("3,000,000,000" in note for note in notes)
    assert fit_to_form(PRESETS["best"]) == (PRESETS["best"], [])


def test_runs_are_kept_when_replaced_and_can_be_brought_back() -> None:
    session = session_with_network()
    first_network = session.network
    session.add_epochs([event(1, 0.3), event(2, 0.6), event(3, 0.5)])
    best = first_network.copy()
    session.keep_run(first_network, best_epoch=2, best_accuracy=0.6, best_network=best)
    assert session.unsaved_runs() == [session.current]
    # Reset: a new network, the trained run goes to the earlier runs with its weights.
    session.adopt_network(session.build_network(replace(SMALL, seed=1)), replace(SMALL, seed=1), fresh=True)
    assert len(session.earlier) == 1 and not session.current.trained
    kept = session.earlier[0]
    assert kept.final_network is not None and kept.final_network is not first_network
    np.testing.assert_array_equal(kept.final_network.weights[0], first_network.weights[0])
    assert kept.best_epoch == 2 and kept.best_network is best
    # An untrained current run is not kept when replaced again.
    session.start_run(SMALL)
    assert len(session.earlier) == 1
    # Bring it back: its weights become the network (a copy), its numbers the current run.
    session.add_epochs([event(1)])
    session.keep_run(session.network)
    run = session.bring_back(0)
    assert session.current is run and session.history.last_epoch == 3
    assert session.network is not kept.final_network
    np.testing.assert_array_equal(session.network.weights[0], first_network.weights[0])
    assert session.network_config == SMALL and not session.network_fresh
    assert [len(r.history) for r in session.earlier] == [1]      # the replaced one took its place
    with pytest.raises(IndexError):
        session.bring_back(5)


def test_saving_marks_a_run_saved_until_it_trains_on() -> None:
    session = session_with_network()
    session.add_epochs([event(1), event(2)])
    session.mark_saved(2)
    assert session.unsaved_runs() == []
    session.add_epochs([event(3)])
    assert session.unsaved_runs() == [session.current]


def test_model_info_records_the_epoch_and_the_truth_about_a_paused_run() -> None:
    session = session_with_network()
    session.add_epochs([event(1, 0.3), event(2, 0.6)])
    info = session.model_info(SMALL)
    assert info["epochs"] == 2 and info["train_accuracy"] == 0.6 and info["test_accuracy"] == pytest.approx(0.5)
    assert "partial_epoch" not in info and info["dataset"] == "tiny"
    paused = session.model_info(SMALL, mid_epoch=True)
    assert paused["epochs"] == 2 and paused["partial_epoch"] == 3 and "part of epoch 3" in paused["note"]
    session.weights_epoch = 1                 # after Restore best weights: describe that epoch
    restored = session.model_info(SMALL, mid_epoch=True)
    assert restored["epochs"] == 1 and restored["train_accuracy"] == 0.3 and "partial_epoch" not in restored


def test_a_cli_model_with_a_huge_seed_and_epochs_loads_with_its_own_network(tmp_path: Path) -> None:
    data = tmp_path / "tiny"
    export_dataset(tiny_dataset(2, 1), data)
    model = tmp_path / "m.npz"
    out = io.StringIO()
    assert cli.main(["train", "--data", str(data), "--hidden", "5", "--epochs", "2", "--seed", "3000000000",
                     "--save", str(model)], out=out) == 0
    network, info = load_model(model)
    info["config"]["max_epochs"] = 2**31 + 5      # as a run with --epochs above 2^31-1 records it
    config, notes = config_for_loaded(network, info, PRESETS["article"])
    assert config.hidden == (5,) and config.seed == FORM_LIMITS["seed"][1]
    assert config.max_epochs == FORM_LIMITS["max_epochs"][1]
    assert any("seed 3,000,000,000" in note for note in notes)
    session = Session()
    session.adopt_network(network, config, fresh=False, label="from m.npz")
    # The loaded weights are the network, and Start with the form's settings trains them.
    assert not session.needs_rebuild(config) and session.network is network


def test_a_loaded_model_with_unusable_settings_takes_the_forms_and_its_own_shape() -> None:
    network = PRESETS["fast"].build_network()
    for saved in ({"hidden": "x"}, {"lr": -1}, {"max_epochs": [1]}):
        config, notes = config_for_loaded(network, {"config": saved}, PRESETS["article"])
        assert config.hidden == (32,) and config.activation == "tanh" and config.loss == "ce"
        assert config.lr == PRESETS["article"].lr and len(notes) == 1
    config, notes = config_for_loaded(network, {}, None)
    assert config.hidden == (32,) and notes == []


def test_one_csv_holds_every_run_labelled(tmp_path: Path) -> None:
    session = session_with_network()
    session.add_epochs([event(1), event(2)])
    session.start_run(replace(SMALL, lr=0.5), label="second")
    session.add_epochs([event(1)])
    path = tmp_path / "runs.csv"
    assert session.write_runs_csv(path) == 2
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0][:3] == ["run", "label", "epoch"]
    assert [(r[0], r[2]) for r in rows[1:]] == [("1", "1"), ("1", "2"), ("2", "1")]
    assert rows[3][1] == "second" and rows[1][1] == SMALL.label()
    empty = io.StringIO()
    assert Session().write_runs_csv(empty) == 1 and empty.getvalue().count("\n") == 1


HOSTILE_VALUES = (None, True, -1, 0, 3_000_000_000, 10**12, 1e30, -1e30, float("nan"), float("inf"), "12",
                  "x", "<a href='x'>y</a>", [], [16, 16], [100_000, 100_000], [9999] * 8, ["16"], [True],
                  {"a": 1}, "sigmoid", "relu", "ce", "he", 0.5, 2**64)


@pytest.mark.parametrize("config", [*PRESETS.values(),
                                    replace(PRESETS["fast"], engine="readable", early_stopping=5,
                                            lr_schedule="cosine", augment=("shear", "elastic"),
                                            against_fooling=4)])
def test_every_setting_is_read_back_as_it_was_saved(config: TrainingConfig) -> None:
    """The window's settings and a model's meta keep every field: augmentations, schedule, engine and
    training against fooling too."""
    assert config_from_saved(config.to_dict()) == (config, [])


def test_unusable_augmentations_schedules_and_engines_are_named_and_replaced() -> None:
    base = PRESETS["article"]
    config, notes = config_from_saved({"augment": ["rotate", "twist"], "lr_schedule": "step", "engine": 3,
                                       "lr": 0.5})
    assert config == replace(base, lr=0.5) and len(notes) == 3
    assert any("augment" in note and "twist" in note for note in notes)
    assert any("schedule" in note for note in notes) and any("engine" in note for note in notes)
    config, notes = config_from_saved({"max_epochs": None, "lr_schedule": "linear"})
    config.validate()              # a decaying schedule without an end is refused, whichever came first
    assert len(notes) == 1
    # Both orders of dependence: from a decaying default, "unlimited" needs the constant schedule first.
    config, notes = config_from_saved({"max_epochs": None, "lr_schedule": "constant"}, PRESETS["best"])
    assert (config.max_epochs, config.lr_schedule, notes) == (None, "constant", [])


def test_settings_read_back_are_always_usable_fuzzed() -> None:
    rng = np.random.default_rng(0)
    names = [*TrainingConfig.__dataclass_fields__, "unknown"]
    for _ in range(2000):
        saved = {str(rng.choice(names)): HOSTILE_VALUES[int(rng.integers(len(HOSTILE_VALUES)))]
                 for _ in range(int(rng.integers(0, 6)))}
        config, notes = config_from_saved(saved)
        config.validate()
        check_network_size(config)
        assert fit_to_form(config) == (config, [])
        assert all(len(note) < 400 for note in notes)
    for hostile in ([1, 2], "text", 7, None):
        assert config_from_saved(hostile)[0] == PRESETS["article"]
    config, notes = config_from_saved({"seed": "12", "hidden": [9999] * 8, "max_epochs": 10**12, "lr": "0.5"})
    assert config.seed == 12 and config.hidden == (16, 16) and config.max_epochs == 10_000_000
    assert config.lr == PRESETS["article"].lr and len(notes) == 3


def test_an_earlier_runs_model_info_describes_its_last_epoch() -> None:
    session = session_with_network()
    session.add_epochs([event(1, 0.3), event(2, 0.7)])
    session.keep_run(session.network)
    session.start_run(SMALL)
    info = session.run_info(session.earlier[0])
    assert info["epochs"] == 2 and info["train_accuracy"] == 0.7 and info["config"] == SMALL.to_dict()
    session.earlier[0].best_epoch = 1
    best = session.run_info(session.earlier[0], best=True)
    assert best["epochs"] == 1 and best["train_accuracy"] == 0.3
