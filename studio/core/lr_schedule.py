"""Learning-rate schedules: how the step size changes from epoch to epoch within one run.

With a schedule, epoch ``e`` (counting from 1) of a run of ``E`` epochs updates the weights with the
learning rate ``lr_e = lr * f(e)``, where ``lr`` is the rate set for the run (or set later, while it
runs) and ``f`` is the schedule's factor. With progress ``p = (e - 1) / E`` (0 in the first epoch,
just under 1 in the last):

* ``constant``: ``f = 1``, the tutorial's way, every step the same size;
* ``linear``:   ``f = 1 - p``, straight down to ``lr / E`` in the last epoch;
* ``cosine``:   ``f = (1 + cos(pi p)) / 2``, flat at first, steepest in the middle, gentle at the end.

Why decay at all: with a constant rate, SGD never settles. Each mini-batch pulls the weights its own
way, so they keep jittering around a minimum, and where a run happens to stop is partly luck. Large
steps early move fast and across narrow dips; small steps at the end let the weights settle in the
middle of the valley they found. On the tutorial's digits this mostly shows as less difference
between seeds and better accuracy on other people's handwriting (see the ``best`` preset).

The factor depends only on the epoch number and the run's ``max_epochs``, so a run stopped and carried
on gets the rates it would have had without the stop. A schedule needs an end: ``max_epochs`` unlimited
works only with ``constant``.

Left out: warm-up, restarts, decay on a plateau; schedules within an epoch.
"""
from __future__ import annotations

import math
from typing import Literal, get_args

LrScheduleName = Literal["constant", "linear", "cosine"]
LR_SCHEDULES: tuple[str, ...] = get_args(LrScheduleName)

LR_SCHEDULE_DESCRIPTIONS: dict[str, str] = {
    "constant": "the same learning rate in every epoch (the tutorial's way)",
    "linear": "the learning rate falls in a straight line over the run, to lr / max epochs in the last "
              "epoch: big steps to make progress early, small ones to settle at the end",
    "cosine": "the learning rate follows half a cosine over the run: it stays high at first, falls "
              "fastest in the middle and eases towards zero at the end",
}


def schedule_factor(schedule: str, epoch: int, max_epochs: int | None) -> float:
    """The factor ``f(e)`` in (0, 1] for epoch ``epoch`` (from 1) of a run of ``max_epochs`` epochs.

    Epochs past ``max_epochs`` (a run carried on with a larger limit) keep the last epoch's factor.
    ``ValueError`` for an unknown schedule or a decaying one without ``max_epochs``.
    """
    if schedule == "constant":
        return 1.0
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"learning-rate schedule must be one of {', '.join(LR_SCHEDULES)}, got {schedule!r}")
    if max_epochs is None or max_epochs < 1:
        raise ValueError(f"a {schedule} learning-rate schedule needs a number of epochs to decay over: "
                         f"set max epochs (or use the constant schedule)")
    progress = (min(max(epoch, 1), max_epochs) - 1) / max_epochs
    if schedule == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def scheduled_learning_rate(lr: float, schedule: str, epoch: int, max_epochs: int | None) -> float:
    """``lr * schedule_factor(schedule, epoch, max_epochs)``: the rate epoch ``epoch`` updates with."""
    return lr * schedule_factor(schedule, epoch, max_epochs)
