"""Measures of a trained network on labelled data: the confusion matrix and what follows from it.

Only counting lives here; the network's forward pass is in ``network.py``.
"""
from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """Counts (classes, classes): entry [t, p] is how many samples of true class t were predicted p."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    return np.bincount(labels * classes + predicted, minlength=classes * classes).reshape(classes, classes)
