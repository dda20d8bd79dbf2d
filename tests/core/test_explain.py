"""The one-update walk-through: every number it shows against an independent computation.

The oracle here is the test's own forward pass written from the formulas (not ``Network``), finite
differences of its loss for every delta and gradient, PyTorch autograd when it is installed, and the
tutorial's own code (``article_net.py``) for the update of the article network.
"""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from studio.cli import main
from studio.core.digit_text import format_digit_text
from studio.core.explain import explain_update, format_text, model_learning_rate, read_digit_file
from studio.core.formula_text import LISTED_TERMS, num, to_html
from studio.core.model_writer import save_model
from studio.core.network import Network
from studio.core.training import Optimiser
from tests.conftest import ARTICLE_NET

# The three pairings the issue names: the tutorial's sigmoid + squared error, ReLU and tanh with
# cross-entropy (softmax outputs).
KINDS = [("sigmoid", "sse"), ("relu", "ce"), ("tanh", "ce")]


def _oracle_forward(params: list[np.ndarray], x: np.ndarray, activation: str, loss: str
                    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """zs and activations (a^0 = x) of one sample, from the formulas, for W1, b1, W2, b2, ..."""
    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}
    zs, acts = [], [x]
    pairs = list(zip(params[0::2], params[1::2]))
    for i, (w, b) in enumerate(pairs):
        z = w @ acts[-1] + b
        if i < len(pairs) - 1:
            a = f[activation](z)
        elif loss == "sse":
            a = 1 / (1 + np.exp(-z))
        else:
            e = np.exp(z - z.max())
            a = e / e.sum()
        zs.append(z)
        acts.append(a)
    return zs, acts


def _oracle_loss(params: list[np.ndarray], x: np.ndarray, label: int, activation: str, loss: str) -> float:
    _, acts = _oracle_forward(params, x, activation, loss)
    out = acts[-1]
    y = np.eye(out.size)[label]
    return float(0.5 * np.sum((out - y) ** 2)) if loss == "sse" else float(-math.log(out[label]))


def _finite_difference(params: list[np.ndarray], index: int, x: np.ndarray, label: int, activation: str,
                       loss: str, h: float = 1e-6) -> np.ndarray:
    """dC/d(params[index]) by central differences, entry by entry."""
    grad = np.zeros_like(params[index])
    for pos in np.ndindex(grad.shape):
        plus = [p.copy() for p in params]
        minus = [p.copy() for p in params]
        plus[index][pos] += h
        minus[index][pos] -= h
        grad[pos] = (_oracle_loss(plus, x, label, activation, loss)
                     - _oracle_loss(minus, x, label, activation, loss)) / (2 * h)
    return grad


def _small(activation: str, loss: str, seed: int = 3) -> tuple[Network, np.ndarray, int]:
    network = Network.initialised((7, 5, 4, 3), activation=activation, loss=loss, init="xavier",
                                  bias_init="randn", seed=seed)
    x = np.random.default_rng(seed).random(7)
    return network, x, 2


@pytest.mark.parametrize("activation,loss", KINDS)
def test_forward_numbers_equal_the_formulas(activation: str, loss: str) -> None:
    network, x, label = _small(activation, loss)
    walk = explain_update(network, x, label, 0.1)
    zs, acts = _oracle_forward(network.parameters(), x, activation, loss)
    for l in range(1, network.num_layers + 1):
        np.testing.assert_allclose(walk.z(l), zs[l - 1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(walk.a(l), acts[l], rtol=1e-12, atol=1e-12)
    assert walk.loss == pytest.approx(_oracle_loss(network.parameters(), x, label, activation, loss), rel=1e-12)


@pytest.mark.parametrize("activation,loss", KINDS)
def test_deltas_and_gradients_equal_finite_differences(activation: str, loss: str) -> None:
    network, x, label = _small(activation, loss)
    walk = explain_update(network, x, label, 0.1)
    zs, _ = _oracle_forward(network.parameters(), x, activation, loss)
    if activation == "relu":   # a kink within h of a sum would spoil the difference quotient
        assert min(np.abs(z).min() for z in zs) > 1e-3
    params = network.parameters()
    for l in range(1, network.num_layers + 1):
        # dC/db^l = delta^l, so the bias derivative checks the delta itself.
        fd_b = _finite_difference(params, 2 * (l - 1) + 1, x, label, activation, loss)
        fd_w = _finite_difference(params, 2 * (l - 1), x, label, activation, loss)
        np.testing.assert_allclose(walk.delta(l), fd_b, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(walk.grad_b(l), fd_b, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(walk.grad_w(l), fd_w, rtol=1e-5, atol=1e-8)
        # and the stages show those same vectors
        shown = {st.kind: st for st in walk.stages if st.layer == l and st.kind in ("delta", "gradient")}
        np.testing.assert_allclose(shown["delta"].vectors[0].values, fd_b, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(shown["gradient"].vectors[0].values, fd_b, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("activation,loss", KINDS)
def test_pytorch_autograd_agrees(activation: str, loss: str) -> None:
    torch = pytest.importorskip("torch")
    network, x, label = _small(activation, loss)
    walk = explain_update(network, x, label, 0.1)
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in network.parameters()]
    a = torch.tensor(x, dtype=torch.float64)
    zs = []
    L = network.num_layers
    for l in range(L):
        z = params[2 * l] @ a + params[2 * l + 1]
        z.retain_grad()
        zs.append(z)
        if l < L - 1:
            a = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation](z)
    if loss == "sse":
        y = torch.zeros(z.shape[0], dtype=torch.float64)
        y[label] = 1
        c = 0.5 * ((torch.sigmoid(z) - y) ** 2).sum()
    else:
        c = -torch.log_softmax(z, dim=0)[label]
    c.backward()
    assert walk.loss == pytest.approx(c.item(), rel=1e-12)
    for l in range(1, L + 1):
        np.testing.assert_allclose(walk.delta(l), zs[l - 1].grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(walk.grad_w(l), params[2 * (l - 1)].grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("activation,loss", KINDS)
def test_every_written_out_sum_adds_up_to_its_value(activation: str, loss: str) -> None:
    network, x, label = _small(activation, loss)
    walk = explain_update(network, x, label, 0.1)
    checked = 0
    for index, stage in enumerate(walk.stages):
        for unit in range(stage.units):
            work = walk.unit_work(index, unit)
            assert work.equation.startswith(work.symbol)
            assert num(work.value) in work.equation
            if not work.terms or stage.kind in ("output", "gradient", "update"):
                continue
            total = (sum(t.value for t in work.terms) + work.rest + work.offset) * work.factor
            assert total == pytest.approx(work.value, rel=1e-9, abs=1e-12), (stage.title, unit)
            sizes = [abs(t.value) for t in work.terms]
            assert sizes == sorted(sizes, reverse=True)
            assert len(work.terms) <= LISTED_TERMS
            checked += 1
    assert checked > 10


def test_a_first_layer_sum_lists_its_largest_terms_and_names_its_values() -> None:
    network, x, label = _small("sigmoid", "sse")
    walk = explain_update(network, x, label, 0.1)
    stage = next(i for i, st in enumerate(walk.stages) if st.kind == "z" and st.layer == 1)
    work = walk.unit_work(stage, 2)
    products = network.weights[0][2] * x
    biggest = np.sort(np.abs(products))[::-1][:LISTED_TERMS]
    np.testing.assert_allclose([abs(t.value) for t in work.terms], biggest, rtol=1e-12)
    assert work.rest_count == 7 - LISTED_TERMS
    assert work.rest == pytest.approx(products.sum() - sum(t.value for t in work.terms), abs=1e-12)
    assert work.offset == network.biases[0][2]
    assert work.equation.startswith("z¹₂ = Σᵢ w¹₂,ᵢ xᵢ + b¹₂ = ")
    assert f"[{7 - LISTED_TERMS} more: " in work.equation


def test_the_stages_follow_the_tutorials_order() -> None:
    network, x, label = _small("sigmoid", "sse")
    walk = explain_update(network, x, label, 0.1)
    kinds = [(st.kind, st.layer) for st in walk.stages]
    assert kinds == [("input", 0), ("z", 1), ("a", 1), ("z", 2), ("a", 2), ("z", 3), ("output", 3),
                     ("loss", 3), ("delta", 3), ("delta", 2), ("delta", 1), ("gradient", 3),
                     ("gradient", 2), ("gradient", 1), ("update", 3)]
    formulas = [st.formula for st in walk.stages]
    assert "z² = W²a¹ + b²" in formulas
    assert "δ² = (W³ᵀ δ³) ⊙ σ′(z²)" in formulas
    assert "δ³ = (a³ − y) ⊙ a³(1 − a³)" in formulas
    ce = explain_update(_small("tanh", "ce")[0], x, label, 0.1)
    assert "δ³ = a³ − y" in [st.formula for st in ce.stages]
    assert "C = −log a³₂" in [st.formula for st in ce.stages]


def test_loss_terms_add_up_to_the_loss() -> None:
    for activation, loss in KINDS:
        network, x, label = _small(activation, loss)
        walk = explain_update(network, x, label, 0.1)
        stage = next(st for st in walk.stages if st.kind == "loss")
        assert stage.vectors[0].values.sum() == pytest.approx(walk.loss, rel=1e-12)


@pytest.mark.parametrize("activation,loss", KINDS)
def test_apply_is_one_readable_engine_step(activation: str, loss: str) -> None:
    network, x, label = _small(activation, loss)
    before = [p.copy() for p in network.parameters()]
    walk = explain_update(network, x, label, 0.05)
    result = walk.apply()
    expected = network.copy()
    grads = expected.backward(x[None], np.eye(3)[[label]])
    Optimiser(0.05).step(expected, grads.weights, grads.biases)
    for got, want in zip(result.after.parameters(), expected.parameters()):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(network.parameters(), before):   # the given network is left alone
        np.testing.assert_array_equal(got, want)
    for got, want in zip(result.before.parameters(), before):
        np.testing.assert_array_equal(got, want)
    assert result.loss_before == walk.loss
    assert result.loss_after == pytest.approx(
        _oracle_loss(expected.parameters(), x, label, activation, loss), rel=1e-12)
    np.testing.assert_allclose(result.outputs_after, _oracle_forward(expected.parameters(), x, activation,
                                                                     loss)[1][-1], rtol=1e-12)


def _article_net_module():
    """The tutorial's code from the shared baselines, or skip."""
    for path in (ARTICLE_NET, Path("/work/shared/baselines/article_net.py")):
        if path.exists():
            spec = importlib.util.spec_from_file_location("article_net", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    pytest.skip("needs the shared baselines' article_net.py (only on the project's own machines)")


def test_apply_equals_the_tutorials_per_sample_update() -> None:
    article = _article_net_module()
    network = Network.initialised((1024, 16, 16, 10), seed=4)
    x = (np.random.default_rng(4).random(1024) < 0.25).astype(np.float64)
    label = 6
    walk = explain_update(network, x, label, 0.01)
    theirs = article.Net(params=[p.reshape(-1, 1) if p.ndim == 1 else p for p in network.parameters()])
    y = np.eye(10)[label].reshape(-1, 1)
    loss, _ = theirs.forward(x.reshape(-1, 1), y)
    theirs.backward(y)
    assert walk.loss == pytest.approx(loss, rel=1e-12)
    after = walk.apply().after
    mine = after.parameters()
    for got, want in zip(mine, [theirs.W1, theirs.b1, theirs.W2, theirs.b2, theirs.W3, theirs.b3]):
        np.testing.assert_allclose(got, want.reshape(got.shape), rtol=0, atol=1e-12)


def test_first_layer_pictures_are_delta_times_the_drawing() -> None:
    network = Network.initialised((1024, 6, 10), init="xavier", seed=1)
    x = (np.random.default_rng(2).random(1024) < 0.2).astype(np.float64)
    walk = explain_update(network, x, 1, 0.01)
    gradient, weights = walk.first_layer_pictures()
    assert gradient.shape == weights.shape == (6, 32, 32)
    for j in range(6):
        np.testing.assert_allclose(gradient[j], walk.delta(1)[j] * x.reshape(32, 32), rtol=1e-12)
        np.testing.assert_array_equal(weights[j], network.weights[0][j].reshape(32, 32))
    assert not np.any(gradient[:, x.reshape(32, 32) == 0])
    with pytest.raises(ValueError, match="not a square picture"):
        explain_update(*_small("sigmoid", "sse")[:2], 0, 0.1).first_layer_pictures()


def test_the_saturated_output_sentence_names_its_numbers() -> None:
    network, x, label = _small("sigmoid", "sse")
    network.biases[-1][0] = 12.0     # output 0 pinned near 1 although the target is 2
    walk = explain_update(network, x, label, 0.1)
    stage = next(st for st in walk.stages if st.kind == "delta" and st.layer == 3)
    a0 = walk.output[0]
    assert stage.reading.startswith(f"δ³₀ is tiny ({num(walk.delta(3)[0])}) because output 0 is saturated at "
                                    f"{num(a0)}: a(1 − a) = {num(a0 * (1 - a0))}")
    assert num(a0) != "1"             # a saturated output must not read as exactly 1
    wrong = next(st for st in walk.stages if st.kind == "output")
    assert wrong.reading.startswith("The network reads 0") and "the target is 2" in wrong.reading


def test_readings_count_saturated_and_dead_units() -> None:
    network, x, label = _small("relu", "ce")
    network.biases[0][:] = [-50, -50, 1, 1, 1]    # two units off whatever the input
    walk = explain_update(network, x, label, 0.1)
    stage = next(st for st in walk.stages if st.kind == "a" and st.layer == 1)
    assert stage.reading.startswith("2 of 5 units are off")
    picture = next(st for st in walk.stages if st.kind == "gradient" and st.layer == 1)
    assert picture.vectors[0].values[0] == 0 and picture.vectors[0].values[1] == 0


def test_wrong_inputs_are_refused_with_a_reason() -> None:
    network, x, _ = _small("sigmoid", "sse")
    with pytest.raises(ValueError, match="label must be a whole number from 0 to 2"):
        explain_update(network, x, 3, 0.1)
    with pytest.raises(ValueError, match="takes 7 inputs"):
        explain_update(network, np.zeros(8), 0, 0.1)
    with pytest.raises(ValueError, match="learning rate"):
        explain_update(network, x, 0, 0.0)


def test_numbers_and_rich_text() -> None:
    assert num(-0.4213) == "−0.421"
    assert num(0.99967) == "0.9997"
    assert num(2.1e-5) == "2.1e−5"
    assert to_html("δ²₁₁ = (W³ᵀ δ³) ⊙ σ′(z²)") == \
        "δ<sup>2</sup><sub>11</sub> = (W<sup>3T</sup> δ<sup>3</sup>) ⊙ σ′(z<sup>2</sup>)"
    assert to_html("w¹₈,ᵢ <x>") == "w<sup>1</sup><sub>8,i</sub> &lt;x&gt;"


def test_text_walkthrough_shows_every_stage() -> None:
    network, x, label = _small("sigmoid", "sse")
    walk = explain_update(network, x, label, 0.1)
    text = format_text(walk)
    for stage in walk.stages:
        assert stage.formula in text and stage.reading in text
    assert f"after {walk.apply().loss_after:.6g}" in text


def test_model_learning_rate_comes_from_the_model_info() -> None:
    assert model_learning_rate({"config": {"lr": 0.3}}) == 0.3
    assert model_learning_rate({"config": {"lr": "fast"}}) == 0.01
    assert model_learning_rate({}) == 0.01


# -- the command line -------------------------------------------------------------------------------

@pytest.fixture
def model_and_file(tmp_path: Path) -> tuple[Network, Path, Path, np.ndarray]:
    network = Network.initialised((1024, 8, 10), activation="tanh", loss="ce", init="xavier", seed=5)
    model = tmp_path / "model.npz"
    save_model(model, network, {"config": {"lr": 0.2}})
    image = (np.random.default_rng(5).random(1024) < 0.3).astype(np.uint8)
    digit = tmp_path / "7_0.txt"
    digit.write_text(format_digit_text(image))
    return network, model, digit, image.astype(np.float64)


def test_cli_json_is_the_issues_object(model_and_file, capsys: pytest.CaptureFixture[str]) -> None:
    network, model, digit, x = model_and_file
    assert main(["explain", str(model), str(digit), "--label", "7", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["label"] == 7 and data["lr"] == 0.2          # the model's own learning rate
    params = network.parameters()
    assert data["loss"] == pytest.approx(_oracle_loss(params, x, 7, "tanh", "ce"), rel=1e-12)
    zs, acts = _oracle_forward(params, x, "tanh", "ce")
    assert len(data["layers"]) == 2
    for l, layer in enumerate(data["layers"]):
        np.testing.assert_allclose(layer["z"], zs[l], rtol=1e-12)
        np.testing.assert_allclose(layer["a"], acts[l + 1], rtol=1e-12)
    # delta of the output layer is a - y for cross-entropy; the hidden one by finite differences of b1
    np.testing.assert_allclose(data["layers"][1]["delta"], acts[2] - np.eye(10)[7], rtol=1e-12, atol=1e-15)
    fd = _finite_difference(params, 1, x, 7, "tanh", "ce")
    np.testing.assert_allclose(data["layers"][0]["delta"], fd, rtol=1e-5, atol=1e-9)
    after = network.copy()
    grads = after.backward(x[None], np.eye(10)[[7]])
    Optimiser(0.2).step(after, grads.weights, grads.biases)
    assert data["loss_after"] == pytest.approx(_oracle_loss(after.parameters(), x, 7, "tanh", "ce"), rel=1e-12)
    assert data["loss_after"] < data["loss"]


def test_cli_lr_flag_and_text(model_and_file, capsys: pytest.CaptureFixture[str]) -> None:
    _, model, digit, _ = model_and_file
    assert main(["explain", str(model), str(digit), "--label", "7", "--lr", "0.5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lr"] == 0.5
    assert main(["explain", str(model), str(digit), "--label", "7"]) == 0
    text = capsys.readouterr().out
    assert "δ² = a² − y" in text and "z¹ = W¹x + b¹" in text and "loss before" in text


@pytest.mark.parametrize("args,message", [
    (["--label", "10"], "label must be a whole number from 0 to 9"),
    (["--label", "x"], "invalid int value"),
])
def test_cli_bad_label_exits_2(model_and_file, capsys, args: list[str], message: str) -> None:
    _, model, digit, _ = model_and_file
    assert main(["explain", str(model), str(digit), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_bad_files_exit_2(model_and_file, tmp_path: Path, capsys) -> None:
    _, model, digit, _ = model_and_file
    bad = tmp_path / "bad.txt"
    bad.write_text("0101\n")
    assert main(["explain", str(model), str(bad), "--label", "1"]) == 2
    assert str(bad) in capsys.readouterr().err
    assert main(["explain", str(model), str(tmp_path / "missing.txt"), "--label", "1"]) == 2
    assert "cannot read the file (No such file" in capsys.readouterr().err
    assert main(["explain", str(digit), str(digit), "--label", "1"]) == 2   # a text file as the model
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["explain", str(model), str(tmp_path), "--label", "1"]) == 2   # a folder
    assert "is a folder; expected a file" in capsys.readouterr().err
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"0" * 70_000)
    with pytest.raises(Exception, match="too large"):
        read_digit_file(huge)
