"""The network's maths: gradients against finite differences, stability, initialisers."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from studio.core.network import (ACTIVATION_DESCRIPTIONS, ACTIVATIONS, BIAS_INIT_DESCRIPTIONS, BIAS_INITS,
                                 INIT_DESCRIPTIONS, INITS, LOSS_DESCRIPTIONS, LOSS_NAMES, LOSSES, Network,
                                 init_weights, log_softmax, one_hot, sigmoid, softmax)


def numerical_gradient(net: Network, x: np.ndarray, y: np.ndarray, param: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    """Central differences of the mean loss with respect to every entry of ``param`` (in place)."""
    grad = np.zeros_like(param)
    for index in np.ndindex(param.shape):
        saved = param[index]
        param[index] = saved + eps
        plus = net.loss_per_sample(x, y).mean()
        param[index] = saved - eps
        minus = net.loss_per_sample(x, y).mean()
        param[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_backprop_matches_finite_differences(activation: str, loss: str) -> None:
    rng = np.random.default_rng(7)
    net = Network.initialised((6, 5, 4, 3), activation=activation, loss=loss, init="xavier",
                              bias_init="randn", seed=3)
    x = rng.standard_normal((5, 6))
    y = one_hot(rng.integers(0, 3, 5), 3)
    if activation == "relu":
        # Keep every pre-activation away from the kink at 0, where the derivative is undefined.
        for layer in range(net.num_layers - 1):
            z = net.forward(x).zs[layer]
            net.biases[layer] += np.where(np.abs(z).min(axis=0) < 1e-3, 0.1, 0.0)
    grads = net.backward(x, y)
    for analytic, param in zip(grads.weights + grads.biases, net.weights + net.biases):
        numeric = numerical_gradient(net, x, y, param)
        # Relative error of the whole array, |a - n| / (|a| + |n|): entry-wise ratios of tiny entries
        # measure only the rounding noise of the differences, not the maths.
        relative = np.linalg.norm(analytic - numeric) / (np.linalg.norm(analytic) + np.linalg.norm(numeric))
        assert relative < 1e-6, (activation, loss, relative)


def test_backward_reports_mean_loss_and_output() -> None:
    net = Network.initialised((4, 3, 2), loss="sse", seed=1)
    x = np.eye(4)[:3]
    y = one_hot(np.array([0, 1, 1]), 2)
    grads = net.backward(x, y)
    assert grads.loss == pytest.approx(net.loss_per_sample(x, y).mean())
    np.testing.assert_array_equal(grads.output, net.predict_proba(x))


def test_batch_gradient_is_mean_of_per_sample_gradients() -> None:
    net = Network.initialised((5, 4, 3), activation="tanh", loss="ce", seed=2)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 5)), one_hot(rng.integers(0, 3, 6), 3)
    batch = net.backward(x, y)
    singles = [net.backward(x[i:i + 1], y[i:i + 1]) for i in range(6)]
    for l in range(net.num_layers):
        np.testing.assert_allclose(batch.weights[l], np.mean([g.weights[l] for g in singles], axis=0))
        np.testing.assert_allclose(batch.biases[l], np.mean([g.biases[l] for g in singles], axis=0))


def test_sigmoid_and_softmax_are_stable_at_extreme_inputs() -> None:
    z = np.array([[-1e308, -800.0, -30.0, 0.0, 30.0, 800.0, 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(z)
        p = softmax(z)
        lp = log_softmax(z[:, 1:-1])   # -2e308 is not a float: the log of e^-2e308 is rightly -inf
    assert np.all(np.isfinite(s)) and s.min() >= 0 and s.max() <= 1
    assert s[0, 3] == 0.5
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0)
    assert np.isfinite(lp).all()


def test_cross_entropy_loss_is_finite_when_probability_underflows() -> None:
    net = Network.initialised((2, 3), activation="sigmoid", loss="ce", init="zeros", bias_init="zeros")
    net.weights[0][:] = [[1000.0, 0.0], [-1000.0, 0.0], [0.0, 0.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = net.loss_per_sample(np.array([[1.0, 0.0]]), one_hot(np.array([1]), 3))
    assert np.isfinite(loss).all() and loss[0] == pytest.approx(2000.0)


@pytest.mark.parametrize("name", INITS)
def test_initialisers_are_seeded_and_shaped(name: str) -> None:
    a = init_weights(name, 16, 1024, np.random.default_rng(5), scale=0.5)
    b = init_weights(name, 16, 1024, np.random.default_rng(5), scale=0.5)
    assert a.shape == (16, 1024)
    np.testing.assert_array_equal(a, b)


def test_initialiser_statistics() -> None:
    rng = np.random.default_rng(0)
    assert init_weights("rand", 200, 300, rng).min() >= 0
    assert np.abs(init_weights("uniform", 200, 300, rng)).max() <= 1
    assert np.std(init_weights("randn", 200, 300, rng)) == pytest.approx(1.0, rel=0.05)
    assert np.std(init_weights("xavier", 200, 300, rng)) == pytest.approx(np.sqrt(2 / 500), rel=0.05)
    assert np.std(init_weights("he", 200, 300, rng)) == pytest.approx(np.sqrt(2 / 300), rel=0.05)
    assert np.all(init_weights("ones", 2, 3, rng, scale=3.0) == 3.0)
    assert np.all(init_weights("zeros", 2, 3, rng) == 0.0)
    with pytest.raises(ValueError, match="unknown initialiser"):
        init_weights("bogus", 2, 3, rng)


def test_initialised_draws_in_the_tutorial_order() -> None:
    """W1, b1, W2, b2, ... from one generator: the same numbers as the tutorial's baseline."""
    net = Network.initialised((1024, 16, 16, 10), init="randn", bias_init="randn", seed=0)
    rng = np.random.default_rng(0)
    expected = [rng.standard_normal(s) for s in [(16, 1024), (16, 1), (16, 16), (16, 1), (10, 16), (10, 1)]]
    for got, want in zip(net.parameters(), expected):
        np.testing.assert_array_equal(got, want.reshape(got.shape))


def test_copy_is_independent() -> None:
    net = Network.initialised((4, 3, 2), seed=0)
    twin = net.copy()
    twin.weights[0][0, 0] += 1
    assert net.weights[0][0, 0] != twin.weights[0][0, 0]


def test_bad_shapes_and_names_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        Network((3, 2), [np.zeros((3, 2))], [np.zeros(2)])
    with pytest.raises(ValueError, match="activation"):
        Network.initialised((3, 2), activation="swish")
    with pytest.raises(ValueError, match="loss"):
        Network.initialised((3, 2), loss="hinge")


def test_non_finite_layer_is_named() -> None:
    net = Network.initialised((3, 3, 2), seed=0)
    assert net.first_non_finite_layer() is None
    net.biases[1][0] = np.nan
    assert net.first_non_finite_layer() == 2
    assert not net.is_finite()


def test_the_formula_map_names_functions_that_exist() -> None:
    """Each right-hand side of the docstring's formula -> function map is a real name."""
    import studio.core.network as network_module
    from studio.core import sgd

    doc = network_module.__doc__
    table = doc[doc.index("Formula -> function"):doc.index("These are the functions")]
    named = re.findall(r"\b([A-Z][A-Za-z]+\.[a-z_]+)\b", table)
    assert {"Network.forward", "Network.backward", "SquaredErrorLoss.delta", "CrossEntropyLoss.delta",
            "Optimiser.step"} <= set(named)
    for name in named:
        owner, attribute = name.split(".")
        cls = getattr(sgd if hasattr(sgd, owner) else network_module, owner)
        fields = getattr(cls, "__dataclass_fields__", {})       # Activation.prime is a field
        assert attribute in fields or callable(getattr(cls, attribute)), name


@pytest.mark.parametrize("names, descriptions", [(ACTIVATIONS, ACTIVATION_DESCRIPTIONS), (LOSSES, LOSS_DESCRIPTIONS),
                                                 (INITS, INIT_DESCRIPTIONS), (BIAS_INITS, BIAS_INIT_DESCRIPTIONS),
                                                 (LOSSES, LOSS_NAMES)])
def test_every_choice_has_its_teaching_text(names: tuple[str, ...], descriptions: dict[str, str]) -> None:
    assert list(descriptions) == list(names) and all(text.strip() for text in descriptions.values())


def test_zero_weights_with_random_biases_break_symmetry_and_with_zero_biases_do_not() -> None:
    """What INIT_DESCRIPTIONS says of ``zeros``: random biases make the units of a layer differ."""
    x = (np.random.default_rng(0).random((6, 20)) < 0.4).astype(float)
    y = one_hot(np.arange(6) % 3, 3)
    for bias_init, symmetric in (("randn", False), ("zeros", True)):
        net = Network.initialised((20, 4, 3), init="zeros", bias_init=bias_init, seed=1)
        for _ in range(30):
            g = net.backward(x, y)
            for p, gp in zip(net.parameters(), [g.weights[0], g.biases[0], g.weights[1], g.biases[1]]):
                p -= 0.5 * gp
        rows_equal = np.allclose(net.weights[0], net.weights[0][0])
        assert rows_equal == symmetric
