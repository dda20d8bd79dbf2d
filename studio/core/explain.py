"""One per-sample update, step by step: the tutorial's formulas filled in with the network's own numbers.

``explain_update(network, x, label, lr)`` runs one sample through the readable engine
(``Network.forward``, ``Network.backward``, the loss object's ``fn``/``delta`` and the activation's
``prime``) and lays what it computed out as a walk-through, the data a view or the command line shows:

* ``stages``: input x -> z^1 = W^1 x + b^1 -> a^1 = f(z^1) -> ... -> output a^L and target y -> loss C
  -> delta^L -> delta^l = (W^{l+1}^T delta^{l+1}) * f'(z^l) -> dC/dW^l = delta^l a^{l-1}^T, dC/db^l =
  delta^l -> W <- W - eta dC/dW. Each stage has its formula (Unicode, and HTML for rich text), the
  vectors it shows, and one sentence derived from its numbers.
* ``unit_work(stage, unit)``: one unit's own sum written out with its actual values, the largest terms
  listed and the others added up, e.g. ``z²₇ = Σᵢ w²₇,ᵢ a¹ᵢ + b²₇ = 1.83 − 0.52 + … = −0.42``.
* ``first_layer_pictures()``: dC/dW^1 as one 32x32 picture per hidden unit beside its weights.
* ``apply()``: exactly this plain SGD step (``Optimiser(lr).step``, the tutorial's W -= lr dW), the new
  network and the sample's outputs and loss before and after.

Every number here comes from that engine; the terms of a written-out sum are the products the engine
summed, and the tests hold them to independent computations (finite differences, PyTorch).
Units are numbered from 0 (the outputs are the digits 0-9); layers from 1 as in the formulas.
How a formula, a number and a written-out sum are spelled (Unicode and HTML) is ``formula_text.py``.
Left out: Qt, files and printing (``studio.cli`` prints ``format_text``).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Literal

import numpy as np

from studio.core import digit_text
from studio.core.diagnostics import SIGMOID_HIGH, SIGMOID_LOW, TANH_SATURATION
from studio.core.formula_text import LISTED_TERMS, Term, UnitWork, num, sub, sum_work, sup, times, to_html
from studio.core.network import ACTIVATION_FUNCTIONS, LOSS_FUNCTIONS, ForwardPass, Gradients, Network
from studio.core.training import Optimiser

StageKind = Literal["input", "z", "a", "output", "loss", "delta", "gradient", "update"]

#: The article's learning rate, used when a model file does not say its own.
DEFAULT_LR = 0.01


@dataclass(frozen=True, eq=False)
class Vector:
    """One labelled vector a stage shows: ``name`` (e.g. 'z²'), ``values`` (n,), one label per unit."""

    name: str
    values: np.ndarray
    labels: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Stage:
    """One step of the walk-through. ``layer`` is the formula's layer (1-based; 0 for the input,
    the output layer's number for the loss and the update). ``vectors`` are what it shows, the first
    one being the stage's own (the one whose units ``unit_work`` explains); ``default_unit`` the unit
    worth showing first; ``reading`` one sentence derived from the numbers."""

    kind: StageKind
    layer: int
    title: str
    formula: str
    vectors: tuple[Vector, ...]
    reading: str
    default_unit: int = 0

    @property
    def formula_html(self) -> str:
        return to_html(self.formula)

    @property
    def units(self) -> int:
        return int(self.vectors[0].values.size) if self.vectors else 0


@dataclass(frozen=True, eq=False)
class UpdateResult:
    """The network before and after the step, and the sample's outputs (k,) and loss on each."""

    before: Network
    after: Network
    outputs_before: np.ndarray
    outputs_after: np.ndarray
    loss_before: float
    loss_after: float



class Walkthrough:
    """One per-sample update of ``network`` on image ``x`` (n0,) with class ``label``, step size ``lr``.

    Holds a copy of the network, the engine's forward pass (``forward``) and gradients
    (``gradients``, with every delta), the loss, and the ``stages``. Nothing changes ``network``.
    """

    def __init__(self, network: Network, x: np.ndarray, label: int, lr: float) -> None:
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if x.size != network.sizes[0]:
            raise ValueError(f"the network takes {network.sizes[0]} inputs but the sample has {x.size} values")
        classes = network.sizes[-1]
        if not (isinstance(label, (int, np.integer)) and 0 <= int(label) < classes):
            raise ValueError(f"label must be a whole number from 0 to {classes - 1}, got {label!r}")
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a number > 0, got {lr}")
        self.network = network.copy()
        self.x = x
        self.label = int(label)
        self.lr = float(lr)
        self.y = np.zeros(classes)
        self.y[self.label] = 1.0
        self.forward: ForwardPass = self.network.forward(x[None])
        self.gradients: Gradients = self.network.backward(x[None], self.y[None])
        self.loss = self.gradients.loss
        hidden = ACTIVATION_FUNCTIONS[self.network.activation]
        #: f'(z^l) of each hidden layer, from the activation's own ``prime`` (as ``backward`` uses it).
        self.primes = [hidden.prime(a[0]) for a in self.forward.activations[1:-1]]
        self._result: UpdateResult | None = None
        self.stages: tuple[Stage, ...] = tuple(self._build_stages())

    # -- the numbers, per layer (formula layer l = 1..L) ----------------------------------------------

    @property
    def num_layers(self) -> int:
        return self.network.num_layers

    def z(self, l: int) -> np.ndarray:
        return self.forward.zs[l - 1][0]

    def a(self, l: int) -> np.ndarray:
        """a^l, with a^0 = x."""
        return self.forward.activations[l][0]

    def delta(self, l: int) -> np.ndarray:
        return self.gradients.deltas[l - 1][0]

    def grad_w(self, l: int) -> np.ndarray:
        return self.gradients.weights[l - 1]

    def grad_b(self, l: int) -> np.ndarray:
        return self.gradients.biases[l - 1]

    @property
    def output(self) -> np.ndarray:
        return self.forward.output[0]

    def apply(self) -> UpdateResult:
        """The step itself, on a copy: ``Optimiser(lr).step`` with these gradients (plain SGD, the
        tutorial's W -= lr dC/dW), and the sample's outputs and loss before and after."""
        if self._result is None:
            after = self.network.copy()
            Optimiser(self.lr).step(after, self.gradients.weights, self.gradients.biases)
            loss = LOSS_FUNCTIONS[after.loss]
            fp = after.forward(self.x[None])
            loss_after = float(loss.fn(fp.zs[-1], fp.output, self.y[None])[0])
            self._result = UpdateResult(self.network.copy(), after, self.output.copy(), fp.output[0].copy(),
                                        self.loss, loss_after)
        return self._result

    def first_layer_pictures(self) -> tuple[np.ndarray, np.ndarray]:
        """(dC/dW^1, W^1) as pictures, each (n1, 32, 32): row j of each reshaped like the drawing.
        ``ValueError`` when the input is not a square picture."""
        side = int(round(math.sqrt(self.network.sizes[0])))
        if side * side != self.network.sizes[0]:
            raise ValueError(f"the input ({self.network.sizes[0]} values) is not a square picture")
        n1 = self.network.sizes[1]
        return self.grad_w(1).reshape(n1, side, side), self.network.weights[0].reshape(n1, side, side)

    def to_json(self) -> dict:
        """The object ``studio explain --json`` prints: label, lr, loss, loss_after, and per layer after
        the input (hidden layers, then the output) its z, a and delta (dC/dz)."""
        result = self.apply()
        return {"label": self.label, "lr": self.lr, "loss": self.loss, "loss_after": result.loss_after,
                "predicted": int(np.argmax(self.output)), "predicted_after": int(np.argmax(result.outputs_after)),
                "layers": [{"z": self.z(l).tolist(), "a": self.a(l).tolist(), "delta": self.delta(l).tolist()}
                           for l in range(1, self.num_layers + 1)]}

    # -- stages -----------------------------------------------------------------------------------------

    def _function_name(self, l: int) -> str:
        return self.network.output if l == self.num_layers else self.network.activation

    def _f(self, l: int) -> str:
        return {"sigmoid": "σ", "tanh": "tanh", "relu": "relu", "softmax": "softmax"}[self._function_name(l)]

    def _in(self, l: int) -> str:
        """The name of layer l's input vector: x for the first layer, a^{l-1} after it."""
        return "x" if l == 1 else f"a{sup(l - 1)}"

    def _build_stages(self) -> list[Stage]:
        L = self.num_layers
        n0 = self.x.size
        inked = int(np.count_nonzero(self.x))
        stages = [Stage("input", 0, "Input x", "x = the drawing, 32 × 32 pixels read row by row into "
                        f"{n0} numbers", (Vector("x", self.x, _labels("x", n0)),),
                        f"{inked} of {n0} pixels are ink (x = 1, {100 * inked / n0:.0f}%); only they add "
                        "anything to the first layer's sums.", int(np.argmax(self.x)))]
        for l in range(1, L + 1):
            z, a = self.z(l), self.a(l)
            n = z.size
            stages.append(Stage("z", l, f"Layer {l}: weighted inputs",
                                f"z{sup(l)} = W{sup(l)}{self._in(l)} + b{sup(l)}",
                                (Vector(f"z{sup(l)}", z, _labels(f"z{sup(l)}", n)),),
                                self._z_reading(l), int(np.argmax(np.abs(z)))))
            if l < L:
                stages.append(Stage("a", l, f"Layer {l}: outputs",
                                    f"a{sup(l)} = {self._f(l)}(z{sup(l)})",
                                    (Vector(f"a{sup(l)}", a, _labels(f"a{sup(l)}", n)),),
                                    self._a_reading(l), int(np.argmax(np.abs(a)))))
        out = self.output
        stages.append(Stage("output", L, "Output and target",
                            f"a{sup(L)} = {self._f(L)}(z{sup(L)}), target y = one-hot({self.label})",
                            (Vector(f"a{sup(L)}", out, _labels(f"a{sup(L)}", out.size)),
                             Vector("y", self.y, _labels("y", out.size))),
                            self._output_reading(), int(np.argmax(out))))
        loss_formula = "C = ½ Σₖ (a" + sup(L) + "ₖ − yₖ)²" if self.network.loss == "sse" \
            else f"C = −log a{sup(L)}{sub(self.label)}"
        per_output = self._loss_terms()
        stages.append(Stage("loss", L, "Loss", loss_formula,
                            (Vector("C terms", per_output, _labels("C", out.size)),),
                            self._loss_reading(per_output), int(np.argmax(per_output))))
        delta_formula = f"δ{sup(L)} = (a{sup(L)} − y) ⊙ a{sup(L)}(1 − a{sup(L)})" \
            if self.network.loss == "sse" else f"δ{sup(L)} = a{sup(L)} − y"
        for l in range(L, 0, -1):
            d = self.delta(l)
            formula = delta_formula if l == L else \
                f"δ{sup(l)} = (W{sup(l + 1)}ᵀ δ{sup(l + 1)}) ⊙ {self._f(l)}′(z{sup(l)})"
            stages.append(Stage("delta", l, f"Layer {l}: error signal δ{sup(l)} = ∂C/∂z{sup(l)}", formula,
                                (Vector(f"δ{sup(l)}", d, _labels(f"δ{sup(l)}", d.size)),),
                                self._delta_reading(l), int(np.argmax(np.abs(d)))))
        for l in range(L, 0, -1):
            gb = self.grad_b(l)
            row_norms = np.linalg.norm(self.grad_w(l), axis=1)
            stages.append(Stage("gradient", l, f"Layer {l}: gradients",
                                f"∂C/∂W{sup(l)} = δ{sup(l)} {self._in(l)}ᵀ,   ∂C/∂b{sup(l)} = δ{sup(l)}",
                                (Vector(f"∂C/∂b{sup(l)}", gb, _labels(f"∂C/∂b{sup(l)}", gb.size)),
                                 Vector(f"|∂C/∂W{sup(l)} row|", row_norms, _labels("|row|", gb.size))),
                                self._gradient_reading(l), int(np.argmax(row_norms))))
        result = self.apply()
        stages.append(Stage("update", L, "The step",
                            f"W ← W − η ∂C/∂W,   b ← b − η ∂C/∂b   (η = {num(self.lr)})",
                            (Vector(f"a{sup(L)} before", result.outputs_before, _labels("before", out.size)),
                             Vector(f"a{sup(L)} after", result.outputs_after, _labels("after", out.size))),
                            self._update_reading(), self.label))
        return stages

    def _loss_terms(self) -> np.ndarray:
        """Each output's share of C: ½(a_k − y_k)² for squared error; for cross-entropy only the
        target's −log a_y is nonzero. Their sum is the engine's loss (the tests check it)."""
        if self.network.loss == "sse":
            return 0.5 * (self.output - self.y) ** 2
        terms = np.zeros_like(self.output)
        terms[self.label] = self.loss
        return terms

    # -- one unit's sum -------------------------------------------------------------------------------

    def unit_work(self, stage: int | Stage, unit: int) -> UnitWork:
        """Unit ``unit`` (0-based) of stage ``stage`` (its index or the stage) written out."""
        st = self.stages[stage] if isinstance(stage, int) else stage
        if not 0 <= unit < max(st.units, 1):
            raise ValueError(f"stage {st.title!r} has units 0 to {st.units - 1}, not {unit}")
        l, j = st.layer, unit
        if st.kind == "input":
            return UnitWork(f"x{sub(j)}", float(self.x[j]),
                            f"x{sub(j)} = {num(self.x[j])}  (row {j // 32}, column {j % 32} of the drawing)")
        if st.kind == "z":
            w, a_prev = self.network.weights[l - 1][j], self.a(l - 1)
            w_name, a_name = f"w{sup(l)}{sub(j)},", ("x" if l == 1 else f"a{sup(l - 1)}")
            labels = [f"{w_name}{sub(i)} {a_name}{sub(i)}" for i in range(w.size)]
            return sum_work(f"z{sup(l)}{sub(j)}", w * a_prev, labels, list(zip(w.tolist(), a_prev.tolist())),
                            self.z(l)[j], f"Σᵢ w{sup(l)}{sub(j)},ᵢ {a_name}ᵢ + b{sup(l)}{sub(j)}",
                            offset=self.network.biases[l - 1][j], offset_label=f"b{sup(l)}{sub(j)}")
        if st.kind in ("a", "output"):
            z, a = self.z(l)[j], self.a(l)[j]
            if st.kind == "output" and self.network.output == "softmax":
                return UnitWork(f"a{sup(l)}{sub(j)}", float(a), f"a{sup(l)}{sub(j)} = e^z{sup(l)}{sub(j)} / "
                                f"Σₖ e^z{sup(l)}ₖ = e^{num(z)} / Σₖ e^z{sup(l)}ₖ = {num(a)}   (target "
                                f"y{sub(j)} = {num(self.y[j])})")
            extra = f"   (target y{sub(j)} = {num(self.y[j])})" if st.kind == "output" else ""
            return UnitWork(f"a{sup(l)}{sub(j)}", float(a), f"a{sup(l)}{sub(j)} = {self._f(l)}(z{sup(l)}{sub(j)}) "
                            f"= {self._f(l)}({num(z)}) = {num(a)}{extra}")
        if st.kind == "loss":
            terms = self._loss_terms()
            if self.network.loss == "ce":
                return UnitWork("C", self.loss, f"C = −log a{sup(l)}{sub(self.label)} = "
                                f"−log {num(self.output[self.label])} = {num(self.loss)}"
                                + ("" if j == self.label else f"   (output {j} is not the target: it "
                                   "enters C only through the softmax's sum)"))
            labels = [f"½(a{sup(l)}{sub(k)} − y{sub(k)})² = ½({num(a)} − {num(y)})²"
                      for k, (a, y) in enumerate(zip(self.output, self.y))]
            factors = [()] * terms.size
            work = sum_work("C", terms, labels, factors, self.loss, f"½ Σₖ (a{sup(l)}ₖ − yₖ)²")
            return UnitWork(work.symbol, work.value, work.equation,
                            (f"output {j}: ½({num(self.output[j])} − {num(self.y[j])})² = {num(terms[j])}",)
                            + work.details, work.terms, work.rest, work.rest_count)
        if st.kind == "delta":
            if l == self.num_layers:
                a, y, d = self.output[j], self.y[j], self.delta(l)[j]
                if self.network.loss == "sse":
                    slope = float(a * (1 - a))
                    return UnitWork(f"δ{sup(l)}{sub(j)}", float(d), f"δ{sup(l)}{sub(j)} = (a − y) · a(1 − a) = "
                                    f"({num(a)} − {num(y)}) × {num(slope)} = {num(d)}",
                                    terms=(Term("a − y", (float(a), float(y)), float(a - y)),), factor=slope)
                return UnitWork(f"δ{sup(l)}{sub(j)}", float(d), f"δ{sup(l)}{sub(j)} = a − y = {num(a)} − "
                                f"{num(y)} = {num(d)}", terms=(Term("a − y", (float(a), float(y)), float(a - y)),))
            w, d_next = self.network.weights[l][:, j], self.delta(l + 1)
            labels = [f"w{sup(l + 1)}{sub(k)},{sub(j)} δ{sup(l + 1)}{sub(k)}" for k in range(w.size)]
            return sum_work(f"δ{sup(l)}{sub(j)}", w * d_next, labels, list(zip(w.tolist(), d_next.tolist())),
                            self.delta(l)[j], f"(Σₖ w{sup(l + 1)}ₖ,{sub(j)} δ{sup(l + 1)}ₖ) · "
                            f"{self._f(l)}′(z{sup(l)}{sub(j)})", factor=self.primes[l - 1][j],
                            factor_label=f"{self._f(l)}′(z{sup(l)}{sub(j)})")
        if st.kind == "gradient":
            d, a_prev, row = self.delta(l)[j], self.a(l - 1), self.grad_w(l)[j]
            a_name = "x" if l == 1 else f"a{sup(l - 1)}"
            top = np.argsort(-np.abs(row), kind="stable")[:LISTED_TERMS]
            details = tuple(f"∂C/∂w{sup(l)}{sub(j)},{sub(i)} = δ{sup(l)}{sub(j)} {a_name}{sub(i)} = "
                            f"{times(d, a_prev[i])} = {num(row[i])}" for i in top)
            zero = int(np.count_nonzero(a_prev == 0))
            note = f"   ({zero} of {a_prev.size} entries are 0: where {a_name}ᵢ = 0)" if zero else ""
            return UnitWork(f"∂C/∂b{sup(l)}{sub(j)}", float(self.grad_b(l)[j]),
                            f"∂C/∂b{sup(l)}{sub(j)} = δ{sup(l)}{sub(j)} = {num(d)};   row {j} of ∂C/∂W{sup(l)} "
                            f"= δ{sup(l)}{sub(j)} {a_name}ᵀ{note}", details)
        result = self.apply()
        before, after = float(result.outputs_before[j]), float(result.outputs_after[j])
        b, gb = float(self.network.biases[-1][j]), float(self.grad_b(self.num_layers)[j])
        return UnitWork(f"a{sup(l)}{sub(j)}", after, f"a{sup(l)}{sub(j)}: {num(before)} → {num(after)} "
                        f"(target {num(self.y[j])});   b{sup(l)}{sub(j)} ← {num(b)} − {times(self.lr, gb)}"
                        f" = {num(result.after.biases[-1][j])}")

    # -- readings: one sentence each, derived from the numbers ------------------------------------------

    def _z_reading(self, l: int) -> str:
        z = self.z(l)
        j = int(np.argmax(np.abs(z)))
        text = f"z{sup(l)} runs from {num(z.min())} to {num(z.max())}; the largest in size is z{sup(l)}{sub(j)} = {num(z[j])}"
        name = self._function_name(l)
        if name == "sigmoid" and np.abs(z).max() > 4:
            far = int(np.count_nonzero(np.abs(z) > 4))
            return text + f", and {far} of {z.size} sums are beyond ±4, where σ is flat."
        if name == "relu":
            return text + f", and {int(np.count_nonzero(z <= 0))} of {z.size} are ≤ 0 (the unit stays off)."
        return text + "."

    def _saturated(self, l: int) -> np.ndarray:
        a, name = self.a(l), self._function_name(l)
        if name == "sigmoid":
            return (a < SIGMOID_LOW) | (a > SIGMOID_HIGH)
        if name == "tanh":
            return np.abs(a) > TANH_SATURATION
        return ~(a > 0)

    def _a_reading(self, l: int) -> str:
        flat = self._saturated(l)
        n = flat.size
        if self._function_name(l) == "relu":
            return (f"{int(flat.sum())} of {n} units are off (z ≤ 0, a = 0): f′ = 0 there, so no error "
                    "gets back through them." if flat.any() else f"All {n} units fire (a > 0).")
        if not flat.any():
            return f"None of the {n} units is saturated: every f′(z) is large enough to pass the error back."
        prime = self.primes[l - 1]
        return (f"{int(flat.sum())} of {n} units are saturated (a near its ends): their f′(z) is at most "
                f"{num(prime[flat].max())}, so little error will get back through them.")

    def _output_reading(self) -> str:
        out, k = self.output, self.label
        p = int(np.argmax(out))
        verdict = "right" if p == k else f"wrong: the target is {k} (a{sub(k)} = {num(out[k])})"
        return f"The network reads {p} (a{sub(p)} = {num(out[p])}): {verdict}."

    def _loss_reading(self, terms: np.ndarray) -> str:
        if self.network.loss == "ce":
            return f"C = {num(self.loss)}: it is −log of the target's probability {num(self.output[self.label])}."
        k = int(np.argmax(terms))
        share = terms[k] / self.loss if self.loss > 0 else 0.0
        return (f"C = {num(self.loss)}; {100 * share:.0f}% of it comes from output {k}: "
                f"½({num(self.output[k])} − {num(self.y[k])})² = {num(terms[k])}.")

    def _delta_reading(self, l: int) -> str:
        d = self.delta(l)
        L = self.num_layers
        if l == L:
            if self.network.loss == "sse":
                out = self.output
                slope = out * (1 - out)
                err = np.abs(out - self.y)
                stuck = np.flatnonzero((err > 0.5) & (slope < 0.01))
                if stuck.size:
                    k = int(stuck[np.argmax(err[stuck])])
                    return (f"δ{sup(L)}{sub(k)} is tiny ({num(d[k])}) because output {k} is saturated at "
                            f"{num(out[k])}: a(1 − a) = {num(slope[k])}, although it is off by {num(err[k])}.")
                k = int(np.argmax(np.abs(d)))
                return (f"The largest error signal is δ{sup(L)}{sub(k)} = {num(d[k])}: output {k} is off by "
                        f"{num(out[k] - self.y[k])} and a(1 − a) = {num(slope[k])} lets it through.")
            k = self.label
            return (f"With cross-entropy nothing damps the error: the target's unit pushes back with "
                    f"δ{sup(L)}{sub(k)} = a − 1 = {num(d[k])}.")
        prime = self.primes[l - 1]
        weak = int(np.count_nonzero(prime < 0.01))
        ratio = np.linalg.norm(d) / max(np.linalg.norm(self.delta(l + 1)), 1e-300)
        text = f"|δ{sup(l)}| = {num(np.linalg.norm(d))}, {num(ratio)} times |δ{sup(l + 1)}|"
        if weak:
            return text + f"; {weak} of {d.size} units have f′(z) < 0.01, so their δ is nearly 0."
        return text + "."

    def _gradient_reading(self, l: int) -> str:
        g = self.grad_w(l)
        j, i = np.unravel_index(int(np.argmax(np.abs(g))), g.shape)
        a_name = "x" if l == 1 else f"a{sup(l - 1)}"
        text = (f"The largest entry is ∂C/∂w{sup(l)}{sub(int(j))},{sub(int(i))} = {num(g[j, i])}; each row "
                f"is δ{sup(l)}ⱼ times the same {a_name}")
        if l == 1:
            inked = int(np.count_nonzero(self.x))
            return text + f", so only the {inked} inked pixels get a gradient (where x = 0, δ¹ⱼ x = 0)."
        return text + ", so units with δ ≈ 0 keep their weights."

    def _update_reading(self) -> str:
        r = self.apply()
        change = r.loss_after - r.loss_before
        rel = f" ({100 * change / r.loss_before:+.1f}%)".replace("-", "−") if r.loss_before > 0 else ""
        p0, p1 = int(np.argmax(r.outputs_before)), int(np.argmax(r.outputs_after))
        return (f"One step of η = {num(self.lr)} moves C on this sample from {num(r.loss_before)} to "
                f"{num(r.loss_after)}{rel}; the network reads {p0} before and {p1} after.")


def _labels(name: str, n: int) -> tuple[str, ...]:
    return tuple(f"{name}{sub(i)}" for i in range(n))


def explain_update(network: Network, x: np.ndarray, label: int, lr: float = DEFAULT_LR) -> Walkthrough:
    """The walk-through of one per-sample SGD update; raises ``ValueError`` for a wrong-sized sample,
    a label out of range or a learning rate that is not > 0."""
    return Walkthrough(network, x, label, lr)


def model_learning_rate(info: dict) -> float:
    """The learning rate a model file says it was trained with (``info['config']['lr']``), else the
    article's 0.01."""
    config = info.get("config") if isinstance(info, dict) else None
    lr = config.get("lr") if isinstance(config, dict) else None
    if isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and lr > 0:
        return float(lr)
    return DEFAULT_LR


def read_digit_file(path: str | os.PathLike[str]) -> np.ndarray:
    """One digit file as a (1024,) float image (``digit_text.read_digit_file``: capped, regular files only)."""
    return digit_text.read_digit_file(path).astype(np.float64)


def format_text(walk: Walkthrough) -> str:
    """The walk-through as plain text (Unicode): every stage's formula, its vector, its reading and
    its most telling unit written out, then the step's before and after."""
    lines = [f"One update of {walk.network!r} on a sample labelled {walk.label}, η = {num(walk.lr)}", ""]
    for index, st in enumerate(walk.stages, 1):
        lines.append(f"[{index}/{len(walk.stages)}] {st.title}:  {st.formula}")
        for v in st.vectors:
            if st.kind == "input":
                continue
            shown = v.values if v.values.size <= 16 else v.values[:16]
            more = "" if v.values.size <= 16 else f" … ({v.values.size - 16} more)"
            lines.append(f"    {v.name} = [" + ", ".join(num(x) for x in shown) + "]" + more)
        work = walk.unit_work(st, st.default_unit)
        lines.append(f"    {work.equation}")
        lines.extend(f"        {d}" for d in work.details)
        lines.append(f"    → {st.reading}")
        lines.append("")
    r = walk.apply()
    lines.append(f"loss before {r.loss_before:.6g}, after {r.loss_after:.6g}")
    return "\n".join(lines)
