"""How fragile a network is on a data split: the fewest pixel flips that change each sample's prediction.

For each sample the search of ``studio.core.fooling`` (by default the improved one) looks for the
fewest flips that make the network answer anything but what it answers now, up to a cap. The counts
make a distribution: median, quartiles, a histogram, and the share of samples whose answer 1, 3 or
10 flips can change. A sample the search cannot change within the cap counts as ``cap + 1`` ("more
than the cap"), so medians stay honest.

The work is a generator (:func:`measure_fragility`) that yields one :class:`FragilityProgress` per
sample and returns the :class:`Fragility`, so the window runs it in a thread with progress and a
cancel, and the command line simply runs it to the end (:func:`fragility`).

Left out: the searches themselves (``fooling``), threads and drawing.
"""
from __future__ import annotations

import csv
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.core.fooling import DEFAULT_MAX_FLIPS, SearchMethod, say_goal, search
from studio.core.network import Network

#: The flip counts whose shares the summary reports: "changed by 1, 3 and 10 flips".
SHARE_THRESHOLDS: tuple[int, ...] = (1, 3, 10)


@dataclass(frozen=True)
class Fragility:
    """Minimal flips per sample of one split.

    ``indices`` (n,) are the samples measured (rows of the split); ``labels`` (n,) their labels;
    ``predicted`` (n,) the network's answers; ``new_digits`` (n,) the answers after the flips (equal to
    ``predicted`` where the search failed); ``flips`` (n,) the number of flips, ``cap + 1`` where none
    within ``cap`` changed the answer; ``flipped`` (n, n_pixels) uint8 the changed images.
    """

    indices: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    new_digits: np.ndarray
    flips: np.ndarray
    flipped: np.ndarray
    cap: int
    method: SearchMethod

    def __len__(self) -> int:
        return int(self.indices.size)

    @property
    def changed(self) -> np.ndarray:
        """(n,) bool: the search changed the answer within the cap."""
        return self.flips <= self.cap

    def quartiles(self) -> tuple[float, float, float]:
        """First quartile, median and third quartile of the flip counts (a failure counts as cap + 1)."""
        if len(self) == 0:
            return (float("nan"),) * 3
        q1, median, q3 = np.percentile(self.flips, [25, 50, 75])
        return float(q1), float(median), float(q3)

    def share_within(self, flips: int) -> float:
        """The share of samples whose answer ``flips`` or fewer flips changed."""
        return float(np.mean(self.flips <= flips)) if len(self) else float("nan")

    def histogram(self) -> np.ndarray:
        """Counts of samples by flips needed, (cap + 2,): index f holds the samples that needed f flips
        (index 0 stays empty: changing an answer takes at least one flip), and the last index
        (cap + 1) the samples not changed within the cap."""
        return np.bincount(self.flips, minlength=self.cap + 2)[: self.cap + 2]

    def easiest(self, count: int = 12) -> np.ndarray:
        """Positions (into this result's arrays) of the ``count`` samples that needed the fewest flips,
        fewest first (ties: in split order)."""
        return np.argsort(self.flips, kind="stable")[:count]

    def summary(self) -> str:
        """A few lines for a person: samples, median and quartiles, shares within 1/3/10 flips."""
        if len(self) == 0:
            return "no samples measured"
        q1, median, q3 = self.quartiles()
        shares = ", ".join(f"{self.share_within(t):.1%} by {t}" for t in SHARE_THRESHOLDS)
        failed = int(np.count_nonzero(~self.changed))
        return (f"{len(self)} samples ({self.method} search, cap {self.cap} flips): median {_count(median, self.cap)} "
                f"flips, quartiles {_count(q1, self.cap)}-{_count(q3, self.cap)}\n"
                f"answer changed {shares}; not changed within {self.cap} flips: {failed}")

    def to_csv(self, path: str | Path, names: tuple[str, ...] | None = None) -> None:
        """One row per sample: index, name, label, predicted, new digit, flips (empty when not changed)."""
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["index", "name", "label", "predicted", "new_digit", "flips"])
            for i in range(len(self)):
                index = int(self.indices[i])
                writer.writerow([index, names[index] if names else "", int(self.labels[i]),
                                 int(self.predicted[i]), int(self.new_digits[i]),
                                 int(self.flips[i]) if self.changed[i] else ""])


def _count(value: float, cap: int) -> str:
    if value > cap:
        return f">{cap}"
    return f"{value:g}"


@dataclass(frozen=True)
class FragilityProgress:
    """``done`` of ``total`` samples measured; ``flips`` the last one's count (cap + 1: not changed)."""

    done: int
    total: int
    flips: int


def choose_samples(n: int, samples: int | None, seed: int = 0) -> np.ndarray:
    """Which of ``n`` samples to measure: all when ``samples`` is None or >= n, else a seeded random
    choice of ``samples`` of them, in split order."""
    if samples is not None and samples < 1:
        raise ValueError(f"the number of samples must be at least 1, got {samples}")
    if samples is None or samples >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=samples, replace=False))


def measure_fragility(network: Network, images: np.ndarray, labels: np.ndarray,
                      indices: np.ndarray | None = None, cap: int = DEFAULT_MAX_FLIPS,
                      method: SearchMethod = "improved") -> Generator[FragilityProgress, None, Fragility]:
    """For each sample ``images[indices]`` ((n, n_pixels) 0/1), the fewest flips (``method``'s search,
    up to ``cap``) that change the network's answer. Yields progress after each sample; returns the
    :class:`Fragility`. Stopping the generator early stops the work."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 2 or images.shape[1] != network.sizes[0]:
        raise ValueError(f"the network takes {network.sizes[0]} pixels, the images have shape {images.shape}")
    if cap < 1:
        raise ValueError(f"the cap on flips must be at least 1, got {cap}")
    indices = np.arange(len(images)) if indices is None else np.asarray(indices, dtype=np.int64)
    predicted = np.zeros(indices.size, dtype=np.int64)
    new_digits = np.zeros(indices.size, dtype=np.int64)
    flips = np.zeros(indices.size, dtype=np.int64)
    flipped = np.zeros((indices.size, images.shape[1]), dtype=np.uint8)
    for i, index in enumerate(indices):
        image = images[index]
        digit = int(network.predict(image[None].astype(np.float64))[0])
        result = search(network, image, say_goal(None, digit), method, cap)
        predicted[i] = digit
        new_digits[i] = result.digit_after
        flips[i] = result.count if result.reached else cap + 1
        flipped[i] = result.image
        yield FragilityProgress(i + 1, int(indices.size), int(flips[i]))
    return Fragility(indices, labels[indices].astype(np.int64), predicted, new_digits, flips, flipped,
                     cap, method)


def fragility(network: Network, images: np.ndarray, labels: np.ndarray, indices: np.ndarray | None = None,
              cap: int = DEFAULT_MAX_FLIPS, method: SearchMethod = "improved") -> Fragility:
    """:func:`measure_fragility` run to the end."""
    work = measure_fragility(network, images, labels, indices, cap, method)
    while True:
        try:
            next(work)
        except StopIteration as end:
            return end.value


def measure_models(models: list[tuple[str, Network]], images: np.ndarray, labels: np.ndarray,
                   indices: np.ndarray | None = None, cap: int = DEFAULT_MAX_FLIPS, method: SearchMethod = "improved"
                   ) -> Generator[FragilityProgress, None, list[tuple[str, Fragility]]]:
    """:func:`measure_fragility` for each ``(name, network)`` on the same samples, one after the other, to
    compare them. Yields progress over all of them; returns ``[(name, Fragility), ...]``."""
    count = len(images) if indices is None else len(indices)
    total = count * len(models)
    results: list[tuple[str, Fragility]] = []
    for k, (name, network) in enumerate(models):
        work = measure_fragility(network, images, labels, indices, cap, method)
        while True:
            try:
                step = next(work)
            except StopIteration as end:
                results.append((name, end.value))
                break
            yield FragilityProgress(k * count + step.done, total, step.flips)
    return results
