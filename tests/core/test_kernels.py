"""The fast kernels against the readable ``sgd_epoch``: the two engines of a run held together.

``sgd_epoch`` is the oracle: the fast kernels must make the same updates (to 1e-12; only the order
of additions differs), report the same tally, and stop at the same sample with the same model. The
tutorial's own code is the oracle of both engines in ``test_training.py``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from studio.core.kernel_minibatch import MiniBatchSGD, minibatch_epoch
from studio.core.kernel_per_sample import PerSampleSGD, per_sample_applies, per_sample_epoch
from studio.core.network import LOSS_FUNCTIONS, CrossEntropyLoss, Network, SquaredErrorLoss, one_hot
from studio.core.sgd import EpochTally, Optimiser, sgd_epoch
from studio.core.training import PRESETS, EpochFinished, RunControl, TrainingConfig, choose_epoch_function, train
from tests.helpers import tiny_dataset

SIZES = [(12, 5), (12, 6, 4), (12, 5, 4, 3), (12, 7, 5, 4, 3)]


class StopAfter(RunControl):
    """A run control whose ``checkpoint()`` says "stop" from its (calls + 1)-th call on."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.allowed = calls
        self.calls = 0

    def checkpoint(self) -> bool:
        self.calls += 1
        return self.calls > self.allowed


def _data(n: int, inputs: int, classes: int, seed: int,
          binary: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (n, inputs), 0/1 like the digits or real-valued; one-hot targets; labels."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, inputs)) < 0.35).astype(np.float64) if binary else rng.normal(size=(n, inputs))
    labels = rng.integers(0, classes, n)
    return x, one_hot(labels, classes), labels


def _network(sizes: tuple[int, ...], activation: str, loss: str, seed: int = 3) -> Network:
    return Network.initialised(sizes, activation=activation, loss=loss, init="xavier",
                               bias_init="randn", seed=seed)


def _assert_same(net: Network, ref: Network, fast: EpochTally, slow: EpochTally, rtol: float = 0.0) -> None:
    for p, q in zip(net.parameters(), ref.parameters()):
        np.testing.assert_allclose(p, q, rtol=rtol, atol=1e-12)
    assert (fast.samples, fast.hits, fast.stopped) == (slow.samples, slow.hits, slow.stopped)
    assert fast.loss_sum == pytest.approx(slow.loss_sum, rel=1e-12, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# Per-sample kernel
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["sse", "ce"])
def test_per_sample_kernel_makes_the_updates_of_sgd_epoch(sizes: tuple[int, ...], activation: str,
                                                          loss: str) -> None:
    # 29 samples in blocks of 8 (the last one short), checkpoints every 5: boundaries everywhere.
    x, y, labels = _data(29, sizes[0], sizes[-1], seed=len(sizes))
    net = _network(sizes, activation, loss)
    ref = net.copy()
    kernel = PerSampleSGD(block=8, check_every=5)
    order = np.random.default_rng(0).permutation(len(labels))
    # Epochs 1-2: same order and data (the second reuses the Gram cache); 3: a new learning rate;
    # 4: a new order; 5: new data in the same order (as with shifted images).
    x2, _, _ = _data(29, sizes[0], sizes[-1], seed=99)
    plan = [(x, order, 0.1), (x, order, 0.1), (x, order, 0.05), (x, order[::-1].copy(), 0.05),
            (x2, order[::-1].copy(), 0.05)]
    for data, o, lr in plan:
        fast = kernel(net, data, y, labels, o, 1, Optimiser(lr), RunControl())
        slow = sgd_epoch(ref, data, y, labels, o, 1, Optimiser(lr), RunControl())
        _assert_same(net, ref, fast, slow)
    assert fast.samples == 29 and not fast.stopped


@pytest.mark.parametrize("n", [31, 64, 100])
def test_per_sample_epoch_with_default_blocks_matches_on_real_valued_inputs(n: int) -> None:
    x, y, labels = _data(n, 20, 10, seed=n, binary=False)
    net = _network((20, 9, 10), "sigmoid", "sse")
    ref = net.copy()
    order = np.random.default_rng(n).permutation(n)
    for _ in range(2):
        fast = per_sample_epoch(net, x, y, labels, order, 1, Optimiser(0.2), RunControl())
        slow = sgd_epoch(ref, x, y, labels, order, 1, Optimiser(0.2), RunControl())
        _assert_same(net, ref, fast, slow)


def test_per_sample_kernel_accepts_orders_with_repeats_and_subsets() -> None:
    x, y, labels = _data(15, 12, 4, seed=5)
    net = _network((12, 6, 4), "tanh", "ce")
    ref = net.copy()
    order = np.array([3, 3, 0, 14, 7, 7, 7, 1, 2, 9, 3])
    fast = PerSampleSGD(block=4, check_every=3)(net, x, y, labels, order, 1, Optimiser(0.3), RunControl())
    slow = sgd_epoch(ref, x, y, labels, order, 1, Optimiser(0.3), RunControl())
    _assert_same(net, ref, fast, slow)


@pytest.mark.parametrize("sizes", [(12, 5), (12, 6, 4), (12, 5, 4, 3)])
@pytest.mark.parametrize("checks", [1, 2, 3, 4, 7])
def test_a_stop_inside_a_block_leaves_the_model_of_the_generic_path_stopped_there(sizes: tuple[int, ...],
                                                                                  checks: int) -> None:
    # Blocks of 8 samples, a checkpoint every 3: the k-th "no" lets 3k samples through, which for
    # most k is in the middle of a block, so the deferred first-layer update must be flushed.
    x, y, labels = _data(30, sizes[0], sizes[-1], seed=7)
    net = _network(sizes, "sigmoid", "sse")
    ref = net.copy()
    order = np.random.default_rng(1).permutation(30)
    fast = PerSampleSGD(block=8, check_every=3)(net, x, y, labels, order, 1, Optimiser(0.5),
                                               StopAfter(checks))
    trained = min(3 * checks, 30)
    assert fast.samples == trained
    assert fast.stopped == (3 * checks < 30)
    # sgd_epoch asks before every batch (here every sample): allow exactly as many samples.
    slow = sgd_epoch(ref, x, y, labels, order, 1, Optimiser(0.5), StopAfter(trained))
    _assert_same(net, ref, fast, slow)
    if trained % 8:
        # The first layer really moved for the samples of the unfinished block: undo nothing.
        assert not np.array_equal(net.weights[0], _network(sizes, "sigmoid", "sse").weights[0])


class Recorder(RunControl):
    """A run control that keeps a copy of the network every time the run asks it (where a paused
    run's snapshot would be taken)."""

    def __init__(self, network: Network) -> None:
        super().__init__()
        self.network = network
        self.copies: list[Network] = []

    def checkpoint(self) -> bool:
        self.copies.append(self.network.copy())
        return super().checkpoint()


@pytest.mark.parametrize("sizes", [(12, 5), (12, 6, 4), (12, 5, 4, 3)])
def test_whenever_the_control_is_asked_the_network_is_the_one_trained_so_far(sizes: tuple[int, ...]) -> None:
    # Checkpoints every 3 samples inside blocks of 8: the window's paused snapshot must be the real
    # model, not one with the first layer's updates still deferred.
    x, y, labels = _data(30, sizes[0], sizes[-1], seed=9)
    net = _network(sizes, "tanh", "sse")
    ref = net.copy()
    fast_control, slow_control = Recorder(net), Recorder(ref)
    order = np.random.default_rng(3).permutation(30)
    PerSampleSGD(block=8, check_every=3)(net, x, y, labels, order, 1, Optimiser(0.3), fast_control)
    sgd_epoch(ref, x, y, labels, order, 1, Optimiser(0.3), slow_control)
    assert len(fast_control.copies) == 10                 # before samples 0, 3, ..., 27
    for k, seen in enumerate(fast_control.copies):
        expected = slow_control.copies[3 * k]             # sgd_epoch asks before every sample
        for p, q in zip(seen.parameters(), expected.parameters()):
            np.testing.assert_allclose(p, q, rtol=0, atol=1e-12)


def test_after_a_stopped_epoch_the_next_epochs_still_match() -> None:
    # A stop leaves the kernel's Gram cache half filled; the next epochs must not trust it.
    x, y, labels = _data(30, 12, 4, seed=8)
    net = _network((12, 6, 4), "sigmoid", "sse")
    ref = net.copy()
    kernel = PerSampleSGD(block=8, check_every=3)
    order = np.random.default_rng(2).permutation(30)
    kernel(net, x, y, labels, order, 1, Optimiser(0.5), StopAfter(4))
    sgd_epoch(ref, x, y, labels, order, 1, Optimiser(0.5), StopAfter(12))
    for control in (RunControl(), StopAfter(2), RunControl(), RunControl()):
        fast = kernel(net, x, y, labels, order, 1, Optimiser(0.5), control)
        allowed = fast.samples if fast.stopped else 10**6
        slow = sgd_epoch(ref, x, y, labels, order, 1, Optimiser(0.5), StopAfter(allowed))
        _assert_same(net, ref, fast, slow)


def test_per_sample_kernel_asks_the_control_at_least_every_32_samples() -> None:
    x, y, labels = _data(100, 12, 4, seed=2)
    control = StopAfter(10**6)
    PerSampleSGD()(_network((12, 5, 4), "sigmoid", "sse"), x, y, labels, np.arange(100), 1,
                   Optimiser(0.1), control)
    assert control.calls >= 100 / 32
    with pytest.raises(ValueError):
        PerSampleSGD(check_every=33)


def test_a_stop_before_the_first_sample_changes_nothing() -> None:
    x, y, labels = _data(10, 12, 4, seed=2)
    net = _network((12, 5, 4), "sigmoid", "sse")
    before = [p.copy() for p in net.parameters()]
    tally = PerSampleSGD()(net, x, y, labels, np.arange(10), 1, Optimiser(0.1), StopAfter(0))
    assert tally.stopped and tally.samples == 0 and tally.hits == 0 and tally.loss_sum == 0.0
    for p, q in zip(net.parameters(), before):
        np.testing.assert_array_equal(p, q)


def test_per_sample_kernel_refuses_settings_it_does_not_compute() -> None:
    x, y, labels = _data(5, 12, 4, seed=2)
    net = _network((12, 5, 4), "sigmoid", "sse")
    for batch, optimiser in [(2, Optimiser(0.1)), (1, Optimiser(0.1, momentum=0.9)),
                             (1, Optimiser(0.1, weight_decay=1e-3))]:
        with pytest.raises(ValueError):
            PerSampleSGD()(net, x, y, labels, np.arange(5), batch, optimiser, RunControl())


def test_per_sample_kernel_updates_the_networks_own_arrays_in_place() -> None:
    x, y, labels = _data(9, 12, 4, seed=2)
    net = _network((12, 5, 4), "sigmoid", "sse")
    arrays = [id(p) for p in net.parameters()]
    PerSampleSGD()(net, x, y, labels, np.arange(9), 1, Optimiser(0.1), RunControl())
    assert [id(p) for p in net.parameters()] == arrays


# --------------------------------------------------------------------------------------------------
# Mini-batch kernel
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sizes", SIZES[:3])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["sse", "ce"])
@pytest.mark.parametrize("batch, momentum, decay", [(4, 0.0, 0.0), (16, 0.9, 0.0), (5, 0.5, 1e-2),
                                                    (1, 0.9, 1e-3)])
def test_minibatch_kernel_makes_the_updates_of_sgd_epoch(sizes: tuple[int, ...], activation: str, loss: str,
                                                         batch: int, momentum: float, decay: float) -> None:
    x, y, labels = _data(37, sizes[0], sizes[-1], seed=11, binary=False)
    net = _network(sizes, activation, loss)
    ref = net.copy()
    kernel = MiniBatchSGD()
    # A step small enough that training is not chaotic, so rounding differences stay rounding-sized.
    fast_opt = Optimiser(0.05, momentum, decay)
    slow_opt = Optimiser(0.05, momentum, decay)
    rng = np.random.default_rng(4)
    for epoch in range(3):
        order = rng.permutation(37)
        if epoch == 2:
            fast_opt.lr = slow_opt.lr = 0.03
        fast = kernel(net, x, y, labels, order, batch, fast_opt, RunControl())
        slow = sgd_epoch(ref, x, y, labels, order, batch, slow_opt, RunControl())
        # Momentum carries rounding differences along: compare to 1e-12 relative as well.
        _assert_same(net, ref, fast, slow, rtol=1e-12)
    if momentum or decay:
        for v, w in zip(fast_opt.velocities, slow_opt.velocities):
            np.testing.assert_allclose(v, w, rtol=1e-12, atol=1e-12)


def test_minibatch_kernel_keeps_the_network_current_at_every_checkpoint() -> None:
    x, y, labels = _data(40, 12, 4, seed=3)
    net = _network((12, 6, 5, 4), "sigmoid", "ce")
    ref = net.copy()
    fast_control, slow_control = Recorder(net), Recorder(ref)
    MiniBatchSGD()(net, x, y, labels, np.arange(40), 8, Optimiser(0.1, 0.9), fast_control)
    sgd_epoch(ref, x, y, labels, np.arange(40), 8, Optimiser(0.1, 0.9), slow_control)
    assert len(fast_control.copies) == len(slow_control.copies) == 5
    for seen, expected in zip(fast_control.copies, slow_control.copies):
        for p, q in zip(seen.parameters(), expected.parameters()):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-12)


def test_minibatch_kernel_stops_where_sgd_epoch_stops() -> None:
    x, y, labels = _data(40, 12, 4, seed=3)
    net = _network((12, 6, 4), "relu", "ce")
    ref = net.copy()
    order = np.arange(40)
    fast = minibatch_epoch(net, x, y, labels, order, 8, Optimiser(0.1, 0.9), StopAfter(3))
    slow = sgd_epoch(ref, x, y, labels, order, 8, Optimiser(0.1, 0.9), StopAfter(3))
    assert fast.samples == 24 and fast.stopped
    _assert_same(net, ref, fast, slow)


# --------------------------------------------------------------------------------------------------
# The choice in training.py, and the tutorial's own code
# --------------------------------------------------------------------------------------------------

def test_runs_choose_the_kernel_that_computes_their_settings() -> None:
    article = PRESETS["article"]
    assert per_sample_applies(article.batch_size, article.momentum, article.weight_decay)
    assert isinstance(choose_epoch_function(article), PerSampleSGD)
    assert isinstance(choose_epoch_function(replace(article, momentum=0.9)), MiniBatchSGD)
    assert isinstance(choose_epoch_function(replace(article, batch_size=16)), MiniBatchSGD)
    assert isinstance(choose_epoch_function(PRESETS["best"]), MiniBatchSGD)
    # One per run: a run's cache is its own.
    assert choose_epoch_function(article) is not choose_epoch_function(article)


def test_a_run_with_the_fast_kernel_matches_a_run_with_sgd_epoch() -> None:
    # Through train(): shifted images (new data every epoch) and the per-sample cache.
    dataset = tiny_dataset(per_class=4, test_per_class=2)
    for shift in (0, 1):
        config = TrainingConfig(hidden=(6,), init="xavier", lr=0.2, shift=shift, max_epochs=3)
        fast_net, slow_net = config.build_network(), config.build_network()
        fast = [e for e in train(fast_net, dataset, config) if isinstance(e, EpochFinished)]
        slow = [e for e in train(slow_net, dataset, config, epoch_function=sgd_epoch)
                if isinstance(e, EpochFinished)]
        assert [e.train_accuracy for e in fast] == [e.train_accuracy for e in slow]
        for p, q in zip(fast_net.parameters(), slow_net.parameters()):
            np.testing.assert_allclose(p, q, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------------
# The two engines of a run: readable (sgd_epoch) and fast (the kernels), on every activation x loss
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["sse", "ce"])
@pytest.mark.parametrize("batch_size, momentum, decay", [(1, 0.0, 0.0), (7, 0.9, 1e-3)])
def test_the_readable_and_fast_engines_train_the_same_network(activation: str, loss: str, batch_size: int,
                                                              momentum: float, decay: float) -> None:
    dataset = tiny_dataset(per_class=3, test_per_class=1)
    config = TrainingConfig(hidden=(9, 7), activation=activation, loss=loss, init="xavier", lr=0.1,
                            batch_size=batch_size, momentum=momentum, weight_decay=decay,
                            order="shuffle", max_epochs=4, seed=5)
    runs = {}
    for engine in ("readable", "fast"):
        engine_config = replace(config, engine=engine)
        network = engine_config.build_network()
        events = [e for e in train(network, dataset, engine_config) if isinstance(e, EpochFinished)]
        runs[engine] = network, events
    kernel = choose_epoch_function(config)
    assert isinstance(kernel, PerSampleSGD if batch_size == 1 else MiniBatchSGD)
    assert choose_epoch_function(replace(config, engine="readable")) is sgd_epoch
    (readable, slow), (fast, quick) = runs["readable"], runs["fast"]
    assert len(slow) == len(quick) == 4
    for p, q in zip(fast.parameters(), readable.parameters()):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-9)
    assert not np.allclose(readable.weights[0], config.build_network().weights[0])   # it did train
    for a, b in zip(quick, slow):
        assert a.train_accuracy == b.train_accuracy and a.test_accuracy == b.test_accuracy
        assert a.train_loss == pytest.approx(b.train_loss, rel=1e-9)


class _EditedSquaredError(SquaredErrorLoss):
    """Squared error whose ``fn`` is twice the usual: a learner's edit to the loss object."""

    @staticmethod
    def fn(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.sum((a - y) ** 2, axis=1)


class _EditedCrossEntropy(CrossEntropyLoss):
    """Cross-entropy whose ``delta`` is halved (as if a factor had been added to the formula)."""

    @staticmethod
    def delta(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 0.5 * (a - y)


def test_editing_a_loss_object_changes_both_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernels read the loss (and, for mini-batches, the output delta) from network.LOSS_FUNCTIONS."""
    dataset = tiny_dataset(per_class=3, test_per_class=0)

    def run(config: TrainingConfig) -> tuple[Network, list[EpochFinished]]:
        network = config.build_network()
        return network, [e for e in train(network, dataset, config) if isinstance(e, EpochFinished)]

    base = TrainingConfig(hidden=(5,), init="xavier", lr=0.2, max_epochs=2, order="dataset")
    _, plain = run(base)
    monkeypatch.setitem(LOSS_FUNCTIONS, "sse", _EditedSquaredError)
    for engine in ("readable", "fast"):
        _, edited = run(replace(base, engine=engine))
        assert [e.train_loss for e in edited] == pytest.approx([2 * e.train_loss for e in plain], rel=1e-9)

    ce = replace(base, loss="ce", batch_size=4, momentum=0.5)
    before, _ = run(ce)
    monkeypatch.setitem(LOSS_FUNCTIONS, "ce", _EditedCrossEntropy)
    after = {engine: run(replace(ce, engine=engine))[0] for engine in ("readable", "fast")}
    np.testing.assert_allclose(after["fast"].weights[0], after["readable"].weights[0], rtol=0, atol=1e-12)
    assert not np.allclose(after["fast"].weights[0], before.weights[0])
