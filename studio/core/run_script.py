"""The code of a run: a standalone Python script that trains exactly what a ``TrainingConfig`` trains.

``script_for(config)`` returns the text of a script that uses only NumPy and the standard library, in
the tutorial's plain style: load the digit files, build the network, then the training loop with the
forward pass, the backward pass and the update written out, one printed line per epoch. It is written
for exactly the given settings (sizes, activation, loss, initialiser and its scale, bias initialiser,
learning rate, batch size, momentum, weight decay, sample order and seed): only the branches those
settings need appear in it, so a learner reads their own network, not a configurable framework.

Its weights equal the studio's own ``train()`` with the same settings (same seeded draws W1, b1, W2,
b2, ... as ``Network.initialised``, same sample orders as ``training.epoch_order``, same formulas as
``Network.backward`` and ``Optimiser.step``); the tests hold them to 1e-9. Random shifts, augmentations
and training against fooling are left out (the script says so in a comment when the settings ask for them). Running it::

    python run.py --data PATH --epochs N --save OUT.npz

trains and writes a model file in the studio's format (``model_file.py``): W1..WL, b1..bL and a 0-d
unicode ``meta`` JSON.

Left out: Qt, files (the caller writes the text), data formats other than the tutorial's folders.
"""
from __future__ import annotations

import json

from studio.core.training import TrainingConfig

_WEIGHT_DRAWS: dict[str, str] = {
    "randn": "rng.standard_normal((n_out, n_in))",
    "rand": "rng.random((n_out, n_in))",
    "zeros": "np.zeros((n_out, n_in))",
    "ones": "np.ones((n_out, n_in))",
    "uniform": "rng.uniform(-1.0, 1.0, (n_out, n_in))",
    "xavier": "rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / (n_in + n_out))",
    "he": "rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)",
}

_WEIGHT_COMMENTS: dict[str, str] = {
    "randn": "standard normal N(0, 1), the tutorial's choice",
    "rand": "uniform on [0, 1): every weight positive",
    "zeros": "all zeros (no random draw)",
    "ones": "all ones (no random draw)",
    "uniform": "uniform on [-1, 1)",
    "xavier": "Glorot/Xavier: N(0, 2 / (fan_in + fan_out))",
    "he": "He: N(0, 2 / fan_in)",
}

_BIAS_DRAWS: dict[str, str] = {
    "randn": "rng.standard_normal(n_out)",
    "zeros": "np.zeros(n_out)",
}

_HIDDEN_FUNCTIONS: dict[str, str] = {
    "sigmoid": '''\
def hidden_fn(z):
    """The sigmoid 1 / (1 + e^-z), written so that exp never overflows (exp(-|z|) <= 1)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def hidden_prime(a):
    """sigma'(z) = sigma(z) (1 - sigma(z)), from the output a = sigma(z)."""
    return a * (1.0 - a)
''',
    "tanh": '''\
def hidden_fn(z):
    """The hyperbolic tangent."""
    return np.tanh(z)


def hidden_prime(a):
    """tanh'(z) = 1 - tanh(z)^2, from the output a = tanh(z)."""
    return 1.0 - a * a
''',
    "relu": '''\
def hidden_fn(z):
    """ReLU: max(0, z)."""
    return np.maximum(z, 0.0)


def hidden_prime(a):
    """1 where the unit fired (a > 0), else 0 (at z = 0 exactly the slope is taken as 0)."""
    return (a > 0.0).astype(a.dtype)
''',
}

_OUTPUT_FUNCTIONS: dict[str, str] = {
    "sse": '''\
def sigmoid(z):
    """The sigmoid 1 / (1 + e^-z), written so that exp never overflows (exp(-|z|) <= 1)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def output_fn(z):
    """Output layer: sigmoid units (the tutorial's), one per digit."""
    return sigmoid(z)


def loss_per_sample(z, a, y):
    """Squared error C = 1/2 sum_k (a_k - y_k)^2, one number per row."""
    return 0.5 * np.sum((a - y) ** 2, axis=1)


def output_delta(z, a, y):
    """dC/dz of the output layer: (a - y) * sigma'(z) = (a - y) * a (1 - a).
    The factor a (1 - a) is tiny for a saturated output, even a confidently wrong one."""
    return (a - y) * (a * (1.0 - a))
''',
    "ce": '''\
def output_fn(z):
    """Output layer: softmax, so the ten outputs are positive and sum to 1.
    The row maximum is subtracted first so exp never overflows."""
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def loss_per_sample(z, a, y):
    """Cross-entropy C = -sum_k y_k log a_k, from log-softmax so it stays finite; one number per row."""
    shifted = z - z.max(axis=1, keepdims=True)
    log_a = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.sum(y * log_a, axis=1)


def output_delta(z, a, y):
    """dC/dz of the output layer: a - y (the softmax Jacobian cancels the 1/a of the log)."""
    return a - y
''',
}


def _order_code(order: str) -> tuple[str, str]:
    """(code before the epoch loop, code at the start of each epoch) for sample order ``order``."""
    if order == "dataset":
        return ("", "    order = np.arange(n)  # the data set's own order: label, then sequence number\n")
    if order == "permuted":
        return ("# One random order, drawn once from the seed and kept for every epoch (the tutorial's files came\n"
                "# in the one fixed order os.listdir gave them).\n"
                "fixed_order = np.random.default_rng(SEED).permutation(n)\n\n",
                "    order = fixed_order\n")
    return ("", "    # A new random order every epoch, from its own stream (seed, 1, epoch).\n"
                "    order = np.random.default_rng([SEED, 1, epoch]).permutation(n)\n")


def _update_code(config: TrainingConfig) -> tuple[str, str]:
    """(code before the epoch loop, the update inside the batch loop) for the optimiser settings."""
    if config.momentum == 0.0 and config.weight_decay == 0.0:
        return ("", """\
        # Update: plain gradient descent, W <- W - lr dC/dW, b <- b - lr dC/db.
        for l in range(L):
            weights[l] -= lr * grad_w[l]
            biases[l] -= lr * grad_b[l]
""")
    decay = ("grad_w[l] + WEIGHT_DECAY * weights[l]" if config.weight_decay else "grad_w[l]")
    explain = []
    if config.weight_decay:
        explain.append("        # L2 weight decay adds lambda W to each weight gradient (biases are not decayed).")
    explain.append("        # Momentum: v <- mu v - lr g; p <- p + v, for every weight matrix and bias vector.")
    return ("# Velocities for momentum, one per weight matrix and bias vector, starting at zero.\n"
            "velocity_w = [np.zeros_like(w) for w in weights]\n"
            "velocity_b = [np.zeros_like(b) for b in biases]\n\n",
            "\n".join(explain) + f"""
        for l in range(L):
            g = {decay}
            velocity_w[l] *= MOMENTUM
            velocity_w[l] -= lr * g
            weights[l] += velocity_w[l]
            velocity_b[l] *= MOMENTUM
            velocity_b[l] -= lr * grad_b[l]
            biases[l] += velocity_b[l]
""")


def _schedule_code(config: TrainingConfig) -> str:
    """The line(s) at the top of the epoch loop that set ``lr``, this epoch's learning rate
    (``lr_schedule.py``: the schedule decays over the script's ``--epochs``, as the studio's over max epochs)."""
    if config.lr_schedule == "linear":
        return ("    # Linear schedule: lr_e = LEARNING_RATE (1 - (e - 1) / E) over the run's E epochs.\n"
                "    lr = LEARNING_RATE * (1 - (epoch - 1) / args.epochs)\n")
    if config.lr_schedule == "cosine":
        return ("    # Cosine schedule: lr_e = LEARNING_RATE (1 + cos(pi (e - 1) / E)) / 2 over the run's E epochs.\n"
                "    lr = LEARNING_RATE * (1 + math.cos(math.pi * (epoch - 1) / args.epochs)) / 2\n")
    return "    lr = LEARNING_RATE  # the same learning rate in every epoch\n"


def script_settings(config: TrainingConfig) -> dict:
    """The settings the script trains with, as recorded in its model files: ``config`` without the
    random shifts, augmentations and fooling copies (which the script leaves out) and with its own epoch
    count filled in later."""
    settings = config.to_dict()
    settings["shift"] = 0
    settings["augment"] = []
    settings["against_fooling"] = 0
    return settings


def script_for(config: TrainingConfig, inputs: int = 1024, classes: int = 10) -> str:
    """The text of a standalone training script for ``config`` (validated first; ``ValueError``)."""
    config.validate()
    sizes = config.sizes(inputs, classes)
    hidden_name = config.activation
    order_setup, order_epoch = _order_code(config.order)
    update_setup, update = _update_code(config)
    default_epochs = config.max_epochs if config.max_epochs is not None else 100
    shift_note = ""
    if config.shift or config.augment:
        left_out = ", ".join(([f"random shifts of up to {config.shift} pixels"] if config.shift else [])
                             + list(config.augment))
        shift_note = (f"# Left out: the studio's augmentations ({left_out}, drawn each epoch). This script\n"
                      f"# trains on the images as they are, so its run differs from the studio's with them on.\n")
    else:
        shift_note = ("# Left out: random shifts and other augmentations (none are on in these settings).\n")
    if config.against_fooling:
        shift_note += (f"# Left out: training against fooling ({config.against_fooling} flipped copies a batch that fool\n"
                       f"# the network). This script trains on the data set's images only.\n")
    loss_words = ("squared error with sigmoid outputs" if config.loss == "sse"
                  else "cross-entropy with softmax outputs")
    settings_json = json.dumps(script_settings(config), sort_keys=True)
    header = f'''\
#!/usr/bin/env python3
"""Train a {"-".join(str(s) for s in sizes)} network on 32x32 handwritten digits, as Backprop Studio does.

Written by Backprop Studio for these settings:
{hidden_name} hidden units, {loss_words}, {config.init} weights (scale {config.init_scale:g}), {config.bias_init} biases,
learning rate {config.lr:g} ({config.lr_schedule}), batch size {config.batch_size}, momentum {config.momentum:g}, weight decay {config.weight_decay:g},
sample order "{config.order}", seed {config.seed}. It uses only NumPy and the standard library.

    python run.py --data PATH --epochs N --save OUT.npz

PATH is a folder holding trainingDigits/ and testDigits/ (testDigits/ may be missing). A digit file is
LABEL_SEQ.txt (3_17.txt is sample 17 of digit 3): 32 lines of 32 '0'/'1' characters. Another kind of
data set can be written in this layout with `python -m studio export --data SOURCE --out FOLDER`.
OUT.npz is a model file Backprop Studio opens (File > Load model...).
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np

# ---- The settings -----------------------------------------------------------------------------------
SIZES = {tuple(sizes)!r}  # units per layer, input first
LEARNING_RATE = {config.lr!r}
BATCH_SIZE = {config.batch_size!r}
MOMENTUM = {float(config.momentum)!r}
WEIGHT_DECAY = {float(config.weight_decay)!r}
INIT_SCALE = {float(config.init_scale)!r}
SEED = {config.seed!r}
{shift_note}
# What a saved model file records about how it was trained (Backprop Studio restores these settings).
SETTINGS = json.loads({settings_json!r})


# ---- The data ---------------------------------------------------------------------------------------
DIGIT_NAME = re.compile(r"([0-9])_([0-9]+)\\.txt", re.IGNORECASE)


def load_digits(folder):
    """Every LABEL_SEQ.txt file in folder -> images (n, 1024) of 0.0/1.0 and labels (n,).

    Samples are sorted by (label, sequence number) as numbers, so 1_10.txt comes after 1_9.txt:
    the studio reads them in the same order, which is what makes the two runs equal.
    """
    keyed = []
    for name in os.listdir(folder):
        match = DIGIT_NAME.fullmatch(name)
        if match and not name.startswith("."):
            keyed.append(((int(match[1]), int(match[2])), name))
    keyed.sort()
    images = np.zeros((len(keyed), 1024))
    labels = np.zeros(len(keyed), dtype=np.int64)
    for i, ((label, _), name) in enumerate(keyed):
        with open(os.path.join(folder, name), encoding="utf-8-sig") as file:
            lines = file.read().replace("\\r\\n", "\\n").split("\\n")[:32]
        if len(lines) != 32 or any(len(line) != 32 or set(line) - set("01") for line in lines):
            sys.exit(f"{{os.path.join(folder, name)}}: expected 32 lines of 32 '0'/'1' characters")
        images[i] = [int(c) for line in lines for c in line]
        labels[i] = label
    return images, labels


def one_hot(labels, classes=10):
    """Targets y (n, classes) with y[i, labels[i]] = 1."""
    y = np.zeros((len(labels), classes))
    y[np.arange(len(labels)), labels] = 1.0
    return y


# ---- The network's functions ------------------------------------------------------------------------
'''
    functions = _HIDDEN_FUNCTIONS[hidden_name] + "\n\n" + _OUTPUT_FUNCTIONS[config.loss]
    body = f'''

def forward(weights, biases, x):
    """x (n, 1024) -> the weighted inputs zs and activations of every layer (activations[0] is x).
    Rows are samples, so z = W a + b reads z = a @ W.T + b for every row at once."""
    zs, activations = [], [x]
    a = x
    for l in range(len(weights)):
        z = a @ weights[l].T + biases[l]
        a = output_fn(z) if l == len(weights) - 1 else hidden_fn(z)
        zs.append(z)
        activations.append(a)
    return zs, activations


def save_model(path, weights, biases, info):
    """Write a Backprop Studio model file: W1..WL, b1..bL and a JSON 'meta' (a 0-d unicode array).
    Written to a temporary file first, then renamed, so a failed save leaves no half-written file."""
    meta = {{"format": "backprop-studio-model", "version": 1, "sizes": list(SIZES),
            "activation": {hidden_name!r}, "output": {("sigmoid" if config.loss == "sse" else "softmax")!r},
            "loss": {config.loss!r}, "info": info}}
    arrays = {{}}
    for l in range(len(weights)):
        arrays[f"W{{l + 1}}"] = weights[l]
        arrays[f"b{{l + 1}}"] = biases[l]
    arrays["meta"] = np.array(json.dumps(meta))
    temporary = path + ".partial"
    with open(temporary, "wb") as file:  # an open file, so np.savez adds no ".npz" to the name
        np.savez(file, **arrays)
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with trainingDigits/ and testDigits/")
    parser.add_argument("--epochs", type=int, default={default_epochs!r}, help="number of epochs")
    parser.add_argument("--save", help="write the trained model to this .npz file")
    args = parser.parse_args()

    train_x, train_labels = load_digits(os.path.join(args.data, "trainingDigits"))
    train_y = one_hot(train_labels)
    test_folder = os.path.join(args.data, "testDigits")
    test_x, test_labels = load_digits(test_folder) if os.path.isdir(test_folder) else (None, None)
    n = len(train_labels)
    print(f"{{n}} training samples, {{0 if test_labels is None else len(test_labels)}} test samples")

    # ---- Build the network: W1, b1, W2, b2, ... drawn in this order from one seeded generator ----------
    rng = np.random.default_rng(SEED)
    weights, biases = [], []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        weights.append({_WEIGHT_DRAWS[config.init]} * INIT_SCALE)  # {_WEIGHT_COMMENTS[config.init]}
        biases.append({_BIAS_DRAWS[config.bias_init]})
    L = len(weights)  # weight layers; code index l holds the formulas' layer l + 1

{_indent(order_setup + update_setup, 4)}    # ---- Train -----------------------------------------------------------------------------------------
    hits, test_accuracy = 0, None
    for epoch in range(1, args.epochs + 1):
{_indent(_schedule_code(config) + order_epoch, 4)}        loss_sum, hits = 0.0, 0
        for start in range(0, n, BATCH_SIZE):
            rows = order[start:start + BATCH_SIZE]
            x, y = train_x[rows], train_y[rows]

            # Forward pass.
            zs, activations = forward(weights, biases, x)
            output = activations[-1]
            loss_sum += float(np.mean(loss_per_sample(zs[-1], output, y))) * len(rows)
            hits += int(np.count_nonzero(np.argmax(output, axis=1) == train_labels[rows]))

            # Backward pass: delta^L = dC/dz^L at the output, then delta^l = (W^(l+1)^T delta^(l+1)) * f'(z^l).
            # With rows as samples, W^T delta reads delta @ W.
            deltas = [None] * L
            deltas[L - 1] = output_delta(zs[-1], output, y)
            for l in range(L - 2, -1, -1):
                deltas[l] = (deltas[l + 1] @ weights[l + 1]) * hidden_prime(activations[l + 1])
            # dC/dW^l = delta^l (a^(l-1))^T and dC/db^l = delta^l, averaged over the batch's rows.
            grad_w = [deltas[l].T @ activations[l] / len(rows) for l in range(L)]
            grad_b = [deltas[l].sum(axis=0) / len(rows) for l in range(L)]

{_indent(update, 4)}
        if not np.isfinite(loss_sum):
            sys.exit(f"training diverged in epoch {{epoch}}: try a smaller learning rate")
        line = f"epoch {{epoch:5d}}  loss {{loss_sum / n:.6f}}  train {{hits / n:.4f}}"
        test_accuracy = None
        if test_x is not None:
            test_output = forward(weights, biases, test_x)[1][-1]
            test_accuracy = float(np.mean(np.argmax(test_output, axis=1) == test_labels))
            line += f"  test {{test_accuracy:.4f}}"
        print(line, flush=True)

    if args.save:
        settings = dict(SETTINGS, max_epochs=max(args.epochs, 1))
        save_model(args.save, weights, biases,
                   {{"config": settings, "epochs": args.epochs, "data": os.path.basename(os.path.abspath(args.data)),
                    "train_accuracy": hits / n if args.epochs else None, "test_accuracy": test_accuracy,
                    "written_by": os.path.basename(__file__)}})
        print(f"saved {{args.save}}")


if __name__ == "__main__":
    main()
'''
    return header + functions + body


def _indent(code: str, spaces: int) -> str:
    """``code`` with every non-empty line indented by ``spaces``."""
    pad = " " * spaces
    return "".join(pad + line if line.strip() else line for line in code.splitlines(keepends=True))
