"""The ranges the live curves' axes take: stepped, so the curves grow into the plot.

The axes follow the drawn data in steps (x up to the next of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8
times a power of ten; loss from 0, or whole decades on the log scale; accuracy in tens of percent
with room above 100%) rather than rescaling at every epoch: pyqtgraph only recomputes an axis when
its range changes, which was the live plot's largest cost while training.

Left out: which runs are followed and when (``metrics_plot``), and drawing (``run_curves``).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from studio.gui.plot_style import nice_ceiling

#: The accuracy axis ends here, so a 100% curve is drawn inside the frame, not on it.
ACCURACY_TOP = 103.0


def stepped_ranges(boxes: Sequence[dict[str, tuple[float, float]]], log_loss: bool) -> dict[str, tuple[float, float]]:
    """The ranges around the runs' drawn ``boxes`` (each ``RunCurves.bounds``): ``"x"`` always,
    ``"loss_y"`` (in decades when ``log_loss``) and ``"accuracy_y"`` (percent) when there is data."""
    last_epoch = max([b["epochs"][1] for b in boxes] + [0.0])
    targets = {"x": (0.0, nice_ceiling(max(last_epoch + 1, 10.0)))}   # room after the last point
    loss = [b["loss"] for b in boxes if "loss" in b]
    if loss:
        lo, hi = min(b[0] for b in loss), max(b[1] for b in loss)
        if log_loss:
            lo = max(lo, 1e-12)
            targets["loss_y"] = (float(np.floor(np.log10(lo))), float(np.ceil(np.log10(max(hi, lo * 10)))))
        else:
            targets["loss_y"] = (0.0, nice_ceiling(hi))
    accuracy = [b["accuracy"] for b in boxes if "accuracy" in b]
    if accuracy:
        lo = min(b[0] for b in accuracy)
        targets["accuracy_y"] = (float(np.clip(np.floor(lo / 10) * 10, 0, 90)), ACCURACY_TOP)
    return targets
