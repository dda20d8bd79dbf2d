"""Fooling the network: which pixels it looks at, and the fewest pixel flips that change its answer.

The studio's inputs are binary, so "a change" to a drawing is a set of pixel flips (0 -> 1 or 1 -> 0):
exact, countable and visible. Everything here works on one drawing ``x``, a (1024,) array of 0/1.

What it looks at
    :func:`single_flip_changes` flips each of the 1,024 pixels on its own and measures the exact change
    of one output. The 1,024 flipped copies are one (1024, 1024) batch through ``Network.predict_proba``.
    :func:`gradient_saliency` is the usual "saliency map", d output / d pixel; times the flip's size
    (+1 or -1) it is the first-order estimate of the same change, which misses every curve of the
    sigmoids between 0 and 1.

Making it say k
    A *goal* scores a batch of outputs (lower is better) and says which rows are reached. Three goals:
    "say k" (:func:`say_goal`), "anything but its answer" (:func:`say_goal` with ``target=None``), "be
    unsure" (:func:`unsure_goal`, top output below 50%) and "say k with 99% confidence"
    (:func:`confident_goal`, for fooling images built from a blank pad).
    :func:`greedy_search` is the plain exact greedy: at each step try every pixel not yet flipped (one
    batched pass) and flip the one with the best score. :func:`improved_search` runs greedy, a small
    beam search, prunes both (drop any flip the goal is still reached without) and keeps the shortest;
    it never returns more flips than greedy (greedy's answer is one of its candidates).

The fast pass
    The first layer is linear in the pixels: flipping pixel i moves the first layer's weighted inputs by
    ``(1 - 2 x_i) * W1[:, i]``. :func:`flip_outputs` uses that to evaluate all single flips in
    (1024, 16) work instead of (1024, 1024) x (1024, 16); the rest of the network runs as in
    ``Network.forward``. It is exact, not an approximation, and the tests hold it to ``predict_proba``.

Also here: reading one digit file and writing a flipped one (the ``fool`` command's files).
Left out: statistics over a data split (``fragility``), and anything on screen.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from studio.core import digit_text
from studio.core.digit_text import format_digit_text
from studio.core.network import ACTIVATION_FUNCTIONS, LOSS_FUNCTIONS, Network

SearchMethod = Literal["greedy", "improved"]

#: Most flips a search makes before it gives up (about 6% of the pad).
DEFAULT_MAX_FLIPS = 60

#: Beam width of the improved search: how many partial flip sets it keeps at each step.
DEFAULT_BEAM_WIDTH = 3


# --------------------------------------------------------------------------------------------------
# Flipping pixels and running the flipped copies through the network
# --------------------------------------------------------------------------------------------------

def as_drawing(image: np.ndarray, num_inputs: int) -> np.ndarray:
    """``image`` as a (num_inputs,) uint8 array of 0/1; a ValueError names what is wrong."""
    image = np.asarray(image)
    if image.size != num_inputs:
        raise ValueError(f"the network takes {num_inputs} pixels, the drawing has {image.size}")
    if not np.isin(image, (0, 1)).all():
        raise ValueError("a drawing's pixels must be 0 or 1")
    return image.reshape(-1).astype(np.uint8)


def flip(image: np.ndarray, pixels: np.ndarray | list[int] | tuple[int, ...]) -> np.ndarray:
    """A copy of ``image`` (n_pixels,) with every pixel in ``pixels`` flipped (0 <-> 1)."""
    out = np.array(image, dtype=np.uint8).reshape(-1)
    idx = np.asarray(pixels, dtype=np.int64)
    out[idx] = 1 - out[idx]
    return out


def single_flip_batch(image: np.ndarray) -> np.ndarray:
    """All single-pixel flips of ``image`` (n,) as a batch (n, n): row i is the image with pixel i
    flipped. Float64, ready for ``Network.forward``."""
    x = np.asarray(image, dtype=np.float64).reshape(-1)
    batch = np.tile(x, (x.size, 1))
    diagonal = np.arange(x.size)
    batch[diagonal, diagonal] = 1.0 - x
    return batch


def _forward_from_first_sums(network: Network, z1: np.ndarray) -> np.ndarray:
    """The network's outputs (n, k) given the first layer's weighted inputs ``z1`` (n, sizes[1]):
    ``Network.forward`` from the first activation on."""
    hidden = ACTIVATION_FUNCTIONS[network.activation]
    output_fn = LOSS_FUNCTIONS[network.loss].output_fn
    last = network.num_layers - 1
    a = output_fn(z1) if last == 0 else hidden.fn(z1)
    for l in range(1, network.num_layers):
        z = a @ network.weights[l].T + network.biases[l]
        a = output_fn(z) if l == last else hidden.fn(z)
    return a


def flip_outputs(network: Network, image: np.ndarray, pixels: np.ndarray | None = None) -> np.ndarray:
    """The outputs for ``image`` with one pixel flipped, for each pixel in ``pixels`` (default: all):
    shape (len(pixels), k). Exact; uses the first layer's linearity (see the module docstring)."""
    x = np.asarray(image, dtype=np.float64).reshape(-1)
    if pixels is None:
        pixels = np.arange(x.size)
    w1 = network.weights[0]
    z1 = x @ w1.T + network.biases[0]                        # (sizes[1],)
    step = 1.0 - 2.0 * x[pixels]                             # +1 for 0 -> 1, -1 for 1 -> 0
    z1_flipped = z1[None, :] + step[:, None] * w1[:, pixels].T   # (len(pixels), sizes[1])
    return _forward_from_first_sums(network, z1_flipped)


def outputs_of(network: Network, image: np.ndarray) -> np.ndarray:
    """The network's outputs for one drawing, (k,)."""
    return network.predict_proba(np.asarray(image, dtype=np.float64).reshape(1, -1))[0]


# --------------------------------------------------------------------------------------------------
# What it looks at
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlipChanges:
    """For one drawing: ``digit`` (the output looked at, by default the predicted one), ``outputs`` (k,)
    of the drawing, and ``changes`` (n_pixels,): how much output ``digit`` moves when each pixel alone
    is flipped (positive: the flip raises it)."""

    digit: int
    outputs: np.ndarray
    changes: np.ndarray

    @property
    def largest(self) -> float:
        """The largest absolute change (0 for a network that ignores every pixel)."""
        return float(np.max(np.abs(self.changes))) if self.changes.size else 0.0


def single_flip_changes(network: Network, image: np.ndarray, digit: int | None = None) -> FlipChanges:
    """The exact change of output ``digit`` (default: the predicted digit) for each single-pixel flip.

    All flipped copies go through ``Network.predict_proba`` as one (n_pixels, n_pixels) batch.
    """
    x = as_drawing(image, network.sizes[0])
    outputs = outputs_of(network, x)
    k = int(np.argmax(outputs)) if digit is None else int(digit)
    flipped = network.predict_proba(single_flip_batch(x))    # (n_pixels, k)
    return FlipChanges(k, outputs, flipped[:, k] - outputs[k])


def input_gradient(network: Network, image: np.ndarray, digit: int) -> np.ndarray:
    """d output_digit / d x for one drawing, (n_pixels,): backpropagation down to the input.

    The output layer's derivative is sigma' = a (1 - a) for sigmoid outputs, and the softmax Jacobian
    a_k (1[j = k] - a_j) for softmax ones; the hidden layers are Network.backward's recursion.
    """
    x = np.asarray(image, dtype=np.float64).reshape(1, -1)
    fp = network.forward(x)
    a = fp.output[0]
    if network.output == "softmax":
        delta = -a[digit] * a
        delta[digit] += a[digit]
    else:
        delta = np.zeros_like(a)
        delta[digit] = a[digit] * (1.0 - a[digit])
    delta = delta[None, :]                                    # dC/dz of the last layer, (1, k)
    hidden = ACTIVATION_FUNCTIONS[network.activation]
    for l in range(network.num_layers - 1, 0, -1):
        delta = (delta @ network.weights[l]) * hidden.prime(fp.activations[l])
    return (delta @ network.weights[0])[0]


def gradient_saliency(network: Network, image: np.ndarray, digit: int) -> np.ndarray:
    """The gradient's estimate of each single flip's change of output ``digit``, (n_pixels,):
    d output / d x_i times the flip's size (+1 for 0 -> 1, -1 for 1 -> 0)."""
    x = as_drawing(image, network.sizes[0]).astype(np.float64)
    return input_gradient(network, x, digit) * (1.0 - 2.0 * x)


# --------------------------------------------------------------------------------------------------
# Goals
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Goal:
    """What a search wants. ``score(outputs (n, k)) -> (n,)``, lower is closer; ``reached(outputs) ->
    (n,) bool``. ``target`` is the digit it should say (None: anything but ``original``)."""

    description: str
    score: Callable[[np.ndarray], np.ndarray]
    reached: Callable[[np.ndarray], np.ndarray]
    target: int | None = None


def _best_other(outputs: np.ndarray, k: int) -> np.ndarray:
    others = np.delete(outputs, k, axis=1)
    return others.max(axis=1)


def say_goal(target: int | None, original: int) -> Goal:
    """Make the network answer ``target`` (its largest output, as ``Network.predict`` reads it), or with
    ``target=None`` anything but ``original``. The score is the margin still to close: the best other
    output minus the target's, or the original's output minus the runner-up's."""
    if target is None:
        return Goal(f"anything but {original}",
                    lambda o: o[:, original] - _best_other(o, original),
                    lambda o: np.argmax(o, axis=1) != original)
    return Goal(f"say {target}",
                lambda o: _best_other(o, target) - o[:, target],
                lambda o: np.argmax(o, axis=1) == target, target)


def unsure_goal(threshold: float = 0.5) -> Goal:
    """Make the network unsure: its top output below ``threshold``. Score: the top output."""
    return Goal(f"top output below {threshold:.0%}",
                lambda o: o.max(axis=1),
                lambda o: o.max(axis=1) < threshold)


def confident_goal(target: int, confidence: float = 0.99) -> Goal:
    """Make the network answer ``target`` with output >= ``confidence``. Score: minus that output."""
    return Goal(f"say {target} with {confidence:.0%} confidence",
                lambda o: -o[:, target],
                lambda o: (np.argmax(o, axis=1) == target) & (o[:, target] >= confidence), target)


# --------------------------------------------------------------------------------------------------
# Searches
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlipResult:
    """A search's answer for one drawing.

    ``original`` (n_pixels,) uint8 is the drawing; ``flips`` the pixel indices to flip, in the order to
    play them; ``image`` the drawing with them flipped; ``before`` and ``after`` the outputs (k,) of the
    two; ``reached`` whether ``after`` meets the goal (a search that gives up at ``max_flips`` returns its
    best try with ``reached=False``); ``method`` "greedy", "improved" or "climb" (fooling images).
    """

    original: np.ndarray
    flips: tuple[int, ...]
    image: np.ndarray
    before: np.ndarray
    after: np.ndarray
    reached: bool
    goal: str
    method: str

    @property
    def count(self) -> int:
        return len(self.flips)

    @property
    def digit_before(self) -> int:
        return int(np.argmax(self.before))

    @property
    def digit_after(self) -> int:
        return int(np.argmax(self.after))

    def describe(self) -> str:
        """One sentence for the learner, e.g. ``7 pixels turned your 3 into an 8``."""
        if not self.reached:
            return f"No luck: {self.count} flips did not reach '{self.goal}'."
        pixels = "1 pixel" if self.count == 1 else f"{self.count} pixels"
        article = "an" if self.digit_after == 8 else "a"
        if self.digit_after == self.digit_before:
            return f"{pixels} made the network unsure (top output {self.after.max():.0%})."
        return f"{pixels} turned your {self.digit_before} into {article} {self.digit_after}."


def _result(network: Network, x: np.ndarray, flips: list[int], goal: Goal, method: str) -> FlipResult:
    image = flip(x, flips) if flips else x.copy()
    before, after = outputs_of(network, x), outputs_of(network, image)
    reached = bool(goal.reached(after[None])[0])
    return FlipResult(x.copy(), tuple(int(p) for p in flips), image, before, after, reached,
                      goal.description, method)


def greedy_flips(network: Network, image: np.ndarray, goal: Goal,
                 max_flips: int = DEFAULT_MAX_FLIPS) -> list[int]:
    """Plain exact greedy: until the goal is reached (or ``max_flips``), flip the pixel not yet
    flipped whose flip gives the best score, every candidate evaluated in one batched pass."""
    x = np.array(image, dtype=np.uint8).reshape(-1)
    if goal.reached(outputs_of(network, x)[None])[0]:
        return []
    flips: list[int] = []
    free = np.ones(x.size, dtype=bool)
    for _ in range(max_flips):
        candidates = np.flatnonzero(free)
        if candidates.size == 0:
            break
        outputs = flip_outputs(network, x, candidates)
        best = int(np.argmin(goal.score(outputs)))
        pixel = int(candidates[best])
        x[pixel] = 1 - x[pixel]
        free[pixel] = False
        flips.append(pixel)
        if goal.reached(outputs[best:best + 1])[0]:
            break
    return flips


def prune_flips(network: Network, image: np.ndarray, flips: list[int], goal: Goal) -> list[int]:
    """Drop flips the goal is still reached without, one at a time: each round tries every removal in
    one batch and drops the one that leaves the best score. Returns the kept flips in their order."""
    x = np.asarray(image, dtype=np.uint8).reshape(-1)
    kept = list(flips)
    while len(kept) > 1:
        batch = np.array([flip(x, kept[:i] + kept[i + 1:]) for i in range(len(kept))], dtype=np.float64)
        outputs = network.predict_proba(batch)
        ok = goal.reached(outputs)
        if not ok.any():
            break
        scores = np.where(ok, goal.score(outputs), np.inf)
        del kept[int(np.argmin(scores))]
    return kept


def beam_flips(network: Network, image: np.ndarray, goal: Goal, width: int = DEFAULT_BEAM_WIDTH,
               max_flips: int = DEFAULT_MAX_FLIPS) -> list[int] | None:
    """Beam search: keep the ``width`` best flip sets of each size (best score after their last flip),
    extend each by every pixel it has not flipped, and stop at the first size where some extension
    reaches the goal. None if none does within ``max_flips``. ``width=1`` is greedy."""
    x0 = np.asarray(image, dtype=np.uint8).reshape(-1)
    if goal.reached(outputs_of(network, x0)[None])[0]:
        return []
    beam: list[list[int]] = [[]]
    for _ in range(max_flips):
        scored: list[tuple[float, bool, list[int]]] = []
        seen: set[frozenset[int]] = set()
        for flips in beam:
            x = flip(x0, flips) if flips else x0
            free = np.ones(x0.size, dtype=bool)
            free[flips] = False
            candidates = np.flatnonzero(free)
            outputs = flip_outputs(network, x, candidates)
            scores = goal.score(outputs)
            reached = goal.reached(outputs)
            # Only the best few of each parent can make the beam: no need to sort all 1,024.
            top = np.argsort(scores)[:width]
            hits = np.flatnonzero(reached)
            for i in np.union1d(top, hits[np.argsort(scores[hits])][:1]):
                child = flips + [int(candidates[i])]
                key = frozenset(child)
                if key not in seen:
                    seen.add(key)
                    scored.append((float(scores[i]), bool(reached[i]), child))
        if not scored:
            return None
        winners = [s for s in scored if s[1]]
        if winners:
            return min(winners, key=lambda s: s[0])[2]
        scored.sort(key=lambda s: s[0])
        beam = [s[2] for s in scored[:width]]
    return None


def greedy_search(network: Network, image: np.ndarray, goal: Goal,
                  max_flips: int = DEFAULT_MAX_FLIPS) -> FlipResult:
    """Plain exact greedy (see :func:`greedy_flips`) as a :class:`FlipResult`."""
    x = as_drawing(image, network.sizes[0])
    return _result(network, x, greedy_flips(network, x, goal, max_flips), goal, "greedy")


def improved_search(network: Network, image: np.ndarray, goal: Goal, max_flips: int = DEFAULT_MAX_FLIPS,
                    beam_width: int = DEFAULT_BEAM_WIDTH) -> FlipResult:
    """Greedy, then a beam search of ``beam_width``, each pruned; the fewest flips that reach the goal.

    Never more flips than :func:`greedy_search` (pruning only removes flips, and greedy's pruned answer
    is a candidate); if neither reaches the goal, greedy's best try is returned.
    """
    x = as_drawing(image, network.sizes[0])
    greedy = greedy_flips(network, x, goal, max_flips)
    greedy_ok = bool(goal.reached(outputs_of(network, flip(x, greedy))[None])[0])
    if not greedy_ok:
        # Greedy ran out of flips; the beam may still find a way within the same budget.
        beam = beam_flips(network, x, goal, beam_width, max_flips) if beam_width > 1 else None
        if beam is None:
            return _result(network, x, greedy, goal, "improved")
        return _result(network, x, prune_flips(network, x, beam, goal), goal, "improved")
    best = prune_flips(network, x, greedy, goal)
    if beam_width > 1 and len(best) > 1:
        # The beam needs to go no deeper than the best answer so far minus one to be of any use.
        beam = beam_flips(network, x, goal, beam_width, len(best) - 1)
        if beam is not None:
            beam = prune_flips(network, x, beam, goal)
            if len(beam) < len(best):
                best = beam
    return _result(network, x, best, goal, "improved")


def search(network: Network, image: np.ndarray, goal: Goal, method: SearchMethod = "improved",
           max_flips: int = DEFAULT_MAX_FLIPS) -> FlipResult:
    """``improved_search`` or ``greedy_search`` by name."""
    if method == "greedy":
        return greedy_search(network, image, goal, max_flips)
    if method == "improved":
        return improved_search(network, image, goal, max_flips)
    raise ValueError(f"unknown search {method!r}; choose greedy or improved")


# --------------------------------------------------------------------------------------------------
# Fooling images
# --------------------------------------------------------------------------------------------------

def climb_flips(network: Network, image: np.ndarray, goal: Goal, max_steps: int = 400) -> list[int]:
    """Hill climbing: at each step try flipping every pixel (flipping one back included, in one batched
    pass) and take the best, until the goal is reached, no flip improves the score, or ``max_steps``.
    Returns the pixels that end up different from ``image``, in the order they were first flipped."""
    x0 = np.asarray(image, dtype=np.uint8).reshape(-1)
    x = x0.copy()
    score = float(goal.score(outputs_of(network, x)[None])[0])
    flips: list[int] = []
    for _ in range(max_steps):
        if goal.reached(outputs_of(network, x)[None])[0]:
            break
        scores = goal.score(flip_outputs(network, x))
        pixel = int(np.argmin(scores))
        if scores[pixel] >= score:
            break                                           # a local optimum: no single flip helps
        score = float(scores[pixel])
        x[pixel] = 1 - x[pixel]
        if pixel in flips:
            flips.remove(pixel)                             # flipped back to the start's value
        else:
            flips.append(pixel)
    return flips


def fooling_image(network: Network, target: int, start: np.ndarray | None = None,
                  confidence: float = 0.99, max_steps: int = 400, restarts: int = 4,
                  seed: int | np.random.Generator = 0) -> FlipResult:
    """Build an image the network calls ``target`` with output >= ``confidence``, by hill climbing on
    output ``target`` (:func:`climb_flips`) and pruning. It starts from ``start`` (default: a blank pad);
    if that climb stops short, from up to ``restarts`` random pads (drawn from ``seed``). The image
    usually looks nothing like a ``target``. ``reached`` is False if every climb stopped short (a
    network may never be that sure of anything); the result is then the climb that got highest."""
    if not 0 <= target < network.sizes[-1]:
        raise ValueError(f"the target must be a digit from 0 to {network.sizes[-1] - 1}, got {target}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = network.sizes[0]
    goal = confident_goal(target, confidence)
    best: FlipResult | None = None
    for attempt in range(restarts + 1):
        if attempt == 0:
            x = np.zeros(n, dtype=np.uint8) if start is None else as_drawing(start, n)
        else:
            x = (rng.random(n) < rng.uniform(0.05, 0.3)).astype(np.uint8)
        flips = climb_flips(network, x, goal, max_steps)
        if goal.reached(outputs_of(network, flip(x, flips))[None])[0]:
            return _result(network, x, prune_flips(network, x, flips, goal), goal, "climb")
        result = _result(network, x, flips, goal, "climb")
        if best is None or result.after[target] > best.after[target]:
            best = result
    assert best is not None
    return best


def nearest_sample(images: np.ndarray, image: np.ndarray) -> tuple[int, int]:
    """The row of ``images`` (n, n_pixels) closest to ``image`` in Hamming distance (pixels that
    differ), and that distance."""
    images = np.asarray(images)
    if images.ndim != 2 or images.shape[0] == 0:
        raise ValueError("there are no samples to compare with")
    distances = np.count_nonzero(images != np.asarray(image).reshape(1, -1), axis=1)
    index = int(np.argmin(distances))
    return index, int(distances[index])


# --------------------------------------------------------------------------------------------------
# Files: one digit in, its flipped copy out (the ``fool`` command)
# --------------------------------------------------------------------------------------------------

def read_digit_file(path: str | Path) -> np.ndarray:
    """One digit file -> (1024,) uint8 (``digit_text.read_digit_file``: capped, regular files only)."""
    return digit_text.read_digit_file(path)


def flipped_file_name(source: str | Path, new_digit: int) -> str:
    """``3_11.txt`` read as 8 -> ``3_11_as_8.txt``."""
    return f"{Path(source).stem}_as_{int(new_digit)}.txt"


def write_digit_file(path: str | Path, image: np.ndarray) -> None:
    """Write ``image`` (1024,) in the tutorial's format (32 lines of 32 '0'/'1', CRLF), replacing the
    file atomically (a temporary file beside it, then a rename)."""
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(format_digit_text(image).encode("ascii"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
