"""Training runs: learning, events, steering from another thread, divergence, presets, exactness."""
from __future__ import annotations

import importlib.util
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from studio.core.augment import shift_images
from studio.core.digit_folders import load_dataset
from studio.core.lr_schedule import LR_SCHEDULE_DESCRIPTIONS, LR_SCHEDULES, schedule_factor
from studio.core.training import (ENGINE_DESCRIPTIONS, ENGINES, ORDER_DESCRIPTIONS, ORDERS, PRESET_DESCRIPTIONS,
                                  PRESETS, BestEpoch, BestEpochChanged, EpochFinished, RunControl,
                                  RunDiverged, RunFinished, TrainingConfig, epoch_order, format_hidden_sizes,
                                  needs_new_network, parse_hidden_sizes, train)
from tests.conftest import ARTICLE_NET, DIGITS, require_shared
from tests.helpers import tiny_dataset

SMALL = TrainingConfig(hidden=(8,), activation="sigmoid", loss="ce", init="xavier", bias_init="zeros",
                       lr=0.5, batch_size=4, order="shuffle", max_epochs=5, seed=3)


def run_all(config: TrainingConfig, dataset=None, control: RunControl | None = None):
    dataset = dataset or tiny_dataset()
    network = config.build_network()
    return network, list(train(network, dataset, config, control))


def epochs_of(events: list) -> list[EpochFinished]:
    return [e for e in events if isinstance(e, EpochFinished)]


def test_a_small_run_learns_and_ends_with_run_finished() -> None:
    network, events = run_all(replace(SMALL, max_epochs=15))
    epochs = [e for e in events if isinstance(e, EpochFinished)]
    assert [e.epoch for e in epochs] == list(range(1, 16))
    assert events[-1] == RunFinished(15, "max_epochs")
    assert epochs[-1].train_loss < epochs[0].train_loss / 2
    assert epochs[-1].test_accuracy == 1.0
    assert all(e.samples == 100 and e.learning_rate == 0.5 for e in epochs)
    assert epochs[-1].elapsed == pytest.approx(sum(e.seconds for e in epochs))


def test_runs_are_reproducible_from_the_seed() -> None:
    a, events_a = run_all(replace(SMALL, shift=1))
    b, events_b = run_all(replace(SMALL, shift=1))
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)
    assert [e.train_loss for e in epochs_of(events_a)] == [e.train_loss for e in epochs_of(events_b)]
    c, _ = run_all(replace(SMALL, shift=1, seed=4))
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_no_test_split_gives_none_test_metrics() -> None:
    _, events = run_all(SMALL, tiny_dataset(test_per_class=0))
    assert events[0].test_accuracy is None and events[0].test_loss is None


def test_epoch_metrics_are_measured_before_each_update() -> None:
    """With batch = whole set the epoch's loss is the loss of the starting network."""
    dataset = tiny_dataset()
    config = replace(SMALL, batch_size=1000, max_epochs=1)
    network = config.build_network()
    before = network.copy()
    event = next(train(network, dataset, config))
    from studio.core.training import evaluate
    loss, accuracy = evaluate(before, dataset.train.images.astype(float), dataset.train.labels)
    assert event.train_loss == pytest.approx(loss)
    assert event.train_accuracy == pytest.approx(accuracy)


def test_momentum_and_weight_decay_follow_their_formulas() -> None:
    """Two full-batch steps by hand: v <- mu v - lr (g + lambda W); W <- W + v."""
    dataset = tiny_dataset()
    config = replace(SMALL, batch_size=1000, momentum=0.9, weight_decay=0.01, max_epochs=2, order="dataset")
    network = config.build_network()
    manual = network.copy()
    list(train(network, dataset, config))
    x, y = dataset.train.images.astype(float), np.eye(10)[dataset.train.labels]
    velocities = [np.zeros_like(p) for p in manual.parameters()]
    for _ in range(2):
        g = manual.backward(x, y)
        grads = [g.weights[0] + 0.01 * manual.weights[0], g.biases[0],
                 g.weights[1] + 0.01 * manual.weights[1], g.biases[1]]
        for p, v, gp in zip(manual.parameters(), velocities, grads):
            v[...] = 0.9 * v - 0.5 * gp
            p += v
    for p, q in zip(network.parameters(), manual.parameters()):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12)


def test_orders() -> None:
    permuted = replace(SMALL, order="permuted", seed=5)
    np.testing.assert_array_equal(epoch_order(permuted, 50, 1), epoch_order(permuted, 50, 7))
    np.testing.assert_array_equal(epoch_order(permuted, 50, 1), np.random.default_rng(5).permutation(50))
    shuffled = replace(SMALL, order="shuffle")
    a, b = epoch_order(shuffled, 50, 1), epoch_order(shuffled, 50, 2)
    assert sorted(a) == list(range(50)) and not np.array_equal(a, b)
    np.testing.assert_array_equal(a, epoch_order(shuffled, 50, 1))
    np.testing.assert_array_equal(epoch_order(replace(SMALL, order="dataset"), 5, 3), np.arange(5))


def test_a_run_carried_on_after_a_stop_equals_one_without_the_stop() -> None:
    config = replace(SMALL, order="shuffle", shift=1, max_epochs=4)
    straight, events = run_all(config)
    resumed = config.build_network()
    first = list(train(resumed, tiny_dataset(), replace(config, max_epochs=2)))
    rest = list(train(resumed, tiny_dataset(), config, first_epoch=2))
    assert [e.epoch for e in epochs_of(rest)] == [3, 4] and rest[-1] == RunFinished(4, "max_epochs")
    assert [e.train_loss for e in epochs_of(first + rest)] == pytest.approx([e.train_loss for e in epochs_of(events)])
    for p, q in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12)


def test_learning_rate_set_while_paused_between_epochs_applies_to_the_next_epoch() -> None:
    control = RunControl()
    events: list = []
    worker = threading.Thread(target=lambda: events.extend(
        train(SMALL.build_network(), tiny_dataset(), replace(SMALL, max_epochs=3), control)))
    control.pause()
    worker.start()
    control.step_one_epoch()
    deadline = time.monotonic() + 10
    while not events and time.monotonic() < deadline:
        time.sleep(0.01)
    control.set_learning_rate(0.25)
    control.resume()
    worker.join(10)
    assert [e.learning_rate for e in epochs_of(events)] == [0.5, 0.25, 0.25]


def test_learning_rate_change_takes_effect_at_the_next_epoch() -> None:
    control = RunControl()
    network = SMALL.build_network()
    run = train(network, tiny_dataset(), replace(SMALL, max_epochs=4), control)
    first = next(run)
    control.set_learning_rate(0.125)
    rest = list(run)
    assert first.learning_rate == 0.5
    assert [e.learning_rate for e in rest if isinstance(e, EpochFinished)] == [0.125] * 3
    with pytest.raises(ValueError):
        control.set_learning_rate(-1)


def test_stop_within_a_batch_keeps_the_samples_trained_so_far() -> None:
    """A stop request is seen at the next batch: the run ends with 'stopped' and no epoch event."""
    class StopAfter(RunControl):
        def __init__(self, batches: int) -> None:
            super().__init__()
            self.left = batches

        def checkpoint(self) -> bool:
            self.left -= 1
            return self.left < 0 or super().checkpoint()

    config = replace(SMALL, batch_size=10, order="dataset", max_epochs=3)
    network = config.build_network()
    events = list(train(network, tiny_dataset(), config, StopAfter(15)))   # 10 batches an epoch
    assert [type(e) for e in events] == [EpochFinished, BestEpochChanged, RunFinished]
    assert events[-1] == RunFinished(1, "stopped")
    # The same network trained by hand for 13 batches of 10.
    manual = config.build_network()
    dataset = tiny_dataset()
    x, labels = dataset.train.images.astype(float), dataset.train.labels
    y = np.eye(10)[labels]
    for batch in list(range(10)) + [0, 1, 2]:
        rows = slice(batch * 10, batch * 10 + 10)
        g = manual.backward(x[rows], y[rows])
        for p, gp in zip(manual.parameters(), [g.weights[0], g.biases[0], g.weights[1], g.biases[1]]):
            p -= 0.5 * gp
    for p, q in zip(network.parameters(), manual.parameters()):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12)


def test_pause_step_resume_and_stop_from_another_thread() -> None:
    control = RunControl()
    events: list = []
    arrived = threading.Condition()
    network = SMALL.build_network()
    config = replace(SMALL, max_epochs=None)

    def consume() -> None:
        for event in train(network, tiny_dataset(), config, control):
            if isinstance(event, BestEpochChanged):
                continue
            with arrived:
                events.append(event)
                arrived.notify_all()

    def wait_for(count: int) -> None:
        with arrived:
            assert arrived.wait_for(lambda: len(events) >= count, timeout=10)

    control.pause()                       # paused before the first batch
    worker = threading.Thread(target=consume)
    worker.start()
    try:
        assert not worker.join(0.2) and events == []
        control.step_one_epoch()
        wait_for(1)
        assert not worker.join(0.2) and len(events) == 1 and control.paused
        control.step_one_epoch()
        wait_for(2)
        assert not worker.join(0.2) and len(events) == 2
        control.resume()
        wait_for(6)
        assert not control.paused
    finally:
        control.stop()
        worker.join(10)
    assert not worker.is_alive()
    assert isinstance(events[-1], RunFinished) and events[-1].reason == "stopped"
    assert [e.epoch for e in events[:-1]] == list(range(1, len(events)))


def test_stop_wakes_a_paused_run() -> None:
    control = RunControl()
    control.pause()
    result: list = []
    worker = threading.Thread(target=lambda: result.extend(train(SMALL.build_network(), tiny_dataset(),
                                                                  SMALL, control)))
    worker.start()
    control.stop()
    worker.join(10)
    assert not worker.is_alive() and result == [RunFinished(0, "stopped")]


def test_divergence_stops_the_run_and_keeps_the_last_good_weights() -> None:
    config = TrainingConfig(hidden=(32, 32), activation="relu", loss="ce", init="he", bias_init="zeros",
                            lr=0.1, batch_size=10, order="dataset", max_epochs=50, seed=0)
    control = RunControl()
    network = config.build_network()
    dataset = tiny_dataset()
    run = train(network, dataset, config, control)
    first = next(run)
    assert isinstance(first, EpochFinished)
    after_first = network.copy()
    control.set_learning_rate(1e100)
    events = list(run)
    assert isinstance(events[-1], RunDiverged)
    assert events[-1].epoch == 2 and "epoch 2" in events[-1].message and "smaller learning rate" in events[-1].message
    assert network.is_finite()
    for p, q in zip(network.parameters(), after_first.parameters()):
        np.testing.assert_array_equal(p, q)


def test_divergence_names_the_layer() -> None:
    config = TrainingConfig(hidden=(32, 32), activation="relu", loss="ce", init="he", bias_init="zeros",
                            lr=1e100, batch_size=10, order="dataset", max_epochs=3, seed=0)
    network, events = run_all(config)
    assert events == [RunDiverged(1, 1, events[-1].message)]
    assert "layer 1's weights" in events[-1].message and "keeps the weights it started this run with" in events[-1].message
    for p, q in zip(network.parameters(), config.build_network().parameters()):
        np.testing.assert_array_equal(p, q)


def test_config_validation_messages() -> None:
    with pytest.raises(ValueError, match="learning rate must be a number > 0"):
        replace(SMALL, lr=0).validate()
    with pytest.raises(ValueError, match="batch size"):
        replace(SMALL, batch_size=0).validate()
    with pytest.raises(ValueError, match="initialiser must be one of"):
        replace(SMALL, init="glorot").validate()
    assert TrainingConfig.from_dict(SMALL.to_dict()) == SMALL


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("engine", ENGINES)
def test_a_schedule_updates_each_epoch_with_the_rate_times_its_factor(schedule: str, engine: str) -> None:
    """The same run as a constant-rate one whose rate is set by hand before each epoch."""
    config = replace(SMALL, lr_schedule=schedule, max_epochs=4, momentum=0.5, engine=engine)
    scheduled, events = run_all(config)
    by_hand = config.build_network()
    control = RunControl()
    run = train(by_hand, tiny_dataset(), replace(config, lr_schedule="constant"), control)
    factors = [schedule_factor(schedule, e, 4) for e in (1, 2, 3, 4)]
    assert factors[0] == 1.0 and all(a > b > 0 for a, b in zip(factors, factors[1:]))
    for event in run:
        if isinstance(event, EpochFinished) and event.epoch < 4:
            control.set_learning_rate(SMALL.lr * factors[event.epoch])
    for p, q in zip(scheduled.parameters(), by_hand.parameters()):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12)
    # The events report the rate set for the run; the schedule scales it.
    assert [e.learning_rate for e in epochs_of(events)] == [SMALL.lr] * 4


def test_schedule_factors_follow_their_formulas() -> None:
    assert [schedule_factor("linear", e, 4) for e in (1, 2, 3, 4)] == [1.0, 0.75, 0.5, 0.25]
    assert [schedule_factor("cosine", e, 2) for e in (1, 2)] == pytest.approx([1.0, 0.5])
    assert schedule_factor("cosine", 3, 4) == pytest.approx((1 + np.cos(np.pi / 2)) / 2)
    assert schedule_factor("linear", 9, 4) == 0.25            # past the end: the last epoch's factor
    assert schedule_factor("constant", 7, None) == 1.0
    with pytest.raises(ValueError, match="max epochs"):
        schedule_factor("cosine", 1, None)
    with pytest.raises(ValueError, match="max epochs"):
        replace(SMALL, lr_schedule="linear", max_epochs=None).validate()
    with pytest.raises(ValueError, match="schedule must be one of constant, linear, cosine"):
        replace(SMALL, lr_schedule="step").validate()


def test_a_scheduled_run_carried_on_after_a_stop_equals_one_without_the_stop() -> None:
    config = replace(SMALL, lr_schedule="cosine", max_epochs=4)
    straight, _ = run_all(config)
    resumed = config.build_network()
    control = RunControl()
    for event in train(resumed, tiny_dataset(), config, control):
        if isinstance(event, EpochFinished) and event.epoch == 2:
            control.stop()
    list(train(resumed, tiny_dataset(), config, first_epoch=2))
    for p, q in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12)


def test_labels_name_what_differs() -> None:
    assert PRESETS["article"].label() == "randn, lr 0.01"
    assert "relu" in PRESETS["best"].label()


def test_article_preset_is_the_tutorial() -> None:
    a = PRESETS["article"]
    assert (a.sizes(), a.activation, a.loss, a.init, a.bias_init, a.lr, a.batch_size, a.momentum,
            a.weight_decay, a.shift, a.order) == ((1024, 16, 16, 10), "sigmoid", "sse", "randn", "randn",
                                                  0.01, 1, 0.0, 0.0, 0, "permuted")


def test_shift_images_moves_each_image_as_a_whole() -> None:
    image = np.zeros((32, 32), np.uint8)
    image[10:20, 12:15] = 1
    images = np.repeat(image.reshape(1, 1024), 200, axis=0)
    shifted = shift_images(images, 2, np.random.default_rng(0)).reshape(-1, 32, 32)
    seen = set()
    for s in shifted:
        rows, cols = np.nonzero(s)
        dy, dx = rows.min() - 10, cols.min() - 12
        assert -2 <= dy <= 2 and -2 <= dx <= 2 and s.sum() == 30
        np.testing.assert_array_equal(np.roll(image, (dy, dx), axis=(0, 1)), s)
        seen.add((dy, dx))
    assert len(seen) == 25
    np.testing.assert_array_equal(shift_images(images, 0, np.random.default_rng(0)), images)


@pytest.mark.parametrize("engine", ["readable", "fast"])
def test_article_preset_performs_the_tutorials_updates(engine: str) -> None:
    """Same start and sample order: weights equal article_net.py's to 1e-9 after three epochs, with the
    readable code (Network.backward + Optimiser.step) and with the fast kernel alike."""
    require_shared(ARTICLE_NET)
    dataset = load_dataset(require_shared(DIGITS))
    spec = importlib.util.spec_from_file_location("article_net", ARTICLE_NET)
    article = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(article)
    config = replace(PRESETS["article"], max_epochs=3, engine=engine)
    network = config.build_network()
    baseline = article.Net(seed=config.seed)
    x, labels = dataset.train.images.astype(np.float64), list(dataset.train.labels)
    order = np.random.default_rng(config.seed).permutation(len(labels))
    events = epochs_of(list(train(network, dataset, config)))
    for epoch in range(3):
        _, accuracy = baseline.train_epoch(x, labels, order)
        assert events[epoch].train_accuracy == pytest.approx(accuracy, abs=1e-12)
    ours = network.parameters()
    theirs = [baseline.W1, baseline.b1, baseline.W2, baseline.b2, baseline.W3, baseline.b3]
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p, q.reshape(p.shape), rtol=0, atol=1e-9)
    assert events[-1].test_accuracy == pytest.approx(
        baseline.accuracy(dataset.test.images.astype(np.float64), list(dataset.test.labels)))


# --------------------------------------------------------------------------------------------------
# Settings: engine, early stopping, hidden sizes
# --------------------------------------------------------------------------------------------------

def test_engine_and_early_stopping_are_settings_that_round_trip() -> None:
    config = replace(SMALL, engine="readable", early_stopping=7)
    assert config.to_dict()["engine"] == "readable" and config.to_dict()["early_stopping"] == 7
    assert TrainingConfig.from_dict(config.to_dict()) == config
    old = {k: v for k, v in SMALL.to_dict().items() if k not in ("engine", "early_stopping")}
    assert TrainingConfig.from_dict(old) == SMALL and SMALL.engine == "fast" and SMALL.early_stopping is None
    with pytest.raises(ValueError, match="engine must be one of readable, fast"):
        replace(SMALL, engine="quick").validate()
    with pytest.raises(ValueError, match="early stopping must be >= 1"):
        replace(SMALL, early_stopping=0).validate()
    assert "readable code" in replace(SMALL, engine="readable").label()
    scheduled = replace(SMALL, lr_schedule="cosine")
    assert TrainingConfig.from_dict(scheduled.to_dict()) == scheduled and "lr 0.5 cosine" in scheduled.label()
    assert TrainingConfig.from_dict(old).lr_schedule == "constant"      # settings saved before schedules


@pytest.mark.parametrize("text, sizes", [("16,16", (16, 16)), ("16-16", (16, 16)), ("16 16", (16, 16)),
                                         ("16x16", (16, 16)), (" 256, 128 ", (256, 128)), ("32", (32,)),
                                         ("", ()), ("none", ()), ("4096", (4096,))])
def test_hidden_sizes_parse_in_every_spelling(text: str, sizes: tuple[int, ...]) -> None:
    assert parse_hidden_sizes(text) == sizes
    assert parse_hidden_sizes(format_hidden_sizes(sizes)) == sizes


@pytest.mark.parametrize("text, message", [
    ("16,,16", "not layer sizes: whole numbers separated by commas or dashes"), ("16;16", "separated by commas"),
    ("1.5", "whole numbers"), ("-16", "whole numbers"), ("\u0661\u0666", "whole numbers"),
    ("0", "1 to 4096 units"), ("4097", "1 to 4096 units"), ("1,1,1,1,1,1,1,1,1", "at most 8 hidden layers")])
def test_hidden_sizes_refuse_with_a_message_naming_the_rule(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hidden_sizes(text)


def test_config_refuses_hidden_sizes_beyond_the_limits() -> None:
    with pytest.raises(ValueError, match="1 to 4096 units"):
        replace(SMALL, hidden=(5000,)).validate()
    with pytest.raises(ValueError, match="at most 8 hidden layers"):
        replace(SMALL, hidden=(2,) * 9).validate()


def test_needs_new_network_names_the_network_settings() -> None:
    assert needs_new_network(SMALL, replace(SMALL, hidden=(9,)))
    assert needs_new_network(SMALL, replace(SMALL, seed=4))
    assert not needs_new_network(SMALL, replace(SMALL, lr=0.1, engine="readable", early_stopping=3))


# --------------------------------------------------------------------------------------------------
# The best epoch and early stopping, inside the run
# --------------------------------------------------------------------------------------------------

def test_the_run_reports_each_new_best_epoch_with_a_copy_of_its_weights() -> None:
    config = replace(SMALL, lr=0.05, max_epochs=12)
    network = config.build_network()
    weights_after: dict[int, list[np.ndarray]] = {}
    events = []
    for event in train(network, tiny_dataset(), config):
        events.append(event)
        if isinstance(event, EpochFinished):
            weights_after[event.epoch] = [p.copy() for p in network.parameters()]
    bests = [e for e in events if isinstance(e, BestEpochChanged)]
    assert len(bests) >= 2
    best_so_far = -1.0
    for i, event in enumerate(events):
        if isinstance(event, EpochFinished):
            is_best = event.test_accuracy > best_so_far
            best_so_far = max(best_so_far, event.test_accuracy)
            follower = events[i + 1]
            assert isinstance(follower, BestEpochChanged) == is_best
            if is_best:
                assert (follower.epoch, follower.accuracy, follower.monitored) == \
                    (event.epoch, event.test_accuracy, "test")
    for best in bests:   # each copy is the network as its epoch left it, never trained further
        for p, q in zip(best.network.parameters(), weights_after[best.epoch]):
            np.testing.assert_array_equal(p, q)
        assert best.network is not network


def test_without_a_test_split_the_best_epoch_follows_training_accuracy() -> None:
    _, events = run_all(replace(SMALL, max_epochs=6), tiny_dataset(test_per_class=0))
    bests = [e for e in events if isinstance(e, BestEpochChanged)]
    assert bests and all(b.monitored == "train" for b in bests)
    accuracies = [e.train_accuracy for e in epochs_of(events)]
    assert bests[-1].accuracy == max(accuracies)
    assert bests[-1].epoch == accuracies.index(max(accuracies)) + 1      # the first to reach it


def test_best_epoch_rule() -> None:
    def epoch(n: int, test: float | None, train_acc: float = 0.5) -> EpochFinished:
        return EpochFinished(n, 1.0, train_acc, None if test is None else 1.0, test, 0.1, 0.1 * n, 0.1, 10)

    rule = BestEpoch(patience=2)
    assert [rule.update(epoch(n, a)) for n, a in enumerate([0.5, 0.7, 0.7, float("nan")], 1)] == \
        [True, True, False, False]
    assert (rule.epoch, rule.accuracy, rule.monitored, rule.should_stop) == (2, 0.7, "test", True)
    rule.begin_segment()
    assert not rule.should_stop
    rule.patience = None
    assert not any(rule.update(epoch(n, 0.1)) for n in range(5, 20)) and not rule.should_stop
    assert BestEpoch.monitored_accuracy(epoch(1, None, 0.25)) == (0.25, "train")


def test_early_stopping_ends_the_run_patience_epochs_after_the_best() -> None:
    config = replace(SMALL, max_epochs=100, early_stopping=3)
    _, events = run_all(config)
    bests = [e for e in events if isinstance(e, BestEpochChanged)]
    epochs = epochs_of(events)
    assert events[-1] == RunFinished(bests[-1].epoch + 3, "early_stopping")
    assert len(epochs) == bests[-1].epoch + 3 < 100
    assert all(e.test_accuracy <= bests[-1].accuracy for e in epochs)


def test_early_stopping_set_live_applies_from_the_next_epoch() -> None:
    control = RunControl()
    run = train(SMALL.build_network(), tiny_dataset(), replace(SMALL, max_epochs=200), control)
    events = [next(run)]
    control.set_early_stopping(2)
    events += list(run)
    bests = [e for e in events if isinstance(e, BestEpochChanged)]
    assert events[-1] == RunFinished(bests[-1].epoch + 2, "early_stopping")
    # And turned off again: the run goes on to max_epochs.
    control = RunControl()
    run = train(SMALL.build_network(), tiny_dataset(), replace(SMALL, max_epochs=30, early_stopping=1), control)
    control.set_early_stopping(None)
    assert list(run)[-1] == RunFinished(30, "max_epochs")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="early stopping must be a whole number"):
            control.set_early_stopping(bad)


def test_a_run_carried_on_reports_only_epochs_better_than_its_earlier_best() -> None:
    config = replace(SMALL, max_epochs=4)
    network = config.build_network()
    rule = BestEpoch()
    first = list(train(network, tiny_dataset(), config, best=rule))
    assert rule.epoch == [e for e in first if isinstance(e, BestEpochChanged)][-1].epoch
    rest = list(train(network, tiny_dataset(), replace(config, max_epochs=8), first_epoch=4, best=rule))
    assert all(b.accuracy > [e for e in first if isinstance(e, BestEpochChanged)][-1].accuracy
               for b in rest if isinstance(b, BestEpochChanged))


# --------------------------------------------------------------------------------------------------
# Time: a pause is not training time
# --------------------------------------------------------------------------------------------------

class PauseOnce(RunControl):
    """Pauses itself at its ``at_call``-th checkpoint (mid-epoch) and says so through ``paused_event``."""

    def __init__(self, at_call: int) -> None:
        super().__init__()
        self.at_call = at_call
        self.calls = 0
        self.paused_event = threading.Event()

    def checkpoint(self) -> bool:
        self.calls += 1
        if self.calls == self.at_call:
            self.pause()
            self.paused_event.set()
        return super().checkpoint()


@pytest.mark.parametrize("engine", ["readable", "fast"])
def test_a_pause_mid_epoch_does_not_count_as_training_time(engine: str) -> None:
    # 100 samples in batches of 10: checkpoint 1 is before epoch 1, 2..11 before its batches.
    config = replace(SMALL, batch_size=10, max_epochs=2, engine=engine)
    control = PauseOnce(at_call=5)
    events: list = []
    wall: dict[str, float] = {"start": time.perf_counter()}

    def consume() -> None:
        for event in train(config.build_network(), tiny_dataset(), config, control):
            events.append(event)
            if isinstance(event, EpochFinished) and event.epoch == 1:
                wall["epoch 1"] = time.perf_counter()

    worker = threading.Thread(target=consume)
    worker.start()
    try:
        assert control.paused_event.wait(10)
        time.sleep(0.3)
        assert epochs_of(events) == []          # still held mid-epoch 1
    finally:
        control.resume()
        worker.join(10)
    assert not worker.is_alive()
    first, second = epochs_of(events)
    assert wall["epoch 1"] - wall["start"] >= 0.3                  # the pause really happened
    assert first.seconds < 0.15                                     # ... and is not training time
    assert second.elapsed == pytest.approx(first.seconds + second.seconds)
    assert control.take_blocked_seconds() == 0.0                    # the run took what it counted


def test_every_preset_engine_and_order_has_its_teaching_text() -> None:
    assert list(PRESET_DESCRIPTIONS) == list(PRESETS)
    assert list(ENGINE_DESCRIPTIONS) == list(ENGINES) == ["readable", "fast"]
    assert list(ORDER_DESCRIPTIONS) == list(ORDERS)
    assert list(LR_SCHEDULE_DESCRIPTIONS) == list(LR_SCHEDULES) == ["constant", "linear", "cosine"]
