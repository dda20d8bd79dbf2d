"""Training against fooling: each batch also trains on flipped copies that fool the current network.

:class:`AgainstFoolingEpoch` is an epoch function for ``training.train(..., epoch_function=...)`` with
``sgd_epoch``'s signature and maths, plus one step per batch: for up to ``copies`` samples of the
batch, the plain greedy search (``fooling.greedy_flips``, at most ``max_flips`` flips) looks for a copy
the current network reads as another digit; the copies that do fool it join the batch with their
true label. The network so learns that those few pixels do not make a different digit. Expect the
median flips needed to fool it (``fragility``) to rise, for some accuracy and a slower epoch.

A run turns it on with ``TrainingConfig.against_fooling`` (copies a batch; ``training.choose_epoch_function``
then picks this, whatever the engine). Left out: the searches themselves (``fooling``).
"""
from __future__ import annotations

import numpy as np

from studio.core.fooling import flip, greedy_flips, say_goal
from studio.core.network import Network
# From their own modules, not training.py: training imports this module to choose it for a run.
from studio.core.run_control import RunControl
from studio.core.sgd import EpochTally, Optimiser

#: Most fooling copies a batch a run may add (each costs a greedy search of up to MAX_FLIPS flips).
MAX_COPIES = 64
#: Most pixels a search may flip for a copy that a run adds.
MAX_FLIPS = 10

AGAINST_FOOLING_DESCRIPTION = (
    "Train against fooling: in each batch, up to this many samples also get a copy with a few pixels "
    f"flipped (at most {MAX_FLIPS}, chosen greedily) that the current network reads as another digit, "
    "trained on with its true label. Expect more flips needed to fool the network and far slower "
    "epochs (each copy is a search). It runs the readable code (Network.backward, Optimiser.step) "
    "whatever the engine says. 0 = off.")


class AgainstFoolingEpoch:
    """``sgd_epoch`` plus, per batch, up to ``copies`` fooling copies (greedy, <= ``max_flips`` flips).

    ``seed`` picks which samples of each batch get a copy. ``added`` counts the copies trained on
    so far (the loss and accuracy tallies cover the original samples only, as in a plain run).
    """

    def __init__(self, copies: int = 4, max_flips: int = 10, seed: int = 0) -> None:
        if copies < 1 or max_flips < 1:
            raise ValueError(f"copies and max_flips must be >= 1, got {copies} and {max_flips}")
        self.copies = copies
        self.max_flips = max_flips
        self.rng = np.random.default_rng(seed)
        self.added = 0

    def fooling_copies(self, network: Network, x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flipped copies of rows of ``x`` (n, inputs) that ``network`` reads as another digit than its
        label, with those labels: ((m, inputs), (m,)), m <= copies. Only samples it gets right are tried."""
        chosen = self.rng.permutation(len(x))[: self.copies]
        images, targets = [], []
        for row in chosen:
            image = x[row].astype(np.uint8)
            label = int(labels[row])
            goal = say_goal(None, label)
            if goal.reached(network.predict_proba(x[row][None]))[0]:
                continue                      # already wrong: the sample itself teaches that
            flips = greedy_flips(network, image, goal, self.max_flips)
            copy = flip(image, flips)
            if goal.reached(network.predict_proba(copy[None].astype(np.float64)))[0]:
                images.append(copy)
                targets.append(label)
        if not images:
            return np.zeros((0, x.shape[1])), np.zeros(0, dtype=np.int64)
        return np.array(images, dtype=np.float64), np.array(targets, dtype=np.int64)

    def __call__(self, network: Network, x: np.ndarray, y: np.ndarray, labels: np.ndarray, order: np.ndarray,
                 batch_size: int, optimiser: Optimiser, control: RunControl) -> EpochTally:
        tally = EpochTally()
        eye = np.eye(network.sizes[-1])
        for start in range(0, len(order), batch_size):
            if control.checkpoint():
                tally.stopped = True
                break
            rows = order[start:start + batch_size]
            extra_x, extra_labels = self.fooling_copies(network, x[rows], labels[rows])
            self.added += len(extra_labels)
            batch_x = np.concatenate([x[rows], extra_x]) if len(extra_labels) else x[rows]
            batch_y = np.concatenate([y[rows], eye[extra_labels]]) if len(extra_labels) else y[rows]
            grads = network.backward(batch_x, batch_y)
            # The tallies count the original samples only (before the update, as sgd_epoch does), so the
            # curves compare with a plain run's.
            n = len(rows)
            if len(extra_labels):
                tally.loss_sum += float(np.sum(network.loss_per_sample(x[rows], y[rows])))
            else:
                tally.loss_sum += grads.loss * n
            tally.hits += int(np.count_nonzero(np.argmax(grads.output[:n], axis=1) == labels[rows]))
            tally.samples += n
            optimiser.step(network, grads.weights, grads.biases)
        return tally
