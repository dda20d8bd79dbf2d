"""A fully connected network written from scratch in NumPy, to be read next to the backprop formulas.

Formula -> function
-------------------
::

    z^l = W^l a^{l-1} + b^l,  a^l = f(z^l)           Network.forward
    delta^L = dC/dz^L  (output layer)                SquaredErrorLoss.delta / CrossEntropyLoss.delta
    delta^l = (W^{l+1}^T delta^{l+1}) * f'(z^l)      Network.backward  (f' is Activation.prime)
    dC/dW^l = delta^l (a^{l-1})^T,  dC/db^l = delta^l  Network.backward
    W <- W - lr dC/dW                                Optimiser.step  (studio/core/sgd.py)
    C, the loss of one sample                        SquaredErrorLoss.fn / CrossEntropyLoss.fn

These are the functions the ``readable`` engine runs (``sgd.sgd_epoch``); the ``fast`` engine's kernels
(``kernel_per_sample.py``, ``kernel_minibatch.py``) make the same updates and take the loss (and where
they can, the output delta and f') from the objects here.

What is here: hidden-layer activations (sigmoid, tanh, ReLU), the two output/loss pairs (sigmoid +
squared error, the tutorial's; softmax + cross-entropy), the weight initialisers, and the forward and
backward passes. What is not: the training loop (``training.py``), data sets (``data.py``) and files
(``model_file.py``).

Layout and notation
-------------------
Layer ``l`` (1-based as in the formulas, 0-based in the lists) has weights ``W^l`` of shape
``(n_out, n_in)`` and biases ``b^l`` of shape ``(n_out,)``, exactly as the tutorial's column-vector
maths ``z = W a + b``. Data is batch first: a batch ``X`` has shape ``(n, n_in)``, one sample per row,
so in code ``z = a @ W.T + b`` is the same formula applied to every row at once.

For one sample the backward pass is the tutorial's::

    delta^L = dC/da^L * f'(z^L)                 (output layer)
    delta^l = (W^{l+1}^T delta^{l+1}) * f'(z^l)  (the others, l = L-1 .. 1)
    dC/dW^l = delta^l (a^{l-1})^T                dC/db^l = delta^l

With a batch of ``n`` rows the code computes the same ``delta`` row by row and averages the gradients
over the batch, so batch size 1 is exactly the tutorial's per-sample update.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, get_args

import numpy as np

ActivationName = Literal["sigmoid", "tanh", "relu"]
LossName = Literal["sse", "ce"]
OutputName = Literal["sigmoid", "softmax"]
InitName = Literal["randn", "rand", "zeros", "ones", "uniform", "xavier", "he"]
BiasInitName = Literal["randn", "zeros"]

ACTIVATIONS: tuple[str, ...] = get_args(ActivationName)
OUTPUTS: tuple[str, ...] = get_args(OutputName)
LOSSES: tuple[str, ...] = get_args(LossName)
INITS: tuple[str, ...] = get_args(InitName)
BIAS_INITS: tuple[str, ...] = get_args(BiasInitName)

#: The output layer that goes with each loss: the tutorial's sigmoid with squared error, softmax with
#: cross-entropy (their product makes the output delta the simple ``a - y``).
OUTPUT_FOR_LOSS: dict[str, OutputName] = {"sse": "sigmoid", "ce": "softmax"}


# --------------------------------------------------------------------------------------------------
# Activations: f(z) and f'(z) written in terms of the cached output a = f(z), which is cheaper and is
# how the tutorial's sigmoid(x, diff=True) reads once a = sigmoid(z) is known: f'(z) = a (1 - a).
# --------------------------------------------------------------------------------------------------

def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + e^-z), computed without overflow for any z.

    ``exp(-|z|)`` is at most 1, so neither branch can overflow; ``np.where`` then picks
    1/(1+e) for z >= 0 and e/(1+e) = 1/(1+e^{-z}) for z < 0.
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime_from_output(a: np.ndarray) -> np.ndarray:
    """sigma'(z) = sigma(z) (1 - sigma(z)), from a = sigma(z)."""
    return a * (1.0 - a)


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent (NumPy's is already stable)."""
    return np.tanh(z)


def tanh_prime_from_output(a: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)^2, from a = tanh(z)."""
    return 1.0 - a * a


def relu(z: np.ndarray) -> np.ndarray:
    """max(0, z)."""
    return np.maximum(z, 0.0)


def relu_prime_from_output(a: np.ndarray) -> np.ndarray:
    """1 where the unit fired (a > 0), else 0. At z = 0 exactly we take the derivative as 0."""
    return (a > 0.0).astype(a.dtype)


@dataclass(frozen=True)
class Activation:
    """An activation function ``fn`` with its derivative ``prime`` expressed through ``a = fn(z)``."""

    name: ActivationName
    fn: Callable[[np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray], np.ndarray]


ACTIVATION_DESCRIPTIONS: dict[str, str] = {
    "sigmoid": "1 / (1 + e^-z): the tutorial's. Smooth, outputs 0..1; its slope is at most 0.25 and "
               "near 0 when saturated, so deep or badly initialised networks learn slowly.",
    "tanh": "tanh(z): like sigmoid but centred on 0 (outputs -1..1), which usually learns faster.",
    "relu": "max(0, z): cheap, does not saturate for z > 0; pair it with He initialisation. Units "
            "that only ever see z < 0 stop learning ('dead').",
}

ACTIVATION_FUNCTIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_prime_from_output),
    "tanh": Activation("tanh", tanh, tanh_prime_from_output),
    "relu": Activation("relu", relu, relu_prime_from_output),
}


def _minus_row_max(z: np.ndarray) -> np.ndarray:
    """z minus its row maximum: every entry <= 0. A spread wider than the float range gives -inf,
    which is the right answer (exp(-inf) = 0), so that overflow is not worth a warning."""
    with np.errstate(over="ignore"):
        return z - z.max(axis=1, keepdims=True)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``z`` (n, k); the row maximum is subtracted first so exp never overflows."""
    shifted = _minus_row_max(z)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log of softmax, (n, k), finite for any finite z."""
    shifted = _minus_row_max(z)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# --------------------------------------------------------------------------------------------------
# Losses, per sample and summed over the output units. Each gives ``fn`` (one number per row) and
# ``delta``, the output-layer error dC/dz^L, which is where the two losses differ in an instructive way.
# --------------------------------------------------------------------------------------------------

class SquaredErrorLoss:
    """C = 1/2 * sum_k (a_k - y_k)^2 with a sigmoid output layer (the tutorial's choice).

    delta^L = (a - y) * sigma'(z^L) = (a - y) * a (1 - a). The factor a (1 - a) is tiny when an output
    unit is saturated near 0 or 1, even when it is confidently wrong: that is why this pairing can
    learn slowly.
    """

    name = "sse"
    output = "sigmoid"

    @staticmethod
    def output_fn(z: np.ndarray) -> np.ndarray:
        return sigmoid(z)

    @staticmethod
    def fn(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-row loss, shape (n,)."""
        return 0.5 * np.sum((a - y) ** 2, axis=1)

    @staticmethod
    def delta(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """dC/dz^L, shape (n, k)."""
        return (a - y) * sigmoid_prime_from_output(a)


class CrossEntropyLoss:
    """C = -sum_k y_k log softmax(z)_k with a softmax output layer.

    delta^L = a - y: the softmax Jacobian cancels the 1/a of the log, so no saturating factor remains.
    The loss is computed from log-softmax so it is finite even when a probability underflows to 0.
    """

    name = "ce"
    output = "softmax"

    @staticmethod
    def output_fn(z: np.ndarray) -> np.ndarray:
        return softmax(z)

    @staticmethod
    def fn(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-row loss, shape (n,)."""
        return -np.sum(y * log_softmax(z), axis=1)

    @staticmethod
    def delta(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """dC/dz^L, shape (n, k)."""
        return a - y


LOSS_FUNCTIONS: dict[str, type[SquaredErrorLoss] | type[CrossEntropyLoss]] = {
    "sse": SquaredErrorLoss,
    "ce": CrossEntropyLoss,
}

#: Short names of the output layer + loss pairs, for menus.
LOSS_NAMES: dict[str, str] = {"sse": "sigmoid + squared error", "ce": "softmax + cross-entropy"}

LOSS_DESCRIPTIONS: dict[str, str] = {
    "sse": "The tutorial's: sigmoid outputs and C = 1/2 sum (a - y)^2. The output error carries a "
           "factor a(1 - a), tiny when an output is confidently wrong, so learning can stall.",
    "ce": "Softmax outputs (they sum to 1) and cross-entropy C = -log a_correct. The output error is "
          "simply a - y: a confidently wrong output learns fastest. Usually trains much faster.",
}


# --------------------------------------------------------------------------------------------------
# Initialisers
# --------------------------------------------------------------------------------------------------

INIT_DESCRIPTIONS: dict[str, str] = {
    "randn": "Standard normal N(0, 1), the tutorial's choice. With 1024 inputs the first-layer sums are "
             "large, so many sigmoid units start saturated; it still learns, slowly at first.",
    "rand": "Uniform on [0, 1): every weight positive, so every first-layer sum is large and positive "
            "and all units start saturated at 1. Expect a long plateau.",
    "zeros": "All weights 0. With random biases it still learns, slowly, as the biases make the units "
             "differ (96.5% training accuracy by epoch 200); with zero biases too every unit of a layer "
             "stays identical and it stays at chance, 10%.",
    "ones": "All weights 1: with 1024 inputs every first-layer sigmoid is pinned at 1, its slope is 0, "
            "and the network does not learn (the article's network: about 10% training accuracy, "
            "chance, after 100 epochs).",
    "uniform": "Uniform on [-1, 1): like randn but bounded; first-layer sums are still large.",
    "xavier": "Glorot: N(0, 2 / (fan_in + fan_out)). Keeps sums near unit size, so sigmoid and tanh "
              "units start in their sensitive range and learning starts at once.",
    "he": "He: N(0, 2 / fan_in). Made for ReLU, keeping the signal's size from layer to layer.",
}


BIAS_INIT_DESCRIPTIONS: dict[str, str] = {
    "randn": "Standard normal N(0, 1), the tutorial's choice. Random biases also make units differ when "
             "their weights start equal.",
    "zeros": "All biases 0, the usual choice with Xavier or He weights. With equal weights too (zeros, "
             "ones) every unit of a layer stays the same as the others.",
}


def init_weights(name: InitName, n_out: int, n_in: int, rng: np.random.Generator,
                 scale: float = 1.0) -> np.ndarray:
    """Initial weight matrix of shape (n_out, n_in) drawn by scheme ``name``, times ``scale``."""
    shape = (n_out, n_in)
    if name == "randn":
        w = rng.standard_normal(shape)
    elif name == "rand":
        w = rng.random(shape)
    elif name == "zeros":
        w = np.zeros(shape)
    elif name == "ones":
        w = np.ones(shape)
    elif name == "uniform":
        w = rng.uniform(-1.0, 1.0, shape)
    elif name == "xavier":
        w = rng.standard_normal(shape) * np.sqrt(2.0 / (n_in + n_out))
    elif name == "he":
        w = rng.standard_normal(shape) * np.sqrt(2.0 / n_in)
    else:
        raise ValueError(f"unknown initialiser {name!r}; choose one of {', '.join(INITS)}")
    return w * float(scale)


def init_biases(name: BiasInitName, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """Initial bias vector of shape (n_out,): ``randn`` (the tutorial's) or ``zeros``."""
    if name == "randn":
        return rng.standard_normal(n_out)
    if name == "zeros":
        return np.zeros(n_out)
    raise ValueError(f"unknown bias initialiser {name!r}; choose one of {', '.join(BIAS_INITS)}")


# --------------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ForwardPass:
    """Everything the backward pass needs from a forward pass over a batch of n rows.

    ``zs[l]`` are the weighted inputs of layer l+1, shape (n, sizes[l+1]); ``activations[0]`` is the
    input X (n, sizes[0]) and ``activations[l+1] = f(zs[l])``. The last activation is the output.
    """

    zs: list[np.ndarray]
    activations: list[np.ndarray]

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


@dataclass(frozen=True)
class Gradients:
    """dC/dW and dC/db for every layer, averaged over the batch, with the mean loss of the batch.

    ``weights[l]`` has the shape of W^{l+1}, (n_out, n_in); ``biases[l]`` that of b^{l+1}, (n_out,).
    ``deltas[l]`` is dC/dz of layer l+1 per sample, (n, n_out), kept for the studio's views.
    ``output`` is the network's output for the batch before any update, (n, sizes[-1]), and ``loss``
    the mean loss over the batch.
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    deltas: list[np.ndarray]
    output: np.ndarray
    loss: float


class Network:
    """A fully connected feed-forward network.

    ``sizes`` lists the units per layer, input first (the tutorial's is (1024, 16, 16, 10)).
    ``activation`` is used in every hidden layer; the output layer is fixed by ``loss``
    (``sse`` -> sigmoid outputs, ``ce`` -> softmax outputs).
    ``weights[l]`` has shape (sizes[l+1], sizes[l]); ``biases[l]`` has shape (sizes[l+1],).
    """

    def __init__(self, sizes: tuple[int, ...] | list[int], weights: list[np.ndarray],
                 biases: list[np.ndarray], activation: ActivationName = "sigmoid",
                 loss: LossName = "sse") -> None:
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"a network needs at least two layers of one or more units, got {sizes}")
        if activation not in ACTIVATION_FUNCTIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if loss not in LOSS_FUNCTIONS:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if len(weights) != len(sizes) - 1 or len(biases) != len(sizes) - 1:
            raise ValueError(f"{len(sizes) - 1} layers need {len(sizes) - 1} weight matrices and bias "
                             f"vectors, got {len(weights)} and {len(biases)}")
        self.sizes = sizes
        self.activation = activation
        self.loss = loss
        self.weights = [np.array(w, dtype=np.float64) for w in weights]
        self.biases = [np.array(b, dtype=np.float64).reshape(-1) for b in biases]
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            expected = (sizes[l + 1], sizes[l])
            if w.shape != expected or b.shape != (sizes[l + 1],):
                raise ValueError(f"layer {l + 1}: weights must have shape {expected} and biases "
                                 f"({sizes[l + 1]},), got {w.shape} and {b.shape}")

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def initialised(cls, sizes: tuple[int, ...] | list[int], *, activation: ActivationName = "sigmoid",
                    loss: LossName = "sse", init: InitName = "randn", init_scale: float = 1.0,
                    bias_init: BiasInitName = "randn", seed: int | np.random.Generator = 0) -> Network:
        """A new network with weights from initialiser ``init`` and biases from ``bias_init``.

        Draw order (so that runs are reproducible and match the tutorial's baseline):
        W1, b1, W2, b2, ... from one ``np.random.default_rng(seed)``.
        """
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        weights, biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            weights.append(init_weights(init, n_out, n_in, rng, init_scale))
            biases.append(init_biases(bias_init, n_out, rng))
        return cls(sizes, weights, biases, activation=activation, loss=loss)

    def copy(self) -> Network:
        """A deep copy: changing it never changes this network."""
        return Network(self.sizes, self.weights, self.biases, self.activation, self.loss)

    # -- properties --------------------------------------------------------------------------------

    @property
    def output(self) -> OutputName:
        """The output layer's function: ``sigmoid`` for squared error, ``softmax`` for cross-entropy."""
        return OUTPUT_FOR_LOSS[self.loss]

    @property
    def num_layers(self) -> int:
        """Number of weight layers (the tutorial's network has 3)."""
        return len(self.weights)

    def parameters(self) -> list[np.ndarray]:
        """All parameter arrays in the order W1, b1, W2, b2, ... (views, not copies)."""
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def is_finite(self) -> bool:
        return all(np.isfinite(p).all() for p in self.parameters())

    def first_non_finite_layer(self) -> int | None:
        """1-based index of the first layer whose weights or biases hold NaN or inf, else None."""
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                return l + 1
        return None

    def __repr__(self) -> str:
        return (f"Network(sizes={self.sizes}, activation={self.activation!r}, loss={self.loss!r}, "
                f"output={self.output!r})")

    # -- forward and backward ----------------------------------------------------------------------

    def forward(self, x: np.ndarray) -> ForwardPass:
        """Run a batch ``x`` of shape (n, sizes[0]) through the network, keeping every z and a."""
        hidden = ACTIVATION_FUNCTIONS[self.activation]
        loss = LOSS_FUNCTIONS[self.loss]
        a = np.asarray(x, dtype=np.float64)
        zs, activations = [], [a]
        last = self.num_layers - 1
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ w.T + b                          # z = W a + b, for every row of the batch
            a = loss.output_fn(z) if l == last else hidden.fn(z)
            zs.append(z)
            activations.append(a)
        return ForwardPass(zs, activations)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Output activations for a batch, (n, sizes[-1]). Softmax outputs sum to 1; sigmoid ones need not."""
        return self.forward(np.atleast_2d(x)).output

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class per row, (n,) int."""
        return np.argmax(self.predict_proba(x), axis=1)

    def loss_per_sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The loss of each row of ``x`` against one-hot targets ``y`` (n, k), shape (n,)."""
        fp = self.forward(x)
        return LOSS_FUNCTIONS[self.loss].fn(fp.zs[-1], fp.output, y)

    def backward(self, x: np.ndarray, y: np.ndarray) -> Gradients:
        """Backpropagation for a batch: x (n, sizes[0]), one-hot targets y (n, sizes[-1]).

        Returns the gradients of the mean loss over the batch (for n = 1, the tutorial's per-sample
        gradients) and that mean loss.
        """
        hidden = ACTIVATION_FUNCTIONS[self.activation]
        loss = LOSS_FUNCTIONS[self.loss]
        fp = self.forward(x)
        n = fp.activations[0].shape[0]
        L = self.num_layers
        deltas: list[np.ndarray] = [np.empty(0)] * L
        # Output layer: delta^L = dC/dz^L, which the loss object knows (it differs between sse and ce).
        deltas[L - 1] = loss.delta(fp.zs[-1], fp.output, y)
        # Hidden layers, backwards: delta^l = (W^{l+1}^T delta^{l+1}) * f'(z^l). With rows as samples
        # W^T delta becomes delta @ W. Code index l holds formula layer l+1.
        for l in range(L - 2, -1, -1):
            deltas[l] = (deltas[l + 1] @ self.weights[l + 1]) * hidden.prime(fp.activations[l + 1])
        # dC/dW^l = delta^l (a^{l-1})^T summed over rows, then averaged: delta.T @ a / n.
        grad_w = [deltas[l].T @ fp.activations[l] / n for l in range(L)]
        grad_b = [deltas[l].sum(axis=0) / n for l in range(L)]
        mean_loss = float(np.mean(loss.fn(fp.zs[-1], fp.output, y)))
        return Gradients(grad_w, grad_b, deltas, fp.output, mean_loss)


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Targets y of shape (n, num_classes) with y[i, labels[i]] = 1."""
    labels = np.asarray(labels, dtype=np.int64)
    y = np.zeros((labels.shape[0], num_classes))
    y[np.arange(labels.shape[0]), labels] = 1.0
    return y
