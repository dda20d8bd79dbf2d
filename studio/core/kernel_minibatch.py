"""The fast mini-batch kernel: ``sgd.sgd_epoch``'s updates for any batch size, momentum and weight decay.

``sgd.sgd_epoch`` (``Network.backward`` then ``Optimiser.step``) is the version to read; this kernel
makes the same updates (``Optimiser.step``'s rule, the same ``optimiser.velocities``) into
preallocated buffers, updating the network's own arrays in place, and the tests hold it to
``sgd_epoch`` (to about 1e-12). It scales the output delta by ``lr / batch`` once, so every gradient
computed from it already is the step. Its time goes mostly to the first layer's two matrix products
(forward, and the gradient); fewer NumPy calls per batch were measured to make no difference.

From ``network.py`` it takes the output delta (``LOSS_FUNCTIONS[loss].delta``), the hidden layers'
derivatives (``ACTIVATION_FUNCTIONS[...].prime``) and, through ``sgd.tally_outputs``, the loss
(``LOSS_FUNCTIONS[loss].fn``): editing one of those changes both engines. Inlined: the forward
activations, written into preallocated buffers (the sigmoid as 1 / (1 + exp(-z)) with overflow to inf
giving 0, which is the same value as ``network.sigmoid``'s two-branch form to the last bit or two).

``MiniBatchSGD`` keeps its buffers from one epoch to the next (``training.choose_epoch_function``
makes one per run); ``minibatch_epoch`` builds a fresh one per call. The network is exactly as
trained so far whenever ``control.checkpoint()`` is called (before every batch).

Imports: ``network`` and ``sgd`` only, never ``training`` (which imports this module).
"""
from __future__ import annotations

import numpy as np

from studio.core.network import ACTIVATION_FUNCTIONS, LOSS_FUNCTIONS, Network
from studio.core.sgd import EpochControl, EpochTally, Optimiser, tally_outputs


class _MiniBatchBuffers:
    """Per-layer arrays for batches of up to ``batch`` rows, and their views for a batch of ``nb`` rows
    (``views(nb)``; only two sizes occur in an epoch: the batch size and the last batch's)."""

    def __init__(self, network: Network, batch: int, inputs: int) -> None:
        n = network.sizes[1:]
        self.L = L = network.num_layers
        self.sizes = network.sizes
        self.batch = batch
        #: Each layer's function: the hidden activation, then the output layer's (sigmoid or softmax).
        self.kinds = tuple(network.activation if l < L - 1 else network.output for l in range(L))
        self.xb = np.empty((batch, inputs))
        self.xb_bytes = np.empty((batch, inputs), dtype=np.uint8)
        self.yb = np.empty((batch, n[-1]))
        self.z = [np.empty((batch, k)) for k in n]
        self.a = [np.empty((batch, k)) for k in n]
        self.delta = [np.empty((batch, k)) for k in n]
        self.step_w = [np.empty((n[l], network.sizes[l])) for l in range(L)]
        self.step_b = [np.empty(k) for k in n]
        self.decay = [np.empty((n[l], network.sizes[l])) for l in range(L)]
        self.row_max = np.empty((batch, 1))
        self.row_sum = np.empty((batch, 1))
        self._outputs = np.empty((0, n[-1]))
        self._out_z = np.empty((0, n[-1]))
        self._views: dict[int, tuple] = {}

    def views(self, nb: int) -> tuple:
        """``(xb, yb, forward, backward, m, s)`` for a batch of ``nb`` rows: per layer, from the first,
        ``forward[l] = (z, a, a_in, kind)``; per layer, from the last, ``backward = (delta, a_in,
        step_w, step_b, below)`` where ``below`` is the delta of the layer underneath (None for the
        first layer); ``m`` and ``s`` are the softmax's row maximum and row sum."""
        if nb not in self._views:
            L = self.L
            xb = self.xb[:nb]
            z = [t[:nb] for t in self.z]
            a = [t[:nb] for t in self.a]
            delta = [t[:nb] for t in self.delta]
            a_in = [xb] + a[:-1]
            forward = tuple((z[l], a[l], a_in[l], self.kinds[l]) for l in range(L))
            backward = tuple((delta[l], a_in[l], self.step_w[l], self.step_b[l], delta[l - 1] if l else None)
                             for l in range(L - 1, -1, -1))
            self._views[nb] = (xb, self.yb[:nb], forward, backward, self.row_max[:nb], self.row_sum[:nb])
        return self._views[nb]

    def epoch_outputs(self, samples: int) -> tuple[np.ndarray, np.ndarray]:
        """Buffers (samples, classes) for every sample's output and its output layer's z."""
        if self._outputs.shape[0] < samples:
            self._outputs = np.empty((samples, self._outputs.shape[1]))
            self._out_z = np.empty((samples, self._outputs.shape[1]))
        return self._outputs, self._out_z


class MiniBatchSGD:
    """Mini-batch SGD with optional momentum and weight decay, fast; an epoch function for one run.

    Call it like ``sgd_epoch``; it performs the same updates (``Optimiser.step``'s rule, the same
    ``optimiser.velocities``) with preallocated buffers. One difference in how, not what: the output
    delta is scaled by ``lr / batch`` once, so every gradient below it already is a step.
    """

    def __init__(self) -> None:
        self._buffers: _MiniBatchBuffers | None = None
        self._key: tuple | None = None
        self._x_seen: np.ndarray | None = None
        self._x_bytes: np.ndarray | None = None

    def __repr__(self) -> str:
        return "MiniBatchSGD()"

    def _compact(self, x: np.ndarray) -> np.ndarray | None:
        """A uint8 copy of ``x`` when every value is a whole number in 0..255 (the digits are 0/1),
        from the second epoch with the same ``x`` object on (a run with shifted images gets a new
        ``x`` every epoch and never pays for it). Gathering a batch from it moves 8 times fewer bytes.
        """
        if x is not self._x_seen:
            self._x_seen, self._x_bytes = x, None
            return None
        if self._x_bytes is None:
            small = x.astype(np.uint8)
            self._x_bytes = small if np.array_equal(small, x) else np.empty(0, dtype=np.uint8)
        return self._x_bytes if self._x_bytes.size else None

    def __call__(self, network: Network, x: np.ndarray, y: np.ndarray, labels: np.ndarray,
                 order: np.ndarray, batch_size: int, optimiser: Optimiser,
                 control: EpochControl) -> EpochTally:
        order = np.asarray(order)
        if len(order) == 0:
            return EpochTally()
        if x.dtype != np.float64:
            x = x.astype(np.float64)
        y = np.asarray(y, dtype=np.float64)
        key = (network.sizes, network.activation, network.loss, batch_size, x.shape[1])
        if self._buffers is None or self._key != key:
            self._buffers = _MiniBatchBuffers(network, batch_size, x.shape[1])
            self._key = key
        x_bytes = self._compact(x)
        with np.errstate(over="ignore", under="ignore"):
            return self._epoch(network, self._buffers, x, x_bytes, y, labels, order, batch_size,
                               optimiser, control)

    @staticmethod
    def _epoch(network: Network, buf: _MiniBatchBuffers, x: np.ndarray, x_bytes: np.ndarray | None,
               y: np.ndarray, labels: np.ndarray, order: np.ndarray, batch_size: int,
               optimiser: Optimiser, control: EpochControl) -> EpochTally:
        dot, exp, add, sub, mul, take = np.dot, np.exp, np.add, np.subtract, np.multiply, np.take
        add_reduce, max_reduce = np.add.reduce, np.maximum.reduce
        L = buf.L
        loss = LOSS_FUNCTIONS[network.loss]
        hidden_prime = ACTIVATION_FUNCTIONS[network.activation].prime
        lr, mu, wd = float(optimiser.lr), float(optimiser.momentum), float(optimiser.weight_decay)
        plain = mu == 0.0 and wd == 0.0
        if not plain and not optimiser.velocities:
            optimiser.velocities = [np.zeros_like(p) for p in network.parameters()]
        # Per layer, from the last: (W, b, vW, vb, decay buffer).
        params = tuple((network.weights[l], network.biases[l],
                        optimiser.velocities[2 * l] if not plain else None,
                        optimiser.velocities[2 * l + 1] if not plain else None, buf.decay[l])
                       for l in range(L - 1, -1, -1))
        weights_t = [w.T for w in network.weights]
        biases = network.biases
        n = len(order)
        outputs, out_z = buf.epoch_outputs(n)
        done = 0
        stopped = False
        for start in range(0, n, batch_size):
            if control.checkpoint():
                stopped = True
                break
            rows = order[start:start + batch_size]
            nb = len(rows)
            xb, yb, forward, backward, m, s = buf.views(nb)
            if x_bytes is None:
                take(x, rows, axis=0, out=xb, mode="clip")
            else:
                xb_bytes = buf.xb_bytes[:nb]
                take(x_bytes, rows, axis=0, out=xb_bytes, mode="clip")
                np.copyto(xb, xb_bytes)
            take(y, rows, axis=0, out=yb, mode="clip")
            # Forward: z = a W^T + b, a = f(z), layer by layer. The activations are inlined to write
            # into the preallocated a (network.ACTIVATION_FUNCTIONS would allocate every batch).
            l = 0
            for z, a, a_in, kind in forward:
                dot(a_in, weights_t[l], out=z)
                add(z, biases[l], out=z)
                l += 1
                if kind == "sigmoid":                # 1 / (1 + exp(-z)); exp may overflow to inf: a = 0
                    np.negative(z, out=a)
                    exp(a, out=a)
                    add(a, 1.0, out=a)
                    np.reciprocal(a, out=a)
                elif kind == "softmax":              # exp(z - max z) / sum exp(z - max z), per row
                    max_reduce(z, axis=1, keepdims=True, out=m)
                    sub(z, m, out=a)
                    exp(a, out=a)
                    add_reduce(a, axis=1, keepdims=True, out=s)
                    np.divide(a, s, out=a)
                elif kind == "tanh":
                    np.tanh(z, out=a)
                else:                                # relu: max(0, z)
                    np.maximum(z, 0.0, out=a)
            out = a
            outputs[start:start + nb] = out
            out_z[start:start + nb] = z
            # Output delta dC/dz^L from the loss object, times lr / nb so that the gradients below
            # are the steps themselves.
            delta = backward[0][0]
            mul(loss.delta(z, out, yb), lr / nb, out=delta)
            # Backward: each layer's delta below from this layer's weights before their update.
            for (delta, a_in, step_w, step_b, below), (w, b, vw, vb, decay) in zip(backward, params):
                dot(delta.T, a_in, out=step_w)             # lr * dC/dW, averaged over the batch
                add_reduce(delta, axis=0, out=step_b)
                if below is not None:
                    # delta^l = (W^{l+1}^T delta^{l+1}) * f'(z^l), f' from the activation object.
                    dot(delta, w, out=below)
                    mul(below, hidden_prime(a_in), out=below)
                if plain:
                    sub(w, step_w, out=w)
                    sub(b, step_b, out=b)
                else:
                    # v <- mu v - lr (g + lambda W); W <- W + v (biases are not decayed).
                    if wd:
                        mul(w, lr * wd, out=decay)
                        add(step_w, decay, out=step_w)
                    mul(vw, mu, out=vw)
                    sub(vw, step_w, out=vw)
                    add(w, vw, out=w)
                    mul(vb, mu, out=vb)
                    sub(vb, step_b, out=vb)
                    add(b, vb, out=b)
            done += nb
        seen = order[:done]
        return tally_outputs(network.loss, out_z[:done], outputs[:done], y[seen], labels[seen], stopped)


def minibatch_epoch(network: Network, x: np.ndarray, y: np.ndarray, labels: np.ndarray,
                    order: np.ndarray, batch_size: int, optimiser: Optimiser,
                    control: EpochControl) -> EpochTally:
    """One epoch of mini-batch SGD, like ``sgd_epoch`` but faster. Stateless (fresh buffers per call)."""
    return MiniBatchSGD()(network, x, y, labels, order, batch_size, optimiser, control)
