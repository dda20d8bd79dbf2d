"""The fast per-sample kernel: the tutorial's one plain SGD update per sample, with fewer NumPy calls.

``sgd.sgd_epoch`` with ``batch_size`` 1 is the version to read; this module is written to be fast, and
the tests hold it to ``sgd_epoch``'s results (to about 1e-12; only the rounding order differs) for any
depth, hidden activation and loss. ``PerSampleSGD`` keeps its buffers (and a cache) from one epoch to
the next, so a run makes one (``training.choose_epoch_function``); ``per_sample_epoch`` builds a fresh
one per call. It applies only when ``per_sample_applies`` (batch 1, no momentum, no weight decay);
``kernel_minibatch.py`` does every other setting.

Why it is fast
--------------
With one update per sample, the time goes to Python calling NumPy on tiny arrays (about half a
microsecond per call), plus the first layer's 16 x 1024 matrix-vector products. So:

1. No allocation per sample: every result goes into a preallocated buffer (``out=``).
2. Parameters are kept as ``[W | b]`` so one ``dot`` gives ``W a + b``; for a sigmoid layer we keep
   ``-[W | b]`` so the dot gives ``-z`` and sigma(z) = 1 / (1 + exp(-z)) takes three calls. (Negating
   a float is exact, so nothing is lost.) The layers after the first share one matrix ``P`` (each
   layer a block on its diagonal), so all their updates are one outer product and one subtraction.
3. The first layer's update is deferred within a block of ``block`` samples. With ``W1`` frozen at
   the block's start, the weights that sample ``s`` would have seen are::

       W1_s = W1_0 - lr * sum_{t<s} delta1_t x_t^T,   b1_s = b1_0 - lr * sum_{t<s} delta1_t

   so its first-layer sum needs no 16 x 1024 product of its own::

       z1_s = W1_s x_s + b1_s = (W1_0 x_s + b1_0) - lr * sum_{t<s} delta1_t (x_t . x_s + 1)

   ``W1_0 x_s + b1_0`` for the whole block is one matrix product (``X W1_0^T``), the dot products
   ``x_t . x_s`` are the block's Gram matrix ``X X^T``, and at the block's end
   ``W1 -= lr * D1^T X`` applies the block's updates at once. The maths is the tutorial's update,
   sample by sample; only the order of the additions (and so the last bits) differs.

   The Gram matrices depend only on the data and the order, so a ``PerSampleSGD`` keeps them when the
   next epoch has the same ``x`` object and the same order (the tutorial's fixed order, no shifts).

In code, layers are numbered from 0 (``W1`` above is ``network.weights[0]``), and the deltas of
layers that sit under sigmoid layers are stored negated (exact); ``_PerSampleBuffers`` keeps the signs.

What is inlined, and why: the activations, their derivatives and the output delta are written out in
the per-sample loop, on negated (``-z``) values and negated deltas, into preallocated rows; calling
``network.ACTIVATION_FUNCTIONS`` or ``LOSS_FUNCTIONS[...].delta`` there would allocate and add calls
on every sample (the loop's whole cost) and could not work on the negated values. Each inlined line
names the formula it computes. The epoch's loss and hits come from the loss object's own ``fn``
(``sgd.tally_outputs``), on the outputs and output sums each sample had before its update.

The kernel leaves the network exactly as trained so far whenever it calls ``control.checkpoint()``
(a paused run's snapshot is the real model): it first applies the deferred first-layer updates and
copies ``P`` back.

Imports: ``network`` and ``sgd`` only, never ``training`` (which imports this module).
"""
from __future__ import annotations

import numpy as np

from studio.core.network import Network
from studio.core.sgd import EpochControl, EpochTally, Optimiser, tally_outputs


#: Samples per deferred first-layer block, and at most how many samples pass between two calls of
#: ``control.checkpoint()`` (so stop and pause act within about a millisecond).
BLOCK = 32
CHECK_EVERY = 32

_SIGMOID, _TANH, _RELU, _SOFTMAX = 0, 1, 2, 3
_KINDS = {"sigmoid": _SIGMOID, "tanh": _TANH, "relu": _RELU, "softmax": _SOFTMAX}


def per_sample_applies(batch_size: int, momentum: float, weight_decay: float) -> bool:
    """True when ``PerSampleSGD`` computes the run's updates: one plain SGD update per sample."""
    return batch_size == 1 and momentum == 0.0 and weight_decay == 0.0


class _PerSampleBuffers:
    """Every array the per-sample kernel writes into, laid out for one network shape.

    Notation: layer ``l`` (0-based) has ``n[l]`` units; ``sign[l]`` is -1 for a sigmoid layer (we keep
    ``-[W | b]`` and compute ``u = -z``) and +1 otherwise. Deltas are stored times ``dsign[l]`` (+1 or
    -1, whatever the signs of the layers above make them), which is exact and saves calls.

    One *row* holds one sample's activations: ``[a_0, 1, a_1, 1, ..., a_{L-1}]``, each hidden layer
    followed by a constant 1 so that ``[a | 1]`` is the next layer's input for ``[W | b]``.
    """

    def __init__(self, network: Network, lr: float, block: int, inputs: int) -> None:
        sizes = network.sizes
        self.L = L = network.num_layers
        self.n = n = sizes[1:]
        self.block = B = block
        hidden = _KINDS[network.activation]
        self.kinds = kinds = tuple(hidden if l < L - 1 else _KINDS[network.output] for l in range(L))
        self.sse = network.loss == "sse"
        self.sign = sign = tuple(-1.0 if k == _SIGMOID else 1.0 for k in kinds)
        dsign = [1.0] * L
        for l in range(L - 1, 0, -1):
            dsign[l - 1] = sign[l] * dsign[l]
        self.dsign = tuple(dsign)

        # Row layout: offsets of each layer's activations; hidden ones are followed by a 1.
        offsets, pos = [], 0
        for l in range(L):
            offsets.append(pos)
            pos += n[l] + (1 if l < L - 1 else 0)
        self.offsets = offsets
        self.width = width = pos
        hidden_width = offsets[L - 1]                 # [a_0, 1, ..., a_{L-2}, 1]
        self.rows = np.zeros((B, width))
        for l in range(L - 1):
            self.rows[:, offsets[l] + n[l]] = 1.0
        # f'(z) from the activations, for every hidden layer at once (and the sse output when the
        # hidden layers are sigmoid too, so the same two calls serve it).
        self.t_width = width if (self.sse and L > 1 and hidden == _SIGMOID) else hidden_width
        self.t = np.zeros(width)
        self.ones = np.ones(width)
        self.t_out = np.empty(n[L - 1])
        self.residual = np.empty(n[L - 1])

        # Layers 1..L-1 (0-based) share P: layer l is the block rows[l] x cols[l], where its input
        # [a_{l-1} | 1] sits in the row. Off-diagonal entries are scratch, cleared every block.
        self.p_rows, self.p_cols = [], []
        r = 0
        for l in range(1, L):
            self.p_rows.append(slice(r, r + n[l]))
            self.p_cols.append(slice(offsets[l - 1], offsets[l - 1] + n[l - 1] + 1))
            r += n[l]
        self.p_height = r
        self.p_width = p_width = hidden_width
        self.P = np.zeros((r, p_width))
        self.scratch_mask = np.ones((r, p_width), dtype=bool)
        for rs, cs in zip(self.p_rows, self.p_cols):
            self.scratch_mask[rs, cs] = False
        self.outer = np.empty((r, p_width))
        self.deltas = np.zeros(r)                     # [delta_1, ..., delta_{L-1}] (stored signs)
        self.lr_row = np.empty(p_width)               # the row's activations times lr * sign
        self.lr_sign = np.zeros(p_width)
        self.set_lr(lr)

        # First layer: M = [U0 (B rows); D0 (B rows)], H = [I | lr-scaled strict Gram], so that the
        # first-layer u of sample s is H[s] @ M (see the module docstring).
        n0 = n[0]
        self.M = np.zeros((2 * B, n0))
        self.H = np.zeros((B, 2 * B))
        self.H[:, :B] = np.eye(B)
        self.gram = np.empty(B * B)
        self.strict = np.tril(np.ones((B, B)), -1)
        self.xb = np.empty((B, inputs))
        self.yb = np.empty((B, n[L - 1]))
        self.ub = np.empty((B, n[L - 1]))             # the output layer's u per row, for the loss
        self.u = [np.empty(k) for k in n]
        self.e = [np.empty(k) for k in n]
        self.g = [np.empty(n[l - 1]) for l in range(1, L)] if L > 1 else []
        self.w_step = np.empty((n0, inputs))
        self.d0_scaled = np.empty((B, n0))
        self._outputs = np.empty((0, n[L - 1]))
        self._out_u = np.empty((0, n[L - 1]))

        # Views used in the per-sample loop, built once.
        self.p_full = [self.P[rs, cs] for rs, cs in zip(self.p_rows, self.p_cols)]
        self.p_weights = [self.P[rs, cs.start:cs.stop - 1] for rs, cs in zip(self.p_rows, self.p_cols)]
        self.delta_views = [self.deltas[rs] for rs in self.p_rows]
        self.t_views = [self.t[offsets[l]:offsets[l] + n[l]] for l in range(L)]
        self.per_row = []
        for s in range(B):
            row = self.rows[s]
            outs = tuple(row[offsets[l]:offsets[l] + n[l]] for l in range(L))
            ins = tuple(row[cs] for cs in self.p_cols)
            self.per_row.append((self.H[s], self.M[B + s], self.yb[s], self.ub[s], row, outs, ins))
        # The all-sigmoid network with squared error (the tutorial's) gets a loop without branches:
        # per row, the forward steps of layers 1.. and the backward steps down to layer 0.
        self.all_sigmoid = self.sse and all(k == _SIGMOID for k in self.kinds) and L > 1
        if self.all_sigmoid:
            self.sigmoid_rows = []
            for s in range(B):
                h, d0, yrow, _, row, outs, ins = self.per_row[s]
                forward = tuple((self.p_full[l - 1], ins[l - 1], self.ub[s] if l == L - 1 else self.u[l],
                                 self.e[l], self.ones[:n[l]], outs[l]) for l in range(1, L))
                backward = tuple((self.delta_views[l - 1], self.p_weights[l - 1], self.g[l - 1],
                                  self.t_views[l - 1], d0 if l == 1 else self.delta_views[l - 2])
                                 for l in range(L - 1, 0, -1))
                self.sigmoid_rows.append((h, outs[0], row, row[:self.p_width], yrow, outs[L - 1],
                                          forward, backward))

    def epoch_outputs(self, samples: int) -> tuple[np.ndarray, np.ndarray]:
        """Buffers (samples, classes) for every sample's output and its output layer's u."""
        if self._outputs.shape[0] < samples:
            self._outputs = np.empty((samples, self.n[-1]))
            self._out_u = np.empty((samples, self.n[-1]))
        return self._outputs, self._out_u

    def set_lr(self, lr: float) -> None:
        self.lr = lr
        for l in range(1, self.L):
            self.lr_sign[self.p_cols[l - 1]] = lr * self.sign[l] * self.dsign[l]
        # H's Gram part: u0_s gets -sign0 * dsign0 * lr * (x_t . x_s + 1) * stored delta_t.
        self.gram_coef = -self.sign[0] * self.dsign[0] * lr

    def load(self, network: Network) -> None:
        """Copy the network's layers 2..L into P (times their signs)."""
        self.P[...] = 0.0
        for l in range(1, self.L):
            block = self.p_full[l - 1]
            block[:, :-1] = network.weights[l]
            block[:, -1] = network.biases[l]
            if self.sign[l] < 0:
                np.negative(block, out=block)

    def store(self, network: Network) -> None:
        """Copy P back into the network's arrays, in place (others may hold references to them)."""
        for l in range(1, self.L):
            block = self.p_full[l - 1]
            np.multiply(block[:, :-1], self.sign[l], out=network.weights[l])
            np.multiply(block[:, -1], self.sign[l], out=network.biases[l])


class _OrderCache:
    """What one order of one data set gives every epoch: each block's Gram matrix, the targets in that
    order and, from the second epoch on and when small enough, the inputs in that order (so blocks are
    slices, not gathers).

    ``complete`` turns True once an epoch has filled the Gram matrices; until then the epoch computes
    them as it goes. A run with shifted images (new ``x`` every epoch) gets a new cache every epoch.
    """

    #: Keep the reordered inputs only up to this size (the tutorial's 1,934 x 1,024 take 16 MB).
    MAX_X_BYTES = 64 * 2**20

    def __init__(self, x: np.ndarray, y: np.ndarray, order: np.ndarray, block: int) -> None:
        blocks = -(-len(order) // block)
        self.x = x
        self.order = np.array(order, copy=True)
        self.grams = np.zeros((blocks, block, block))  # strict lower part of (x_t . x_s + 1)
        self.y_perm = y[self.order]
        self.x_perm: np.ndarray | None = None
        self.complete = False

    def holds(self, x: np.ndarray, order: np.ndarray) -> bool:
        """Same data object and same order as this cache was made for (``train`` never changes ``x``)."""
        return x is self.x and np.array_equal(order, self.order)

    def reuse(self) -> None:
        """A second epoch with the same data and order: keep the inputs in that order too."""
        if self.x_perm is None and self.x.nbytes <= self.MAX_X_BYTES:
            self.x_perm = np.take(self.x, self.order, axis=0)


class PerSampleSGD:
    """One plain SGD update per sample (the tutorial's mode), fast; an epoch function for one run.

    Call it like ``sgd_epoch``. Valid only when ``per_sample_applies(batch_size, momentum,
    weight_decay)``; any depth, hidden activation and loss. Between calls it keeps its buffers and the
    Gram matrices of the last epoch, reused when the next call gets the same ``x`` object (not
    changed in place: ``train`` never does) and the same order.

    ``block`` is the number of samples whose first-layer update is deferred (see the module
    docstring); ``check_every`` (at most 32) how many samples pass between ``control.checkpoint()``
    calls. A stop inside a block still applies the deferred update of the samples already trained.
    """

    def __init__(self, block: int = BLOCK, check_every: int = CHECK_EVERY) -> None:
        if block < 1 or not (1 <= check_every <= 32):
            raise ValueError(f"block must be >= 1 and check_every in 1..32, got {block} and {check_every}")
        self.block = block
        self.check_every = check_every
        self._buffers: _PerSampleBuffers | None = None
        self._key: tuple | None = None
        self._cache: _OrderCache | None = None

    def __repr__(self) -> str:
        return f"PerSampleSGD(block={self.block}, check_every={self.check_every})"

    def _buffers_for(self, network: Network, lr: float, inputs: int) -> _PerSampleBuffers:
        key = (network.sizes, network.activation, network.loss, inputs)
        if self._buffers is None or self._key != key:
            self._buffers = _PerSampleBuffers(network, lr, self.block, inputs)
            self._key = key
        elif self._buffers.lr != lr:
            self._buffers.set_lr(lr)
        return self._buffers

    def __call__(self, network: Network, x: np.ndarray, y: np.ndarray, labels: np.ndarray,
                 order: np.ndarray, batch_size: int, optimiser: Optimiser,
                 control: EpochControl) -> EpochTally:
        if not per_sample_applies(batch_size, optimiser.momentum, optimiser.weight_decay):
            raise ValueError("the per-sample kernel needs batch size 1, no momentum and no weight decay")
        order = np.asarray(order)
        if len(order) == 0:
            return EpochTally()
        if x.dtype != np.float64:
            x = x.astype(np.float64)
        y = np.asarray(y, dtype=np.float64)
        buf = self._buffers_for(network, float(optimiser.lr), x.shape[1])
        cache = self._cache
        if cache is None or not cache.holds(x, order):
            cache = self._cache = _OrderCache(x, y, order, self.block)
        elif cache.complete:
            cache.reuse()
        buf.load(network)
        try:
            with np.errstate(over="ignore", under="ignore"):
                tally = self._epoch(network, buf, x, y, labels, order, control, cache)
            # An epoch that stopped early has not filled every block of a new cache.
            cache.complete = cache.complete or not tally.stopped
            return tally
        finally:
            buf.store(network)

    def _epoch(self, network: Network, buf: _PerSampleBuffers, x: np.ndarray, y: np.ndarray,
               labels: np.ndarray, order: np.ndarray, control: EpochControl,
               cache: _OrderCache) -> EpochTally:
        B, L, check_every = self.block, buf.L, self.check_every
        W0, b0 = network.weights[0], network.biases[0]
        M, H, gram, strict = buf.M, buf.H, buf.gram, buf.strict
        U0, Hg = M[:B], H[:, B:]
        cached = cache.complete
        grams, x_perm, y_perm = cache.grams, cache.x_perm, cache.y_perm
        lr = buf.lr
        sign0, dsign0 = buf.sign[0], buf.dsign[0]
        done, next_check = 0, 0
        n = len(order)
        out_seg = slice(buf.offsets[L - 1], buf.width)
        outputs, out_u = buf.epoch_outputs(n)
        step_coef = -dsign0 * lr                 # W0 += step_coef * D0^T X (stored deltas)
        stop = False
        for k, start in enumerate(range(0, n, B)):
            rows = order[start:start + B]
            nb = len(rows)
            buf.yb[:nb] = y_perm[start:start + nb]      # the per-sample loop has views of yb's rows
            if x_perm is None:
                xv = buf.xb[:nb]
                np.take(x, rows, axis=0, out=xv, mode="clip")
            else:
                xv = x_perm[start:start + nb]
            # M = [s0 * (X W0^T + b0); 0]: U0 for this block, deltas still to come.
            M[...] = 0.0
            np.dot(xv, W0.T, out=U0[:nb])
            U0[:nb] += b0
            if sign0 < 0:
                np.negative(U0[:nb], out=U0[:nb])
            g = grams[k]
            if not cached:
                gv = gram[:nb * nb].reshape(nb, nb)     # C-contiguous, as dot's out= needs
                np.dot(xv, xv.T, out=gv)
                gv += 1.0
                if nb < B:
                    g[...] = 0.0
                np.multiply(gv, strict[:nb, :nb], out=g[:nb, :nb])
            np.multiply(g, buf.gram_coef, out=Hg)
            s = flushed = 0
            while s < nb:
                if done + s >= next_check:
                    # The control may pause (and the window take a snapshot) or stop the run here:
                    # first make the network exactly the one trained so far. The block goes on from
                    # U0 and the Gram terms as before; only the flushed rows are not applied again.
                    self._flush(buf, W0, b0, step_coef, xv, flushed, s)
                    flushed = s
                    buf.store(network)
                    if control.checkpoint():
                        stop = True
                        break
                    next_check = done + s + check_every
                end = min(nb, next_check - done)
                if buf.all_sigmoid:
                    self._samples_sigmoid(buf, s, end)
                else:
                    self._samples(buf, s, end)
                s = end
            # The block's end (or the stop): apply the deferred first-layer update, keep the outputs.
            self._flush(buf, W0, b0, step_coef, xv, flushed, s)
            if s:
                outputs[done:done + s] = buf.rows[:s, out_seg]
                out_u[done:done + s] = buf.ub[:s]
                done += s
                np.copyto(buf.P, 0.0, where=buf.scratch_mask)
            if stop:
                break
        # Loss and hits of every sample trained, each from its output before its own update.
        # The output layer's u is -z for a sigmoid output (sign -1), z for softmax: negation is exact.
        z_out = out_u[:done] * buf.sign[L - 1]
        return tally_outputs(network.loss, z_out, outputs[:done], y_perm[:done], labels[order[:done]], stop)

    @staticmethod
    def _flush(buf: _PerSampleBuffers, W0: np.ndarray, b0: np.ndarray, step_coef: float,
               xv: np.ndarray, first: int, end: int) -> None:
        """Apply the deferred first-layer updates of block rows ``first..end-1`` to W0 and b0."""
        if end <= first:
            return
        d0 = buf.d0_scaled[first:end]
        np.multiply(buf.M[buf.block + first:buf.block + end], step_coef, out=d0)
        np.dot(d0.T, xv[first:end], out=buf.w_step)
        W0 += buf.w_step
        b0 += d0.sum(axis=0)

    @staticmethod
    def _samples_sigmoid(buf: _PerSampleBuffers, first: int, end: int) -> None:
        """``_samples`` for sigmoid layers and squared error (the tutorial's network), unrolled."""
        dot, exp, add, sub, mul, rec = np.dot, np.exp, np.add, np.subtract, np.multiply, np.reciprocal
        M, P, outer = buf.M, buf.P, buf.outer
        u0, e0, ones0 = buf.u[0], buf.e[0], buf.ones[:buf.n[0]]
        ones, t, residual, t_out, d_out = buf.ones, buf.t, buf.residual, buf.t_views[-1], buf.delta_views[-1]
        lr_row, lr_sign, deltas_col, lr_row_2d = buf.lr_row, buf.lr_sign, buf.deltas[:, None], buf.lr_row[None, :]
        rows = buf.sigmoid_rows
        for s in range(first, end):
            h, a0, row, row_p, yrow, a_out, forward, backward = rows[s]
            # u = -z, a = 1 / (1 + exp(u)) for every layer; layer 0's u comes from the block's M.
            dot(h, M, out=u0)
            exp(u0, out=e0)
            add(e0, ones0, out=e0)
            rec(e0, out=a0)
            for p_l, a_in, u_l, e_l, ones_l, a_l in forward:
                dot(p_l, a_in, out=u_l)
                exp(u_l, out=e_l)
                add(e_l, ones_l, out=e_l)
                rec(e_l, out=a_l)
            # sigma' = a (1 - a) for every layer at once, then the deltas from the output down.
            sub(ones, row, out=t)
            mul(t, row, out=t)
            # delta^L = (a - y) * a (1 - a): SquaredErrorLoss.delta, inlined (see the module docstring).
            sub(a_out, yrow, out=residual)
            mul(residual, t_out, out=d_out)
            for delta, p_w, g, t_l, delta_below in backward:
                dot(delta, p_w, out=g)
                mul(g, t_l, out=delta_below)
            # Layers 1..: P -= delta (lr * sign * [a | 1])^T, all layers in one outer product.
            mul(row_p, lr_sign, out=lr_row)
            mul(deltas_col, lr_row_2d, out=outer)
            sub(P, outer, out=P)

    @staticmethod
    def _samples(buf: _PerSampleBuffers, first: int, end: int) -> None:
        """Train samples ``first..end-1`` of the current block, one update each (the hot loop)."""
        dot, exp, add, sub, mul, rec = np.dot, np.exp, np.add, np.subtract, np.multiply, np.reciprocal
        tanh, maximum, sign_fn, divide = np.tanh, np.maximum, np.sign, np.divide
        L, kinds, sse = buf.L, buf.kinds, buf.sse
        M, P, outer = buf.M, buf.P, buf.outer
        u, e, gs = buf.u, buf.e, buf.g
        p_full, p_weights, delta_views, t_views = buf.p_full, buf.p_weights, buf.delta_views, buf.t_views
        ones, t, t_width = buf.ones, buf.t, buf.t_width
        t_row = t[:t_width]
        ones_t = ones[:t_width]
        hidden = kinds[0] if L > 1 else None
        last = L - 1
        ones_n = [ones[:k] for k in buf.n]
        zero = 0.0
        residual, t_out = buf.residual, buf.t_out
        ones_out = ones[:buf.n[last]]
        lr_row, lr_sign = buf.lr_row, buf.lr_sign
        p_width = buf.p_width
        deltas_col = buf.deltas[:, None]
        lr_row_2d = lr_row[None, :]
        per_row = buf.per_row
        out_delta = delta_views[-1] if L > 1 else None
        for s in range(first, end):
            h, d0, yrow, urow, row, outs, ins = per_row[s]
            # Forward. Layer 0 from the block's M (deferred W0 update), the others from P.
            for l in range(L):
                ul, el, al = u[l], e[l], outs[l]
                if l == last:
                    ul = urow                        # kept for the epoch's loss
                if l == 0:
                    dot(h, M, out=ul)
                else:
                    dot(p_full[l - 1], ins[l - 1], out=ul)
                kind = kinds[l]
                if kind == _SIGMOID:                 # ul = -z: a = 1 / (1 + exp(-z))
                    exp(ul, out=el)
                    add(el, ones_n[l], out=el)
                    rec(el, out=al)
                elif kind == _SOFTMAX:
                    sub(ul, ul.max(), out=el)
                    exp(el, out=el)
                    divide(el, el.sum(), out=al)
                elif kind == _TANH:
                    tanh(ul, out=al)
                else:
                    maximum(ul, zero, out=al)
            # f'(z) of the hidden layers (and of a sigmoid output when it fits in the same span).
            if L > 1 or t_width:
                if hidden == _SIGMOID:
                    sub(ones_t, row[:t_width], out=t_row)
                    mul(t_row, row[:t_width], out=t_row)
                elif hidden == _TANH:
                    mul(row[:t_width], row[:t_width], out=t_row)
                    sub(ones_t, t_row, out=t_row)
                elif hidden == _RELU:
                    sign_fn(row[:t_width], out=t_row)
            # Output delta (stored with sign +1), inlined (see the module docstring):
            # SquaredErrorLoss.delta = (a - y) * a (1 - a), CrossEntropyLoss.delta = a - y.
            a_out = outs[last]
            d_out = out_delta if L > 1 else d0
            if sse:
                sub(a_out, yrow, out=residual)
                if t_width == buf.width:
                    mul(residual, t_views[last], out=d_out)
                else:
                    sub(ones_out, a_out, out=t_out)
                    mul(t_out, a_out, out=t_out)
                    mul(residual, t_out, out=d_out)
            else:
                sub(a_out, yrow, out=d_out)
            # Backward through P (before its update), down to layer 0's delta in M.
            for l in range(last, 0, -1):
                gl = gs[l - 1]
                dot(delta_views[l - 1], p_weights[l - 1], out=gl)
                mul(gl, t_views[l - 1], out=d0 if l == 1 else delta_views[l - 2])
            if L > 1:
                mul(row[:p_width], lr_sign, out=lr_row)
                mul(deltas_col, lr_row_2d, out=outer)
                sub(P, outer, out=P)


def per_sample_epoch(network: Network, x: np.ndarray, y: np.ndarray, labels: np.ndarray,
                     order: np.ndarray, batch_size: int, optimiser: Optimiser,
                     control: EpochControl) -> EpochTally:
    """One epoch of per-sample plain SGD, like ``sgd_epoch`` with ``batch_size`` 1 but faster.

    Stateless (a fresh ``PerSampleSGD`` per call); a run should keep one ``PerSampleSGD`` instead.
    """
    return PerSampleSGD()(network, x, y, labels, order, batch_size, optimiser, control)

